#!/usr/bin/env bash
# `make up` / `make down` / `make logs` / `make ps`: the Docker Compose stack of compose.yaml.
#   compose.sh up      build the image, start everything, wait until healthy, print the URL
#   compose.sh down    stop and remove the containers (the data volumes stay; ARGS=-v removes them)
#   compose.sh logs    follow the logs (ARGS=web limits them to one service)
#   compose.sh ps      list the services and their health
# On first use `up` writes .env (or ATRIUM_COMPOSE_ENV) with random secrets (ATRIUM_SECRET_KEY,
# ATRIUM_VAULT_KEYS, POSTGRES_PASSWORD); an existing file is never changed.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT_DIR"

cmd=${1:-ps}; shift || true

env_file=${ATRIUM_COMPOSE_ENV:-.env}
if docker compose version >/dev/null 2>&1; then compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then compose=(docker-compose)
else
  die "Docker with the Compose plugin is needed for '$cmd' (https://docs.docker.com/compose/install/); \
without Docker, 'make dev' runs the same processes on this machine"
fi

ensure_env_file() {
  [ -f "$env_file" ] && return 0
  log "writing $env_file with random secrets (keep it: the database password is in it)"
  local secret password vault
  secret=$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')
  password=$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')
  vault="$(date -u +%Y-%m):$(python3 -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("="))')"
  umask 077
  { echo "# Written by 'make up'. Every variable is described in .env.example."
    echo "ATRIUM_SECRET_KEY=$secret"
    echo "ATRIUM_VAULT_KEYS=$vault"
    echo "POSTGRES_PASSWORD=$password"; } >"$env_file"
}

[ "$cmd" = up ] && ensure_env_file
[ -f "$env_file" ] && compose+=(--env-file "$env_file")

case $cmd in
  up)
    "${compose[@]}" up -d --build --wait "$@"
    port=$(grep -E '^ATRIUM_PORT=' "$env_file" 2>/dev/null | cut -d= -f2 || true)
    log "Atrium is up: http://127.0.0.1:${port:-8000}/ (make logs, make ps, make down)"
    ;;
  down) "${compose[@]}" down "$@" ;;
  logs) "${compose[@]}" logs -f --tail=200 "$@" ;;
  ps) "${compose[@]}" ps "$@" ;;
  *) die "usage: compose.sh up|down|logs|ps [ARGS]" ;;
esac
