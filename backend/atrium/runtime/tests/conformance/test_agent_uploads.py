"""Files an end user attaches to a thread (`POST /agent/threads/{id}/files`, multipart): only the
thread's owner may attach or list them, limits are refused with nothing stored, and the deep agent
reads them in a run. The upload goes through the SDK's own HTTP client, as a client of the SDK would."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import psycopg
from langgraph_sdk.client import LangGraphClient

from atrium.runtime.db import conninfo
from atrium.runtime.tests.conformance.agent_support import agent_assistant, reply, say
from atrium.runtime.tests.conformance.conftest import LiveStack
from atrium.runtime.tests.conformance.helpers import new_thread

MAX_BYTES = 2 * 1024 * 1024  # ATRIUM_UPLOAD_MAX_BYTES's default


async def upload(client: LangGraphClient, thread_id: str, *files: tuple[str, bytes]) -> httpx.Response:
    return await client.http.client.post(
        f"/threads/{thread_id}/files", files=[("file", (name, content)) for name, content in files]
    )


async def listed(client: LangGraphClient, thread_id: str) -> list[str]:
    response = await client.http.client.get(f"/threads/{thread_id}/files")
    assert response.status_code == 200, response.text
    return [entry["name"] for entry in response.json()]


async def test_the_owner_attaches_a_file_and_the_agent_reads_it(stack: LiveStack) -> None:
    # given an end user's thread on the deep agent, and a file they attach to it
    owner = stack.client("enduser")
    assistant_id = await agent_assistant(stack.client("editor"))
    thread_id = await new_thread(owner)
    marker = f"revenue grew {uuid.uuid4().hex[:6]}"
    response = await upload(owner, thread_id, ("figures.csv", f"Quarterly figures\n{marker}\n".encode()))

    # then it is stored where the agent reads it
    assert response.status_code == 201, response.text
    assert response.json() == [
        {"path": "/uploads/figures.csv", "name": "figures.csv", "size": len(marker) + 19, "encoding": "utf-8"}
    ]
    assert await listed(owner, thread_id) == ["figures.csv"]
    download = await owner.http.client.get(f"/threads/{thread_id}/files/figures.csv")
    assert download.status_code == 200
    assert download.content == f"Quarterly figures\n{marker}\n".encode()
    assert download.headers["content-disposition"].startswith('attachment; filename="figures.csv"')

    # when the user asks about it in a run
    _, values = await say(owner, assistant_id, "Summarise the attached file", thread_id=thread_id)

    # then the answer quotes its content
    assert reply(values) == f"/uploads/figures.csv begins:\n> Quarterly figures\n> {marker}"


async def test_no_one_but_the_owner_attaches_or_lists_files(stack: LiveStack) -> None:
    # given a thread of the end user with one file
    owner = stack.client("enduser")
    thread_id = await new_thread(owner)
    assert (await upload(owner, thread_id, ("notes.md", b"mine\n"))).status_code == 201

    # when another user of the org, an admin, or a user of another org try, they find no such thread
    for who in ("enduser2", "admin", "other"):
        intruder = stack.client(who)
        response = await upload(intruder, thread_id, ("notes.md", b"overwritten\n"))
        assert response.status_code == 404, (who, response.text)
        assert "not found" in response.json()["detail"]
        assert (await intruder.http.client.get(f"/threads/{thread_id}/files")).status_code == 404
        assert (await intruder.http.client.get(f"/threads/{thread_id}/files/notes.md")).status_code == 404
    # and a viewer may not attach files at all
    response = await upload(stack.client("viewer"), thread_id, ("notes.md", b"overwritten\n"))
    assert response.status_code == 403, response.text
    assert "use agents" in response.json()["detail"]

    # then the owner's file is as they gave it, and alone
    assert await listed(owner, thread_id) == ["notes.md"]
    item = await owner.store.get_item(["uploads", thread_id], key="/notes.md")
    assert item["value"]["content"] == "mine\n"


async def test_limits_are_refused_with_nothing_stored(stack: LiveStack) -> None:
    owner = stack.client("enduser")
    thread_id = await new_thread(owner)
    cases = [
        # too large: 413, even beside a file that would pass
        ([("ok.txt", b"fine\n"), ("big.txt", b"x" * (MAX_BYTES + 1))], 413, "ATRIUM_UPLOAD_MAX_BYTES"),
        ([("tool.exe", b"MZ\x90\x00")], 415, "not accepted"),
        ([("notes.txt", b"\xff\xfe not utf-8")], 422, "not UTF-8"),
        ([("n" * 220 + ".txt", b"x")], 422, "plain name"),
        ([(".hidden.md", b"x")], 422, "plain name"),
        ([], 422, "Attach at least one file"),
    ]
    for files, status, message in cases:
        # when
        response = await upload(owner, thread_id, *files)
        # then
        assert response.status_code == status, (files[:1], response.text)
        assert message in response.json()["detail"]
    assert await listed(owner, thread_id) == []


async def test_a_path_in_a_file_name_is_cut_to_its_last_part(stack: LiveStack) -> None:
    owner = stack.client("enduser")
    thread_id = await new_thread(owner)

    response = await upload(owner, thread_id, ("../../memories/AGENTS.md", b"x\n"))

    assert response.status_code == 201, response.text
    assert response.json()[0]["path"] == "/uploads/AGENTS.md"


async def test_a_binary_file_is_stored_and_listed_but_a_missing_thread_is_404(stack: LiveStack) -> None:
    owner = stack.client("enduser")
    thread_id = await new_thread(owner)

    response = await upload(owner, thread_id, ("chart.png", b"\x89PNG\r\n\x1a\n\x00"))

    assert response.status_code == 201, response.text
    assert response.json()[0]["encoding"] == "base64"
    assert response.json()[0]["size"] == 9
    missing = await upload(owner, str(uuid.uuid4()), ("a.txt", b"x"))
    assert missing.status_code == 404


async def test_deleting_the_thread_deletes_its_files(stack: LiveStack) -> None:
    # given a thread with a file, and another thread of the same owner with one
    owner = stack.client("enduser")
    thread_id, kept_id = await new_thread(owner), await new_thread(owner)
    assert (await upload(owner, thread_id, ("notes.md", b"private\n"))).status_code == 201
    assert (await upload(owner, kept_id, ("keep.md", b"kept\n"))).status_code == 201

    # when the owner deletes the first thread
    await owner.threads.delete(thread_id)

    # then its file is gone from the store, and the other thread's is not
    assert await owner.store.get_item(["uploads", thread_id], key="/notes.md") is None
    assert await listed(owner, kept_id) == ["keep.md"]


MAX_FILES = 20  # ATRIUM_UPLOAD_MAX_FILES's default
MAX_THREAD_BYTES = 20 * 1024 * 1024  # ATRIUM_UPLOAD_MAX_THREAD_BYTES's default


async def test_a_thread_holds_at_most_max_files_and_a_replaced_name_counts_once(stack: LiveStack) -> None:
    # given a thread holding as many files as it may
    owner = stack.client("enduser")
    thread_id = await new_thread(owner)
    names = [f"note-{n:02}.md" for n in range(MAX_FILES)]
    response = await upload(owner, thread_id, *[(name, b"first\n") for name in names])
    assert response.status_code == 201, response.text

    # when the owner uploads a file under a name it already holds, it replaces that file
    response = await upload(owner, thread_id, ("note-00.md", b"second\n"))
    assert response.status_code == 201, response.text
    assert await listed(owner, thread_id) == names

    # and when they add one more, alone or beside a replacement, it is refused
    for files in ([("extra.md", b"x\n")], [("note-01.md", b"replaced\n"), ("extra.md", b"x\n")]):
        response = await upload(owner, thread_id, *files)
        assert response.status_code == 413, response.text
        assert response.json()["detail"] == (
            f"A thread holds at most {MAX_FILES} files (ATRIUM_UPLOAD_MAX_FILES); this upload would make 21."
        )

    # then nothing of the refused requests was written
    assert await listed(owner, thread_id) == names
    first = await owner.http.client.get(f"/threads/{thread_id}/files/note-01.md")
    assert first.content == b"first\n"
    replaced = await owner.http.client.get(f"/threads/{thread_id}/files/note-00.md")
    assert replaced.content == b"second\n"


async def test_a_thread_holds_at_most_max_thread_bytes(stack: LiveStack) -> None:
    # given a thread holding files of the largest size, up to its bytes limit (3 a request: the body
    # limit is 8 MiB)
    owner = stack.client("enduser")
    thread_id = await new_thread(owner)
    full = [(f"part-{n}.txt", b"x" * MAX_BYTES) for n in range(MAX_THREAD_BYTES // MAX_BYTES)]
    full[-1] = ("part-last.png", bytes(range(256)) * (MAX_BYTES // 256))  # stored as base64, counted as bytes
    for start in range(0, len(full), 3):
        response = await upload(owner, thread_id, *full[start : start + 3])
        assert response.status_code == 201, response.text

    # when one more byte is attached
    response = await upload(owner, thread_id, ("one.txt", b"y"))

    # then it is refused, naming the limit, and nothing was written
    assert response.status_code == 413, response.text
    assert response.json()["detail"] == (
        f"A thread's files hold at most {MAX_THREAD_BYTES} bytes (ATRIUM_UPLOAD_MAX_THREAD_BYTES); "
        f"this upload would make {MAX_THREAD_BYTES + 1}."
    )
    assert await listed(owner, thread_id) == [name for name, _ in full]
    # but replacing a file with a smaller one fits
    response = await upload(owner, thread_id, ("part-0.txt", b"small\n"))
    assert response.status_code == 201, response.text


async def test_two_uploads_at_once_cannot_both_take_the_last_place(stack: LiveStack) -> None:
    # given a thread with room for one more file
    owner = stack.client("enduser")
    thread_id = await new_thread(owner)
    names = [f"note-{n:02}.md" for n in range(MAX_FILES - 1)]
    assert (await upload(owner, thread_id, *[(name, b"x\n") for name in names])).status_code == 201

    # when several requests add a file each at the same time
    clients = [stack.client("enduser") for _ in range(8)]
    responses = await asyncio.gather(
        *[upload(client, thread_id, (f"late-{n}.md", b"x\n")) for n, client in enumerate(clients)]
    )

    # then one is stored and the others refused
    assert sorted(response.status_code for response in responses) == [201] + [413] * 7
    assert len(await listed(owner, thread_id)) == MAX_FILES


async def test_a_copy_of_a_thread_carries_its_files_to_its_owner_only(stack: LiveStack) -> None:
    # given an end user's thread with two files
    owner = stack.client("enduser")
    thread_id = await new_thread(owner)
    files = [("notes.md", b"private notes\n"), ("chart.png", b"\x89PNG\r\n\x1a\n\x00")]
    assert (await upload(owner, thread_id, *files)).status_code == 201

    # when the owner copies the thread
    copy_id = (await owner.threads.copy(thread_id))["thread_id"]

    # then the copy holds the same files, byte for byte, and the agent finds them at the same paths
    assert await listed(owner, copy_id) == ["chart.png", "notes.md"]
    for name, content in files:
        download = await owner.http.client.get(f"/threads/{copy_id}/files/{name}")
        assert (download.status_code, download.content) == (200, content)
    item = await owner.store.get_item(["uploads", copy_id], key="/notes.md")
    assert item["value"]["content"] == "private notes\n"

    # and the two are apart: a file replaced in the copy, or the copy deleted, leaves the source as it was
    assert (await upload(owner, copy_id, ("notes.md", b"changed\n"))).status_code == 201
    await owner.threads.delete(copy_id)
    assert await owner.store.get_item(["uploads", copy_id], key="/notes.md") is None
    assert await listed(owner, thread_id) == ["chart.png", "notes.md"]
    source = await owner.http.client.get(f"/threads/{thread_id}/files/notes.md")
    assert source.content == b"private notes\n"


async def test_no_one_else_gets_the_files_through_a_copy(stack: LiveStack) -> None:
    # given an end user's thread with a file
    owner = stack.client("enduser")
    thread_id = await new_thread(owner)
    assert (await upload(owner, thread_id, ("notes.md", b"private notes\n"))).status_code == 201

    # when another end user of the org, or a user of another org, copies it, there is no such thread
    for who in ("enduser2", "other"):
        response = await stack.client(who).http.client.post(f"/threads/{thread_id}/copy")
        assert response.status_code == 404, (who, response.text)

    # and an org admin, who may read every thread of the org, gets a copy of their own without the
    # files, which are the owner's alone
    admin = stack.client("admin")
    copy_id = (await admin.threads.copy(thread_id))["thread_id"]
    assert await listed(admin, copy_id) == []
    assert await admin.store.get_item(["uploads", copy_id], key="/notes.md") is None
    assert await admin.store.get_item(["uploads", thread_id], key="/notes.md") is None

    # then the owner's file is as they gave it
    assert await listed(owner, thread_id) == ["notes.md"]


async def test_an_upload_waits_while_another_holds_the_threads_uploads(stack: LiveStack) -> None:
    # given a thread, and an upload to it in progress (holding the thread's uploads lock, as one does
    # between counting its files and writing them)
    owner = stack.client("enduser")
    thread_id = await new_thread(owner)
    key = f"uploads:{thread_id}"
    async with await psycopg.AsyncConnection.connect(conninfo(), autocommit=True) as other:
        await other.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", [key])

        # when the owner uploads a file
        pending = asyncio.create_task(upload(owner, thread_id, ("late.md", b"x\n")))

        # then it waits, having counted nothing yet, until the other upload is done
        await asyncio.sleep(1.0)
        assert not pending.done()
        assert await listed(stack.client("enduser"), thread_id) == []
        await other.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", [key])
        response = await asyncio.wait_for(pending, 10)
    assert response.status_code == 201, response.text
    assert await listed(owner, thread_id) == ["late.md"]


async def test_an_upload_that_waits_too_long_for_the_thread_is_refused_with_nothing_written(
    stack: LiveStack,
) -> None:
    # given a thread whose uploads lock another upload holds for longer than an upload waits
    owner = stack.client("enduser")
    thread_id = await new_thread(owner)
    key = f"uploads:{thread_id}"
    async with await psycopg.AsyncConnection.connect(conninfo(), autocommit=True) as other:
        await other.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", [key])

        # when the owner uploads a file
        response = await upload(owner, thread_id, ("late.md", b"x\n"))

        # then it is refused after LOCK_WAIT_SECONDS (5), asking to try again, and nothing was written
        assert response.status_code == 409, response.text
        assert response.json()["detail"] == "Another upload to this thread is still being stored; try again."
        assert await listed(owner, thread_id) == []
        await other.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", [key])
