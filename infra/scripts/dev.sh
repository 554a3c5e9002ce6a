#!/usr/bin/env bash
# `make dev`: the whole platform on this machine. Installs what is missing, starts Postgres and Redis
# (unless DATABASE_URL / REDIS_URL are given), migrates, seeds the demo org, builds the web app, then
# becomes infra/scripts/supervise.py running the ASGI server, a Celery worker and beat: a process that
# exits is restarted with backoff, and Ctrl-C or SIGTERM (one or several, or `make` dying) stops every
# process and the Postgres and Redis started here.
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

DATA_DIR=${ATRIUM_DATA_DIR:-$ROOT_DIR/.data}
STOP_SERVICES=""
if [ "$STARTED_SERVICES" = 1 ] && [ "${ATRIUM_KEEP_SERVICES:-0}" != 1 ]; then
  STOP_SERVICES="bash $(printf %q "$ROOT_DIR/infra/scripts/services.sh") stop $(printf %q "$DATA_DIR")"
fi
# Until the supervisor takes over, a failed or interrupted setup stops the services it started.
trap 'eval "$STOP_SERVICES"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

manage migrate --no-input -v 0
manage seed_demo

# The processes run on the project's interpreter directly (see lib.sh: no `uv run` in between).
PYTHON=$(project_python)
VIRTUAL_ENV=$(dirname "$(dirname "$PYTHON")"); export VIRTUAL_ENV PATH="$VIRTUAL_ENV/bin:$PATH"

# The banner, once the server answers: a process of its own that ends with the supervisor (which
# becomes this pid), or after 30 s.
( (
  for _ in $(seq 150); do kill -0 $$ 2>/dev/null || exit 0; curl -fsS --max-time 1 "http://$HOST:$PORT/agent/ok" >/dev/null 2>&1 && break; sleep 0.2; done
  cat <<MSG >&2

  Atrium is running.
    Web app        http://$HOST:$PORT/
    Admin          http://$HOST:$PORT/admin/
    API docs       http://$HOST:$PORT/api/v1/docs
    Agent API      http://$HOST:$PORT/agent   (e.g. LANGGRAPH_API_KEY=\$(make -s apikey ...))
  Logins: admin@demo.local, builder@demo.local, user@demo.local, viewer@demo.local (password: ${ATRIUM_DEMO_PASSWORD:-atrium-demo})
  Ctrl-C stops everything.

MSG
) & )

trap - EXIT INT TERM HUP
cd backend
# --parent: were `make` gone already (killed during the setup), the supervisor stops at once.
exec "$PYTHON" "$ROOT_DIR/infra/scripts/supervise.py" --tag dev --parent "$PPID" --on-exit "$STOP_SERVICES" \
  -- web "$PYTHON" -m uvicorn config.asgi:application --host "$HOST" --port "$PORT" \
    --loop uvloop --http httptools --no-access-log --timeout-graceful-shutdown 5 \
  -- worker "$PYTHON" -m celery -A config worker -l INFO -Q "${ATRIUM_WORKER_QUEUES:-default,runs,webhooks}" --pool threads \
    --concurrency "${ATRIUM_WORKER_CONCURRENCY:-16}" -n "worker-$$@%h" \
  -- beat "$PYTHON" -m celery -A config beat -l INFO -s "$DATA_DIR/celerybeat-schedule" --pidfile=
