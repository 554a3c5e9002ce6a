"""Custom auth handlers (`langgraph_sdk.Auth` from langgraph.json's `auth`) on the Agent Server API.

The auth file in `custom_auth/auth.py` is written the way a LangGraph deployment's would be.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Member
from django.test import Client

from atrium.assistants.graphs import registry
from atrium.core.tenancy import scoped
from atrium.runtime.models import Thread
from atrium.runtime.tests.agent_api import agent_loop, send
from config import custom_auth

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures(agent_loop.__name__)]

HERE = Path(__file__).resolve().parent / "custom_auth"
ACME = {"HTTP_X_ATRIUM_ORG": "acme"}


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}", **ACME}


@pytest.fixture
def graphs_file(settings: Any) -> Iterator[Callable[[str], None]]:
    def use(name: str) -> None:
        settings.ATRIUM_GRAPHS = HERE / name
        registry.cache_clear()
        custom_auth.reset()

    use("langgraph.json")
    yield use
    registry.cache_clear()
    custom_auth.reset()


@pytest.fixture
def people(
    members: dict[str, Member], api_key_for: Callable[[Member], str], graphs_file: Any
) -> dict[str, Any]:
    return {"admin_key": {"HTTP_X_API_KEY": api_key_for(members["admin"])}, **members}


def create_thread(headers: dict[str, str], metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    response = send(Client(), "POST", "/threads", {"metadata": metadata or {}}, **headers)
    assert response.status_code == 200, response.content
    return dict(response.json())


# ----- authentication -------------------------------------------------------------------------------


def test_a_valid_token_authenticates_as_the_matching_atrium_member(people: dict[str, Any]) -> None:
    # When Alice (the editor, by email) sends her identity provider's token
    thread = create_thread(bearer("token-alice"))
    # Then the thread is hers in Atrium, and the handler stamped its identity as owner
    assert thread["metadata"] == {"owner": "alice-sub"}
    with scoped(people["editor"].scope()):
        assert Thread.objects.get(id=thread["thread_id"]).owner_id == people["editor"].user.id


@pytest.mark.parametrize(
    ("headers", "status", "detail"),
    [
        (ACME, 401, "missing token"),
        (bearer("token-forged"), 401, "invalid token"),
        (bearer("token-ghost"), 401, "No Atrium user matches this identity."),
    ],
)
def test_authentication_failures_are_401_and_change_nothing(
    people: dict[str, Any], headers: dict[str, str], status: int, detail: str
) -> None:
    response = send(Client(), "POST", "/threads", {"metadata": {}}, **headers)
    assert (response.status_code, response.json()) == (status, {"detail": detail})
    with scoped(people["admin"].scope()):
        assert Thread.objects.count() == 0


def test_a_token_user_of_another_org_cannot_name_this_org(people: dict[str, Any]) -> None:
    # Otto authenticates fine but is a member of globex only: acme does not exist for him
    response = send(Client(), "POST", "/threads/search", {}, **bearer("token-otto"))
    assert (response.status_code, response.json()) == (404, {"detail": "Organisation not found."})


def test_handler_users_still_need_the_role(people: dict[str, Any]) -> None:
    # Vera is a viewer: the handler authenticates her, Atrium's role rule still forbids writes
    response = send(Client(), "POST", "/threads", {"metadata": {}}, **bearer("token-vera"))
    assert response.status_code == 403


# ----- authorization: deny, filter, stamp -----------------------------------------------------------


def test_a_false_from_the_action_handler_is_403_and_nothing_is_deleted(people: dict[str, Any]) -> None:
    thread = create_thread(bearer("token-alice"))
    response = send(Client(), "DELETE", f"/threads/{thread['thread_id']}", **bearer("token-alice"))
    assert (response.status_code, response.json()) == (403, {"detail": "Forbidden"})
    with scoped(people["editor"].scope()):
        assert Thread.objects.filter(id=thread["thread_id"]).exists()


def test_a_handler_http_exception_gives_its_status(people: dict[str, Any]) -> None:
    assistant = send(Client(), "POST", "/assistants", {"graph_id": "echo"}, **bearer("token-alice"))
    assert assistant.status_code == 200, assistant.content
    # The admin's API key carries the role as its permission, not "write"
    response = send(
        Client(),
        "PATCH",
        f"/assistants/{assistant.json()['assistant_id']}",
        {"name": "renamed"},
        **people["admin_key"],
    )
    assert (response.status_code, response.json()) == (403, {"detail": "write permission required"})


def test_the_returned_filter_narrows_searches_and_reads(people: dict[str, Any]) -> None:
    # Given a thread of Alice's (token) and one of the admin's (API key)
    alices = create_thread(bearer("token-alice"), {"team": "a"})
    admins = create_thread(people["admin_key"], {"team": "a"})
    assert admins["metadata"] == {"team": "a", "owner": str(people["admin"].user.id)}
    # When the admin, who may see every thread of the org, searches
    found = send(Client(), "POST", "/threads/search", {"metadata": {"team": "a"}}, **people["admin_key"])
    count = send(Client(), "POST", "/threads/count", {}, **people["admin_key"])
    # Then the handler's owner filter leaves only their own
    assert [t["thread_id"] for t in found.json()] == [admins["thread_id"]]
    assert count.json() == 1
    # And Alice's thread is a 404 to the admin for reads and writes alike
    for method, path, body in [
        ("GET", f"/threads/{alices['thread_id']}", None),
        ("GET", f"/threads/{alices['thread_id']}/state", None),
        ("PATCH", f"/threads/{alices['thread_id']}", {"metadata": {"x": 1}}),
        ("POST", f"/threads/{alices['thread_id']}/runs", {"assistant_id": "echo", "input": {}}),
    ]:
        response = send(Client(), method, path, body, **people["admin_key"])
        assert response.status_code == 404, (method, path, response.content)
    with scoped(people["admin"].scope()):
        assert Thread.objects.get(id=alices["thread_id"]).metadata == {"team": "a", "owner": "alice-sub"}


def test_run_metadata_is_stamped_by_the_create_run_handler(people: dict[str, Any]) -> None:
    thread = create_thread(bearer("token-alice"))
    response = send(
        Client(),
        "POST",
        f"/threads/{thread['thread_id']}/runs",
        {"assistant_id": "echo", "input": {"messages": []}, "metadata": {"owner": "mallory"}},
        **bearer("token-alice"),
    )
    assert response.status_code == 200, response.content
    assert response.json()["metadata"]["owner"] == "alice-sub"


def test_a_batch_over_the_limit_is_refused_before_the_handler_runs_for_each_item(
    people: dict[str, Any], settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a deployment whose create_run handler runs once per run of a batch
    settings.ATRIUM_RUNS_BATCH_MAX = 3
    calls: list[str] = []
    authorize_one = custom_auth._authorize_one

    async def counted(handler: Any, ctx: Any, value: Any, ids: Any, action: str) -> Any:
        calls.append(action)
        return await authorize_one(handler, ctx, value, ids, action)

    monkeypatch.setattr(custom_auth, "_authorize_one", counted)
    run = {"assistant_id": "echo", "input": {"messages": []}, "metadata": {"owner": "mallory"}}

    # When a caller sends a batch of one run more than the limit
    refused = send(Client(), "POST", "/runs/batch", [run] * 4, **bearer("token-alice"))

    # Then it is refused, naming the limit, without calling the handler at all
    assert refused.status_code == 422, refused.content
    assert "ATRIUM_RUNS_BATCH_MAX" in refused.json()["detail"]
    assert calls == []

    # and a batch within it still goes through the handler once per run
    accepted = send(Client(), "POST", "/runs/batch", [run] * 3, **bearer("token-alice"))
    assert accepted.status_code == 200, accepted.content
    assert calls == ["create_run"] * 3
    assert [r["metadata"]["owner"] for r in accepted.json()] == ["alice-sub"] * 3

    # and only a batch is held to it: a list sent as a v2 command is the envelope's own 400
    thread = create_thread(bearer("token-alice"))
    command = send(
        Client(), "POST", f"/threads/{thread['thread_id']}/commands", [run] * 4, **bearer("token-alice")
    )
    assert command.status_code == 400, command.content
    assert command.json()["error"] == "invalid_argument"


def test_store_handlers_rewrite_the_namespace(people: dict[str, Any]) -> None:
    put = send(
        Client(),
        "PUT",
        "/store/items",
        {"namespace": ["notes"], "key": "k", "value": {"text": "alice's"}},
        **bearer("token-alice"),
    )
    assert put.status_code == 204, put.content
    # Alice reads her item back under the namespace she asked for
    mine = send(Client(), "GET", "/store/items?namespace=notes&key=k", **bearer("token-alice"))
    assert mine.json()["namespace"] == ["alice-sub", "notes"]
    assert mine.json()["value"] == {"text": "alice's"}
    # The admin asking for the same namespace is sent to their own, where nothing is
    theirs = send(Client(), "GET", "/store/items?namespace=notes&key=k", **people["admin_key"])
    assert (theirs.status_code, theirs.json()) == (200, None)


def test_handlers_never_widen_access_across_orgs(people: dict[str, Any], api_key_for: Any) -> None:
    # The handler allows every read, but an org's thread stays absent to another org's key
    thread = create_thread(bearer("token-alice"))
    otto = {"HTTP_X_API_KEY": api_key_for(people["other_org"])}
    response = send(Client(), "GET", f"/assistants/{thread['thread_id']}", **otto)
    assert response.status_code == 404
    response = send(Client(), "GET", f"/threads/{thread['thread_id']}", **otto)
    assert response.status_code == 404


# ----- fail closed ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "reason"),
    [
        ("broken.json", "the identity provider's keys are not configured"),
        ("not_auth.json", "not a langgraph_sdk.Auth instance"),
    ],
)
def test_an_auth_module_that_does_not_load_refuses_every_request(
    people: dict[str, Any], graphs_file: Callable[[str], None], file: str, reason: str
) -> None:
    graphs_file(file)
    for headers in (people["admin_key"], bearer("token-alice"), ACME):
        response = send(Client(), "POST", "/threads", {"metadata": {}}, **headers)
        assert response.status_code == 503, response.content
        assert reason in response.json()["detail"]
    with scoped(people["admin"].scope()):
        assert Thread.objects.count() == 0
    # The process is alive but not ready: orchestrators see why instead of users seeing 503s
    assert Client().get("/agent/ok").status_code == 200
    ready = Client().get("/readyz")
    assert (ready.status_code, ready.json()["checks"]["auth_handlers"]) == (503, "failed")


def test_readiness_reports_loaded_handlers(people: dict[str, Any]) -> None:
    ready = Client().get("/readyz")
    assert (ready.status_code, ready.json()["checks"]["auth_handlers"]) == (200, "ok")


def test_every_authenticated_route_has_an_authorization_rule() -> None:
    from config.agent_api import api

    missing, checked = [], 0
    for prefix, router in api._routers:
        for path, view in router.path_operations.items():
            for operation in view.operations:
                if operation.auth_param is None:  # the open meta routes (/ok, /info)
                    continue
                checked += 1
                route = (prefix + path).strip("/").replace("{", "<").replace("}", ">")
                for method in operation.methods:
                    if (method, route) not in custom_auth.ROUTES:
                        missing.append((method, route))
    assert missing == []
    assert checked == len(custom_auth.ROUTES)


def test_mcp_tools_are_narrowed_by_the_assistants_search_handler(people: dict[str, Any]) -> None:
    # Given an assistant of Alice's (stamped by the create handler) and one of the admin's
    mine = send(
        Client(), "POST", "/assistants", {"graph_id": "echo", "name": "alices"}, **bearer("token-alice")
    )
    theirs = send(
        Client(), "POST", "/assistants", {"graph_id": "echo", "name": "admins"}, **people["admin_key"]
    )
    assert (mine.status_code, theirs.status_code) == (200, 200)
    # When Alice lists the MCP tools, the owner filter of her handler applies to the assistants search
    listed = send(
        Client(), "POST", "/mcp", {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, **bearer("token-alice")
    )
    assert [tool["name"] for tool in listed.json()["result"]["tools"]] == ["alices"]
    # And the handshake, which touches no resource, runs no handler
    hello = send(
        Client(),
        "POST",
        "/mcp",
        {"jsonrpc": "2.0", "id": 2, "method": "initialize", "params": {"protocolVersion": "2025-06-18"}},
        **bearer("token-alice"),
    )
    assert hello.json()["result"]["protocolVersion"] == "2025-06-18"
