"""A member removed from an org keeps nothing: not their API keys, not their queued or running runs,
not the streams they had open (issue 18, lifecycle).

Each test adds a fresh member to org `a` (the seeded ones are shared by the whole session), lets them
open streams and start runs through the live stack, then removes them as an admin would: through the
control-plane API, or through the Django admin."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from django.test import Client, override_settings
from langgraph_sdk import get_client

from atrium.runtime.tests.live_stack import REDIS_DB, LiveStack, _redis_url

STREAM_END_WITHIN = 20.0


@dataclass(frozen=True)
class Member:
    membership_id: str
    key: str
    org_slug: str
    email: str


def _add_member(stack: LiveStack, django_db_blocker: Any) -> Member:
    from atrium.accounts.services import user_get_or_create
    from atrium.core.tenancy import Role, Scope, scoped
    from atrium.orgs.keys import parse_prefix
    from atrium.orgs.models import ApiKey
    from atrium.orgs.services import api_key_create, membership_ensure

    with django_db_blocker.unblock():
        admin_key = ApiKey.unscoped.select_related("org").get(prefix=parse_prefix(stack.keys["admin"]))
        org = admin_key.org
        user, _ = user_get_or_create(email=f"leaver-{uuid.uuid4().hex[:8]}@lifecycle.test")
        membership = membership_ensure(org=org, user=user, role=Role.END_USER)
        with scoped(Scope(user_id=None, org_id=org.id, org_slug=org.slug, role=Role.ADMIN)):
            _, key = api_key_create(user=user, name="leaver")
    return Member(str(membership.id), key, org.slug, user.email)


@pytest.fixture
def member(stack: LiveStack, django_db_blocker: Any) -> Member:
    return _add_member(stack, django_db_blocker)


async def _read_until_closed(response: httpx.Response, lines: list[str]) -> None:
    async for line in response.aiter_lines():
        lines.append(line)


class OpenStreams:
    """The member's thread stream and v2 event stream on an idle thread: only heartbeats flow, and
    neither ends by itself."""

    def __init__(self, stack: LiveStack, member: Member) -> None:
        self.http = httpx.AsyncClient(
            base_url=stack.url, headers={"x-api-key": member.key}, timeout=httpx.Timeout(60, connect=5)
        )
        self.lines: dict[str, list[str]] = {"thread": [], "v2": []}
        self.tasks: dict[str, asyncio.Task[None]] = {}

    async def open(self, thread_id: str) -> None:
        for name, request in (
            ("thread", self.http.build_request("GET", f"/threads/{thread_id}/stream")),
            (
                "v2",
                self.http.build_request(
                    "POST", f"/threads/{thread_id}/stream/events", json={"channels": ["values"]}
                ),
            ),
        ):
            response = await self.http.send(request, stream=True)
            assert response.status_code == 200, name
            self.tasks[name] = asyncio.create_task(_read_until_closed(response, self.lines[name]))
        await asyncio.sleep(1.0)
        assert not any(task.done() for task in self.tasks.values()), "the streams end only on revocation"

    async def ended(self) -> dict[str, list[str]]:
        await asyncio.wait_for(asyncio.gather(*self.tasks.values()), STREAM_END_WITHIN)
        return self.lines

    async def close(self) -> None:
        for task in self.tasks.values():
            task.cancel()
        await self.http.aclose()


def _revoked_error(lines: list[str]) -> dict[str, Any]:
    data = [json.loads(line[len("data: ") :]) for line in lines if line.startswith("data: ")]
    assert data, lines
    return data[-1]


async def _member_setup(stack: LiveStack, member: Member) -> tuple[str, str, str, str, OpenStreams]:
    """A running run, a pending one (delayed ten minutes) and two open streams, all the member's."""
    client = get_client(url=stack.url, api_key=member.key)
    running_thread = str((await client.threads.create())["thread_id"])
    running = await client.runs.create(running_thread, "slow", input={"n": 300, "delay": 0.2})
    pending_thread = str((await client.threads.create())["thread_id"])
    pending = await client.runs.create(pending_thread, "simple", input={"steps": []}, after_seconds=600)
    idle_thread = str((await client.threads.create())["thread_id"])
    for _ in range(200):
        if (status := (await client.runs.get(running_thread, running["run_id"]))["status"]) == "running":
            break
        await asyncio.sleep(0.05)
    assert status == "running"
    assert (await client.runs.get(pending_thread, pending["run_id"]))["status"] == "pending"
    streams = OpenStreams(stack, member)
    await streams.open(idle_thread)
    return running_thread, running["run_id"], pending_thread, pending["run_id"], streams


async def _assert_everything_ended(
    stack: LiveStack, streams: OpenStreams, runs: list[tuple[str, str]]
) -> None:
    lines = await streams.ended()
    for name in ("thread", "v2"):
        assert _revoked_error(lines[name]) == {
            "error": "Forbidden",
            "message": "Access to this organisation was revoked.",
        }, name
    refused = await streams.http.post("/threads/search", json={})
    assert refused.status_code == 401
    assert refused.json() == {"detail": "Invalid or revoked API key."}
    admin = stack.client("admin")
    for thread_id, run_id in runs:
        for _ in range(200):
            run = await admin.runs.get(thread_id, run_id)
            if run["status"] != "running" and run["status"] != "pending":
                break
            await asyncio.sleep(0.1)
        assert run["status"] == "interrupted", (thread_id, run_id, run["status"])


async def test_removing_a_member_through_the_api_ends_their_streams_keys_and_runs(
    stack: LiveStack, member: Member
) -> None:
    running_thread, running, pending_thread, pending, streams = await _member_setup(stack, member)
    bystander = stack.client("editor")
    their_thread = str((await bystander.threads.create())["thread_id"])
    theirs = await bystander.runs.create(their_thread, "simple", input={"steps": []}, after_seconds=600)
    try:
        async with httpx.AsyncClient(base_url=stack.base_url, headers=stack.headers("admin")) as admin:
            removed = await admin.delete(f"/api/v1/orgs/{member.org_slug}/members/{member.membership_id}")
        assert removed.status_code == 204
        await _assert_everything_ended(stack, streams, [(running_thread, running), (pending_thread, pending)])
        # another member's queued run is untouched
        assert (await bystander.runs.get(their_thread, theirs["run_id"]))["status"] == "pending"
    finally:
        await streams.close()
        await bystander.runs.cancel(their_thread, theirs["run_id"])


@contextlib.contextmanager
def _closing_connection() -> Iterator[None]:
    """This thread's database connection, closed after use: a worker thread's open connection would
    keep the test database from being dropped at the end of the session."""
    from django.db import connection

    try:
        yield
    finally:
        connection.close()


@pytest.fixture
def live_redis() -> Iterator[None]:
    """This process's writes to Redis (the access epoch) go where the live stack reads."""
    from django.conf import settings

    from atrium.runtime import dispatch

    dispatch._redis.cache_clear()
    with override_settings(REDIS_URL=_redis_url(settings.REDIS_URL, REDIS_DB)):
        yield
    dispatch._redis.cache_clear()


async def test_removing_a_member_in_the_django_admin_ends_their_streams_keys_and_runs(
    stack: LiveStack, member: Member, django_db_blocker: Any, live_redis: None
) -> None:
    from asgiref.sync import sync_to_async

    from atrium.orgs.keys import parse_prefix
    from atrium.orgs.models import ApiKey, Membership

    running_thread, running, pending_thread, pending, streams = await _member_setup(stack, member)

    def remove_in_admin() -> int:
        with django_db_blocker.unblock(), _closing_connection():
            admin_user = ApiKey.unscoped.get(prefix=parse_prefix(stack.keys["admin"])).user
            browser = Client()
            browser.force_login(admin_user)
            response = browser.post(f"/admin/orgs/membership/{member.membership_id}/delete/", {"post": "yes"})
            assert not Membership.unscoped.filter(id=member.membership_id).exists()
            assert ApiKey.unscoped.get(prefix=parse_prefix(member.key)).revoked_at is not None
            return response.status_code

    try:
        assert await sync_to_async(remove_in_admin)() == 302
        await _assert_everything_ended(stack, streams, [(running_thread, running), (pending_thread, pending)])
    finally:
        await streams.close()


async def test_a_key_revoked_in_the_admin_is_refused_by_the_web_process_within_a_second(
    stack: LiveStack, member: Member, django_db_blocker: Any, live_redis: None
) -> None:
    """The web process has just verified (and cached) the key; the admin site, another process,
    revokes it: the key must not live on for the cache's seconds."""
    from asgiref.sync import sync_to_async

    from atrium.orgs.keys import parse_prefix
    from atrium.orgs.models import ApiKey

    async with httpx.AsyncClient(base_url=stack.url, headers={"x-api-key": member.key}) as http:
        assert (await http.post("/threads/search", json={})).status_code == 200

        def revoke_in_admin() -> None:
            with django_db_blocker.unblock(), _closing_connection():
                key = ApiKey.unscoped.get(prefix=parse_prefix(member.key))
                browser = Client()
                browser.force_login(ApiKey.unscoped.get(prefix=parse_prefix(stack.keys["admin"])).user)
                browser.post("/admin/orgs/apikey/", {"action": "revoke", "_selected_action": [str(key.id)]})
                assert ApiKey.unscoped.get(id=key.id).revoked_at is not None

        await sync_to_async(revoke_in_admin)()
        revoked_at = asyncio.get_running_loop().time()
        while (status := (await http.post("/threads/search", json={})).status_code) == 200:
            assert asyncio.get_running_loop().time() - revoked_at < 2.0, "the revoked key is still honoured"
            await asyncio.sleep(0.1)
        assert status == 401


async def test_deactivating_a_user_in_the_admin_ends_their_streams_and_keys(
    stack: LiveStack, member: Member, django_db_blocker: Any, live_redis: None
) -> None:
    from asgiref.sync import sync_to_async

    from atrium.accounts.models import User
    from atrium.accounts.services import user_create

    client = get_client(url=stack.url, api_key=member.key)
    streams = OpenStreams(stack, member)
    await streams.open(str((await client.threads.create())["thread_id"]))

    def deactivate_in_admin() -> int:
        with django_db_blocker.unblock(), _closing_connection():
            superuser = user_create(email=f"root-{uuid.uuid4().hex[:8]}@lifecycle.test", is_staff=True)
            User.objects.filter(id=superuser.id).update(is_superuser=True)
            browser = Client()
            browser.force_login(superuser)
            user = User.objects.get(email=member.email)
            response = browser.post(
                f"/admin/accounts/user/{user.id}/change/", {"email": user.email, "name": user.name}
            )
            assert User.objects.get(id=user.id).is_active is False
            return response.status_code

    try:
        assert await sync_to_async(deactivate_in_admin)() == 302
        lines = await streams.ended()
        for name in ("thread", "v2"):
            assert _revoked_error(lines[name])["error"] == "Forbidden", name
        assert (await streams.http.post("/threads/search", json={})).status_code == 401
    finally:
        await streams.close()
