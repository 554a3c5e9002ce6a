"""A2A at `/agent/a2a/{assistant_id}`: the `a2a-sdk` client resolves an assistant's agent card and
completes runs with `message/send`, `message/stream` and `tasks/get`; contexts are threads."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from a2a.client import A2ACardResolver, ClientConfig, ClientFactory
from a2a.types import GetTaskRequest, Message, Part, Role, SendMessageRequest, StreamResponse, TaskState

from atrium.runtime.tests.conformance.conftest import LiveStack


@pytest.fixture
async def assistant_id(stack: LiveStack) -> str:
    created = await stack.client("admin").assistants.create(
        graph_id="echo", name=f"echo-{uuid.uuid4().hex[:8]}", description="Says it back."
    )
    return str(created["assistant_id"])


def card_path(assistant_id: str) -> str:
    return f"/.well-known/agent-card.json?assistant_id={assistant_id}"


def message(text: str, context_id: str | None = None) -> SendMessageRequest:
    msg = Message(role=Role.ROLE_USER, message_id=uuid.uuid4().hex, parts=[Part(text=text)])
    if context_id:
        msg.context_id = context_id
    return SendMessageRequest(message=msg)


async def send(client: Any, request: SendMessageRequest) -> list[StreamResponse]:
    return [event async for event in client.send_message(request)]


async def test_the_a2a_client_completes_runs_on_one_context(stack: LiveStack, assistant_id: str) -> None:
    async with httpx.AsyncClient(headers=stack.headers("editor"), timeout=60) as http:
        card = await A2ACardResolver(
            http, stack.url, agent_card_path=card_path(assistant_id)
        ).get_agent_card()
        assert card.description == "Says it back."
        assert card.capabilities.streaming is True
        client = ClientFactory(ClientConfig(httpx_client=http, streaming=False)).create(card)

        # message/send: one run, answered with a completed task whose artifact is the reply
        [first] = await send(client, message("hello over a2a"))
        task = first.task
        assert task.status.state == TaskState.TASK_STATE_COMPLETED
        assert task.artifacts[0].parts[0].text == "hello over a2a"

        # tasks/get reads the same run back
        fetched = await client.get_task(GetTaskRequest(id=task.id))
        assert (fetched.id, fetched.status.state) == (task.id, TaskState.TASK_STATE_COMPLETED)

        # message/stream on the same context: the thread goes on (a second turn of the same state)
        streaming = ClientFactory(ClientConfig(httpx_client=http, streaming=True)).create(card)
        events = await send(streaming, message("and again", context_id=task.context_id))
        kinds = [event.WhichOneof("payload") for event in events]
        assert (kinds[0], kinds[-1]) == ("task", "status_update")
        assert events[-1].status_update.status.state == TaskState.TASK_STATE_COMPLETED
        [artifact] = [
            e.artifact_update.artifact for e in events if e.WhichOneof("payload") == "artifact_update"
        ]
        assert artifact.parts[0].text == "and again"
        second_task_id = events[0].task.id
        assert events[0].task.context_id == task.context_id
        assert second_task_id != task.id

    state = await stack.client("editor").threads.get_state(task.context_id)
    assert state["values"]["turns"] == 2
    assert [m["content"] for m in state["values"]["messages"]] == [
        "hello over a2a",
        "hello over a2a",
        "and again",
        "and again",
    ]


async def rpc(
    stack: LiveStack, who: str, assistant_id: str, method: str, params: dict[str, Any]
) -> httpx.Response:
    async with httpx.AsyncClient(base_url=stack.url, headers=stack.headers(who), timeout=60) as http:
        return await http.post(
            f"/a2a/{assistant_id}", json={"jsonrpc": "2.0", "id": "1", "method": method, "params": params}
        )


def text_message(text: str) -> dict[str, Any]:
    return {
        "message": {
            "kind": "message",
            "role": "user",
            "messageId": uuid.uuid4().hex,
            "parts": [{"kind": "text", "text": text}],
        }
    }


@pytest.mark.parametrize(
    ("who", "card_status", "send_outcome"),
    [
        ("anonymous", 401, None),
        ("other", 404, "not_found"),
        ("viewer", 200, "forbidden"),
        ("editor", 200, "completed"),
        ("admin", 200, "completed"),
    ],
)
async def test_authorisation_matrix(
    stack: LiveStack, assistant_id: str, who: str, card_status: int, send_outcome: str | None
) -> None:
    async with httpx.AsyncClient(base_url=stack.url, headers=stack.headers(who), timeout=60) as http:
        card = await http.get(card_path(assistant_id))
    assert card.status_code == card_status
    if send_outcome is None:
        return
    sent = (await rpc(stack, who, assistant_id, "message/send", text_message("hi"))).json()
    if send_outcome == "completed":
        assert sent["result"]["status"]["state"] == "completed"
    elif send_outcome == "forbidden":
        assert sent["error"]["data"] == {"status": 403}
    else:
        assert sent["error"]["data"] == {"status": 404}


async def test_tasks_of_other_orgs_and_bad_requests(stack: LiveStack, assistant_id: str) -> None:
    sent = (await rpc(stack, "editor", assistant_id, "message/send", text_message("mine"))).json()
    task_id = sent["result"]["id"]
    # A task goes with its thread: the org's admin reads it, another member does not see it (threads
    # belong to who made them), and another org does not even see the assistant
    admin = (await rpc(stack, "admin", assistant_id, "tasks/get", {"id": task_id})).json()
    assert (admin["result"]["id"], admin["result"]["status"]["state"]) == (task_id, "completed")
    viewer = (await rpc(stack, "viewer", assistant_id, "tasks/get", {"id": task_id})).json()
    assert viewer["error"] == {"code": -32001, "message": "Task not found."}
    other = (await rpc(stack, "other", assistant_id, "tasks/get", {"id": task_id})).json()
    assert other["error"]["data"] == {"status": 404}
    unknown = (await rpc(stack, "editor", assistant_id, "tasks/get", {"id": str(uuid.uuid4())})).json()
    assert unknown["error"] == {"code": -32001, "message": "Task not found."}
    no_text = (await rpc(stack, "editor", assistant_id, "message/send", {"message": {"parts": []}})).json()
    assert no_text["error"]["code"] == -32602
    bad_context = text_message("x")
    bad_context["message"]["contextId"] = "not-a-uuid"
    assert (await rpc(stack, "editor", assistant_id, "message/send", bad_context)).json()["error"][
        "code"
    ] == -32602
    method = (await rpc(stack, "editor", assistant_id, "tasks/cancel", {"id": task_id})).json()
    assert method["error"]["code"] == -32601
