#!/usr/bin/env bash
# Install the `dependencies` of the LangGraph project that ATRIUM_GRAPHS names (default
# agents/langgraph.json) into its overlay under ATRIUM_PROJECT_DEPS_DIR (default .data/projects), once
# per change of the project: backend/atrium/runtime/engine/project_deps.py. The web, worker and beat
# processes then import the project from there; `uv sync` never touches it.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
graphs=${ATRIUM_GRAPHS:-$ROOT_DIR/agents/langgraph.json}
[ -f "$graphs" ] || die "ATRIUM_GRAPHS: no such file: $graphs"
graphs=$(realpath "$graphs")
cd "$ROOT_DIR"
# Run as a file, not a module: it needs nothing of Atrium imported, so an up-to-date project costs ~0.1s
# (-P: its directory is not put on sys.path, where engine modules could shadow others).
uv run --frozen --quiet python -P backend/atrium/runtime/engine/project_deps.py install "$graphs" \
  || die "the project $graphs could not be installed (see above)"
