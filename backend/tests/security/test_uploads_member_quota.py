"""What one member's files may take across their threads (ATRIUM_UPLOAD_MAX_MEMBER_BYTES). The
per-thread limits alone let an end user fill the database a thread at a time, or faster by copying a
full thread over and over (a copy carries its files, with no upload to send). Past the member's
limit an upload or a copy is a 413 naming the setting, and nothing of it is stored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from conftest import Member
from django.test import Client

from atrium.runtime.models import Thread
from atrium.runtime.tests.agent_api import agent_loop, send

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures(agent_loop.__name__)]

LIMIT = 100


@pytest.fixture
def small_quota(settings: Any) -> None:
    settings.ATRIUM_UPLOAD_MAX_MEMBER_BYTES = LIMIT


def _headers(member: Member, api_key_for: Callable[[Member], str]) -> dict[str, str]:
    return {"HTTP_X_API_KEY": api_key_for(member)}


def _thread(headers: dict[str, str]) -> str:
    response = send(Client(), "POST", "/threads", {}, **headers)
    assert response.status_code == 200, response.content
    return str(response.json()["thread_id"])


def _upload(headers: dict[str, str], thread_id: str, name: str, size: int) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    file = SimpleUploadedFile(name, b"x" * size, content_type="text/markdown")
    return Client().post(f"/agent/threads/{thread_id}/files", {"file": file}, **headers)


def _names(headers: dict[str, str], thread_id: str) -> list[str]:
    response = send(Client(), "GET", f"/threads/{thread_id}/files", **headers)
    assert response.status_code == 200, response.content
    return [item["name"] for item in response.json()]


@pytest.mark.usefixtures("small_quota")
def test_a_members_files_across_threads_stop_at_their_limit(
    members: dict[str, Member], api_key_for: Callable[[Member], str]
) -> None:
    # Given an end user holding 60 of their 100 bytes in one thread
    user = _headers(members["end_user"], api_key_for)
    first, second = _thread(user), _thread(user)
    assert _upload(user, first, "a.md", 60).status_code == 201

    # When they upload 50 more bytes to another thread
    refused = _upload(user, second, "b.md", 50)

    # Then it is refused, naming the setting and the total, and nothing is stored
    assert refused.status_code == 413, refused.content
    assert refused.json()["detail"] == (
        f"A member's files hold at most {LIMIT} bytes across their threads "
        "(ATRIUM_UPLOAD_MAX_MEMBER_BYTES); this upload would make 110."
    )
    assert _names(user, second) == []
    # but what fits does, and replacing a file counts it once
    assert _upload(user, second, "b.md", 40).status_code == 201
    assert _upload(user, first, "a.md", 60).status_code == 201
    assert _upload(user, first, "a.md", 61).status_code == 413

    # And the limit is each member's own: another member of the org is not held to the first's files
    builder = _headers(members["editor"], api_key_for)
    assert _upload(builder, _thread(builder), "c.md", 90).status_code == 201


@pytest.mark.usefixtures("small_quota")
def test_copying_a_thread_cannot_take_a_member_past_their_limit(
    members: dict[str, Member], api_key_for: Callable[[Member], str]
) -> None:
    # Given an end user with 60 of their 100 bytes in one thread
    user = _headers(members["end_user"], api_key_for)
    full = _thread(user)
    assert _upload(user, full, "a.md", 60).status_code == 201
    threads_before = Thread.unscoped.count()

    # When they copy the thread (its files go with a copy)
    refused = send(Client(), "POST", f"/threads/{full}/copy", **user)

    # Then the copy is refused, naming the setting, and no thread or file was made
    assert refused.status_code == 413, refused.content
    assert "ATRIUM_UPLOAD_MAX_MEMBER_BYTES" in refused.json()["detail"]
    assert "copying this thread's files would make 120" in refused.json()["detail"]
    assert Thread.unscoped.count() == threads_before


def test_with_no_member_limit_copies_carry_their_files(
    members: dict[str, Member], api_key_for: Callable[[Member], str], settings: Any
) -> None:
    # Given no member limit (0) and a thread with a file
    settings.ATRIUM_UPLOAD_MAX_MEMBER_BYTES = 0
    user = _headers(members["end_user"], api_key_for)
    source = _thread(user)
    assert _upload(user, source, "a.md", 60).status_code == 201

    # When it is copied twice, then both copies carry the file
    for _ in range(2):
        copied = send(Client(), "POST", f"/threads/{source}/copy", **user)
        assert copied.status_code == 200, copied.content
        assert _names(user, copied.json()["thread_id"]) == ["a.md"]
