#!/usr/bin/env bash
# What `make test` needs beyond Node.js and npm: the real servers and tools the deploy, browser,
# PostgreSQL and Redis tests drive (Debian packages). As root it installs what is missing; otherwise
# it stops at once with the one command to run, so a test run never half-skips in silence.
# TGWH_TEST_PREREQS=skip bypasses the check (the tests then skip what is missing, with a warning).
set -euo pipefail

# program → Debian package that provides it (one row each).
REQUIRED=(
  "nginx:nginx"
  "certbot:certbot"
  "pebble:pebble"
  "promtool:prometheus"
  "chromium:chromium"
  "openssl:openssl"
  "curl:curl"
  "systemd-analyze:systemd"
  "redis-server:redis-server"
  "pg_ctl:postgresql"
  "restic:restic"
)

[ "${TGWH_TEST_PREREQS:-}" = "skip" ] && exit 0

# Debian keeps PostgreSQL's server programs outside PATH, under /usr/lib/postgresql/<version>/bin.
have() {
  command -v "$1" >/dev/null 2>&1 && return 0
  [ "$1" = pg_ctl ] && compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null && return 0
  return 1
}

missing=()
for row in "${REQUIRED[@]}"; do
  prog=${row%%:*} pkg=${row#*:}
  have "$prog" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

line="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "make test: installing what the tests need: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends ${missing[*]} >/dev/null
  # Debian's nginx, postgresql and redis packages start system services; the tests run their own
  # on free loopback ports, so stop those to keep ports 80/5432/6379 and the CPU free.
  if command -v systemctl >/dev/null 2>&1; then
    systemctl stop nginx postgresql redis-server >/dev/null 2>&1 || true
  fi
  exit 0
fi
echo "make test needs Debian packages that are missing: ${missing[*]}" >&2
echo "run:  sudo $line" >&2
echo "(or TGWH_TEST_PREREQS=skip make test to run without them: those tests are then skipped)" >&2
exit 2
