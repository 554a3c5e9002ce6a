# Shared helpers for the operator scripts. Source it; do not run it.
# shellcheck shell=bash

export PATH="$HOME/.local/bin:$PATH"
ROOT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SERVICE_USER=${ATRIUM_SERVICE_USER:-atrium}

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "need root to run: $* (install it by hand or run as root)"; fi
}

_apt_updated=0
# ensure_apt_packages CMD:PACKAGE ... installs PACKAGE when CMD is not found.
ensure_apt_packages() {
  local missing=() pair cmd pkg
  for pair in "$@"; do
    cmd=${pair%%:*}; pkg=${pair#*:}
    command -v "$cmd" >/dev/null 2>&1 || [ -x "$cmd" ] || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing Debian packages: ${missing[*]}"
  if [ $_apt_updated -eq 0 ]; then as_root apt-get update -qq >/dev/null; _apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The directory holding initdb/pg_ctl/postgres. In order: ATRIUM_PG_BINDIR; the PostgreSQL 16 with the
# pgvector extension that the project's Python environment ships (the `pgserver` wheel, a dev
# dependency; docs/adr/0022); Debian's server, installed when nothing else exists. `pg_bindir DATA_DIR`
# keeps a data directory made by another major version on that version's binaries (when installed).
pg_bindir() {
  local data=${1:-} dir want=""
  [ -n "$data" ] && [ -f "$data/PG_VERSION" ] && want=$(cat "$data/PG_VERSION")
  for dir in "${ATRIUM_PG_BINDIR:-}" "$ROOT_DIR"/.venv/lib/python3*/site-packages/pgserver/pginstall/bin \
             "$(pg_config --bindir 2>/dev/null)" /usr/lib/postgresql/*/bin; do
    [ -n "$dir" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/initdb" ] || continue
    [ -z "$want" ] || [ "$(pg_major "$dir")" = "$want" ] || continue
    echo "$dir"; return 0
  done
  [ -n "$want" ] && die "the PostgreSQL data in $data is version $want and no PostgreSQL $want server is installed; \
see docs/runbooks/local-services.md (move the data to the bundled PostgreSQL with make backup / make restore)"
  ensure_apt_packages __none__:postgresql >/dev/null
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/pg_ctl" ] && { echo "$dir"; return 0; }
  done
  die "no PostgreSQL server binaries found"
}

pg_major() { "$1/postgres" --version | sed -E 's/[^0-9]*([0-9]+).*/\1/'; }

# Whether the server binaries in $1 can load the pgvector extension.
pg_has_vector() { [ -f "$("$1/pg_config" --sharedir 2>/dev/null)/extension/vector.control" ]; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Postgres refuses to run as root. As root we run the services as an unprivileged system user; when
# that user cannot reach the data dir (a checkout inside a private directory), we run them in a user
# namespace where they are an unprivileged uid instead.
ensure_service_user() {
  [ "$(id -u)" -eq 0 ] || return 0
  id -u "$SERVICE_USER" >/dev/null 2>&1 && return 0
  useradd --system --no-create-home --shell /usr/sbin/nologin "$SERVICE_USER"
}

# service_mode DIR [BINDIR]: how to run services owning DIR with the programs in BINDIR: self (not
# root), user (the service user can reach both), or userns (it cannot, e.g. a data dir or a checkout,
# whose .venv holds the bundled PostgreSQL, under a private directory such as one from `mktemp -d`).
service_mode() {
  if [ "$(id -u)" -ne 0 ]; then echo self; return; fi
  ensure_service_user
  if runuser -u "$SERVICE_USER" -- test -x "$(dirname "$1")" 2>/dev/null \
    && { [ -z "${2:-}" ] || runuser -u "$SERVICE_USER" -- test -x "$2/initdb" 2>/dev/null; }; then
    echo user
  else
    echo userns
  fi
}

# prepare_service_dir DIR MODE: create DIR owned by whoever will run the services.
prepare_service_dir() {
  mkdir -p "$1"
  if [ "$2" = user ]; then chown -R "$SERVICE_USER:$SERVICE_USER" "$1"; fi
  chmod 700 "$1"
}

# run_unprivileged MODE CMD...: run CMD as a non-root uid.
run_unprivileged() {
  local mode=$1; shift
  case $mode in
    self) "$@" ;;
    user) runuser -u "$SERVICE_USER" -- "$@" ;;
    userns) unshare --user --map-user=1000 --map-group=1000 -- "$@" ;;
    *) die "unknown service mode $mode" ;;
  esac
}

ensure_uv() {
  command -v uv >/dev/null 2>&1 && return 0
  export PATH="$HOME/.local/bin:$PATH"
  command -v uv >/dev/null 2>&1 && return 0
  log "installing uv"
  python3 -m pip install --quiet --user uv 2>/dev/null \
    || python3 -m pip install --quiet --user --break-system-packages uv
  command -v uv >/dev/null 2>&1 || die "uv is not on PATH after installing it"
}

# Nothing a script starts outlives it, nor a script its parent (make, a shell), however either dies
# (SIGKILL included): Linux's parent-death signal, set by setpriv (util-linux) and kept across exec.
# A script dies at once with its parent (die_with_parent), everything it starts carries its own
# signal (`guarded` for a step in the foreground, `setpriv --pdeathsig KILL -- setsid` for a server in
# the background), and what must still happen (stop Postgres and Redis) runs from a guard process
# (cleanup_guard). The signal reaches one process: `uv run` stays as the parent of what it runs
# (forwarding SIGTERM, but not surviving a SIGKILL), so servers run on project_python directly.

# die_with_parent "$@", before any `cd`: re-run the calling script so that the kernel kills it when its
# parent dies. Bash runs no trap while a foreground command runs, so this does not rely on one.
die_with_parent() {
  [ "${_ATRIUM_GUARDED_PID:-}" = "$$" ] && return 0
  command -v setpriv >/dev/null 2>&1 || return 0
  export _ATRIUM_GUARDED_PID=$$
  exec setpriv --pdeathsig KILL -- bash "$0" "$@"
}

# guarded CMD...: CMD gets SIGTERM when this script dies (`uv run` passes it on to its program).
guarded() { setpriv --pdeathsig TERM -- "$@"; }

# The project's interpreter (after install.sh): `"$PYTHON" -m uvicorn ...` has no uv parent.
project_python() { uv run --frozen --quiet python -c 'import sys; print(sys.executable)'; }

# cleanup_guard 'BASH COMMAND': run it once when this script ends, however it ends (SIGKILL included),
# from a process of its own (infra/scripts/supervise.py with no program, which runs it when told to
# stop or when its parent dies). The script's EXIT trap calls run_cleanup_guard for a normal end.
cleanup_guard() {
  python3 "$ROOT_DIR/infra/scripts/supervise.py" --tag cleanup --parent $$ --on-exit "$1" </dev/null &
  CLEANUP_GUARD=$!
}
run_cleanup_guard() {
  [ -n "${CLEANUP_GUARD:-}" ] || return 0
  kill -TERM "$CLEANUP_GUARD" 2>/dev/null || true
  wait "$CLEANUP_GUARD" 2>/dev/null || true
  CLEANUP_GUARD=
}
