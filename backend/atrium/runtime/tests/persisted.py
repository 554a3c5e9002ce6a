"""Where the platform persists what a client sent: a scan of Postgres (run rows, threads, LangGraph's
checkpoint tables, the store) and of the live stack's Redis (run and thread streams), for tests that
assert something was never stored raw."""

from __future__ import annotations

from typing import Any

# Text columns are matched as text; bytea columns (LangGraph's serialized blobs) as bytes.
TEXT_TABLES = ("checkpoints", "runtime_run", "runtime_thread", "store")
BLOB_COLUMNS = (("checkpoint_writes", "blob"), ("checkpoint_blobs", "blob"))


def postgres_hits(needle: str, db_blocker: Any) -> list[str]:
    from django.db import connection

    hits = []
    with db_blocker.unblock(), connection.cursor() as cur:
        for table in TEXT_TABLES:
            cur.execute(f"SELECT count(*) FROM {table} AS t WHERE t::text LIKE %s", [f"%{needle}%"])
            if cur.fetchone()[0]:
                hits.append(table)
        for table, column in BLOB_COLUMNS:
            query = f"SELECT count(*) FROM {table} WHERE position(convert_to(%s, 'UTF8') IN {column}) > 0"
            cur.execute(query, [needle])
            if cur.fetchone()[0]:
                hits.append(f"{table}.{column}")
    return hits


def redis_hits(needle: str) -> list[str]:
    import redis
    from django.conf import settings

    from atrium.runtime.tests.live_stack import REDIS_DB, _redis_url

    client = redis.Redis.from_url(_redis_url(settings.REDIS_URL, REDIS_DB))
    hits = set()
    for key in client.scan_iter("atrium:*"):
        kind = client.type(key)
        if kind == b"stream":
            values = [value for _, fields in client.xrange(key) for value in fields.values()]
        elif kind == b"string":
            values = [client.get(key) or b""]
        else:
            continue
        if any(needle.encode() in value for value in values):
            hits.add(key.decode())
    return sorted(hits)
