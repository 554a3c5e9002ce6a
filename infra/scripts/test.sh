#!/usr/bin/env bash
# `make test`: every check and test suite, against throwaway Postgres and Redis on free ports (or the
# DATABASE_URL / REDIS_URL given). Exits non-zero on the first failing step.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
# Nothing outlives the run, killed or not: see lib.sh. Each step is `guarded`.
die_with_parent "$@"
cd "$ROOT_DIR"

bash infra/scripts/install.sh --browser

if [ -z "${DATABASE_URL:-}" ] || [ -z "${REDIS_URL:-}" ]; then
  TEST_DATA=$(mktemp -d /tmp/atrium-test.XXXXXX)
  chmod 755 "$TEST_DATA"
  cleanup_guard "bash infra/scripts/services.sh stop $TEST_DATA; rm -rf $TEST_DATA"
  trap run_cleanup_guard EXIT
  export ATRIUM_DATA_DIR=$TEST_DATA ATRIUM_PG_PORT=auto ATRIUM_REDIS_PORT=auto ATRIUM_PG_FSYNC=off
fi
source infra/scripts/env.sh
export DJANGO_SETTINGS_MODULE=config.settings.test

# A step gets SIGTERM if this script dies, so it (and, through `uv run`, its program) goes too.
step() { log "$1"; shift; [ "$1" = run ] && set -- uv run --frozen --quiet "${@:2}"; guarded "$@"; }

step "ruff" run ruff check backend agents
step "ruff format" run ruff format --check --quiet backend agents
step "mypy (backend)" run mypy backend
step "mypy (agents)" run mypy --config-file agents/pyproject.toml agents/src
step "import layers (lint-imports)" run lint-imports --no-cache
step "django checks" bash -c "cd backend && uv run --frozen --quiet python manage.py check --fail-level WARNING && uv run --frozen --quiet python manage.py makemigrations --check --dry-run"
step "kubernetes manifests (helm template + schemas)" run python infra/deploy/check.py
# Python tests on ATRIUM_TEST_WORKERS pytest-xdist workers (2; each its own test database, Redis
# databases and live stack). The fault suite restarts Postgres under every test's feet: it runs alone
# afterwards, beside the frontend checks, which use no database (their output shown once they end).
FAULTS=backend/atrium/runtime/tests/faults
step "pytest (backend, agents, infra)" run pytest -q -p no:cacheprovider -n "${ATRIUM_TEST_WORKERS:-2}" --dist loadgroup \
  --ignore="$FAULTS" backend agents infra
if [ -f frontend/package.json ]; then
  FRONTEND_LOG=$(mktemp /tmp/atrium-frontend.XXXXXX)
  guarded bash -c 'cd frontend && check() { echo "==> frontend $1"; setpriv --pdeathsig TERM -- npm run --silent "$1"; }
    check lint && check typecheck && check test && check build >/dev/null' >"$FRONTEND_LOG" 2>&1 &
  FRONTEND=$!
fi
step "pytest (fault suite)" run pytest -q -p no:cacheprovider "$FAULTS"
if [ -f frontend/package.json ]; then
  log "frontend lint, typecheck, unit tests, build"
  frontend_ok=0; wait "$FRONTEND" && frontend_ok=1
  cat "$FRONTEND_LOG"; rm -f "$FRONTEND_LOG"
  [ $frontend_ok = 1 ] || die "the frontend checks failed"
  step "web app end-to-end" bash infra/scripts/e2e.sh
fi
log "all checks passed"
