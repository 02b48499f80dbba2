#!/usr/bin/env bash
# Renders the nginx site and snippets of deploy/nginx into OUTDIR from a few variables, so the
# VM and the tests use the same files. Plain bash + sed: runs on a fresh Debian VM.
#
#   SERVER_NAME=bot.example.com deploy/render.sh OUTDIR
#
# writes OUTDIR/sites/{tgwh-http.conf,tgwh.conf} and OUTDIR/snippets/{telegram-ips.conf,tls.conf,
# proxy.conf,admin-allow.conf,upstream.conf}. Variables (defaults for a VM in brackets):
#   SERVER_NAME      public host name (required)
#   LISTEN_ADDRESS   address to bind, empty = all IPv4 addresses [empty]; tests use 127.0.0.1
#   HTTP_PORT        [80]        HTTPS_PORT  [443] (Telegram accepts 443, 80, 88, 8443)
#   ACME_WEBROOT     [/var/www/letsencrypt]
#   CERT_DIR         [/etc/letsencrypt/live/$SERVER_NAME]
#   SNIPPETS_DIR     where the snippets are installed [/etc/nginx/snippets/tgwh]
#   UPSTREAM         the stable tgwh listener [127.0.0.1:8080]
#   CANARY_UPSTREAM  a canary tgwh listener, empty = no canary [empty]
#   CANARY_PERCENT   share of requests for the canary, 1-99 [10]
#   GATEWAYS         several gateways on one PostgreSQL store, comma-separated HOST:PORT, used
#                    instead of UPSTREAM (docs/scale-out.md; deploy/nginx/gateways.env.example) [empty]
#   WEBHOOK_RATE     webhook requests/s per source address [200]   WEBHOOK_BURST [400]
# `render.sh --upstream-only FILE` writes only the upstream snippet to FILE (canary switches, e.g.
# /etc/nginx/snippets/tgwh/upstream.conf; see deploy/canary.md).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
die() { echo "render.sh: $*" >&2; exit 2; }
usage="usage: SERVER_NAME=bot.example.com render.sh OUTDIR | render.sh --upstream-only FILE (variables: see the top of deploy/render.sh)"
upstream_only=0
case "${1:-}" in
  -h|--help) echo "$usage"; exit 0 ;;
  --upstream-only) upstream_only=1; shift ;;
  -*) die "unknown option '$1'; $usage" ;;
esac
[ $# -eq 1 ] && [ -n "$1" ] || die "give one output path; $usage"
out="$1"
[ -n "${SERVER_NAME:-}" ] || die "SERVER_NAME is required (the public host name, e.g. SERVER_NAME=bot.example.com)"
[[ "$SERVER_NAME" =~ ^[A-Za-z0-9.-]+$ ]] || die "SERVER_NAME '$SERVER_NAME' is not a host name"
LISTEN_ADDRESS="${LISTEN_ADDRESS:-}"
HTTP_PORT="${HTTP_PORT:-80}"
HTTPS_PORT="${HTTPS_PORT:-443}"
ACME_WEBROOT="${ACME_WEBROOT:-/var/www/letsencrypt}"
CERT_DIR="${CERT_DIR:-/etc/letsencrypt/live/$SERVER_NAME}"
SNIPPETS_DIR="${SNIPPETS_DIR:-/etc/nginx/snippets/tgwh}"
UPSTREAM="${UPSTREAM:-127.0.0.1:8080}"
CANARY_UPSTREAM="${CANARY_UPSTREAM:-}"
CANARY_PERCENT="${CANARY_PERCENT:-10}"
GATEWAYS="${GATEWAYS:-}"
WEBHOOK_RATE="${WEBHOOK_RATE:-200}"
WEBHOOK_BURST="${WEBHOOK_BURST:-400}"

for v in HTTP_PORT HTTPS_PORT WEBHOOK_RATE WEBHOOK_BURST CANARY_PERCENT; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || die "$v must be a number, got '${!v}'"
done
hostport_re='^[][A-Za-z0-9.:-]+:[0-9]+$'
for v in UPSTREAM CANARY_UPSTREAM; do
  [ -z "${!v}" ] || [[ "${!v}" =~ $hostport_re ]] || die "$v must be HOST:PORT, got '${!v}'"
done
for v in ACME_WEBROOT CERT_DIR SNIPPETS_DIR; do
  [[ "${!v}" =~ ^/[A-Za-z0-9._/-]*$ ]] || die "$v must be an absolute path without spaces, got '${!v}'"
done

prefix="${LISTEN_ADDRESS:+$LISTEN_ADDRESS:}"
HTTP_LISTEN="${prefix}${HTTP_PORT}"
HTTPS_LISTEN="${prefix}${HTTPS_PORT}"
HTTPS_PORT_SUFFIX=""
[ "$HTTPS_PORT" = 443 ] || HTTPS_PORT_SUFFIX=":$HTTPS_PORT"

if [ -n "$GATEWAYS" ]; then
  [ -z "$CANARY_UPSTREAM" ] || die "GATEWAYS and CANARY_UPSTREAM do not go together: canary one gateway at a time (deploy/canary.md)"
  # A gateway that refuses a connection is skipped for fail_timeout; the webhook location sends
  # the refused request to the next one (proxy_next_upstream), which the update_id dedupe makes safe.
  UPSTREAM_SERVERS=""
  IFS=',' read -r -a gateway_list <<<"$GATEWAYS"
  [ "${#gateway_list[@]}" -ge 2 ] || die "GATEWAYS needs at least two HOST:PORT (one gateway: set UPSTREAM)"
  for g in "${gateway_list[@]}"; do
    [[ "$g" =~ $hostport_re ]] || die "GATEWAYS: '$g' is not HOST:PORT"
    UPSTREAM_SERVERS+="${UPSTREAM_SERVERS:+$'\n'}    server $g max_fails=1 fail_timeout=10s;"
  done
elif [ -n "$CANARY_UPSTREAM" ]; then
  { [ "$CANARY_PERCENT" -ge 1 ] && [ "$CANARY_PERCENT" -le 99 ]; } || die "CANARY_PERCENT must be 1-99 (promote or roll back instead of 0 or 100)"
  UPSTREAM_SERVERS="    server $UPSTREAM weight=$((100 - CANARY_PERCENT)); # stable
    server $CANARY_UPSTREAM weight=$CANARY_PERCENT; # canary"
else
  UPSTREAM_SERVERS="    server $UPSTREAM;"
fi

# Replaces every @NAME@ of the template with the variable's value; fails on a leftover.
render() {
  local src="$1" dst="$2" text name
  text="$(cat "$src")"
  for name in SERVER_NAME HTTP_LISTEN HTTPS_LISTEN HTTP_PORT HTTPS_PORT HTTPS_PORT_SUFFIX ACME_WEBROOT \
      CERT_DIR SNIPPETS_DIR UPSTREAM_SERVERS WEBHOOK_RATE WEBHOOK_BURST; do
    text="${text//@${name}@/${!name}}"
  done
  if grep -qE '@[A-Z_]+@' <<<"$text"; then die "$src: unknown placeholder $(grep -oE '@[A-Z_]+@' <<<"$text" | head -1)"; fi
  mkdir -p "$(dirname "$dst")"
  printf '%s\n' "$text" >"$dst.tmp.$$" && mv -f "$dst.tmp.$$" "$dst"
}

if [ "$upstream_only" = 1 ]; then
  render "$here/nginx/upstream.conf.template" "$out"
  exit 0
fi
render "$here/nginx/upstream.conf.template" "$out/snippets/upstream.conf"
render "$here/nginx/tgwh-http.conf.template" "$out/sites/tgwh-http.conf"
render "$here/nginx/tgwh.conf.template" "$out/sites/tgwh.conf"
for f in telegram-ips.conf tls.conf proxy.conf admin-allow.conf; do
  install -m 0644 "$here/nginx/snippets/$f" "$out/snippets/$f"
done
