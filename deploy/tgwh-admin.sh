#!/bin/sh
# tgwh-admin: THE way to run a tgwh command on the VM: with the service's settings, credentials
# and database, as the service's user (tgwh reads the root-only credentials, then switches to the
# owner of /var/lib/tgwh, so it never leaves a root-owned file behind). E.g.
#   sudo tgwh-admin doctor
#   sudo tgwh-admin webhook set
#   sudo tgwh-admin token create --name ops --role operator
#   sudo tgwh-admin smoke --chat 123456789
#   sudo tgwh-admin backup --dir /var/backups/tgwh
# Installed by install.sh to /usr/local/sbin/tgwh-admin. Root only: the credentials are.
# TGWH_ETC, TGWH_BIN and TGWH_DB point it elsewhere (tests, staging roots).
set -eu
etc="${TGWH_ETC:-/etc/tgwh}"
bin="${TGWH_BIN:-/usr/local/bin/tgwh}"
if [ ! -r "$etc/credentials" ] || [ ! -x "$etc/credentials" ]; then
  echo "tgwh-admin: cannot read $etc/credentials: run it with sudo" >&2
  exit 2
fi
if [ -f "$etc/tgwh.env" ]; then
  set -a
  # shellcheck disable=SC1091
  . "$etc/tgwh.env"
  set +a
fi
# Under systemd the database is $STATE_DIRECTORY/tgwh.db; a shell has no STATE_DIRECTORY. With a
# PostgreSQL store (a database_url credential, or TGWH_DATABASE_URL) there is no file to name:
# TGWH_DB beside it would be a configuration error.
if [ -z "${TGWH_DATABASE_URL:-}${TGWH_DATABASE_URL_FILE:-}" ] && [ ! -s "$etc/credentials/database_url" ]; then
  : "${TGWH_DB:=/var/lib/tgwh/tgwh.db}"
  export TGWH_DB
fi
export CREDENTIALS_DIRECTORY="$etc/credentials"
exec "$bin" "$@"
