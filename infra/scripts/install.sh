#!/usr/bin/env bash
# Install what the project needs: uv and the locked Python deps, the dependencies of the LangGraph
# project ATRIUM_GRAPHS names (infra/scripts/project-deps.sh), the locked npm deps, and (with
# --browser) Debian's chromium for the browser tests. Cheap when everything is already there.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT_DIR"

ensure_uv
uv sync --frozen --quiet
# After the sync: the project's packages live outside the locked environment, so the sync cannot undo them.
bash infra/scripts/project-deps.sh

ensure_apt_packages node:nodejs npm:npm bwrap:bubblewrap
if [ -f frontend/package-lock.json ]; then
  stamp=frontend/node_modules/.atrium-lock-stamp
  if [ ! -f "$stamp" ] || ! cmp -s frontend/package-lock.json "$stamp"; then
    log "installing npm dependencies"
    (cd frontend && npm ci --no-audit --no-fund --loglevel=error)
    cp frontend/package-lock.json "$stamp"
  fi
fi

if [ "${1:-}" = "--browser" ]; then
  ensure_apt_packages "${CHROMIUM_PATH:-chromium}:chromium"
fi
