#!/usr/bin/env bash
# `make bench-compare`: the `make bench` workload against Atrium and against `langgraph dev` (the
# in-memory, non-durable reference server from PyPI `langgraph-cli[inmem]`) serving the same graphs,
# then our/their ratios (latency: lower is better, so ratio < 1 wins; throughput: higher wins).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
die_with_parent "$@"
cd "$ROOT_DIR"

REF_VENV=${ATRIUM_REF_VENV:-$ROOT_DIR/.data/reference-venv}
if [ ! -x "$REF_VENV/bin/langgraph" ]; then
  log "installing langgraph-cli[inmem] into $REF_VENV (a separate environment)"
  python3 -m venv "$REF_VENV"
  "$REF_VENV/bin/pip" install --quiet "langgraph-cli[inmem]" -e agents
fi

OURS=$(mktemp); THEIRS=$(mktemp)
trap 'rm -f "$OURS" "$THEIRS"; [ -n "${REF_PID:-}" ] && kill -TERM -- "-$REF_PID" 2>/dev/null; sleep 1; [ -n "${REF_DIR:-}" ] && rm -rf "$REF_DIR"; true' EXIT
ATRIUM_BENCH_OUT=$OURS guarded bash infra/scripts/bench.sh "$@" >/dev/null

PORT=$(free_port)
# `langgraph dev` keeps its in-memory state in .langgraph_api/ of its working directory, reloads it at
# start and pickles all of it every few seconds: left in agents/, it grows with every comparison and
# slows the reference server down run after run. Each comparison starts it from a fresh directory
# (the project's files linked in), as ours starts from a fresh database.
REF_DIR=$(mktemp -d /tmp/atrium-ref.XXXXXX)
for entry in agents/*; do ln -s "$ROOT_DIR/$entry" "$REF_DIR/"; done
(cd "$REF_DIR" && exec setpriv --pdeathsig KILL -- setsid "$REF_VENV/bin/langgraph" dev --port "$PORT" --no-browser --no-reload >/tmp/atrium-ref.log 2>&1) &
REF_PID=$!
for _ in $(seq 300); do curl -fsS "http://127.0.0.1:$PORT/ok" >/dev/null 2>&1 && break; sleep 0.2; done
guarded uv run --frozen --quiet python infra/bench/bench.py --url "http://127.0.0.1:$PORT" --label "langgraph dev" "$@" >"$THEIRS"
uv run --frozen --quiet python infra/bench/compare.py "$OURS" "$THEIRS"
