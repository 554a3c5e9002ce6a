#!/usr/bin/env bash
# `make bench-scale`: horizontal scale on this machine. Starts its own Postgres (fsync on) and Redis
# (unless DATABASE_URL / REDIS_URL are given) and ATRIUM_SCALE_WEBS (2) uvicorn processes on
# different ports, then infra/bench/scale.py starts 1, 2 and 4 Celery worker processes in turn and
# measures runs/s, and streams served by a web process other than the one that created the run.
# Prints one JSON line; results and their reading are in docs/performance.md and docs/scaling.md.
#   make bench-scale ARGS=--quick     a fast smoke run of the harness
set -euo pipefail
source "$(dirname "$0")/lib.sh"
die_with_parent "$@"
cd "$ROOT_DIR"
bash infra/scripts/install.sh >/dev/null

if [ -z "${DATABASE_URL:-}" ] || [ -z "${REDIS_URL:-}" ]; then
  BENCH_DATA=$(mktemp -d /tmp/atrium-scale.XXXXXX); chmod 755 "$BENCH_DATA"
  export ATRIUM_DATA_DIR=$BENCH_DATA ATRIUM_PG_PORT=auto ATRIUM_REDIS_PORT=auto ATRIUM_PG_FSYNC=on
  cleanup_guard "bash infra/scripts/services.sh stop $BENCH_DATA >/dev/null 2>&1; rm -rf $BENCH_DATA"
fi
source infra/scripts/env.sh

export DJANGO_SETTINGS_MODULE=config.settings.production ATRIUM_DEBUG=false
export ATRIUM_SECRET_KEY=${ATRIUM_SECRET_KEY:-bench-$(python3 -c 'import secrets;print(secrets.token_hex(16))')}
export ATRIUM_VAULT_KEYS=${ATRIUM_VAULT_KEYS:-bench:$(python3 -c 'import base64,secrets;print(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())')}
export ATRIUM_SECURE_COOKIES=false ATRIUM_LOG_LEVEL=WARNING
LOGS=$(mktemp -d /tmp/atrium-scale-logs.XXXXXX)

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  for _ in $(seq 50); do
    alive=0; for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ $alive -eq 0 ] && break; sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  wait "${pids[@]}" 2>/dev/null || true
  run_cleanup_guard
  rm -rf "$LOGS"
}
trap cleanup EXIT
# Each process in a session of its own, killed by the kernel if this script dies without its cleanup.
PYTHON=$(project_python)

(cd backend && uv run --frozen --quiet python manage.py migrate --no-input -v 0)
KEY=$(cd backend && uv run --frozen --quiet python manage.py create_api_key --org bench --email bench@bench.local --role builder | tail -n1)
urls=()
for i in $(seq "${ATRIUM_SCALE_WEBS:-2}"); do
  port=$(free_port)
  (cd backend && exec setpriv --pdeathsig KILL -- setsid "$PYTHON" -m uvicorn config.asgi:application --host 127.0.0.1 --port "$port" \
    --loop uvloop --http httptools --no-access-log --log-level warning --timeout-graceful-shutdown 3 >&2) &
  pids+=($!)
  urls+=("http://127.0.0.1:$port/agent")
done
for url in "${urls[@]}"; do
  for _ in $(seq 150); do curl -fsS "$url/ok" >/dev/null 2>&1 && break; sleep 0.2; done
done

guarded uv run --frozen --quiet python infra/bench/scale.py --urls "${urls[@]}" --api-key "$KEY" --backend-dir backend \
  --database-url "$DATABASE_URL" --log-dir "$LOGS" "$@" | tee "${ATRIUM_BENCH_OUT:-/dev/null}"
