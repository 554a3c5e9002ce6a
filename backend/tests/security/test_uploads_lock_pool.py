"""An upload to a thread waits (up to 5 s) while another upload to the same thread is being stored
(services/uploads.py). The wait used to happen on a connection of the web process's runtime pool
(ATRIUM_RUNTIME_POOL_SIZE, 20), which every org's store, state and checkpoint reads share: one end
user sending a few dozen uploads at once to their own thread, while one of them was being stored,
held every connection for seconds, and any other request of any org needing the pool waited with
them. A waiting upload must hold no connection.
"""

from __future__ import annotations

import asyncio
import time

import psycopg
from django.conf import settings

from atrium.runtime.db import conninfo
from atrium.runtime.tests.conformance.helpers import new_thread
from atrium.runtime.tests.live_stack import LiveStack


async def test_uploads_waiting_for_a_thread_do_not_starve_other_orgs_of_connections(stack: LiveStack) -> None:
    # Given an end user's thread whose uploads lock is held (an upload of theirs being stored)
    attacker = stack.client("enduser")
    thread_id = await new_thread(attacker)
    key = f"uploads:{thread_id}"
    waiting = settings.ATRIUM_RUNTIME_POOL_SIZE + 5
    async with await psycopg.AsyncConnection.connect(conninfo(), autocommit=True) as holder:
        await holder.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", [key])
        try:
            # When they send more uploads to that thread than the pool has connections
            uploads = [
                asyncio.create_task(
                    attacker.http.client.post(
                        f"/threads/{thread_id}/files", files=[("file", (f"f{n}.md", b"x\n"))]
                    )
                )
                for n in range(waiting)
            ]
            await asyncio.sleep(1.0)  # every upload has reached the lock

            # Then a user of another org still reads the store at once
            started = time.monotonic()
            found = await stack.client("other").store.search_items(["notes"], limit=1)
            took = time.monotonic() - started
            assert found == {"items": []}
            assert took < 2.0, f"a store read of another org waited {took:.1f} s for a connection"
        finally:
            await holder.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", [key])
        responses = await asyncio.gather(*uploads)

    # And each upload was stored or refused cleanly (409 try again, 413 the thread is full), never an error
    errors = [r.text for r in responses if r.status_code not in (201, 409, 413)]
    assert errors == []
