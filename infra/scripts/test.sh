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
step "django checks" bash -c "cd backend && uv run --frozen --quiet python manage.py check --fail-level WARNING && uv run --frozen --quiet python manage.py makemigrations --check --dry-run"
step "kubernetes manifests (helm template + schemas)" run python infra/deploy/check.py
step "pytest (backend, agents, infra)" run pytest -q -p no:cacheprovider backend agents infra
if [ -f frontend/package.json ]; then
  step "frontend lint" bash -c "cd frontend && exec npm run --silent lint"
  step "frontend typecheck" bash -c "cd frontend && exec npm run --silent typecheck"
  step "frontend unit tests" bash -c "cd frontend && exec npm run --silent test"
  step "frontend build" bash -c "cd frontend && exec npm run --silent build >/dev/null"
  step "web app end-to-end" bash infra/scripts/e2e.sh
fi
log "all checks passed"
