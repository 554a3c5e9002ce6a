#!/usr/bin/env bash
# Build the web app into frontend/dist unless the build is newer than every source file.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT_DIR/frontend"
[ -f package.json ] || exit 0
if [ -f dist/index.html ] && [ -z "$(find src index.html package-lock.json vite.config.* -newer dist/index.html 2>/dev/null | head -1)" ]; then
  exit 0
fi
log "building the web app"
npm run --silent build >/dev/null
