"""A2A (protocol 0.3, JSON-RPC binding): each assistant as an agent, like the Agent Server's.

* `GET /agent/.well-known/agent-card.json?assistant_id=<id or graph>`: the assistant's agent card;
* `POST /agent/a2a/<assistant_id>`: `message/send`, `message/stream` (SSE) and `tasks/get`.

The mapping: an A2A *context* is a thread (`contextId` = thread id; a message without one starts a
new thread), a *task* is a run (`id` = run id). A message's text parts become one user message in the
graph's `messages`; the task's artifact is the last message of the final state (and the whole state
as a data part). Runs go through the same `run_create` as every other run, so authentication,
tenancy, permissions (use_agents to send, read to read a task) and auth handlers are the Agent Server API's.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from ninja import Router

from atrium.assistants.models import Assistant
from atrium.assistants.services import assistant_resolve
from atrium.core.errors import AtriumError, ValidationFailedError
from atrium.core.tenancy import current_scope, scoped
from atrium.runtime.api import jsonrpc
from atrium.runtime.api.common import call, json_response
from atrium.runtime.api.invoke import (
    RunOutcome,
    last_message_text,
    run_finish_wait,
    run_outcome_stream,
    run_start,
)
from atrium.runtime.engine import dumps
from atrium.runtime.info import server_info
from atrium.runtime.models import Run, RunStatus
from atrium.runtime.selectors.runs import run_get_any

router = Router(tags=["a2a"])

PROTOCOL_VERSION = "0.3.0"
TASK_NOT_FOUND = -32001
_STATES = {
    RunStatus.PENDING: "submitted",
    RunStatus.RUNNING: "working",
    RunStatus.SUCCESS: "completed",
    RunStatus.ERROR: "failed",
    RunStatus.TIMEOUT: "failed",
    RunStatus.INTERRUPTED: "canceled",
}


def _now() -> str:
    return datetime.now(UTC).isoformat()


@router.get("/.well-known/agent-card.json")
async def agent_card(request: HttpRequest, assistant_id: str | None = None) -> HttpResponse:
    if not assistant_id:
        raise ValidationFailedError("Name the assistant: ?assistant_id=<assistant id or graph id>.")
    assistant = await call(assistant_resolve)(assistant_id=assistant_id)
    root = request.build_absolute_uri(request.path.removesuffix("/.well-known/agent-card.json"))
    description = assistant.description or f"Runs the {assistant.graph_id} graph."
    return json_response(
        {
            "protocolVersion": PROTOCOL_VERSION,
            "name": assistant.name,
            "description": description,
            "url": f"{root}/a2a/{assistant.id}",
            "preferredTransport": "JSONRPC",
            "version": server_info()["version"],
            "capabilities": {"streaming": True, "pushNotifications": False, "stateTransitionHistory": False},
            "defaultInputModes": ["text/plain"],
            "defaultOutputModes": ["text/plain", "application/json"],
            "skills": [
                {
                    "id": assistant.graph_id,
                    "name": assistant.name,
                    "description": description,
                    "tags": [assistant.graph_id],
                }
            ],
            "securitySchemes": {"apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"}},
            "security": [{"apiKey": []}],
        }
    )


# ----- tasks ----------------------------------------------------------------------------------------


def _status(state: str, text: str | None = None, *, context_id: str, task_id: str) -> dict[str, Any]:
    status: dict[str, Any] = {"state": state, "timestamp": _now()}
    if text is not None:
        status["message"] = _agent_message(text, context_id=context_id, task_id=task_id)
    return status


def _agent_message(text: str, *, context_id: str, task_id: str) -> dict[str, Any]:
    return {
        "kind": "message",
        "role": "agent",
        "messageId": uuid.uuid4().hex,
        "parts": [{"kind": "text", "text": text}],
        "contextId": context_id,
        "taskId": task_id,
    }


def _artifact(values: Any) -> dict[str, Any]:
    text = last_message_text(values)
    parts: list[dict[str, Any]] = [
        {"kind": "text", "text": text if text is not None else dumps(values).decode()}
    ]
    if isinstance(values, dict):
        parts.append({"kind": "data", "data": values})
    return {"artifactId": uuid.uuid4().hex, "name": "result", "parts": parts}


def _final_state(status: str, values: Any) -> str:
    if isinstance(values, dict) and values.get("__interrupt__"):
        return "input-required"
    return _STATES.get(RunStatus(status), "failed") if status in RunStatus.values else "failed"


def _task(
    run: Run, *, status: str, values: Any, history: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    context_id, task_id = str(run.thread_id), str(run.id)
    state = (
        _final_state(status, values)
        if status not in (RunStatus.PENDING, RunStatus.RUNNING)
        else _STATES[RunStatus(status)]
    )
    task: dict[str, Any] = {"kind": "task", "id": task_id, "contextId": context_id}
    if state == "failed":
        outcome = RunOutcome(run=run, status=status, values=values)
        task["status"] = _status(state, outcome.error, context_id=context_id, task_id=task_id)
    else:
        task["status"] = _status(state, context_id=context_id, task_id=task_id)
    if state in ("completed", "input-required"):
        task["artifacts"] = [_artifact(values)]
    if history is not None:
        task["history"] = history
    return task


# ----- messages -------------------------------------------------------------------------------------


def _message_in(params: dict[str, Any]) -> tuple[dict[str, Any], uuid.UUID, dict[str, Any]]:
    """The message, its context (thread) id and the graph input it stands for."""
    message = params.get("message")
    if not isinstance(message, dict) or not isinstance(message.get("parts"), list):
        raise jsonrpc.RpcError(jsonrpc.INVALID_PARAMS, "params.message with `parts` is required.")
    texts = [
        str(part.get("text", ""))
        for part in message["parts"]
        if isinstance(part, dict) and part.get("kind", "text") == "text"
    ]
    if not texts:
        raise jsonrpc.RpcError(jsonrpc.INVALID_PARAMS, "The message needs at least one text part.")
    context = message.get("contextId")
    try:
        thread_id = uuid.UUID(str(context)) if context else uuid.uuid4()
    except ValueError:
        raise jsonrpc.RpcError(jsonrpc.INVALID_PARAMS, "contextId must be a UUID (a thread id).") from None
    return message, thread_id, {"messages": [{"role": "user", "content": "\n".join(texts)}]}


async def _send(assistant_id: str, params: dict[str, Any]) -> tuple[Run, dict[str, Any]]:
    message, thread_id, graph_input = _message_in(params)
    given = params.get("metadata")
    metadata: dict[str, Any] = given if isinstance(given, dict) else {}
    run = await run_start(
        assistant_id=assistant_id, input=graph_input, thread_id=thread_id, metadata={**metadata, "via": "a2a"}
    )
    return run, {**message, "contextId": str(run.thread_id), "taskId": str(run.id)}


async def _tasks_get(assistant_id: str, params: dict[str, Any]) -> dict[str, Any]:
    try:
        run_id = uuid.UUID(str(params.get("id")))
    except ValueError:
        raise jsonrpc.RpcError(TASK_NOT_FOUND, "Task not found.") from None
    assistant: Assistant = await call(assistant_resolve)(assistant_id=assistant_id)
    run = await call(run_get_any)(run_id=run_id)
    if run is None or run.assistant_id != assistant.id:
        raise jsonrpc.RpcError(TASK_NOT_FOUND, "Task not found.")
    return _task(run, status=run.status, values=run.result)


def _sse(payload: dict[str, Any]) -> bytes:
    return b"data: " + dumps(payload) + b"\n\n"


async def _stream(request_id: Any, run: Run, message: dict[str, Any]) -> AsyncIterator[bytes]:
    context_id, task_id = str(run.thread_id), str(run.id)
    yield _sse(
        jsonrpc.result_body(request_id, _task(run, status=RunStatus.PENDING, values=None, history=[message]))
    )
    working = {"kind": "status-update", "taskId": task_id, "contextId": context_id, "final": False}
    yield _sse(
        jsonrpc.result_body(
            request_id, {**working, "status": _status("working", context_id=context_id, task_id=task_id)}
        )
    )
    async for outcome in run_outcome_stream(run):
        if outcome is None:
            yield b": heartbeat\n\n"
            continue
        task = _task(run, status=outcome.status, values=outcome.values)
        for artifact in task.get("artifacts", []):
            update = {"kind": "artifact-update", "taskId": task_id, "contextId": context_id}
            yield _sse(jsonrpc.result_body(request_id, {**update, "artifact": artifact, "lastChunk": True}))
        final = {"kind": "status-update", "taskId": task_id, "contextId": context_id, "final": True}
        yield _sse(jsonrpc.result_body(request_id, {**final, "status": task["status"]}))


def _scoped_stream(body: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The body is produced after the view returned and the request's scope was cleared."""
    scope = current_scope()

    async def produce() -> AsyncIterator[bytes]:
        with scoped(scope):
            async for chunk in body:
                yield chunk

    return produce()


@router.post("/a2a/{assistant_id}")
async def a2a_post(request: HttpRequest, assistant_id: str) -> HttpResponseBase:
    try:
        message = jsonrpc.parse(request)
    except jsonrpc.RpcError as exc:
        return jsonrpc.error_response(None, exc)
    try:
        if message.method == "message/send":
            run, sent = await _send(assistant_id, message.params)
            outcome = await run_finish_wait(run)
            result = _task(run, status=outcome.status, values=outcome.values, history=[sent])
        elif message.method == "message/stream":
            run, sent = await _send(assistant_id, message.params)
            response = StreamingHttpResponse(
                _scoped_stream(_stream(message.id, run, sent)), content_type="text/event-stream"
            )
            response["Cache-Control"] = "no-cache"
            return response
        elif message.method == "tasks/get":
            result = await _tasks_get(assistant_id, message.params)
        else:
            raise jsonrpc.RpcError(jsonrpc.METHOD_NOT_FOUND, f"Method not found: {message.method}")
    except jsonrpc.RpcError as exc:
        return jsonrpc.error_response(message.id, exc)
    except AtriumError as exc:
        return jsonrpc.error_response(message.id, jsonrpc.error_from(exc))
    return json_response(jsonrpc.result_body(message.id, result))
