"""Issue 20, runtime context under custom auth: a caller identified by the deployment's
`@auth.authenticate` is, in the graphs its runs execute, the user the handler returned
(`runtime.server_info.user`: its identity and its fields), as on the Agent Server. Before, every run's
user was the Atrium user id the handler's email matched, and the handler's fields were lost. What the
handler returned is kept with the run for the worker, and never shown by the API.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Member
from django.test import Client
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from typing_extensions import TypedDict

from atrium.assistants.graphs import registry
from atrium.core.tenancy import scoped
from atrium.runtime.executor import _config_for
from atrium.runtime.models import Run
from atrium.runtime.services.execution import RunClaim
from atrium.runtime.tests.agent_api import agent_loop, send
from config import custom_auth

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures(agent_loop.__name__)]

GRAPHS = Path(__file__).resolve().parent / "store_auth" / "langgraph.json"
ALICE = {"HTTP_AUTHORIZATION": "Bearer token-alice", "HTTP_X_ATRIUM_ORG": "acme"}


@pytest.fixture(autouse=True)
def handler_auth(settings: Any, members: dict[str, Member]) -> Iterator[None]:
    settings.ATRIUM_GRAPHS = GRAPHS
    registry.cache_clear()
    custom_auth.reset()
    yield
    registry.cache_clear()
    custom_auth.reset()


class Seen(TypedDict, total=False):
    user: dict[str, Any]


def _read_user(state: Seen, runtime: Runtime[Any]) -> Seen:
    user = runtime.server_info.user if runtime.server_info else None
    return {"user": {**dict(user), "attr_identity": user.identity} if user is not None else {}}


def _reader() -> Any:
    graph = StateGraph(Seen)
    graph.add_node("read_user", _read_user)
    graph.add_edge(START, "read_user")
    graph.add_edge("read_user", END)
    return graph.compile()


def _claim(run: Run) -> RunClaim:
    return RunClaim(
        run_id=str(run.id),
        thread_id=str(run.thread_id),
        org_id=str(run.org_id),
        user_id=run.user_id,
        user_email="editor@acme.test",
        user_role="builder",
        assistant_id=str(run.assistant_id),
        graph_id="echo",
        attempt=1,
        fence=1,
        config={},
        context={},
        kwargs=dict(run.kwargs),
        temporary_thread=False,
    )


def test_a_handler_authenticated_callers_runs_see_the_handlers_user(members: dict[str, Member]) -> None:
    # Given Alice, identified by the deployment's handler (token-alice -> alice-sub, editor@acme.test)
    thread = send(Client(), "POST", "/threads", {}, **ALICE)
    assert thread.status_code == 200, thread.content
    tid = thread.json()["thread_id"]

    # When she starts a run, trying to name another user in the request
    body = {"assistant_id": "echo", "input": {"messages": []}, "auth_user": {"identity": "mallory"}}
    created = send(Client(), "POST", f"/threads/{tid}/runs", body, **ALICE)
    assert created.status_code in (200, 422), created.content
    if created.status_code == 422:  # the unknown field is refused: start it without
        body.pop("auth_user")
        created = send(Client(), "POST", f"/threads/{tid}/runs", body, **ALICE)
        assert created.status_code == 200, created.content
    with scoped(members["editor"].scope()):
        run = Run.objects.get(id=created.json()["run_id"])

    # Then the API shows nothing of what the handler returned
    assert "auth_user" not in created.json()["kwargs"]
    shown = send(Client(), "GET", f"/threads/{tid}/runs/{run.id}", **ALICE).json()
    assert "auth_user" not in shown["kwargs"]

    # And the graph's runtime.server_info.user is the handler's user, with Atrium's org and role
    seen = _reader().invoke({}, _config_for(_claim(run)))["user"]
    assert seen["identity"] == seen["attr_identity"] == "alice-sub"
    assert seen["email"] == "editor@acme.test"
    assert seen["org_id"] == str(members["editor"].org.id)
    assert seen["role"] == "builder"


def test_an_api_key_callers_runs_see_their_atrium_user(members: dict[str, Member], api_key_for: Any) -> None:
    # Given the editor calling with an Atrium API key (the handler does not authenticate them)
    key = {"HTTP_X_API_KEY": api_key_for(members["editor"])}
    tid = send(Client(), "POST", "/threads", {}, **key).json()["thread_id"]
    created = send(Client(), "POST", f"/threads/{tid}/runs", {"assistant_id": "echo", "input": {}}, **key)
    assert created.status_code == 200, created.content
    with scoped(members["editor"].scope()):
        run = Run.objects.get(id=created.json()["run_id"])
    # Then their runs are their Atrium user
    seen = _reader().invoke({}, _config_for(_claim(run)))["user"]
    assert seen["identity"] == str(members["editor"].user.id)
    assert "email" not in seen
