#!/usr/bin/env bash
# Installs tgwh on a Debian VM (or, with --prefix, into a staging root for packaging and tests).
# Idempotent: run it again to upgrade the binary or re-render the nginx files; existing
# credentials, settings and admin-allow.conf are kept unless new ones are given.
#
#   sudo deploy/install.sh --server-name bot.example.com --bot-token-file - < token.txt
#   sudo deploy/install.sh --uninstall [--purge]
#
# Options:
#   --prefix DIR               install under DIR (DESTDIR-style): no users, systemctl or nginx reload
#   --binary FILE              the tgwh executable [dist/tgwh]
#   --server-name NAME         public host name for the nginx site (kept in /etc/tgwh/deploy.env)
#   --bot-token-file F         bot token from file F ('-' = stdin)
#   --webhook-secret-file F    webhook secret from F ('-' = stdin); generated when absent
#   --session-secret-file F    session JWT key from F ('-' = stdin); generated when absent
#   --no-start                 install only; do not (re)start tgwh or reload nginx
#   --uninstall                remove binary, units, nginx site and hook; keep settings and data
#   --purge                    with --uninstall: also remove /etc/tgwh (credentials) and /var/lib/tgwh (the database!)
# Secrets are never printed; credential files are 0600 root:root in /etc/tgwh/credentials.
set -euo pipefail
umask 022

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
prefix="" binary="$repo/dist/tgwh" server_name="" uninstall=0 purge=0 start=1
declare -A cred_src=()

die() { echo "install.sh: $*" >&2; exit 2; }
say() { echo "install.sh: $*"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix="${2:?--prefix needs a directory}"; shift 2 ;;
    --prefix=*) prefix="${1#*=}"; shift ;;
    --binary) binary="${2:?--binary needs a file}"; shift 2 ;;
    --server-name) server_name="${2:?--server-name needs a host name}"; shift 2 ;;
    --bot-token-file) cred_src[bot_token]="${2:?--bot-token-file needs a file or -}"; shift 2 ;;
    --webhook-secret-file) cred_src[webhook_secret]="${2:?--webhook-secret-file needs a file or -}"; shift 2 ;;
    --session-secret-file) cred_src[session_secret]="${2:?--session-secret-file needs a file or -}"; shift 2 ;;
    --no-start) start=0; shift ;;
    --uninstall) uninstall=1; shift ;;
    --purge) purge=1; shift ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done
stdin_users=0
for k in "${!cred_src[@]}"; do [ "${cred_src[$k]}" = "-" ] && stdin_users=$((stdin_users + 1)); done
[ "$stdin_users" -le 1 ] || die "only one credential can come from stdin ('-'); give the others as files"
[ "$purge" = 0 ] || [ "$uninstall" = 1 ] || die "--purge only goes with --uninstall"
if [ -n "$prefix" ]; then
  prefix="$(mkdir -p "$prefix" && cd "$prefix" && pwd)"
  start=0
fi
uid="$(id -u)"
is_root() { [ "$uid" = 0 ]; }
[ -n "$prefix" ] || is_root || die "run as root (sudo), or use --prefix DIR for a staging root"

ETC=/etc/tgwh CREDS=/etc/tgwh/credentials STATE=/var/lib/tgwh
SNIPPETS=/etc/nginx/snippets/tgwh HOOK=/etc/letsencrypt/renewal-hooks/deploy/tgwh-reload-nginx.sh
UNITS=(tgwh.service tgwh@.service)

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

if [ "$uninstall" = 1 ]; then
  if [ -z "$prefix" ] && command -v systemctl >/dev/null 2>&1; then
    systemctl stop tgwh.service 'tgwh@*.service' >/dev/null 2>&1 || true
    systemctl disable tgwh.service >/dev/null 2>&1 || true
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
    rm -rf "$prefix$ETC" "$prefix$STATE" "$prefix/var/backups/tgwh" "$prefix$SNIPPETS"
    say "purged $ETC (settings and credentials), $STATE (the database), /var/backups/tgwh and $SNIPPETS"
    if [ -z "$prefix" ] && id tgwh >/dev/null 2>&1; then userdel tgwh || true; fi
  else
    say "kept $ETC (settings, credentials), $STATE (the database) and $SNIPPETS/admin-allow.conf; --uninstall --purge removes them"
  fi
  if [ -z "$prefix" ]; then
    command -v systemctl >/dev/null 2>&1 && systemctl daemon-reload || true
    if command -v nginx >/dev/null 2>&1 && nginx -t -q 2>/dev/null; then systemctl reload nginx 2>/dev/null || true; fi
  fi
  say "uninstalled"
  exit 0
fi

[ -x "$binary" ] || die "binary '$binary' is missing or not executable: run \`make build\` first or pass --binary"

# Host name: from the flag, else from the previous install.
deploy_env="$prefix$ETC/deploy.env"
if [ -z "$server_name" ] && [ -f "$deploy_env" ]; then
  server_name="$(sed -n 's/^SERVER_NAME=//p' "$deploy_env" | head -1)"
fi
[ -n "$server_name" ] || die "--server-name NAME is required on the first install (the public host name nginx serves)"
[[ "$server_name" =~ ^[A-Za-z0-9.-]+$ ]] || die "--server-name '$server_name' is not a host name"

# 1. The user and directories.
if [ -z "$prefix" ]; then
  put "$here/systemd/tgwh.sysusers" /etc/sysusers.d/tgwh.conf 0644
  if ! id tgwh >/dev/null 2>&1; then
    if command -v systemd-sysusers >/dev/null 2>&1; then systemd-sysusers /etc/sysusers.d/tgwh.conf
    else useradd --system --home-dir "$STATE" --no-create-home --shell /usr/sbin/nologin tgwh; fi
    say "created system user tgwh"
  fi
else
  put "$here/systemd/tgwh.sysusers" "$prefix/etc/sysusers.d/tgwh.conf" 0644
fi
mkdir -p "$prefix$ETC" "$prefix$CREDS" "$prefix$STATE" "$prefix/var/backups/tgwh" "$prefix/var/www/letsencrypt"
chmod 0755 "$prefix$ETC" "$prefix/var/www/letsencrypt"; own root:root "$prefix$ETC"; own root:root "$prefix/var/www/letsencrypt"
chmod 0700 "$prefix$CREDS"; own root:root "$prefix$CREDS"
chmod 0750 "$prefix$STATE" "$prefix/var/backups/tgwh"
if have_user; then own tgwh:tgwh "$prefix$STATE"; own tgwh:tgwh "$prefix/var/backups/tgwh"; fi

# 2. The binary, the units and the tmpfiles rule.
changed=0
if ! cmp -s "$binary" "$prefix/usr/local/bin/tgwh"; then
  # The replaced binary stays at hand for a rollback: install.sh --binary /usr/local/lib/tgwh/previous/tgwh
  if [ -f "$prefix/usr/local/bin/tgwh" ]; then put "$prefix/usr/local/bin/tgwh" "$prefix/usr/local/lib/tgwh/previous/tgwh" 0755; fi
  put "$binary" "$prefix/usr/local/bin/tgwh" 0755; changed=1; say "installed /usr/local/bin/tgwh"
fi
for u in "${UNITS[@]}"; do
  if ! cmp -s "$here/systemd/$u" "$prefix/etc/systemd/system/$u"; then put "$here/systemd/$u" "$prefix/etc/systemd/system/$u" 0644; changed=1; fi
done
put "$here/systemd/tgwh.tmpfiles" "$prefix/etc/tmpfiles.d/tgwh.conf" 0644
[ -f "$prefix$ETC/tgwh.env" ] || { put "$here/systemd/tgwh.env.example" "$prefix$ETC/tgwh.env" 0644; sed -i "s|https://bot.example.com|https://$server_name|" "$prefix$ETC/tgwh.env"; say "wrote $ETC/tgwh.env (edit it as needed)"; }
printf 'SERVER_NAME=%s\n' "$server_name" >"$deploy_env"; chmod 0644 "$deploy_env"; own root:root "$deploy_env"

# 3. Credentials: 0600 root:root, written atomically, never printed.
random_secret() { head -c "$1" /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d '='; }
valid_secret() {
  case "$1" in
    bot_token) [[ "$2" =~ ^[0-9]{1,20}:[A-Za-z0-9_-]{20,100}$ ]] ;;
    webhook_secret) [[ "$2" =~ ^[A-Za-z0-9_-]{1,256}$ ]] ;;
    session_secret) [ "${#2}" -ge 32 ] ;;
  esac
}
hint_for() {
  case "$1" in
    bot_token) echo "expected <digits>:<35 or so characters> from @BotFather" ;;
    webhook_secret) echo "expected 1-256 characters of A-Z a-z 0-9 _ -" ;;
    session_secret) echo "expected at least 32 characters" ;;
  esac
}
write_cred() {
  local name="$1" value="$2" dst tmp
  dst="$prefix$CREDS/$name"; tmp="$prefix$CREDS/.$name.tmp.$$"
  ( umask 077; printf '%s' "$value" >"$tmp" )
  chmod 0600 "$tmp"; own root:root "$tmp"; mv -f "$tmp" "$dst"
}
for name in bot_token webhook_secret session_secret; do
  src="${cred_src[$name]:-}"
  if [ -n "$src" ]; then
    if [ "$src" = "-" ]; then value="$(cat)"; else [ -r "$src" ] || die "$name: cannot read '$src'"; value="$(cat -- "$src")"; fi
    value="${value%$'\r'}"
    valid_secret "$name" "$value" || die "$name: the given value is not valid ($(hint_for "$name")); nothing was written"
    write_cred "$name" "$value"; changed=1; say "wrote credential $name"
  elif [ ! -s "$prefix$CREDS/$name" ]; then
    case "$name" in
      bot_token) say "no bot token yet: tgwh will not start until you run: sudo $0 --bot-token-file -   (and paste it, then Ctrl-D)" ;;
      webhook_secret) write_cred "$name" "$(random_secret 32)"; changed=1; say "generated credential webhook_secret" ;;
      session_secret) write_cred "$name" "$(random_secret 48)"; changed=1; say "generated credential session_secret" ;;
    esac
  fi
  [ ! -e "$prefix$CREDS/$name" ] || { chmod 0600 "$prefix$CREDS/$name"; own root:root "$prefix$CREDS/$name"; }
done
# Loaded by the unit on every start; empty outside a secret rotation (docs/runbook.md).
[ -e "$prefix$CREDS/webhook_secret_old" ] || write_cred webhook_secret_old ""
chmod 0600 "$prefix$CREDS/webhook_secret_old"; own root:root "$prefix$CREDS/webhook_secret_old"

# 4. nginx site, snippets and the certbot deploy hook.
render_dir="$(mktemp -d)"; trap 'rm -rf "$render_dir"' EXIT
SERVER_NAME="$server_name" "$here/render.sh" "$render_dir"
for f in telegram-ips.conf tls.conf proxy.conf; do put "$render_dir/snippets/$f" "$prefix$SNIPPETS/$f" 0644; done
[ -f "$prefix$SNIPPETS/upstream.conf" ] || put "$render_dir/snippets/upstream.conf" "$prefix$SNIPPETS/upstream.conf" 0644
[ -f "$prefix$SNIPPETS/admin-allow.conf" ] || put "$render_dir/snippets/admin-allow.conf" "$prefix$SNIPPETS/admin-allow.conf" 0644
for s in tgwh-http.conf tgwh.conf; do put "$render_dir/sites/$s" "$prefix/etc/nginx/sites-available/$s" 0644; done
mkdir -p "$prefix/etc/nginx/sites-enabled"
ln -sfn /etc/nginx/sites-available/tgwh-http.conf "$prefix/etc/nginx/sites-enabled/tgwh-http.conf"
# The HTTPS site needs the certificate: enabled once certbot has issued it (re-run this script).
if [ -e "$prefix/etc/letsencrypt/live/$server_name/fullchain.pem" ]; then
  ln -sfn /etc/nginx/sites-available/tgwh.conf "$prefix/etc/nginx/sites-enabled/tgwh.conf"
else
  say "no certificate for $server_name yet: HTTPS site not enabled. Get one with:"
  say "  certbot certonly --webroot -w /var/www/letsencrypt -d $server_name -m YOU@EXAMPLE.COM --agree-tos --no-eff-email"
  say "then run this script again."
fi
put "$here/certbot/reload-nginx.sh" "$prefix$HOOK" 0755
put "$here/tgwh-admin.sh" "$prefix/usr/local/sbin/tgwh-admin" 0755

# 5. Start (not in a staging root).
if [ "$start" = 1 ] && command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  systemd-tmpfiles --create /etc/tmpfiles.d/tgwh.conf
  systemctl daemon-reload
  systemctl enable tgwh.service >/dev/null 2>&1
  if [ -s "$CREDS/bot_token" ]; then
    if [ "$changed" = 1 ] || ! systemctl is-active --quiet tgwh.service; then systemctl restart tgwh.service && say "tgwh (re)started"; fi
  fi
  if command -v nginx >/dev/null 2>&1; then
    if nginx -t -q; then systemctl reload-or-restart nginx && say "nginx reloaded"; else say "nginx -t failed: nginx not reloaded (fix the error above)"; fi
  fi
fi
say "done. Check it with: sudo tgwh-admin doctor"
