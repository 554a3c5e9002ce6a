#!/usr/bin/env bash
# Browser tests against the real stack: ASGI server + Celery worker on free ports, Debian's chromium
# driven by playwright-core. They start where a new user starts: PostgreSQL and Redis of their own on
# an empty data directory, migrated and seeded as `make dev` does, its demo MCP server included
# (first-run.mjs, the first test, checks what that offers before anything has called the API).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
die_with_parent "$@"
cd "$ROOT_DIR"

pids=()
# Stop every child's process group; whatever has not exited after 15 s is killed, so a stuck
# connection can never hold the test run open. Then the services and their data directory go.
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  for _ in $(seq 150); do
    local alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ $alive -eq 0 ] && break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "${E2E_DATA:-}" ]; then
    bash "$ROOT_DIR/infra/scripts/services.sh" stop "$E2E_DATA" >/dev/null 2>&1 || true
    rm -rf "$E2E_DATA"
  fi
}
trap cleanup EXIT
E2E_DATA=$(mktemp -d /tmp/atrium-e2e.XXXXXX)
chmod 755 "$E2E_DATA"
unset DATABASE_URL REDIS_URL
export ATRIUM_DATA_DIR=$E2E_DATA ATRIUM_PG_PORT=auto ATRIUM_REDIS_PORT=auto ATRIUM_PG_FSYNC=off
source infra/scripts/env.sh

PORT=$(free_port)
export ATRIUM_PORT=$PORT ATRIUM_URL="http://127.0.0.1:$PORT"
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-config.settings.test}
export ATRIUM_DB_POOL=${ATRIUM_DB_POOL:-false}

# Each process in a session of its own, killed by the kernel if this script dies without its cleanup.
PYTHON=$(project_python)
# The demo MCP server, as `make dev` runs it: seed_demo gives the demo agent its tools.
MCP_PORT=$(free_port)
export ATRIUM_DEMO_MCP_URL="http://127.0.0.1:$MCP_PORT/mcp"
(cd backend && exec setpriv --pdeathsig KILL -- setsid "$PYTHON" -m atrium.mcp_servers.demo_server --host 127.0.0.1 --port "$MCP_PORT") &
pids+=($!)

(cd backend && uv run --frozen --quiet python manage.py migrate --no-input -v 0 && uv run --frozen --quiet python manage.py seed_demo >/dev/null)

(cd backend && exec setpriv --pdeathsig KILL -- setsid "$PYTHON" -m uvicorn config.asgi:application --host 127.0.0.1 --port "$PORT" --no-access-log --log-level warning --timeout-graceful-shutdown 3) &
pids+=($!)
(cd backend && exec setpriv --pdeathsig KILL -- setsid "$PYTHON" -m celery -A config worker -l WARNING -Q default,runs,webhooks --pool threads --concurrency 8 -n "e2e-$$@%h") &
pids+=($!)
for _ in $(seq 150); do curl -fsS "$ATRIUM_URL/agent/ok" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fsS "$ATRIUM_URL/agent/ok" >/dev/null || die "the server did not start"

cd frontend && guarded npm run --silent e2e
