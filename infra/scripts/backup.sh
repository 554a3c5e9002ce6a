#!/usr/bin/env bash
# `make backup` / `make restore`: Postgres (every table: control plane, runs, checkpoints, store) to and
# from one pg_dump custom-format file. Redis is not backed up: it holds the broker and live event
# streams, which Postgres outlives (docs/runbooks/backup-restore.md).
#   backup.sh backup  [FILE]   dump DATABASE_URL (or the local stack) to FILE
#                              (default backups/atrium-<UTC time>.dump); prints the file's path
#   backup.sh restore FILE     replace DATABASE_URL's objects with FILE's, in one transaction; asks
#                              for "yes" first (or set ATRIUM_RESTORE_CONFIRM=yes)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT_DIR"

cmd=${1:-}; file=${2:-}
[ "$cmd" = backup ] || [ "$cmd" = restore ] || die "usage: backup.sh backup [FILE] | restore FILE"
# DATABASE_URL, or the local stack (started if need be).
[ -n "${DATABASE_URL:-}" ] || source infra/scripts/env.sh
bindir=$(pg_bindir)
# Only the database: the log shows where, never the password.
target=$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(f"{p.hostname}:{p.port or 5432}{p.path}")' "$DATABASE_URL")

case $cmd in
  backup)
    if [ -z "$file" ]; then
      mkdir -p backups
      file="backups/atrium-$(date -u +%Y%m%dT%H%M%SZ).dump"
    fi
    umask 077  # a dump holds every tenant's data
    log "backing up $target to $file"
    # Written beside the target and moved into place, so an interrupted dump never looks complete.
    "$bindir/pg_dump" --format=custom --no-owner --no-privileges --file="$file.partial" "$DATABASE_URL"
    mv "$file.partial" "$file"
    "$bindir/pg_restore" --list "$file" >/dev/null  # readable, or fail now rather than at restore time
    echo "$file"
    ;;
  restore)
    [ -n "$file" ] || die "usage: make restore FILE=backups/atrium-....dump"
    [ -f "$file" ] || die "no backup at $file"
    "$bindir/pg_restore" --list "$file" >/dev/null || die "$file is not a pg_dump custom-format file"
    if [ "${ATRIUM_RESTORE_CONFIRM:-}" != yes ]; then
      [ -t 0 ] || die "restoring replaces the data of $target: set ATRIUM_RESTORE_CONFIRM=yes (make restore CONFIRM=yes)"
      read -r -p "Replace the data of $target with $file? Stop the workers first. Type yes: " answer
      [ "$answer" = yes ] || die "not restored"
    fi
    log "restoring $file into $target"
    # --clean drops each object of the backup before recreating it; --single-transaction makes the
    # whole restore atomic: on any error the database is left exactly as it was.
    "$bindir/pg_restore" --clean --if-exists --no-owner --no-privileges --single-transaction \
      --exit-on-error --dbname="$DATABASE_URL" "$file"
    log "restored; runs that were pending are re-enqueued by beat's reconciler, running ones by the lease sweeper"
    ;;
esac
