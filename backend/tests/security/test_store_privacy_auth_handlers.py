"""Issue 18, store privacy under custom auth (ADR 0018): a filter returned by an `@auth.on.store` handler
narrows every store action — get, put, delete, search and namespace listing — and is never dropped.

The auth file (`store_auth/auth.py`) shares one namespace between Alice and Bob and gives each only the
items stamped with their identity. Before, the filter only reached searches: Bob read, replaced and
deleted Alice's items, and listed her namespaces.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Member
from django.test import Client

from atrium.assistants.graphs import registry
from atrium.runtime.tests.agent_api import agent_loop, send
from config import custom_auth

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures(agent_loop.__name__)]

GRAPHS = Path(__file__).resolve().parent / "store_auth" / "langgraph.json"


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}", "HTTP_X_ATRIUM_ORG": "acme"}


ALICE, BOB = bearer("token-alice"), bearer("token-bob")


@pytest.fixture(autouse=True)
def store_auth(settings: Any, members: dict[str, Member]) -> Iterator[None]:
    settings.ATRIUM_GRAPHS = GRAPHS
    registry.cache_clear()
    custom_auth.reset()
    yield
    registry.cache_clear()
    custom_auth.reset()


@pytest.fixture
def shared(members: dict[str, Member]) -> list[str]:
    """A namespace both may write (assistant memory: builders and admins)."""
    return ["org", str(members["editor"].org.id), "assistant", "a1", "notes"]


def put(who: dict[str, str], namespace: list[str], key: str, value: dict[str, Any]) -> Any:
    return send(Client(), "PUT", "/store/items", {"namespace": namespace, "key": key, "value": value}, **who)


def get(who: dict[str, str], namespace: list[str], key: str) -> Any:
    response = Client().get("/agent/store/items", {"namespace": ".".join(namespace), "key": key}, **who)
    assert response.status_code == 200, response.content
    return response.json()


def search(who: dict[str, str], prefix: list[str], **body: Any) -> list[str]:
    response = send(Client(), "POST", "/store/items/search", {"namespace_prefix": prefix, **body}, **who)
    assert response.status_code == 200, response.content
    return [item["key"] for item in response.json()["items"]]


def namespaces(who: dict[str, str], **body: Any) -> list[list[str]]:
    response = send(Client(), "POST", "/store/namespaces", body, **who)
    assert response.status_code == 200, response.content
    return list(response.json()["namespaces"])


def test_the_handlers_filter_hides_alices_items_from_bob_in_every_action(shared: list[str]) -> None:
    # Given Alice's item in the shared namespace, stamped with her identity by the handler
    assert put(ALICE, shared, "plan", {"text": "alice's"}).status_code == 204
    assert get(ALICE, shared, "plan")["value"] == {"text": "alice's", "owner": "alice-sub"}

    # When Bob reads, searches and lists
    assert get(BOB, shared, "plan") is None
    assert search(BOB, shared) == []
    assert search(BOB, []) == []
    assert search(BOB, shared, filter={"owner": "alice-sub"}) == []
    assert namespaces(BOB) == []
    assert namespaces(BOB, prefix=shared[:3], max_depth=4) == []

    # ...tries to replace it (his stamp, or hers written by hand), then deletes it
    assert put(BOB, shared, "plan", {"text": "bob's"}).status_code == 403
    assert put(BOB, shared, "plan", {"text": "bob's", "owner": "alice-sub"}).status_code == 403
    deleted = send(Client(), "DELETE", "/store/items", {"namespace": shared, "key": "plan"}, **BOB)
    assert deleted.status_code == 204

    # Then Alice's item is unchanged and still hers alone
    assert get(ALICE, shared, "plan")["value"] == {"text": "alice's", "owner": "alice-sub"}
    assert search(ALICE, shared) == ["plan"]
    assert namespaces(ALICE) == [shared]


def test_each_sees_exactly_their_own_items_paged_without_gaps(shared: list[str]) -> None:
    # Given interleaved items of both in one namespace
    for i in range(3):
        assert put(ALICE, shared, f"alice{i}", {"i": i}).status_code == 204
        assert put(BOB, shared, f"bob{i}", {"i": i}).status_code == 204
    # When each pages through it one item at a time
    for who, mine in ((ALICE, "alice"), (BOB, "bob")):
        pages = [search(who, shared, limit=1, offset=i) for i in range(4)]
        # Then they see their three items once each, and no one else's
        assert sorted(key for page in pages for key in page) == [f"{mine}{i}" for i in range(3)]
        assert pages[3] == []
    # And a delete by its owner goes through
    assert (
        send(Client(), "DELETE", "/store/items", {"namespace": shared, "key": "bob0"}, **BOB).status_code
        == 204
    )
    assert get(BOB, shared, "bob0") is None
    assert sorted(search(BOB, shared)) == ["bob1", "bob2"]
