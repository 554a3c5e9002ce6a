#!/usr/bin/env bash
# `make bench-inflight`: I/O-bound runs held at once (infra/bench/inflight.py). Starts Atrium in
# `make dev`'s process layout (one web process, one worker) with production settings on its own
# Postgres and Redis (unless DATABASE_URL / REDIS_URL are given), measures it through the official SDK
# at 16, 64, 256 and 1024 clients, then `langgraph dev --n-jobs-per-worker 256` on the same graph,
# and prints one JSON line: both results, the ratios and the issue's targets.
#   make bench-inflight ARGS=--quick            a smoke run of the harness (4 clients, short waits;
#                                               Atrium only unless ATRIUM_BENCH_REFERENCE=1)
#   make bench-inflight ARGS="--long 2000"      2,000 runs with 30 s model waits, all at once
#   ARGS="--no-reference ..."                   Atrium only
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT_DIR"

REFERENCE=1; LONG=0; args=()
for arg in "$@"; do
  case $arg in
    --no-reference) REFERENCE=0 ;;
    --long) LONG=1; args+=("$arg") ;;
    --quick) REFERENCE=${ATRIUM_BENCH_REFERENCE:-0}; args+=("$arg") ;;
    *) args+=("$arg") ;;
  esac
done
[ $LONG = 1 ] && REFERENCE=0  # the long runs measure Atrium's ceiling, not a comparison

bash infra/scripts/install.sh >/dev/null
if [ -z "${DATABASE_URL:-}" ] || [ -z "${REDIS_URL:-}" ]; then
  BENCH_DATA=$(mktemp -d /tmp/atrium-bench.XXXXXX); chmod 755 "$BENCH_DATA"
  export ATRIUM_DATA_DIR=$BENCH_DATA ATRIUM_PG_PORT=auto ATRIUM_REDIS_PORT=auto ATRIUM_PG_FSYNC=on
fi
source infra/scripts/env.sh

PORT=$(free_port)
export ATRIUM_PORT=$PORT DJANGO_SETTINGS_MODULE=config.settings.production ATRIUM_DEBUG=false
export ATRIUM_SECRET_KEY=${ATRIUM_SECRET_KEY:-bench-$(python3 -c 'import secrets;print(secrets.token_hex(16))')}
export ATRIUM_VAULT_KEYS=${ATRIUM_VAULT_KEYS:-bench:$(python3 -c 'import base64,secrets;print(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())')}
export ATRIUM_SECURE_COOKIES=false ATRIUM_LOG_LEVEL=WARNING
export ATRIUM_GRAPHS=$ROOT_DIR/infra/bench/inflight/langgraph.json
# One API key and one org drive all the clients: the per-user quotas and the org's concurrent-run cap
# (default 200) would cap the measurement, so they are raised.
export ATRIUM_RATE_API_PER_MINUTE=${ATRIUM_RATE_API_PER_MINUTE:-6000000}
export ATRIUM_RATE_API_PER_MINUTE_PER_USER=${ATRIUM_RATE_API_PER_MINUTE_PER_USER:-6000000}
export ATRIUM_RATE_RUNS_PER_MINUTE=${ATRIUM_RATE_RUNS_PER_MINUTE:-6000000}
export ATRIUM_RATE_RUNS_PER_MINUTE_PER_USER=${ATRIUM_RATE_RUNS_PER_MINUTE_PER_USER:-6000000}
export ATRIUM_MAX_CONCURRENT_RUNS=${ATRIUM_MAX_CONCURRENT_RUNS:-100000}
# The long runs hold 2,000 at once in the one worker process: its in-flight limit (default 300) is
# the setting that moves that ceiling.
[ $LONG = 1 ] && export ATRIUM_WORKER_MAX_INFLIGHT=${ATRIUM_WORKER_MAX_INFLIGHT:-2500}

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  sleep 3
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "${REF_DIR:-}" ] && rm -rf "$REF_DIR"
  rm -f "${OURS:-}" "${THEIRS:-}"
  if [ -n "${BENCH_DATA:-}" ]; then bash infra/scripts/services.sh stop "$BENCH_DATA" >/dev/null 2>&1 || true; rm -rf "$BENCH_DATA"; fi
}
trap cleanup EXIT

(cd backend && uv run --frozen --quiet python manage.py migrate --no-input -v 0)
KEY=$(cd backend && uv run --frozen --quiet python manage.py create_api_key --org bench --email bench@bench.local --role builder | tail -n1)
# `make dev`'s layout (infra/scripts/dev.sh): a uvicorn with a web process per core and a Celery
# worker process per core (ATRIUM_WEB_PROCESSES, ATRIUM_WORKER_PROCESSES); beat aside.
CORES=$(nproc)
(cd backend && exec setsid uv run --frozen --quiet uvicorn config.asgi:application --host 127.0.0.1 --port "$PORT" \
  --workers "${ATRIUM_WEB_PROCESSES:-$CORES}" --loop uvloop --http httptools --no-access-log --log-level warning \
  --timeout-graceful-shutdown 3) >&2 &
pids+=($!)
server=(--pid "web=$!")
for i in $(seq "${ATRIUM_WORKER_PROCESSES:-$CORES}"); do
  (cd backend && exec setsid uv run --frozen --quiet celery -A config worker -l WARNING -Q default,runs,webhooks --pool threads \
    --concurrency "${ATRIUM_WORKER_CONCURRENCY:-8}" -n "inflight$i-$$@%h") >&2 &
  pids+=($!)
  server+=(--pid "worker$i=$!")
done
for _ in $(seq 150); do curl -fsS "http://127.0.0.1:$PORT/agent/ok" >/dev/null 2>&1 && break; sleep 0.2; done

OURS=$(mktemp); THEIRS=$(mktemp)
uv run --frozen --quiet python infra/bench/inflight.py --url "http://127.0.0.1:$PORT/agent" --api-key "$KEY" \
  "${server[@]}" --dsn "$DATABASE_URL" "${args[@]}" >"$OURS"
if [ $REFERENCE = 0 ]; then cat "$OURS"; exit 0; fi

REF_VENV=${ATRIUM_REF_VENV:-$ROOT_DIR/.data/reference-venv}
if [ ! -x "$REF_VENV/bin/langgraph" ]; then
  log "installing langgraph-cli[inmem] into $REF_VENV (a separate environment)"
  python3 -m venv "$REF_VENV"
  "$REF_VENV/bin/pip" install --quiet "langgraph-cli[inmem]" -e agents
fi
REF_PORT=$(free_port)
REF_DIR=$(mktemp -d /tmp/atrium-ref.XXXXXX)  # a fresh .langgraph_api/ (see bench-compare.sh)
cp infra/bench/inflight/graph.py infra/bench/inflight/langgraph.json "$REF_DIR/"
(cd "$REF_DIR" && exec setsid "$REF_VENV/bin/langgraph" dev --port "$REF_PORT" --no-browser --no-reload \
  --n-jobs-per-worker 256 >/tmp/atrium-ref-inflight.log 2>&1) &
pids+=($!)
for _ in $(seq 300); do curl -fsS "http://127.0.0.1:$REF_PORT/ok" >/dev/null 2>&1 && break; sleep 0.2; done
uv run --frozen --quiet python infra/bench/inflight.py --url "http://127.0.0.1:$REF_PORT" --label "langgraph dev" \
  --pid "langgraph=${pids[2]}" "${args[@]}" >"$THEIRS"
uv run --frozen --quiet python infra/bench/inflight.py --combine "$OURS" "$THEIRS"
