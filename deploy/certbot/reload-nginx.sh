#!/bin/sh
# certbot deploy hook: after a certificate is issued or renewed, check the nginx configuration
# and reload nginx so it serves the new certificate. install.sh puts it in
# /etc/letsencrypt/renewal-hooks/deploy/, where certbot runs it on every successful renewal
# (Debian's certbot.timer renews twice a day). A config that fails `nginx -t` is not reloaded:
# nginx keeps serving the old certificate and the hook exits non-zero, which certbot logs.
#
# NGINX_PREFIX and NGINX_CONF select an nginx started as `nginx -p PREFIX -c CONF` (the tests);
# unset, the system nginx is checked and reloaded through systemd.
set -eu

nginx_bin="${NGINX_BIN:-nginx}"
if [ -n "${NGINX_PREFIX:-}" ] || [ -n "${NGINX_CONF:-}" ]; then
  set -- -p "${NGINX_PREFIX:?set NGINX_PREFIX with NGINX_CONF}" -c "${NGINX_CONF:?set NGINX_CONF with NGINX_PREFIX}"
else
  set --
fi

if ! "$nginx_bin" -t -q "$@"; then
  echo "reload-nginx.sh: nginx -t failed; not reloading (nginx keeps the old certificate)" >&2
  exit 1
fi

if [ $# -gt 0 ]; then
  "$nginx_bin" "$@" -s reload
elif command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet nginx; then
  systemctl reload nginx
else
  "$nginx_bin" -s reload
fi
echo "reload-nginx.sh: nginx reloaded for ${RENEWED_LINEAGE:-a renewed certificate}"
