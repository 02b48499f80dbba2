#!/usr/bin/env bash
# tgwh installer: from a fresh Debian 12 VM to a registered, smoke-tested HTTPS webhook.
# Run it from an unpacked release (or from a checkout after `make build`):
#
#   sudo ./install.sh --server-name bot.example.com --email ops@example.com
#
# It asks for the bot token (input hidden; or pipe it on stdin), then runs these steps. Each is
# skipped or redone harmlessly when already done: after a failure, fix what the message names and
# run the same command again.
#   packages     apt-get install nginx certbot curl, only what is missing
#   files        user tgwh, binary, systemd units, settings, credentials (0600 root), nginx site
#   service      (re)start tgwh.service and wait until it is ready; nginx serves port 80
#   certificate  certbot certonly --webroot (skipped while the certificate exists; certbot renews it)
#   https        enable the HTTPS site, nginx -t, reload
#   webhook      tgwh webhook set (keeps max_connections and allowed_updates already registered)
#   smoke        tgwh smoke: certificate, a signed update processed; with --chat a message delivered
#   backups      enable tgwh-backup.timer (an online backup every hour, the newest 24 kept)
#
# Options:
#   --server-name NAME        public host name (DNS A record → this VM); kept for later runs
#   --email ADDRESS           for Let's Encrypt's expiry notices; needed for the first certificate
#   --chat ID                 the smoke step also delivers a message to this chat (it must have sent /start)
#   --binary FILE             the tgwh executable [./tgwh of a release, dist/tgwh of a checkout]
#   --bot-token-file F        the bot token from F ('-' = stdin) instead of the prompt
#   --webhook-secret-file F   webhook secret from F ('-' = stdin); generated when absent
#   --session-secret-file F   session JWT key from F ('-' = stdin); generated when absent
#   --database-url-file F     postgres://… from F ('-' = stdin): PostgreSQL is the store (docs/scale-out.md);
#                             an empty F (/dev/null) goes back to the SQLite file
#   --redis-url-file F        redis://… from F ('-' = stdin): limits shared with the other gateways;
#                             an empty F: this gateway limits alone
#   --acme-server URL         another ACME directory (e.g. Let's Encrypt's staging one)
#   --no-start                files only: no packages, service, certificate, webhook or smoke
#   --prefix DIR              install under DIR instead of / (packaging, tests); files only unless --start
#   --start                   with --prefix: run the live steps too, with the nginx, certbot and
#                             systemctl found on PATH, and files that name paths under DIR
#   --uninstall               delete the webhook at Telegram, remove binary, units, nginx site and
#                             hook; keep settings, credentials and data
#   --keep-webhook            with --uninstall: leave the webhook registered
#   --purge                   with --uninstall: also remove /etc/tgwh (credentials) and /var/lib/tgwh (the database!)
# Secrets are never printed. Details: docs/deploy.md.
set -Eeuo pipefail
umask 022

# The kit is beside this script (a release: ./install.sh + ./deploy/) or this script is in it (a checkout: deploy/install.sh).
here="$(cd "$(dirname "$(readlink -f "$0")")" && pwd)"
if [ -f "$here/systemd/tgwh.service" ]; then kit="$here"; else kit="$here/deploy"; fi
top="$(dirname "$kit")"
if [ -x "$top/tgwh" ]; then binary="$top/tgwh"; else binary="$top/dist/tgwh"; fi

prefix="" server_name="" email="" chat="" acme_server="" uninstall=0 purge=0 start=1 stage_start=0 keep_webhook=0
declare -A cred_src=()

say() { echo "install.sh: $*"; }
die() { echo "install.sh: $*" >&2; exit 2; }
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
need() { [ -n "${2:-}" ] && [ "${2#--}" = "$2" ] || die "$1 needs a value (see --help)"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) need "$1" "${2:-}"; prefix="$2"; shift 2 ;;
    --binary) need "$1" "${2:-}"; binary="$2"; shift 2 ;;
    --server-name) need "$1" "${2:-}"; server_name="$2"; shift 2 ;;
    --email) need "$1" "${2:-}"; email="$2"; shift 2 ;;
    --chat) [ -n "${2:-}" ] || die "--chat needs a chat id"; chat="$2"; shift 2 ;;
    --acme-server) need "$1" "${2:-}"; acme_server="$2"; shift 2 ;;
    --bot-token-file) [ -n "${2:-}" ] || die "$1 needs a file or -"; cred_src[bot_token]="$2"; shift 2 ;;
    --webhook-secret-file) [ -n "${2:-}" ] || die "$1 needs a file or -"; cred_src[webhook_secret]="$2"; shift 2 ;;
    --session-secret-file) [ -n "${2:-}" ] || die "$1 needs a file or -"; cred_src[session_secret]="$2"; shift 2 ;;
    --database-url-file) [ -n "${2:-}" ] || die "$1 needs a file or -"; cred_src[database_url]="$2"; shift 2 ;;
    --redis-url-file) [ -n "${2:-}" ] || die "$1 needs a file or -"; cred_src[redis_url]="$2"; shift 2 ;;
    --no-start) start=0; shift ;;
    --start) stage_start=1; shift ;;
    --uninstall) uninstall=1; shift ;;
    --keep-webhook) keep_webhook=1; shift ;;
    --purge) purge=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done
stdin_users=0
for k in "${!cred_src[@]}"; do [ "${cred_src[$k]}" = "-" ] && stdin_users=$((stdin_users + 1)); done
[ "$stdin_users" -le 1 ] || die "only one credential can come from stdin ('-'); give the others as files"
[ "$purge" = 0 ] || [ "$uninstall" = 1 ] || die "--purge only goes with --uninstall"
[ "$keep_webhook" = 0 ] || [ "$uninstall" = 1 ] || die "--keep-webhook only goes with --uninstall"
[ "$stage_start" = 0 ] || [ -n "$prefix" ] || die "--start only goes with --prefix (without it the live steps run anyway)"
[ -z "$chat" ] || [[ "$chat" =~ ^-?[0-9]{1,20}$ ]] || die "--chat must be a numeric chat id"
[ -z "$email" ] || [[ "$email" =~ ^[^@[:space:]]+@[^@[:space:]]+$ ]] || die "--email '$email' is not an e-mail address"
if [ -n "$prefix" ]; then
  prefix="$(mkdir -p "$prefix" && cd "$prefix" && pwd)"
  [ "$stage_start" = 1 ] || start=0
fi
uid="$(id -u)"
is_root() { [ "$uid" = 0 ]; }
[ -n "$prefix" ] || is_root || die "run as root (sudo), or use --prefix DIR for a staging root"

ETC=/etc/tgwh CREDS=/etc/tgwh/credentials STATE=/var/lib/tgwh BACKUPS=/var/backups/tgwh
SNIPPETS=/etc/nginx/snippets/tgwh HOOK=/etc/letsencrypt/renewal-hooks/deploy/tgwh-reload-nginx.sh
UNITS=(tgwh.service tgwh@.service tgwh-backup.service tgwh-backup.timer tgwh-backup-offsite.service)
HTTPS_PORT="${HTTPS_PORT:-443}"
UPSTREAM="${UPSTREAM:-127.0.0.1:8080}"
# A live stage (--prefix --start) must be self-consistent: its nginx files name its own paths.
if [ "$stage_start" = 1 ]; then
  export ACME_WEBROOT="${ACME_WEBROOT:-$prefix/var/www/letsencrypt}" SNIPPETS_DIR="${SNIPPETS_DIR:-$prefix$SNIPPETS}"
  [ -z "$server_name" ] || export CERT_DIR="${CERT_DIR:-$prefix/etc/letsencrypt/live/$server_name}"
fi
# tgwh-admin with this install's settings and credentials (in a stage: the stage's).
admin() { TGWH_ETC="$prefix$ETC" TGWH_BIN="$prefix/usr/local/bin/tgwh" TGWH_DB="$prefix$STATE/tgwh.db" "$prefix/usr/local/sbin/tgwh-admin" "$@"; }

current_step=""
step() { current_step="$1"; say "step $1"; "step_$1"; }
# A step that fails names itself and what to do; `set -e` failures get the same line from the trap.
fail_step() { echo "install.sh: step '$current_step' failed: $*" >&2; rerun_hint; exit 1; }
rerun_hint() { echo "install.sh: fix that, then run the same install.sh command again (finished steps are skipped)" >&2; }
trap 'rc=$?; if [ -n "$current_step" ]; then echo "install.sh: step '"'"'$current_step'"'"' failed (exit $rc) at: $BASH_COMMAND" >&2; rerun_hint; fi' ERR

# chown only where it means something: as root. A staging root built by a user keeps their owner.
own() { if is_root; then chown "$1" "$2"; fi; }
have_user() { [ -z "$prefix" ] && id tgwh >/dev/null 2>&1; }
# Copies src to dst with a mode, atomically (a running binary is never overwritten in place).
put() {
  local src="$1" dst="$2" mode="$3" tmp
  mkdir -p "$(dirname "$dst")"
  tmp="$(dirname "$dst")/.$(basename "$dst").tmp.$$"
  install -m "$mode" "$src" "$tmp"
  own root:root "$tmp"
  mv -f "$tmp" "$dst"
}
rm_file() { if [ -e "$1" ] || [ -L "$1" ]; then rm -f "$1" && say "removed $1"; fi; }

# nginx: check, then reload (start it if it is not running). NGINX_PREFIX/NGINX_CONF select an
# nginx started as `nginx -p PREFIX -c CONF`, as for the certbot hook (tests).
nginx_apply() {
  if [ -n "${NGINX_PREFIX:-}" ]; then
    nginx -t -q -p "$NGINX_PREFIX" -c "${NGINX_CONF:?set NGINX_CONF with NGINX_PREFIX}" || fail_step "nginx -t refused the configuration (above); nginx keeps the old one"
    nginx -p "$NGINX_PREFIX" -c "$NGINX_CONF" -s reload
  else
    nginx -t -q || fail_step "nginx -t refused the configuration (above); nginx keeps the old one"
    systemctl reload-or-restart nginx
  fi
}

if [ "$uninstall" = 1 ]; then
  # Telegram would otherwise keep posting to a host that no longer answers, and keep the updates for 24 h.
  if [ "$keep_webhook" = 0 ] && [ "$start" = 1 ] && [ -x "$prefix/usr/local/sbin/tgwh-admin" ] && [ -x "$prefix/usr/local/bin/tgwh" ] && [ -s "$prefix$CREDS/bot_token" ]; then
    if admin webhook delete; then say "deleted the webhook at Telegram"; else say "could not delete the webhook at Telegram (above); do it later with the bot token, or --keep-webhook"; fi
  fi
  if [ -z "$prefix" ] && command -v systemctl >/dev/null 2>&1; then
    systemctl disable --now tgwh-backup.timer >/dev/null 2>&1 || true
    systemctl stop tgwh.service 'tgwh@*.service' >/dev/null 2>&1 || true
    systemctl disable tgwh.service >/dev/null 2>&1 || true
  elif [ "$start" = 1 ]; then
    systemctl stop tgwh.service >/dev/null 2>&1 || true
  fi
  rm_file "$prefix/usr/local/bin/tgwh"
  rm_file "$prefix/usr/local/sbin/tgwh-admin"
  rm -rf "$prefix/usr/local/lib/tgwh"
  for u in "${UNITS[@]}"; do rm_file "$prefix/etc/systemd/system/$u"; done
  rm_file "$prefix/etc/tmpfiles.d/tgwh.conf"
  rm_file "$prefix/etc/sysusers.d/tgwh.conf"
  rm_file "$prefix/etc/nginx/sites-enabled/tgwh.conf"; rm_file "$prefix/etc/nginx/sites-enabled/tgwh-http.conf"
  rm_file "$prefix/etc/nginx/sites-available/tgwh.conf"; rm_file "$prefix/etc/nginx/sites-available/tgwh-http.conf"
  for f in telegram-ips.conf tls.conf proxy.conf upstream.conf; do rm_file "$prefix$SNIPPETS/$f"; done
  rm_file "$prefix$HOOK"
  if [ "$purge" = 1 ]; then
    rm -rf "$prefix$ETC" "$prefix$STATE" "$prefix$BACKUPS" "$prefix$SNIPPETS"
    say "purged $ETC (settings and credentials), $STATE (the database), $BACKUPS and $SNIPPETS"
    if [ -z "$prefix" ] && id tgwh >/dev/null 2>&1; then userdel tgwh || true; fi
  else
    say "kept $ETC (settings, credentials), $STATE (the database), $BACKUPS and $SNIPPETS/admin-allow.conf; --uninstall --purge removes them"
  fi
  if [ -z "$prefix" ]; then
    command -v systemctl >/dev/null 2>&1 && systemctl daemon-reload || true
    if command -v nginx >/dev/null 2>&1 && nginx -t -q 2>/dev/null; then systemctl reload nginx 2>/dev/null || true; fi
  fi
  say "uninstalled"
  exit 0
fi

[ -x "$binary" ] || die "binary '$binary' is missing or not executable: run \`make build\` first, or pass --binary"

# Host name: from the flag, else from the previous install.
deploy_env="$prefix$ETC/deploy.env"
if [ -z "$server_name" ] && [ -f "$deploy_env" ]; then
  server_name="$(sed -n 's/^SERVER_NAME=//p' "$deploy_env" | head -1)"
  [ "$stage_start" = 0 ] || export CERT_DIR="${CERT_DIR:-$prefix/etc/letsencrypt/live/$server_name}"
fi
[ -n "$server_name" ] || die "--server-name NAME is required on the first install (the public host name nginx serves)"
[[ "$server_name" =~ ^[A-Za-z0-9.-]+$ ]] || die "--server-name '$server_name' is not a host name"
if [ -z "$email" ] && [ -f "$deploy_env" ]; then email="$(sed -n 's/^EMAIL=//p' "$deploy_env" | head -1)"; fi
public_url="https://$server_name$([ "$HTTPS_PORT" = 443 ] || echo ":$HTTPS_PORT")"
cert_live="$prefix/etc/letsencrypt/live/$server_name"
if [ "$start" = 1 ] && [ ! -s "$cert_live/fullchain.pem" ] && [ -z "$email" ]; then
  die "--email ADDRESS is needed to get the first certificate (Let's Encrypt sends expiry notices there)"
fi

# The bot token: asked for (hidden) on a terminal, else one line from stdin; only when none is installed.
read_secret_from_stdin() {
  local prompt="$1" value=""
  if [ -t 0 ]; then
    read -r -s -p "$prompt" value || true
    echo >&2
  else
    IFS= read -r value || true
  fi
  printf '%s' "${value%$'\r'}"
}
bot_token_value=""
if [ "$start" = 1 ] && [ -z "${cred_src[bot_token]:-}" ] && [ ! -s "$prefix$CREDS/bot_token" ]; then
  bot_token_value="$(read_secret_from_stdin "Bot token from @BotFather (not shown): ")"
  [ -n "$bot_token_value" ] || die "no bot token: type it at the prompt, pipe it on stdin, or give --bot-token-file FILE"
fi

random_secret() { head -c "$1" /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d '='; }
valid_secret() {
  case "$1" in
    bot_token) [[ "$2" =~ ^[0-9]{1,20}:[A-Za-z0-9_-]{20,100}$ ]] ;;
    webhook_secret) [[ "$2" =~ ^[A-Za-z0-9_-]{1,256}$ ]] ;;
    session_secret) [ "${#2}" -ge 32 ] ;;
    database_url) [ -z "$2" ] || [[ "$2" =~ ^postgres(ql)?://[^[:space:]]+/[^/[:space:]]+$ ]] ;;
    redis_url) [ -z "$2" ] || [[ "$2" =~ ^rediss?://[^[:space:]]+$ ]] ;;
  esac
}
hint_for() {
  case "$1" in
    bot_token) echo "expected <digits>:<35 or so characters> from @BotFather" ;;
    webhook_secret) echo "expected 1-256 characters of A-Z a-z 0-9 _ -" ;;
    session_secret) echo "expected at least 32 characters" ;;
    database_url) echo "expected postgres://USER:PASSWORD@HOST:5432/DATABASE" ;;
    redis_url) echo "expected redis://[:PASSWORD@]HOST:6379 or rediss://…" ;;
  esac
}
write_cred() {
  local name="$1" value="$2" dst tmp
  dst="$prefix$CREDS/$name"; tmp="$prefix$CREDS/.$name.tmp.$$"
  ( umask 077; printf '%s' "$value" >"$tmp" )
  chmod 0600 "$tmp"; own root:root "$tmp"; mv -f "$tmp" "$dst"
}
# Read and check every given secret before anything is written: a bad one changes nothing.
declare -A cred_value=()
[ -z "$bot_token_value" ] || cred_value[bot_token]="$bot_token_value"
for name in bot_token webhook_secret session_secret database_url redis_url; do
  src="${cred_src[$name]:-}"
  [ -n "$src" ] || continue
  if [ "$src" = "-" ]; then value="$(read_secret_from_stdin "$name (not shown): ")"
  else [ -r "$src" ] || die "$name: cannot read '$src'"; value="$(cat -- "$src")"; fi
  cred_value[$name]="${value%$'\r'}"
done
for name in "${!cred_value[@]}"; do
  valid_secret "$name" "${cred_value[$name]}" || die "$name: the given value is not valid ($(hint_for "$name")); nothing was written"
done

changed=0

step_packages() {
  local missing=() p
  for p in nginx certbot curl; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -eq 0 ]; then say "nginx, certbot and curl are installed"; return; fi
  say "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq || fail_step "apt-get update failed: check the VM's network and /etc/apt/sources.list"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" || fail_step "apt-get install ${missing[*]} failed (above)"
}

step_files() {
  # The user and directories.
  if [ -z "$prefix" ]; then
    put "$kit/systemd/tgwh.sysusers" /etc/sysusers.d/tgwh.conf 0644
    if ! id tgwh >/dev/null 2>&1; then
      if command -v systemd-sysusers >/dev/null 2>&1; then systemd-sysusers /etc/sysusers.d/tgwh.conf
      else useradd --system --home-dir "$STATE" --no-create-home --shell /usr/sbin/nologin tgwh; fi
      say "created system user tgwh"
    fi
  else
    put "$kit/systemd/tgwh.sysusers" "$prefix/etc/sysusers.d/tgwh.conf" 0644
  fi
  mkdir -p "$prefix$ETC" "$prefix$CREDS" "$prefix$STATE" "$prefix$BACKUPS" "$prefix/var/www/letsencrypt"
  chmod 0755 "$prefix$ETC" "$prefix/var/www/letsencrypt"; own root:root "$prefix$ETC"; own root:root "$prefix/var/www/letsencrypt"
  chmod 0700 "$prefix$CREDS"; own root:root "$prefix$CREDS"
  chmod 0750 "$prefix$STATE" "$prefix$BACKUPS"
  if have_user; then own tgwh:tgwh "$prefix$STATE"; own tgwh:tgwh "$prefix$BACKUPS"; fi

  # The binary, the units and the tmpfiles rule.
  if ! cmp -s "$binary" "$prefix/usr/local/bin/tgwh"; then
    # The replaced binary stays at hand for a rollback: install.sh --binary /usr/local/lib/tgwh/previous/tgwh
    if [ -f "$prefix/usr/local/bin/tgwh" ]; then put "$prefix/usr/local/bin/tgwh" "$prefix/usr/local/lib/tgwh/previous/tgwh" 0755; fi
    put "$binary" "$prefix/usr/local/bin/tgwh" 0755; changed=1; say "installed /usr/local/bin/tgwh"
  fi
  for u in "${UNITS[@]}"; do
    if ! cmp -s "$kit/systemd/$u" "$prefix/etc/systemd/system/$u"; then put "$kit/systemd/$u" "$prefix/etc/systemd/system/$u" 0644; changed=1; fi
  done
  put "$kit/systemd/tgwh.tmpfiles" "$prefix/etc/tmpfiles.d/tgwh.conf" 0644
  put "$kit/systemd/restic.env.example" "$prefix$ETC/restic.env.example" 0644
  if [ ! -f "$prefix$ETC/tgwh.env" ]; then put "$kit/systemd/tgwh.env.example" "$prefix$ETC/tgwh.env" 0644; say "wrote $ETC/tgwh.env (edit it as needed)"; fi
  # TGWH_PUBLIC_URL follows the host name nginx serves; every other line is the operator's.
  if ! grep -qxF "TGWH_PUBLIC_URL=$public_url" "$prefix$ETC/tgwh.env"; then
    { grep -v '^TGWH_PUBLIC_URL=' "$prefix$ETC/tgwh.env" || true; echo "TGWH_PUBLIC_URL=$public_url"; } >"$prefix$ETC/.tgwh.env.tmp.$$"
    chmod 0644 "$prefix$ETC/.tgwh.env.tmp.$$"; own root:root "$prefix$ETC/.tgwh.env.tmp.$$"; mv -f "$prefix$ETC/.tgwh.env.tmp.$$" "$prefix$ETC/tgwh.env"
    changed=1; say "TGWH_PUBLIC_URL=$public_url in $ETC/tgwh.env"
  fi
  printf 'SERVER_NAME=%s\nEMAIL=%s\n' "$server_name" "$email" >"$deploy_env"; chmod 0644 "$deploy_env"; own root:root "$deploy_env"

  # Credentials: 0600 root:root, written atomically, never printed.
  local name
  for name in bot_token webhook_secret session_secret database_url redis_url; do
    if [ -n "${cred_value[$name]+given}" ]; then
      write_cred "$name" "${cred_value[$name]}"; changed=1; say "wrote credential $name"
    elif [ ! -s "$prefix$CREDS/$name" ]; then
      case "$name" in
        webhook_secret) write_cred "$name" "$(random_secret 32)"; changed=1; say "generated credential webhook_secret" ;;
        session_secret) write_cred "$name" "$(random_secret 48)"; changed=1; say "generated credential session_secret" ;;
      esac
    fi
    [ ! -e "$prefix$CREDS/$name" ] || { chmod 0600 "$prefix$CREDS/$name"; own root:root "$prefix$CREDS/$name"; }
  done
  # Loaded by the unit on every start, so they must exist; empty means unset: webhook_secret_old
  # outside a secret rotation (docs/runbook.md), database_url and redis_url on a one-VM install
  # (SQLite, limits in process; docs/scale-out.md).
  for name in webhook_secret_old database_url redis_url; do
    [ -e "$prefix$CREDS/$name" ] || write_cred "$name" ""
    chmod 0600 "$prefix$CREDS/$name"; own root:root "$prefix$CREDS/$name"
  done

  # nginx site, snippets and the certbot deploy hook.
  local render_dir s f
  render_dir="$(mktemp -d)"
  SERVER_NAME="$server_name" HTTPS_PORT="$HTTPS_PORT" UPSTREAM="$UPSTREAM" "$kit/render.sh" "$render_dir" || fail_step "render.sh failed (above)"
  for f in telegram-ips.conf tls.conf proxy.conf; do put "$render_dir/snippets/$f" "$prefix$SNIPPETS/$f" 0644; done
  [ -f "$prefix$SNIPPETS/upstream.conf" ] || put "$render_dir/snippets/upstream.conf" "$prefix$SNIPPETS/upstream.conf" 0644
  [ -f "$prefix$SNIPPETS/admin-allow.conf" ] || put "$render_dir/snippets/admin-allow.conf" "$prefix$SNIPPETS/admin-allow.conf" 0644
  for s in tgwh-http.conf tgwh.conf; do put "$render_dir/sites/$s" "$prefix/etc/nginx/sites-available/$s" 0644; done
  rm -rf "$render_dir"
  mkdir -p "$prefix/etc/nginx/sites-enabled"
  # Relative links: they resolve inside a staging root as well as on the VM.
  ln -sfn ../sites-available/tgwh-http.conf "$prefix/etc/nginx/sites-enabled/tgwh-http.conf"
  if [ -s "$cert_live/fullchain.pem" ]; then ln -sfn ../sites-available/tgwh.conf "$prefix/etc/nginx/sites-enabled/tgwh.conf"; fi
  put "$kit/certbot/reload-nginx.sh" "$prefix$HOOK" 0755
  put "$kit/tgwh-admin.sh" "$prefix/usr/local/sbin/tgwh-admin" 0755
}

step_service() {
  if [ -z "$prefix" ]; then systemd-tmpfiles --create /etc/tmpfiles.d/tgwh.conf; fi
  systemctl daemon-reload
  systemctl enable tgwh.service >/dev/null 2>&1
  if [ "$changed" = 1 ] || ! systemctl is-active --quiet tgwh.service; then
    systemctl restart tgwh.service || fail_step "systemctl restart tgwh failed: see \`journalctl -u tgwh -n 50\`"
  fi
  local i
  for i in $(seq 1 60); do
    if curl -fs -o /dev/null --max-time 2 "http://$UPSTREAM/readyz"; then say "tgwh is ready on $UPSTREAM"; break; fi
    [ "$i" -lt 60 ] || fail_step "tgwh did not become ready on $UPSTREAM within 30 s: see \`journalctl -u tgwh -n 50\` and \`sudo tgwh-admin doctor\`"
    sleep 0.5
  done
  nginx_apply
  say "nginx serves http://$server_name$([ "${HTTP_PORT:-80}" = 80 ] || echo ":$HTTP_PORT") (ACME challenges, a redirect to https)"
}

step_certificate() {
  if [ -s "$cert_live/fullchain.pem" ]; then say "certificate for $server_name is there (certbot.timer renews it)"; return; fi
  local args=(certonly --webroot -w "${ACME_WEBROOT:-/var/www/letsencrypt}" -d "$server_name" -m "$email" --agree-tos --no-eff-email --non-interactive --keep-until-expiring)
  [ -z "$acme_server" ] || args+=(--server "$acme_server")
  [ -z "$prefix" ] || args+=(--config-dir "$prefix/etc/letsencrypt" --work-dir "$prefix/var/lib/letsencrypt" --logs-dir "$prefix/var/log/letsencrypt")
  certbot "${args[@]}" || fail_step "certbot could not get a certificate for $server_name: does its DNS A record point at this VM, and is TCP port 80 open from the internet? (log: $prefix/var/log/letsencrypt/letsencrypt.log)"
}

step_https() {
  ln -sfn ../sites-available/tgwh.conf "$prefix/etc/nginx/sites-enabled/tgwh.conf"
  nginx_apply
  say "nginx serves $public_url"
}

step_webhook() {
  admin webhook set || fail_step "tgwh webhook set failed (above): Telegram's answer names the problem; \`sudo tgwh-admin webhook info\` shows its view"
}

step_smoke() {
  # Through the address nginx listens on (all of them on a VM: the loopback one).
  local args=(smoke --resolve "${LISTEN_ADDRESS:-127.0.0.1}")
  if [ -n "$chat" ]; then args+=(--chat "$chat"); else args+=(--no-delivery); fi
  admin "${args[@]}" || fail_step "the smoke test failed (the FAIL lines above say where)"
  [ -n "$chat" ] || say "delivery was not checked: send /start to the bot, then run: sudo tgwh-admin smoke --chat <your chat id>"
}

step_backups() {
  systemctl enable --now tgwh-backup.timer >/dev/null 2>&1 || fail_step "systemctl enable --now tgwh-backup.timer failed"
  say "hourly backups to $BACKUPS (the newest 24 kept); offsite copies: docs/operating.md"
}

if [ "$start" = 1 ]; then step packages; fi
step files
if [ "$start" = 1 ]; then
  for s in service certificate https webhook smoke backups; do step "$s"; done
  current_step=""
  say "done: $public_url/telegram/webhook is registered with Telegram and passed the smoke test"
else
  current_step=""
  [ -s "$prefix$CREDS/bot_token" ] || say "no bot token yet: the next run without --no-start asks for it"
  if [ ! -s "$cert_live/fullchain.pem" ]; then
    say "no certificate for $server_name yet: the next run without --no-start gets it, the same as"
    say "  certbot certonly --webroot -w /var/www/letsencrypt -d $server_name -m YOU@EXAMPLE.COM --agree-tos --no-eff-email"
  fi
  say "done (files only). Check it with: sudo tgwh-admin doctor"
fi
