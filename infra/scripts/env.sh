# Source this to get DATABASE_URL and REDIS_URL: the given ones, or the project's local services
# (started on demand). Sets STARTED_SERVICES=1 when it started them.
# shellcheck shell=bash
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
STARTED_SERVICES=0
if [ -z "${DATABASE_URL:-}" ] || [ -z "${REDIS_URL:-}" ]; then
  _given_db=${DATABASE_URL:-}; _given_redis=${REDIS_URL:-}
  _env_file=$(bash "$ROOT_DIR/infra/scripts/services.sh" start "${ATRIUM_DATA_DIR:-$ROOT_DIR/.data}")
  set -a; source "$_env_file"; set +a
  [ -n "$_given_db" ] && export DATABASE_URL=$_given_db
  [ -n "$_given_redis" ] && export REDIS_URL=$_given_redis
  STARTED_SERVICES=1
fi
export DATABASE_URL REDIS_URL
