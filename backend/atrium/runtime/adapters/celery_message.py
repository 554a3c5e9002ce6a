"""Adapter `celery_message`: a run's broker message built by hand and pushed with one `LPUSH`.

Celery's publish machinery cost five times the `LPUSH` it ends in, on every run the API creates. This
builds the message `execute_run.apply_async` would send (Celery's task message, protocol 2, in kombu's
Redis envelope) and says when it may be pushed straight onto the queue's list: a `redis://` broker with
kombu's default key layout (no key prefix or separator). It relies on Celery's message headers and
kombu's Redis envelope and key layout (tests/adapters/test_celery_message.py compares it with what
`apply_async` sends); with `ATRIUM_STOCK_LIBRARY_PATHS=celery_message` every run goes through Celery.
"""

from __future__ import annotations

import base64
import uuid
from functools import lru_cache

import orjson
from celery import current_app
from django.conf import settings

from atrium.runtime.adapters import stock

# `execute_run(run_id)`'s message body after the arguments: no callbacks, errbacks, chain or chord.
_EMBED = {"callbacks": None, "errbacks": None, "chain": None, "chord": None}


def direct_push_possible() -> bool:
    """Whether a run's message may be pushed straight onto the broker's list (else Celery publishes)."""
    if stock("celery_message"):
        return False
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS or {}
    url = settings.CELERY_BROKER_URL
    return url.startswith("redis://") and not options.get("global_keyprefix") and not options.get("sep")


@lru_cache(maxsize=1)
def _sender() -> tuple[str, str]:
    """(origin, reply_to) as Celery stamps them on the messages this process sends."""
    from celery.utils.nodenames import anon_nodename

    return anon_nodename(), str(current_app.thread_oid)


def run_message(run_id: str, *, task: str, queue: str) -> bytes:
    """The broker message of `task(run_id)` (an `ignore_result` task), as `apply_async` sends it to
    `queue` through the default exchange."""
    task_id = str(uuid.uuid4())
    origin, reply_to = _sender()
    body = base64.b64encode(orjson.dumps([[run_id], {}, _EMBED])).decode()
    return orjson.dumps(
        {
            "body": body,
            "content-encoding": "utf-8",
            "content-type": "application/json",
            "headers": {
                "lang": "py",
                "task": task,
                "id": task_id,
                "shadow": None,
                "eta": None,
                "expires": None,
                "group": None,
                "group_index": None,
                "retries": 0,
                "timelimit": [None, None],
                "root_id": task_id,
                "parent_id": None,
                "argsrepr": repr((run_id,)),
                "kwargsrepr": "{}",
                "origin": origin,
                "ignore_result": True,
                "replaced_task_nesting": 0,
                "stamped_headers": None,
                "stamps": {},
            },
            "properties": {
                "correlation_id": task_id,
                "reply_to": reply_to,
                "delivery_mode": 2,
                "delivery_info": {"exchange": "", "routing_key": queue},
                "priority": 0,
                "body_encoding": "base64",
                "delivery_tag": str(uuid.uuid4()),
            },
        }
    )
