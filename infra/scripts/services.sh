#!/usr/bin/env bash
# Local PostgreSQL and Redis under a data dir, run as an unprivileged user.
#   services.sh start  [DIR]   start (initialising on first use) and print the env file path
#   services.sh stop   [DIR]   stop both
#   services.sh status [DIR]
#   services.sh restart-postgres [DIR] [SECONDS]   stop PostgreSQL (fast: every session ends), stay down
#                                                  SECONDS (default 2), start it again (fault tests)
# DIR defaults to .data/ in the repo. Ports: ATRIUM_PG_PORT (54329) and ATRIUM_REDIS_PORT (63799),
# or "auto" for free ports (tests). Connection URLs are written to DIR/services.env.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

cmd=${1:-status}
DIR=$(mkdir -p "${2:-$ROOT_DIR/.data}" && cd "${2:-$ROOT_DIR/.data}" && pwd)
SVC_DIR="$DIR/services"
ENV_FILE="$DIR/services.env"

pg_port() { cat "$SVC_DIR/pg.port" 2>/dev/null; }
redis_port() { cat "$SVC_DIR/redis.port" 2>/dev/null; }

pick_port() {  # pick_port NAME DEFAULT
  local requested=$2 file="$SVC_DIR/$1.port"
  if [ -f "$file" ] && [ "$requested" != auto ]; then cat "$file"; return; fi
  [ "$requested" = auto ] && requested=$(free_port)
  echo "$requested" >"$file"
  echo "$requested"
}

pg_start() {  # pg_start MODE PORT
  run_unprivileged "$1" "$(pg_bindir "$SVC_DIR/pg")/pg_ctl" -D "$SVC_DIR/pg" -l "$SVC_DIR/pg.log" -w -t 60 \
    -o "-p $2 -k $SVC_DIR -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=${ATRIUM_PG_FSYNC:-on}" \
    start >/dev/null
}

start() {
  ensure_apt_packages redis-server:redis-server
  mkdir -p "$SVC_DIR"
  local bindir; bindir=$(pg_bindir "$SVC_DIR/pg")
  pg_has_vector "$bindir" || log "PostgreSQL in $bindir has no pgvector: semantic store search (store.index) is off"
  local mode; mode=$(cat "$SVC_DIR/mode" 2>/dev/null || true)
  if [ -z "$mode" ]; then mode=$(service_mode "$SVC_DIR" "$bindir"); echo "$mode" >"$SVC_DIR/mode"; fi
  prepare_service_dir "$SVC_DIR" "$mode"
  local pgp rp
  pgp=$(pick_port pg "${ATRIUM_PG_PORT:-54329}")
  rp=$(pick_port redis "${ATRIUM_REDIS_PORT:-63799}")
  [ "$mode" = user ] && chown "$SERVICE_USER:$SERVICE_USER" "$SVC_DIR"/*.port "$SVC_DIR/mode"

  if [ ! -f "$SVC_DIR/pg/PG_VERSION" ]; then
    log "initialising PostgreSQL in $SVC_DIR/pg"
    run_unprivileged "$mode" "$bindir/initdb" -D "$SVC_DIR/pg" -U atrium --auth=trust -E UTF8 --no-instructions >/dev/null
  fi
  if ! run_unprivileged "$mode" "$bindir/pg_ctl" -D "$SVC_DIR/pg" status >/dev/null 2>&1; then
    log "starting PostgreSQL on 127.0.0.1:$pgp"
    pg_start "$mode" "$pgp"
  fi
  "$bindir/psql" -h 127.0.0.1 -p "$pgp" -U atrium -d postgres -tAc "select 1 from pg_database where datname='atrium'" \
    | grep -q 1 || "$bindir/createdb" -h 127.0.0.1 -p "$pgp" -U atrium atrium

  if ! redis-cli -p "$rp" ping >/dev/null 2>&1; then
    log "starting Redis on 127.0.0.1:$rp"
    run_unprivileged "$mode" redis-server --port "$rp" --bind 127.0.0.1 --dir "$SVC_DIR" --databases 32 \
      --appendonly yes --daemonize yes --pidfile "$SVC_DIR/redis.pid" --logfile "$SVC_DIR/redis.log" \
      --save "" >/dev/null
    for _ in $(seq 50); do redis-cli -p "$rp" ping >/dev/null 2>&1 && break; sleep 0.1; done
    redis-cli -p "$rp" ping >/dev/null || die "Redis did not start; see $SVC_DIR/redis.log"
  fi
  cat >"$ENV_FILE" <<ENV
DATABASE_URL=postgres://atrium@127.0.0.1:$pgp/atrium
REDIS_URL=redis://127.0.0.1:$rp/0
ATRIUM_PG_BINDIR=$bindir
ENV
  echo "$ENV_FILE"
}

stop() {
  [ -d "$SVC_DIR" ] || return 0
  local mode; mode=$(cat "$SVC_DIR/mode" 2>/dev/null || echo self)
  local rp; rp=$(redis_port || true)
  if [ -n "$rp" ] && redis-cli -p "$rp" ping >/dev/null 2>&1; then
    log "stopping Redis"
    redis-cli -p "$rp" shutdown nosave >/dev/null 2>&1 || true
  fi
  if [ -f "$SVC_DIR/pg/postmaster.pid" ]; then
    log "stopping PostgreSQL"
    run_unprivileged "$mode" "$(pg_bindir "$SVC_DIR/pg")/pg_ctl" -D "$SVC_DIR/pg" -m fast -w stop >/dev/null 2>&1 || true
  fi
}

restart_postgres() {
  local mode; mode=$(cat "$SVC_DIR/mode" 2>/dev/null || echo self)
  local bindir; bindir=$(pg_bindir "$SVC_DIR/pg")
  [ -f "$SVC_DIR/pg/postmaster.opts" ] || die "no PostgreSQL under $SVC_DIR"
  run_unprivileged "$mode" "$bindir/pg_ctl" -D "$SVC_DIR/pg" -m fast -w stop >/dev/null
  sleep "${1:-2}"
  pg_start "$mode" "$(pg_port)"
}

status() {
  local pgp rp; pgp=$(pg_port || true); rp=$(redis_port || true)
  if [ -n "$pgp" ] && "$(pg_bindir "$SVC_DIR/pg")/pg_isready" -h 127.0.0.1 -p "$pgp" >/dev/null 2>&1; then echo "postgres: up on $pgp"; else echo "postgres: down"; fi
  if [ -n "$rp" ] && redis-cli -p "$rp" ping >/dev/null 2>&1; then echo "redis: up on $rp"; else echo "redis: down"; fi
}

case $cmd in
  start) start ;;
  stop) stop ;;
  status) status ;;
  restart-postgres) restart_postgres "${3:-2}" ;;
  *) die "usage: services.sh start|stop|status|restart-postgres [DIR]" ;;
esac
