#!/usr/bin/env bash
# `make dev`: the whole platform on this machine. Installs what is missing, starts Postgres and Redis
# (unless DATABASE_URL / REDIS_URL are given), migrates, seeds the demo org, builds the web app, then
# becomes infra/scripts/supervise.py running the ASGI server, Celery workers, beat and the demo MCP
# server (docs/mcp.md; one web and one worker process per core: ATRIUM_WEB_PROCESSES,
# ATRIUM_WORKER_PROCESSES) with production settings but the offline model (ATRIUM_DEBUG=1 for debug
# pages): a process that exits is restarted with backoff, and Ctrl-C or SIGTERM (one or several, or
# `make` dying) stops every process and the Postgres and Redis started here.
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
# The demo MCP server (a program below) on a free loopback port: seed_demo registers it for the demo
# org's agent, at this start's URL.
DEMO_MCP_PORT=$(free_port)
export ATRIUM_DEMO_MCP_URL="http://127.0.0.1:$DEMO_MCP_PORT/mcp"
manage seed_demo
# Debug is off (as in production), so the admin's static files are served collected, as there.
manage collectstatic --no-input -v 0

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

# One machine's production layout: a uvicorn with a worker process per core (the runtime shares
# nothing between web processes but Postgres and Redis), a Celery worker process per core (a process
# runs its graphs on one event loop under one GIL: one cannot use a second core), and beat.
CORES=$(nproc)
WEB_PROCESSES=${ATRIUM_WEB_PROCESSES:-$CORES}
programs=(-- web "$PYTHON" -m uvicorn config.asgi:application --host "$HOST" --port "$PORT" --workers "$WEB_PROCESSES"
  --loop uvloop --http httptools --no-access-log --timeout-graceful-shutdown 5)
for i in $(seq "${ATRIUM_WORKER_PROCESSES:-$CORES}"); do
  programs+=(-- "worker$i" "$PYTHON" -m celery -A config worker -l INFO -Q "${ATRIUM_WORKER_QUEUES:-default,runs,webhooks}" --pool threads
    --concurrency "${ATRIUM_WORKER_CONCURRENCY:-8}" -n "worker$i-$$@%h")
done
programs+=(-- beat "$PYTHON" -m celery -A config beat -l INFO -s "$DATA_DIR/celerybeat-schedule" --pidfile=)
programs+=(-- mcp "$PYTHON" -m atrium.mcp_servers.demo_server --host 127.0.0.1 --port "$DEMO_MCP_PORT")

trap - EXIT INT TERM HUP
cd backend
# --parent: were `make` gone already (killed during the setup), the supervisor stops at once.
exec "$PYTHON" "$ROOT_DIR/infra/scripts/supervise.py" --tag dev --parent "$PPID" --on-exit "$STOP_SERVICES" "${programs[@]}"
