"""Issue 21, files in: the files attached to a thread live in the store at `("uploads", <thread id>)`,
in the owner's private partition, and only `POST /agent/threads/{id}/files` writes them, after checking
names, types, sizes and the thread's totals. The owner may read that namespace through the store API,
but not write or delete there around those checks: each such request is refused (403) and the thread's
files are as they were.
"""

from __future__ import annotations

import base64

import httpx

from atrium.runtime.tests.conformance.helpers import new_thread
from atrium.runtime.tests.live_stack import LiveStack

REFUSAL = "This namespace is read-only here; it is written by POST /agent/threads/{thread_id}/files."


async def files_of(http: httpx.AsyncClient, thread_id: str) -> list[tuple[str, int]]:
    response = await http.get(f"/threads/{thread_id}/files")
    assert response.status_code == 200, response.text
    return [(entry["name"], entry["size"]) for entry in response.json()]


async def test_the_owner_cannot_write_a_threads_files_through_the_store_api(stack: LiveStack) -> None:
    # Given an end user's thread with a file attached the checked way
    owner = stack.client("enduser")
    http = owner.http.client
    thread_id = await new_thread(owner)
    attached = await http.post(f"/threads/{thread_id}/files", files=[("file", ("notes.md", b"mine\n"))])
    assert attached.status_code == 201, attached.text

    # When the owner writes that namespace through the store API: replacing the file, adding one the
    # upload would refuse (an executable, over the size limit), or putting items beside or above it
    oversized = base64.b64encode(b"MZ" + b"\x00" * (3 * 1024 * 1024)).decode()
    writes = [
        (["uploads", thread_id], "/notes.md", {"content": "overwritten\n", "encoding": "utf-8"}),
        (["uploads", thread_id], "/tool.exe", {"content": oversized, "encoding": "base64"}),
        (["uploads", thread_id, "nested"], "/x.md", {"content": "x", "encoding": "utf-8"}),
        (["uploads"], "/x.md", {"content": "x", "encoding": "utf-8"}),
    ]
    responses = [
        await http.put("/store/items", json={"namespace": ns, "key": key, "value": value})
        for ns, key, value in writes
    ]
    # ...or deletes the file
    responses.append(
        await http.request(
            "DELETE", "/store/items", json={"namespace": ["uploads", thread_id], "key": "/notes.md"}
        )
    )

    # Then every request is refused with the reason
    assert [(r.status_code, r.json()["detail"]) for r in responses] == [(403, REFUSAL)] * 5

    # And nothing changed: the thread holds its one file, as the owner gave it, readable as before
    assert await files_of(http, thread_id) == [("notes.md", 5)]
    item = await owner.store.get_item(["uploads", thread_id], key="/notes.md")
    assert item is not None
    assert item["value"]["content"] == "mine\n"
    found = await owner.store.search_items(["uploads"], limit=100)
    assert [(tuple(i["namespace"]), i["key"]) for i in found["items"] if thread_id in i["namespace"]] == [
        (("uploads", thread_id), "/notes.md")
    ]


async def test_no_other_user_can_write_a_threads_files_through_the_store_api(stack: LiveStack) -> None:
    # Given an end user's thread with a file
    owner = stack.client("enduser")
    thread_id = await new_thread(owner)
    attached = await owner.http.client.post(f"/threads/{thread_id}/files", files=[("file", ("a.md", b"a\n"))])
    assert attached.status_code == 201, attached.text

    # When an org admin, another end user, or a user of another org write under its namespace
    statuses = []
    for who in ("admin", "enduser2", "other"):
        response = await stack.client(who).http.client.put(
            "/store/items",
            json={"namespace": ["uploads", thread_id], "key": "/a.md", "value": {"content": "theirs"}},
        )
        statuses.append(response.status_code)

    # Then each is refused, and the owner's file is as it was
    assert statuses == [403, 403, 403]
    assert await files_of(owner.http.client, thread_id) == [("a.md", 2)]
