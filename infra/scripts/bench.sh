#!/usr/bin/env bash
# `make bench`: start a durable Atrium stack on this machine (its own Postgres and Redis unless
# DATABASE_URL / REDIS_URL are given, fsync on, debug off), run infra/bench/bench.py against it through
# the official SDK, print its one JSON line (the servers log to stderr), and stop everything.
#   make bench ARGS=--quick          a fast smoke run of the harness
#   make bench-compare               the same workload against `langgraph dev` too, with ratios
set -euo pipefail
source "$(dirname "$0")/lib.sh"
die_with_parent "$@"
cd "$ROOT_DIR"
bash infra/scripts/install.sh >/dev/null

if [ -z "${DATABASE_URL:-}" ] || [ -z "${REDIS_URL:-}" ]; then
  BENCH_DATA=$(mktemp -d /tmp/atrium-bench.XXXXXX); chmod 755 "$BENCH_DATA"
  export ATRIUM_DATA_DIR=$BENCH_DATA ATRIUM_PG_PORT=auto ATRIUM_REDIS_PORT=auto ATRIUM_PG_FSYNC=on
  cleanup_guard "bash infra/scripts/services.sh stop $BENCH_DATA >/dev/null 2>&1; rm -rf $BENCH_DATA"
fi
source infra/scripts/env.sh

PORT=$(free_port)
export ATRIUM_PORT=$PORT DJANGO_SETTINGS_MODULE=config.settings.production ATRIUM_DEBUG=false
export ATRIUM_SECRET_KEY=${ATRIUM_SECRET_KEY:-bench-$(python3 -c 'import secrets;print(secrets.token_hex(16))')}
export ATRIUM_VAULT_KEYS=${ATRIUM_VAULT_KEYS:-bench:$(python3 -c 'import base64,secrets;print(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())')}
export ATRIUM_SECURE_COOKIES=false ATRIUM_LOG_LEVEL=WARNING
# One API key drives all the clients: its per-user quotas (default 100 requests/s, 50 runs/s) would
# cap the measurement, so they are raised. Every request still takes its tokens from the buckets.
export ATRIUM_RATE_API_PER_MINUTE=${ATRIUM_RATE_API_PER_MINUTE:-6000000}
export ATRIUM_RATE_API_PER_MINUTE_PER_USER=${ATRIUM_RATE_API_PER_MINUTE_PER_USER:-6000000}
export ATRIUM_RATE_RUNS_PER_MINUTE=${ATRIUM_RATE_RUNS_PER_MINUTE:-6000000}
export ATRIUM_RATE_RUNS_PER_MINUTE_PER_USER=${ATRIUM_RATE_RUNS_PER_MINUTE_PER_USER:-6000000}
# One worker process per core, as deployed (docs/scaling.md): a thread-pool worker runs its graphs on
# one event loop under one GIL, so a single process cannot use a second core.
WORKERS=${ATRIUM_BENCH_WORKERS:-$(nproc)}
CONCURRENCY=${ATRIUM_BENCH_CONCURRENCY:-$(( (48 + WORKERS - 1) / WORKERS ))}

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
}
trap cleanup EXIT
# Each process in a session of its own, killed by the kernel if this script dies without its cleanup.
PYTHON=$(project_python)

(cd backend && uv run --frozen --quiet python manage.py migrate --no-input -v 0)
KEY=$(cd backend && uv run --frozen --quiet python manage.py create_api_key --org bench --email bench@bench.local --role builder | tail -n1)
(cd backend && exec setpriv --pdeathsig KILL -- setsid "$PYTHON" -m uvicorn config.asgi:application --host 127.0.0.1 --port "$PORT" \
  --no-access-log --log-level warning --timeout-graceful-shutdown 3 >&2) &
pids+=($!)
for i in $(seq "$WORKERS"); do
  (cd backend && exec setpriv --pdeathsig KILL -- setsid "$PYTHON" -m celery -A config worker -l WARNING -Q default,runs,webhooks --pool threads \
    --concurrency "$CONCURRENCY" -n "bench$i-$$@%h" >&2) &
  pids+=($!)
done
for _ in $(seq 150); do curl -fsS "http://127.0.0.1:$PORT/agent/ok" >/dev/null 2>&1 && break; sleep 0.2; done

# CPU per completed run is reported for these (each with its child processes).
cpu=(--pid "web=${pids[0]}")
for i in $(seq "$WORKERS"); do cpu+=(--pid "worker$i=${pids[$i]}"); done
if [ -n "${BENCH_DATA:-}" ]; then
  cpu+=(--pid "postgres=$(head -n1 "$BENCH_DATA/services/pg/postmaster.pid")" --pid "redis=$(cat "$BENCH_DATA/services/redis.pid")")
fi

guarded uv run --frozen --quiet python infra/bench/bench.py --url "http://127.0.0.1:$PORT/agent" --api-key "$KEY" "${cpu[@]}" "$@" \
  | tee "${ATRIUM_BENCH_OUT:-/dev/null}"
