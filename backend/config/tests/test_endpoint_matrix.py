"""The authorisation matrix of the Agent Server API (/agent): every operation, every kind of caller.

Each test is one caller; it calls every operation of the API's OpenAPI document (a route left out
fails `test_every_route_is_in_the_matrix`) on objects made afresh for that call, and compares each
status with what docs/security.md's table says:

- anonymous -> 401 (but `/ok` and `/info`, which are public);
- an admin of another org -> 404 on any of this org's objects; searches find nothing of this org;
- the operator (a superuser with no membership, naming this org) -> 404: they work in the Django admin;
- a member without the permission the operation needs -> 403;
- threads, runs, crons and private store items are their owner's: to any other member they are 404
  (passed over by a bulk call, absent from a search); an org admin sees and manages them, but does
  not write another's private memory. For a caller outside the org, "own" objects are ones they made
  there before they left it: still 404.

MCP, A2A and protocol v2's commands answer a refusal past the door with an error in a 200 (ERROR
below). Every refused request leaves the rows it could have written as they were, and no 2xx answer
names an object the caller may not see. Runs are created but never executed: the broker is the edge
faked here (no worker), so creating a run proves the door let the caller in.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from conftest import PASSWORD, Member
from django.db import connection
from django.test import Client

from atrium.accounts.services import user_create
from atrium.assistants.models import Assistant, AssistantVersion, Audience
from atrium.assistants.services import assistant_create, assistant_grants_set
from atrium.core.tenancy import ROLE_PERMISSIONS, Permission, Role, scoped
from atrium.orgs.services import membership_ensure
from atrium.runtime.models import Cron, Run, RunStatus, Thread, WebhookDelivery
from atrium.runtime.tests.agent_api import agent_loop
from config.agent_api import api

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures(agent_loop.__name__)]

READ, USE, CONFIGURE, MANAGE = (
    Permission.READ,
    Permission.USE_AGENTS,
    Permission.CONFIGURE_AGENTS,
    Permission.MANAGE_ORG,
)
PUBLIC = None


@dataclass(frozen=True)
class Op:
    """One operation. `needs`: the permission it takes (None: public); `owned`: the path or body names
    an object with an owner, so it is called on the caller's own and on another user's; `ids`: the
    path names one of this org's objects (another org gets a 404 rather than an empty answer)."""

    method: str
    path: str
    body: Any = None
    needs: Permission | None = READ
    ok: int = 200
    owned: bool = False
    ids: bool = True
    query: dict[str, str] = field(default_factory=dict)
    team_only: bool = False
    checkpoint: bool = False  # the thread needs a checkpoint
    peer: int = 404  # to a member, not an admin, on another user's object
    admin_peer: int | None = None  # to an admin on another user's object (None: `ok`)
    # JSON-RPC (MCP, A2A) and protocol v2's commands answer a refusal behind the door with a 200 whose
    # body is an error: the matrix records it as ERROR
    rpc: bool = False


RUN = {"assistant_id": "{assistant}", "input": {"messages": []}}
CRON = {"assistant_id": "{assistant}", "schedule": "0 0 1 1 *"}
STORE_PUT = {"namespace": "{namespace}", "key": "new", "value": {"v": 1}}
STORE_DELETE = {"namespace": "{namespace}", "key": "note"}
COMMAND = {"id": 1, "method": "run.start", "params": RUN}
CANCEL = {"thread_id": "{thread}", "run_ids": ["{active_run}"]}
A2A_TASK = {"jsonrpc": "2.0", "id": 1, "method": "tasks/get", "params": {"id": "{run}"}}
A2A_STREAM = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "message/stream",
    "params": {
        "message": {"role": "user", "parts": [{"kind": "text", "text": "hi"}], "contextId": "{thread}"}
    },
}
RPC_LIST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}

OPS: list[Op] = [
    Op("get", "/ok", needs=PUBLIC, ids=False),
    Op("get", "/info", needs=PUBLIC, ids=False),
    # assistants
    Op("post", "/assistants", {"graph_id": "echo", "name": "new"}, CONFIGURE, ids=False),
    Op("post", "/assistants/search", {}, ids=False),
    Op("post", "/assistants/count", {}, ids=False),
    Op("get", "/assistants/{assistant}"),
    Op("get", "/assistants/{team_assistant}", team_only=True),
    Op("patch", "/assistants/{assistant}", {"name": "renamed"}, CONFIGURE),
    Op("delete", "/assistants/{assistant}", None, CONFIGURE, 204),
    Op("post", "/assistants/{assistant}/versions", {}),
    Op("post", "/assistants/{assistant}/latest", {"version": 1}, CONFIGURE),
    Op("get", "/assistants/{assistant}/graph"),
    Op("get", "/assistants/{assistant}/schemas"),
    Op("get", "/assistants/{assistant}/subgraphs"),
    Op("get", "/assistants/{assistant}/subgraphs/agent"),
    # threads
    Op("post", "/threads", {}, USE, ids=False),
    Op("post", "/threads/search", {}, ids=False),
    Op("post", "/threads/count", {}, ids=False),
    # Acting on threads or runs by id in the body: another user's are passed over (and left as they were).
    Op("post", "/threads/prune", {"thread_ids": ["{thread}"]}, USE, owned=True, ids=False, peer=200),
    Op("get", "/threads/{thread}", owned=True),
    Op("patch", "/threads/{thread}", {"metadata": {"k": "v"}}, USE, owned=True),
    Op("delete", "/threads/{thread}", None, USE, 204, owned=True),
    Op("post", "/threads/{thread}/copy", {}, USE, owned=True),
    Op("get", "/threads/{thread}/state", owned=True),
    Op("post", "/threads/{thread}/state", {"values": {"messages": []}}, CONFIGURE, owned=True),
    Op("patch", "/threads/{thread}/state", {"metadata": {"k": "v"}}, USE, 204, owned=True, checkpoint=True),
    Op("post", "/threads/{thread}/state/checkpoint", {"checkpoint": {}}, owned=True),
    Op("get", "/threads/{thread}/state/{checkpoint}", owned=True, checkpoint=True),
    Op("post", "/threads/{thread}/history", {}, owned=True),
    Op("get", "/threads/{thread}/history", owned=True),
    Op("get", "/threads/{thread}/stream", owned=True),
    # Files attached to a thread: its owner's only, an admin's included (a JSON body holds no file: 422).
    Op("post", "/threads/{thread}/files", {}, USE, 422, owned=True, admin_peer=404),
    Op("get", "/threads/{thread}/files", owned=True, admin_peer=404),
    Op("get", "/threads/{thread}/files/none.txt", owned=True, ok=404, admin_peer=404),
    # crons
    Op("post", "/threads/{thread}/runs/crons", CRON, CONFIGURE, owned=True),
    Op("post", "/runs/crons", CRON, CONFIGURE),
    Op("post", "/runs/crons/search", {}, ids=False),
    Op("post", "/runs/crons/count", {}, ids=False),
    Op("get", "/runs/crons/{cron}", owned=True),
    Op("patch", "/runs/crons/{cron}", {"enabled": False}, CONFIGURE, owned=True),
    Op("delete", "/runs/crons/{cron}", None, CONFIGURE, 204, owned=True),
    # runs
    Op("post", "/threads/{thread}/runs", RUN, USE, owned=True),
    Op("get", "/threads/{thread}/runs", owned=True),
    Op("post", "/threads/{thread}/runs/stream", RUN, USE, owned=True),
    Op("post", "/threads/{thread}/runs/wait", RUN, USE, owned=True),
    Op("get", "/threads/{thread}/runs/{run}", owned=True),
    Op("delete", "/threads/{thread}/runs/{run}", None, MANAGE, 204, owned=True),
    Op("post", "/threads/{thread}/runs/{active_run}/cancel", {}, USE, 202, owned=True),
    Op("get", "/threads/{thread}/runs/{run}/join", owned=True),
    Op("get", "/threads/{thread}/runs/{run}/stream", owned=True),
    Op("post", "/runs/stream", RUN, USE),
    Op("post", "/runs/wait", RUN, USE),
    Op("post", "/runs", RUN, USE),
    Op("post", "/runs/batch", [RUN], USE),
    Op("post", "/runs/cancel", CANCEL, USE, 204, owned=True, ids=False, peer=204),
    Op("get", "/runs/{run}", owned=True),
    Op("get", "/runs/{run}/stream", owned=True),
    # the store: a user's private memory is theirs to write; the org's admins may read it
    # (atrium/runtime/selectors/store.py); another's namespace is absent to who may not read it
    Op("put", "/store/items", STORE_PUT, USE, 204, owned=True, peer=403, admin_peer=403),
    Op("get", "/store/items", None, owned=True, query={"namespace": "{dotted}", "key": "note"}),
    Op("delete", "/store/items", STORE_DELETE, USE, 204, owned=True, admin_peer=403),
    Op("post", "/store/items/search", {"namespace_prefix": "{namespace}"}, owned=True, ids=False, peer=200),
    Op("post", "/store/namespaces", {}, ids=False),
    # memory shared by an assistant's users: builders write it; and shared by the org: admins write it
    Op("put", "/store/items", {**STORE_PUT, "namespace": "{assistant_ns}"}, CONFIGURE, 204),
    Op("get", "/store/items", None, query={"namespace": "{assistant_dotted}", "key": "new"}),
    Op("put", "/store/items", {**STORE_PUT, "namespace": "{org_ns}"}, MANAGE, 204),
    Op("get", "/store/items", None, query={"namespace": "{org_dotted}", "key": "new"}),
    # protocol v2
    Op("post", "/threads/{thread}/commands", COMMAND, USE, owned=True, rpc=True),
    Op("post", "/threads/{thread}/stream/events", {"channels": ["values"]}, owned=True),
    # MCP: its tools are the org's assistants
    Op("post", "/mcp", RPC_LIST, ids=False, rpc=True),
    # MCP's streamable HTTP without server-initiated streams or sessions: 405 behind the door.
    Op("get", "/mcp", ok=405, ids=False),
    Op("delete", "/mcp", needs=USE, ok=405, ids=False),
    Op("get", "/.well-known/agent-card.json", query={"assistant_id": "{assistant}"}),
    # A2A: a task is a run, a context a thread (atrium/runtime/api/a2a.py)
    Op("post", "/a2a/{assistant}", A2A_TASK, owned=True, rpc=True),
    Op("post", "/a2a/{assistant}", A2A_STREAM, USE, owned=True, rpc=True),
]

CALLERS = ("anonymous", "other_org", "operator", "viewer", "end_user", "editor", "admin")
# The SDKs' way in: an API key (checked on a path of its own once the key is cached), as an end
# user and as another org's admin.
BY_KEY = ("end_user", "other_org")
ROLES = {"viewer": Role.VIEWER, "end_user": Role.END_USER, "editor": Role.BUILDER, "admin": Role.ADMIN}


def label(op: Op) -> str:
    return f"{op.method.upper()} {op.path}"


# --- the world each call meets ---------------------------------------------------------------------


@dataclass
class World:
    ids: dict[str, Any]  # what the op's {placeholders} name
    private: set[str]  # the owner's objects: only they and the org's admins may be shown them
    team: str  # an assistant kept to the team


def assistants(admin: Member) -> tuple[Assistant, Assistant]:
    """An assistant open to everyone, and one kept to the team."""
    with scoped(admin.scope()):
        assistant = assistant_create(graph_id="echo", name="World")
        team = assistant_create(graph_id="echo", name="Team only")
        assistant_grants_set(assistant_id=team.id, secrets=[], audience=Audience.TEAM)
    return assistant, team


def make_world(
    admin: Member, owner: Any, shared: tuple[Assistant, Assistant], admin_client: Client | None
) -> World:
    """Objects for one call: a thread of `owner`'s with a finished and a pending run, a cron and a
    private memory; with `admin_client`, the thread gets a checkpoint."""
    org = admin.org
    assistant, team = shared
    thread = Thread.unscoped.create(org=org, owner=owner, graph_id="echo", assistant_id=assistant.id)
    run, active_run = (
        Run.unscoped.create(org=org, thread=thread, assistant_id=assistant.id, user=owner, status=status)
        for status in (RunStatus.SUCCESS, RunStatus.PENDING)
    )
    cron = Cron.unscoped.create(org=org, assistant_id=assistant.id, user=owner, schedule="0 0 1 1 *")
    namespace = ["org", str(org.id), "user", str(owner.id), "memories"]
    note = f"note-{uuid.uuid4()}"
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO store (prefix, key, value) VALUES (%s, 'note', %s)"
            " ON CONFLICT (prefix, key) DO UPDATE SET value = excluded.value",
            # on disk, each namespace is prefixed with its org (atrium/runtime/tenant_store.py)
            [".".join([f"org:{org.id}", *namespace]), json.dumps({"text": note})],
        )
    checkpoint = str(uuid.uuid4())
    if admin_client is not None:
        response = admin_client.post(
            f"/agent/threads/{thread.id}/state",
            data=json.dumps({"values": {"messages": []}}),
            content_type="application/json",
        )
        assert response.status_code == 200, response.content
        checkpoint = response.json()["checkpoint"]["checkpoint_id"]
    ids = {
        "assistant": str(assistant.id),
        "team_assistant": str(team.id),
        "thread": str(thread.id),
        "run": str(run.id),
        "active_run": str(active_run.id),
        "cron": str(cron.id),
        "checkpoint": checkpoint,
        "namespace": namespace,
        "dotted": ".".join(namespace),
        "assistant_ns": ["org", str(org.id), "assistant", str(assistant.id), "memories"],
        "assistant_dotted": f"org.{org.id}.assistant.{assistant.id}.memories",
        "org_ns": ["org", str(org.id), "memories"],
        "org_dotted": f"org.{org.id}.memories",
    }
    private = {str(thread.id), str(run.id), str(active_run.id), str(cron.id), note}
    return World(ids=ids, private=private, team=str(team.id))


# --- what changed ----------------------------------------------------------------------------------


def _rows(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def snapshot(org: Any) -> dict[str, Any]:
    """Every row of `org`'s the Agent API can write, to prove a refused request changed nothing."""
    threads = Thread._meta.db_table
    return {
        "assistants": list(Assistant.unscoped.filter(org=org).order_by("id").values()),
        "versions": list(AssistantVersion.unscoped.filter(org=org).order_by("id").values()),
        "threads": list(Thread.unscoped.filter(org=org).order_by("id").values()),
        "runs": list(Run.unscoped.filter(org=org).order_by("id").values()),
        "crons": list(Cron.unscoped.filter(org=org).order_by("id").values()),
        "webhooks": list(WebhookDelivery.unscoped.filter(org=org).order_by("id").values()),
        "store": _rows(
            "SELECT prefix, key, value::text FROM store WHERE prefix LIKE %s ORDER BY prefix, key",
            [f"org:{org.id}.%"],
        ),
        "checkpoints": _rows(
            "SELECT thread_id, checkpoint_ns, checkpoint_id, metadata::text FROM checkpoints"
            f" WHERE thread_id IN (SELECT id::text FROM {threads} WHERE org_id = %s) ORDER BY 1, 2, 3",
            [org.id],
        ),
    }


# --- the calls -------------------------------------------------------------------------------------


def _fill(value: Any, ids: dict[str, Any]) -> Any:
    if isinstance(value, str):
        match = re.fullmatch(r"\{(\w+)\}", value)
        if match and match.group(1) in ids:
            return ids[match.group(1)]
        return re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), value)
    if isinstance(value, list):
        return [_fill(item, ids) for item in value]
    if isinstance(value, dict):
        return {key: _fill(item, ids) for key, item in value.items()}
    return value


def call_op(client: Client, headers: dict[str, str], op: Op, ids: dict[str, Any]) -> tuple[Any, str]:
    """The response, and the text of the request (the ids it named may come back in an error)."""
    path = "/agent" + _fill(op.path, ids)
    kwargs: dict[str, Any] = dict(headers)
    method = getattr(client, op.method)
    sent = path + json.dumps(_fill(op.body, ids)) + json.dumps(_fill(op.query, ids))
    if op.query:
        return method(path, _fill(op.query, ids), **kwargs), sent
    if op.body is not None:
        kwargs.update(data=json.dumps(_fill(op.body, ids)), content_type="application/json")
    return method(path, **kwargs), sent


def expected(op: Op, caller: str, *, own: bool) -> int | str:
    """docs/security.md's table, operation by operation."""
    if op.needs is PUBLIC:
        return op.ok
    if caller == "anonymous":
        return 401
    if caller == "operator":
        return 404
    if caller == "other_org":
        return refused(op, 404) if op.ids else op.ok
    permissions = ROLE_PERMISSIONS[ROLES[caller]]
    if op.needs not in permissions:
        # a JSON-RPC endpoint's door lets readers in (config/agent_auth.py); protocol v2's does not
        return refused(op, 403) if op.path != "/threads/{thread}/commands" else 403
    if op.team_only and CONFIGURE not in permissions:
        return 404
    if op.owned and not own:
        if MANAGE in permissions:
            return op.ok if op.admin_peer is None else op.admin_peer
        return refused(op, op.peer)
    return op.ok


ERROR = "ERROR"


def refused(op: Op, status: int) -> int | str:
    return ERROR if op.rpc else status


def outcome(op: Op, response: Any) -> int | str:
    if op.rpc and response.status_code == 200 and not response.streaming:
        body = response.json()
        if "error" in body:
            return ERROR
    return int(response.status_code)


@pytest.fixture(autouse=True)
def no_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """No run executes: the broker is the edge faked here; waits and joins answer after a heartbeat."""
    monkeypatch.setattr("atrium.runtime.dispatch.enqueue_run", lambda run_id, delay=0: None)
    monkeypatch.setattr("atrium.runtime.dispatch.announce_run", lambda run_id, thread_id: None)
    monkeypatch.setattr("atrium.runtime.api.runs.HEARTBEAT_MS", 20)
    monkeypatch.setattr("atrium.runtime.api.streaming.HEARTBEAT_MS", 20)


@pytest.fixture
def peer(org: Any) -> Member:
    """Another end user of the org: owns the threads, runs, crons and memories callers must not see."""
    user = user_create(email="peer@acme.test", password=PASSWORD)
    membership_ensure(org=org, user=user, role=Role.END_USER)
    return Member(user=user, org=org, role=Role.END_USER)


def caller_client(
    caller: str, client_for: Callable[[str], Client], key: str | None
) -> tuple[Client, dict[str, str]]:
    if key is not None:
        return Client(), {"HTTP_X_API_KEY": key}
    # The operator names the org (they belong to none); another org's admin calls in their own org.
    return client_for(caller), ({"HTTP_X_ATRIUM_ORG": "acme"} if caller == "operator" else {})


def forbidden(caller: str, world: World, *, own: bool) -> set[str]:
    """What no 2xx answer to `caller` may name."""
    if caller in ("anonymous", "other_org", "operator"):
        return world.private | {world.ids["assistant"], world.team}
    permissions = ROLE_PERMISSIONS[ROLES[caller]]
    hidden = set() if CONFIGURE in permissions else {world.team}
    if not own and MANAGE not in permissions:
        hidden |= world.private
    return hidden


@pytest.mark.parametrize(
    ("caller", "by_key"), [(c, False) for c in CALLERS] + [(c, True) for c in BY_KEY], ids=lambda v: str(v)
)
def test_agent_api_authorisation(caller, by_key, client_for, members, peer, api_key_for, request):
    # given a caller, and for each call a world owned by them (their own objects) or by another end
    # user of the org: a new one, unless the last call on one like it provably left it as it was
    client, headers = caller_client(caller, client_for, api_key_for(members[caller]) if by_key else None)
    user = (
        request.getfixturevalue("operator")
        if caller == "operator"
        else getattr(members.get(caller), "user", None)
    )
    admin, admin_client = members["admin"], client_for("admin")
    shared = assistants(admin)
    got: dict[str, int | str] = {}
    want: dict[str, int | str] = {}
    changed: list[str] = []
    leaks: list[str] = []
    intact: dict[tuple[int, bool, bool], World] = {}
    for op in OPS:
        for own in (True, False) if op.owned else (False,):
            name = label(op) + ("" if not op.owned else " (own)" if own else " (another user's)")
            owner = user if own and user is not None else peer.user
            # what the call may change gets its own assistants; the others share them (and MCP, which
            # lists every assistant, stays quick)
            fresh = op.method != "get" and "{assistant}" in op.path
            kind = (owner.id, op.checkpoint, fresh)
            world = intact.pop(kind, None) or make_world(
                admin, owner, assistants(admin) if fresh else shared, admin_client if op.checkpoint else None
            )
            want[name] = expected(op, caller, own=own)
            # a call on another user's object by anyone but an admin, and any call by another org's
            # admin or the operator, changes nothing of this org whatever the answer; nor does a refusal
            passed_over = (op.owned and not own and caller != "admin") or caller in ("other_org", "operator")
            must_not_change = passed_over or not (isinstance(want[name], int) and int(want[name]) < 300)
            before = snapshot(admin.org) if must_not_change else None

            # when the caller calls the operation
            response, sent = call_op(client, headers, op, world.ids)

            # then its status is the table's, nothing changed that should not have, and no answer names
            # what the caller may not see
            got[name] = outcome(op, response)
            if before is not None:
                if snapshot(admin.org) == before:
                    intact[kind] = world
                else:
                    changed.append(name)
            if response.status_code < 300 and not response.streaming:
                body = response.content.decode()
                if shown := sorted(
                    i for i in forbidden(caller, world, own=own) if i in body and i not in sent
                ):
                    leaks.append(f"{name}: {shown}")
    assert {k: (got[k], want[k]) for k in got if got[k] != want[k]} == {}
    assert changed == []
    assert leaks == []


def test_every_route_is_in_the_matrix():
    routes = {
        (method, path.removeprefix("/agent"))
        for path, operations in api.get_openapi_schema()["paths"].items()
        for method in operations
    }
    covered = {(op.method, op.path) for op in OPS}

    def pattern(template: str) -> re.Pattern[str]:
        return re.compile(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)))

    missing = sorted(
        (method, path)
        for method, path in routes
        if not any(m == method and pattern(path).fullmatch(p) for m, p in covered)
    )
    assert missing == []
