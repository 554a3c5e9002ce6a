#!/usr/bin/env bash
# `make test`: every check and test suite, against throwaway Postgres and Redis on free ports (or the
# DATABASE_URL / REDIS_URL given). Exits non-zero on the first failing step.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT_DIR"

bash infra/scripts/install.sh --browser

if [ -z "${DATABASE_URL:-}" ] || [ -z "${REDIS_URL:-}" ]; then
  TEST_DATA=$(mktemp -d /tmp/atrium-test.XXXXXX)
  chmod 755 "$TEST_DATA"
  cleanup() { bash infra/scripts/services.sh stop "$TEST_DATA" || true; rm -rf "$TEST_DATA"; }
  trap cleanup EXIT
  export ATRIUM_DATA_DIR=$TEST_DATA ATRIUM_PG_PORT=auto ATRIUM_REDIS_PORT=auto ATRIUM_PG_FSYNC=off
fi
source infra/scripts/env.sh
export DJANGO_SETTINGS_MODULE=config.settings.test

step() { log "$1"; shift; "$@"; }
run() { uv run --frozen --quiet "$@"; }

step "ruff" run ruff check backend agents
step "ruff format" run ruff format --check --quiet backend agents
step "mypy (backend)" run mypy backend
step "mypy (agents)" run mypy --config-file agents/pyproject.toml agents/src
step "import layers (lint-imports)" run lint-imports --no-cache
step "django checks" bash -c "cd backend && uv run --frozen --quiet python manage.py check --fail-level WARNING && uv run --frozen --quiet python manage.py makemigrations --check --dry-run"
step "kubernetes manifests (helm template + schemas)" run python infra/deploy/check.py
step "pytest (backend, agents, infra)" run pytest -q -p no:cacheprovider backend agents infra
if [ -f frontend/package.json ]; then
  step "frontend lint" bash -c "cd frontend && npm run --silent lint"
  step "frontend typecheck" bash -c "cd frontend && npm run --silent typecheck"
  step "frontend unit tests" bash -c "cd frontend && npm run --silent test"
  step "frontend build" bash -c "cd frontend && npm run --silent build >/dev/null"
  step "web app end-to-end" bash infra/scripts/e2e.sh
fi
log "all checks passed"
