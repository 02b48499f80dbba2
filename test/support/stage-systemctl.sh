#!/usr/bin/env bash
# A stand-in for systemctl in a staged VM root (the test machine runs no systemd): install.sh
# --prefix ROOT --start finds it first on PATH. It runs the units' commands from the files
# install.sh put in ROOT, with ROOT's paths:
#   tgwh.service         ROOT/usr/local/bin/tgwh serve, with ROOT/etc/tgwh/tgwh.env, the
#                        credentials folder and the state directory of ROOT, on STAGE_LISTEN
#   tgwh-backup.service  the ExecStart= line of ROOT's tgwh-backup.service, paths under ROOT
#   nginx                nginx -p NGINX_PREFIX -c NGINX_CONF -s reload
# Unlike systemd it runs them as the calling user, without the units' sandboxing.
# Env: STAGE_ROOT, STAGE_LISTEN (HOST:PORT), STAGE_RUN (pid files, logs, the action log).
set -euo pipefail
root="${STAGE_ROOT:?}" run="${STAGE_RUN:?}"
mkdir -p "$run"
echo "$*" >>"$run/systemctl.log"

quiet=0 now=0 args=()
for a in "$@"; do
  case "$a" in
    --quiet|-q) quiet=1 ;;
    --now) now=1 ;;
    *) args+=("$a") ;;
  esac
done
set -- "${args[@]}"
verb="${1:-}"; shift || true

pid_alive() { [ -f "$run/$1.pid" ] && kill -0 "$(cat "$run/$1.pid")" 2>/dev/null; }

start_tgwh() {
  (
    set -a
    # shellcheck disable=SC1091
    [ ! -f "$root/etc/tgwh/tgwh.env" ] || . "$root/etc/tgwh/tgwh.env"
    set +a
    export CREDENTIALS_DIRECTORY="$root/etc/tgwh/credentials" STATE_DIRECTORY="$root/var/lib/tgwh" TGWH_LISTEN="${STAGE_LISTEN:?}"
    cd "$root/var/lib/tgwh"
    exec "$root/usr/local/bin/tgwh" serve
  ) >>"$run/tgwh.log" 2>&1 </dev/null &
  echo $! >"$run/tgwh.pid"
}

stop_tgwh() {
  if pid_alive tgwh; then
    local pid; pid="$(cat "$run/tgwh.pid")"
    kill -TERM "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" || true
  fi
  rm -f "$run/tgwh.pid"
}

run_backup() {
  local cmd
  cmd="$(sed -n 's/^ExecStart=//p' "$root/etc/systemd/system/tgwh-backup.service")"
  cmd="${cmd//\/usr\/local\/bin\//$root/usr/local/bin/}"
  cmd="${cmd//\/var\/backups\//$root/var/backups/}"
  ( umask 077; STATE_DIRECTORY="$root/var/lib/tgwh" $cmd ) >>"$run/backup.log" 2>&1
}

case "$verb" in
  daemon-reload) ;;
  enable|disable)
    for u in "$@"; do echo "$verb $u" >>"$run/enabled"; done
    if [ "$now" = 1 ] && [ "$verb" = disable ]; then for u in "$@"; do [ "$u" != tgwh.service ] || stop_tgwh; done; fi ;;
  is-active)
    case "${1:-}" in
      tgwh.service) pid_alive tgwh || { [ "$quiet" = 1 ] || echo inactive; exit 3; }; [ "$quiet" = 1 ] || echo active ;;
      *) [ "$quiet" = 1 ] || echo inactive; exit 3 ;;
    esac ;;
  start|restart)
    for u in "$@"; do
      case "$u" in
        tgwh.service) stop_tgwh; start_tgwh ;;
        tgwh-backup.service) run_backup ;;
        nginx|nginx.service) nginx -p "${NGINX_PREFIX:?}" -c "${NGINX_CONF:?}" -s reload ;;
        *) echo "stage-systemctl: unknown unit $u" >&2; exit 5 ;;
      esac
    done ;;
  stop)
    for u in "$@"; do [ "$u" != tgwh.service ] || stop_tgwh; done ;;
  reload|reload-or-restart)
    nginx -p "${NGINX_PREFIX:?}" -c "${NGINX_CONF:?}" -s reload ;;
  *) echo "stage-systemctl: '$verb' is not emulated" >&2; exit 1 ;;
esac
