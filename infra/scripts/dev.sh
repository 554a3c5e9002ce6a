#!/usr/bin/env bash
# `make dev`: the whole platform on this machine. Installs what is missing, starts Postgres and Redis
# (unless DATABASE_URL / REDIS_URL are given), migrates, seeds the demo org, builds the web app, then
# runs the ASGI server, a Celery worker and beat until Ctrl-C or SIGTERM, which stops every child.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
# The processes run in backend/: a relative ATRIUM_GRAPHS means relative to where it was given.
[ -n "${ATRIUM_GRAPHS:-}" ] && { export ATRIUM_GRAPHS; ATRIUM_GRAPHS=$(realpath "$ATRIUM_GRAPHS"); }
cd "$ROOT_DIR"

bash infra/scripts/install.sh
source infra/scripts/env.sh
bash infra/scripts/frontend-build.sh

export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-config.settings.dev}
PORT=${ATRIUM_PORT:-8000}
HOST=${ATRIUM_HOST:-127.0.0.1}
manage() { (cd backend && uv run --frozen --quiet python manage.py "$@"); }

manage migrate --no-input -v 0
manage seed_demo

pids=()
# Each child gets its own process group so that stopping it also stops what it spawned.
spawn() {
  local name=$1; shift
  setsid "$@" > >(sed -u "s/^/[$name] /") 2>&1 &
  pids+=($!)
}

stopping=0
shutdown() {
  [ $stopping -eq 1 ] && return
  stopping=1
  log "stopping"
  local pid
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 100); do
    local alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ $alive -eq 0 ] && break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  if [ "$STARTED_SERVICES" = 1 ] && [ "${ATRIUM_KEEP_SERVICES:-0}" != 1 ]; then
    bash infra/scripts/services.sh stop "${ATRIUM_DATA_DIR:-$ROOT_DIR/.data}"
  fi
}
trap 'shutdown; exit 0' INT TERM
trap shutdown EXIT

cd backend
spawn web uv run --frozen --quiet uvicorn config.asgi:application --host "$HOST" --port "$PORT" \
  --loop uvloop --http httptools --no-access-log --timeout-graceful-shutdown 5
spawn worker uv run --frozen --quiet celery -A config worker -l INFO -Q "${ATRIUM_WORKER_QUEUES:-default,runs,webhooks}" --pool threads \
  --concurrency "${ATRIUM_WORKER_CONCURRENCY:-8}" -n "worker-$$@%h"
spawn beat uv run --frozen --quiet celery -A config beat -l INFO \
  -s "${ATRIUM_DATA_DIR:-$ROOT_DIR/.data}/celerybeat-schedule" --pidfile=
cd "$ROOT_DIR"

for _ in $(seq 100); do curl -fsS "http://$HOST:$PORT/agent/ok" >/dev/null 2>&1 && break; sleep 0.2; done
cat <<MSG

  Atrium is running.
    Web app        http://$HOST:$PORT/
    Admin          http://$HOST:$PORT/admin/
    API docs       http://$HOST:$PORT/api/v1/docs
    Agent API      http://$HOST:$PORT/agent   (e.g. LANGGRAPH_API_KEY=\$(make -s apikey ...))
  Logins: admin@demo.local, builder@demo.local, user@demo.local, viewer@demo.local (password: ${ATRIUM_DEMO_PASSWORD:-atrium-demo})
  Ctrl-C stops everything.

MSG
# Exit when any child dies, so a crash is not hidden behind a half-running platform.
wait -n "${pids[@]}" || true
log "a process exited; shutting down"
