#!/usr/bin/env bash
# `make test`: every check and test suite, against throwaway Postgres and Redis on free ports (or the
# DATABASE_URL / REDIS_URL given). Exits non-zero on the first failing step.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
# Nothing outlives the run, killed or not: see lib.sh. Each step is `guarded`.
die_with_parent "$@"
cd "$ROOT_DIR"

bash infra/scripts/install.sh --browser

OWN_SERVICES=0
if [ -z "${DATABASE_URL:-}" ] || [ -z "${REDIS_URL:-}" ]; then
  OWN_SERVICES=1
  TEST_DATA=$(mktemp -d /tmp/atrium-test.XXXXXX)
  # The fault suite restarts its PostgreSQL under every test's feet: a server of its own lets it run
  # beside the other suites instead of after them.
  FAULT_DATA=$(mktemp -d /tmp/atrium-faults.XXXXXX)
  chmod 755 "$TEST_DATA" "$FAULT_DATA"
  cleanup_guard "for d in $TEST_DATA $FAULT_DATA; do bash infra/scripts/services.sh stop \$d; rm -rf \$d; done"
  trap run_cleanup_guard EXIT
  export ATRIUM_DATA_DIR=$TEST_DATA ATRIUM_PG_PORT=auto ATRIUM_REDIS_PORT=auto ATRIUM_PG_FSYNC=off
fi
source infra/scripts/env.sh
export DJANGO_SETTINGS_MODULE=config.settings.test

# A step gets SIGTERM if this script dies, so it (and, through `uv run`, its program) goes too.
step() { log "$1"; shift; [ "$1" = run ] && set -- uv run --frozen --quiet "${@:2}"; guarded "$@"; }

step "ruff" run ruff check backend agents
step "ruff format" run ruff format --check --quiet backend agents
# Four lanes at once, each on services of its own (if any), their output shown as each ends:
# - the static checks (types, import layers, Django's checks and migrations, the Helm chart);
# - the frontend (lint, types, unit tests, build), then the browser tests (which serve that build);
# - the fault suite, on its own PostgreSQL when this run started the services (else after pytest);
# - pytest on ATRIUM_TEST_WORKERS pytest-xdist workers (2; each its own test database, Redis
#   databases and live stack), in the foreground.
FAULTS=backend/atrium/runtime/tests/faults
lane() {  # lane NAME LOGFILE CMD...: CMD in the background, its output in LOGFILE
  local name=$1 logfile=$2; shift 2
  log "$name (in the background)"
  guarded "$@" >"$logfile" 2>&1 &
}
show_lane() {  # show_lane NAME PID LOGFILE: wait for a lane, print its output, fail if it failed
  local ok=0
  wait "$2" && ok=1
  log "$1"; cat "$3"; rm -f "$3"
  [ $ok = 1 ] || die "$1 failed"
}
STATIC_LOG=$(mktemp /tmp/atrium-static.XXXXXX)
lane "static checks" "$STATIC_LOG" bash -c 'set -e; check() { echo "==> $1"; shift; uv run --frozen --quiet "$@"; }
  check "mypy (backend)" mypy backend
  check "mypy (agents)" mypy --config-file agents/pyproject.toml agents/src
  check "import layers (lint-imports)" lint-imports --no-cache
  echo "==> django checks"
  (cd backend && uv run --frozen --quiet python manage.py check --fail-level WARNING \
    && uv run --frozen --quiet python manage.py makemigrations --check --dry-run)
  check "kubernetes manifests (helm template + schemas)" python infra/deploy/check.py'
STATIC=$!
if [ -f frontend/package.json ]; then
  FRONTEND_LOG=$(mktemp /tmp/atrium-frontend.XXXXXX)
  lane "frontend checks, then the browser tests" "$FRONTEND_LOG" bash -c 'cd frontend && check() { echo "==> frontend $1"; setpriv --pdeathsig TERM -- npm run --silent "$1"; }
    check lint && check typecheck && check test && check build >/dev/null && cd .. && echo "==> web app end-to-end" && bash infra/scripts/e2e.sh'
  FRONTEND=$!
fi
if [ $OWN_SERVICES = 1 ]; then
  FAULTS_LOG=$(mktemp /tmp/atrium-faults.XXXXXX)
  lane "pytest (fault suite)" "$FAULTS_LOG" bash -c 'set -a; source "$(bash infra/scripts/services.sh start "$1")"; set +a
    export ATRIUM_DATA_DIR=$1; exec uv run --frozen --quiet pytest -q -p no:cacheprovider "$2"' _ "$FAULT_DATA" "$FAULTS"
  FAULT_LANE=$!
fi
step "pytest (backend, agents, infra)" run pytest -q -p no:cacheprovider -n "${ATRIUM_TEST_WORKERS:-2}" --dist loadgroup --durations=15 \
  --ignore="$FAULTS" backend agents infra
show_lane "static checks" "$STATIC" "$STATIC_LOG"
if [ $OWN_SERVICES = 1 ]; then
  show_lane "pytest (fault suite)" "$FAULT_LANE" "$FAULTS_LOG"
else
  step "pytest (fault suite)" run pytest -q -p no:cacheprovider "$FAULTS"
fi
if [ -f frontend/package.json ]; then
  show_lane "frontend checks, then the browser tests" "$FRONTEND" "$FRONTEND_LOG"
fi
log "all checks passed"
