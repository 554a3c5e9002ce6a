"""The thread-scoped protocol `@langchain/react`'s useStream speaks (agent-protocol.md "Protocol v2"):
`POST /threads/{tid}/commands` and the `POST /threads/{tid}/stream/events` SSE stream."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from ninja import Router

from atrium.core.errors import AtriumError, NotFoundError, ValidationFailedError
from atrium.core.parsers import json_load
from atrium.runtime.api.common import call, json_response
from atrium.runtime.api.streaming import HEARTBEAT_MS, sse_response
from atrium.runtime.engine import HEARTBEAT, dumps, format_event
from atrium.runtime.selectors.runs import run_refs_for_thread
from atrium.runtime.selectors.threads import thread_get
from atrium.runtime.services import lifecycle
from atrium.runtime.streams import read_thread_v2, thread_current_seq, thread_replay_start, wait_run_end

router = Router(tags=["threads (v2)"])

CHANNELS = {"values", "updates", "messages", "tools", "custom", "lifecycle", "input", "tasks", "checkpoints"}
V2_STREAM_MODES = ["values"]


class CommandError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


_NOT_JSON = object()


def _json_body(request: HttpRequest) -> Any:
    """The body through the APIs' one parser: its other refusals (too deep, too large, NUL) keep
    their own status; malformed JSON is the protocol's `Invalid JSON body` (returned as `_NOT_JSON`)."""
    try:
        return json_load(request.body or b"null")
    except AtriumError as exc:
        if exc.code == "invalid_json":
            return _NOT_JSON
        raise


def _envelope_error(command_id: Any, code: str, message: str, status: int = 200) -> HttpResponse:
    return json_response(
        {"type": "error", "id": command_id, "error": code, "message": message}, status=status
    )


# The protocol's codes (agent-protocol.md V2.3) for the platform's refusals of a command, by the
# platform's own code, then by status. The protocol has no code for a spent budget or a rate limit:
# a spent budget is a refusal of permission until an admin raises it; a rate limit stays
# `unknown_error`, and says when to retry. Either way the envelope (extensible) carries the platform's
# own code as `reason`, so a client can tell them apart without reading the message.
_PROTOCOL_CODES = {"budget_exceeded": "permission_denied", "rate_limited": "unknown_error"}
_PROTOCOL_CODES_BY_STATUS = {
    400: "invalid_argument",
    403: "permission_denied",
    404: "no_such_run",
    409: "invalid_argument",
    413: "invalid_argument",
    415: "invalid_argument",
    422: "invalid_argument",
}


def _refusal(command_id: Any, exc: AtriumError) -> HttpResponse:
    code = _PROTOCOL_CODES.get(exc.code) or _PROTOCOL_CODES_BY_STATUS.get(exc.status_code, "unknown_error")
    body: dict[str, Any] = {
        "type": "error",
        "id": command_id,
        "error": code,
        "message": exc.message,
        "reason": exc.code,
    }
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        body["retry_after"] = retry_after
    return json_response(body)


def _thread_uuid(thread_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(thread_id)
    except ValueError:
        raise CommandError("invalid_argument", "Invalid thread ID: must be a UUID") from None


def _object(params: dict[str, Any], key: str, where: str = "params") -> dict[str, Any]:
    """`params[key]` as a new dict ({} when absent): the Agent API's schema checks these types, the
    commands endpoint here (another type would fail deep inside run creation)."""
    value = params.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationFailedError(f"{where}.{key} must be an object.")
    return dict(value)


def _run_start(thread_id: uuid.UUID, params: dict[str, Any]) -> dict[str, Any]:
    assistant_id = params.get("assistant_id")
    if not isinstance(assistant_id, str) or not assistant_id:
        raise CommandError("invalid_argument", "run.start needs params.assistant_id")
    metadata, context = _object(params, "metadata"), _object(params, "context")
    config = _object(params, "config")
    configurable = _object(config, "configurable", "params.config")
    configurable.pop("thread_id", None)
    checkpoint_id = configurable.pop("checkpoint_id", None)
    checkpoint = None
    if checkpoint_id is not None:
        try:
            uuid.UUID(str(checkpoint_id))
        except ValueError:
            raise CommandError(
                "invalid_argument", "config.configurable.checkpoint_id must be a UUID"
            ) from None
        checkpoint = {
            "checkpoint_id": str(checkpoint_id),
            "checkpoint_ns": configurable.pop("checkpoint_ns", ""),
        }
    config["configurable"] = configurable
    strategy = params.get("multitaskStrategy") or params.get("multitask_strategy") or "enqueue"
    if strategy not in lifecycle.MULTITASK_STRATEGIES:
        raise CommandError(
            "invalid_argument", f"multitaskStrategy must be one of {lifecycle.MULTITASK_STRATEGIES}"
        )
    run_input = params.get("input")
    command = None
    existing = thread_get_or_none(thread_id)
    if run_input is not None and existing is not None and existing.interrupts and checkpoint is None:
        # A submit with input on an interrupted thread answers the interrupt (CDDL §4a).
        command, run_input = {"resume": run_input}, None
    payload = lifecycle.RunCreate(
        assistant_id=assistant_id,
        input=run_input,
        command=command,
        metadata=metadata,
        config=config,
        context=context,
        stream_mode=V2_STREAM_MODES,
        stream_subgraphs=True,
        stream_resumable=True,
        multitask_strategy=strategy,
        if_not_exists="create",
        checkpoint=checkpoint,
        on_completion="keep",
        protocol="v2",
    )
    run = lifecycle.create(thread_id=thread_id, payload=payload)
    return {"run_id": str(run.id)}


def thread_get_or_none(thread_id: uuid.UUID) -> Any:
    try:
        return thread_get(thread_id=thread_id)
    except NotFoundError:
        return None


def _input_respond(thread_id: uuid.UUID, params: dict[str, Any]) -> dict[str, Any]:
    thread = thread_get_or_none(thread_id)
    if thread is None or thread.assistant_id is None:
        raise CommandError("no_such_run", "This thread has no run to respond to.")
    metadata, config = _object(params, "metadata"), _object(params, "config")
    responses = params.get("responses")
    if responses is None:
        responses = [{"interrupt_id": params.get("interrupt_id"), "response": params.get("response")}]
    if not isinstance(responses, list) or not all(isinstance(item, dict) for item in responses):
        raise ValidationFailedError("params.responses must be a list of objects.")
    pending = {i.get("id") for items in (thread.interrupts or {}).values() for i in items}
    resume: dict[str, Any] = {}
    for item in responses:
        interrupt_id = item.get("interrupt_id")
        if interrupt_id not in pending:
            raise CommandError("no_such_interrupt", f"No pending interrupt with id {interrupt_id!r}.")
        resume[interrupt_id] = item.get("response")
    command: dict[str, Any] = {"resume": resume}
    for key in ("update", "goto"):
        if params.get(key) is not None:
            command[key] = params[key]
    payload = lifecycle.RunCreate(
        assistant_id=str(thread.assistant_id),
        command=command,
        metadata=metadata,
        config=config,
        stream_mode=V2_STREAM_MODES,
        stream_subgraphs=True,
        stream_resumable=True,
        on_completion="keep",
        protocol="v2",
    )
    lifecycle.create(thread_id=thread_id, payload=payload)
    return {}


# How long `input.respond` waits for the interrupted run to end. A client sees `input.requested` on the
# stream before the run that raised it has ended and recorded the interrupt on the thread; an answer in
# that window waits for the run instead of being refused (the clients wait 5 s for the same settling).
INTERRUPT_SETTLE_MS = 5_000


async def _input_respond_settled(thread_id: uuid.UUID, params: dict[str, Any]) -> dict[str, Any]:
    try:
        return await call(_input_respond)(thread_id, params)
    except CommandError as exc:
        if exc.code != "no_such_interrupt":
            raise
        active = await call(run_refs_for_thread)(thread_id=thread_id, active_only=True)
        if not active:
            raise
        await wait_run_end(active[0][0], block_ms=INTERRUPT_SETTLE_MS)
        return await call(_input_respond)(thread_id, params)


COMMANDS = {"run.start": call(_run_start), "input.respond": _input_respond_settled}


@router.post("/threads/{thread_id}/commands")
async def commands(request: HttpRequest, thread_id: str) -> HttpResponseBase:
    body = _json_body(request)
    if body is _NOT_JSON:
        return json_response({"detail": "Invalid JSON body"}, status=400)
    if (
        not isinstance(body, dict)
        or not isinstance(body.get("id"), int)
        or not isinstance(body.get("method"), str)
    ):
        return _envelope_error(
            body.get("id") if isinstance(body, dict) else None,
            "invalid_argument",
            "A command needs an integer id and a string method.",
            status=400,
        )
    command_id, method = body["id"], body["method"]
    handler = COMMANDS.get(method)
    if handler is None:
        return _envelope_error(command_id, "unknown_command", f"Unknown command {method!r}.")
    params = body.get("params") or {}
    if not isinstance(params, dict):
        return _envelope_error(command_id, "invalid_argument", "params must be an object.")
    try:
        tid = _thread_uuid(thread_id)
        applied = await thread_current_seq(str(tid))
        result = await handler(tid, params)
    except CommandError as exc:
        return _envelope_error(command_id, exc.code, exc.message)
    except AtriumError as exc:
        return _refusal(command_id, exc)
    return json_response(
        {"type": "success", "id": command_id, "result": result, "meta": {"applied_through_seq": applied}}
    )


def _parse_filter(body: dict[str, Any]) -> tuple[set[str], list[list[str]] | None, int | None, int | None]:
    channels = body.get("channels")
    if not isinstance(channels, list) or not channels:
        raise AtriumError("channels must be a non-empty list")
    for channel in channels:
        if not isinstance(channel, str) or (channel not in CHANNELS and not channel.startswith("custom:")):
            raise AtriumError(f"Unknown channel {channel!r}")
    namespaces = body.get("namespaces")
    if namespaces is not None and (
        not isinstance(namespaces, list) or not all(isinstance(n, list) for n in namespaces)
    ):
        raise AtriumError("namespaces must be a list of lists")
    depth = body.get("depth")
    since = body.get("since")
    # bool is an int to Python, not to the protocol; a negative `since` is no event sequence number.
    if depth is not None and (not isinstance(depth, int) or isinstance(depth, bool) or depth < 0):
        raise AtriumError("depth must be a non-negative integer")
    if since is not None and (not isinstance(since, int) or isinstance(since, bool) or since < 0):
        raise AtriumError("since must be a non-negative integer")
    return set(channels), namespaces, depth, since


def _segment_matches(prefix: str, segment: str) -> bool:
    return segment == prefix if ":" in prefix else segment == prefix or segment.startswith(prefix + ":")


def _namespace_matches(namespace: list[str], prefixes: list[list[str]] | None, depth: int | None) -> bool:
    if prefixes is None:
        return True
    for prefix in prefixes:
        if len(namespace) < len(prefix):
            continue
        matches = all(_segment_matches(p, s) for p, s in zip(prefix, namespace, strict=False))
        if matches and (depth is None or len(namespace) - len(prefix) <= depth):
            return True
    return False


def _channel_matches(channels: set[str], method: str, data: Any) -> bool:
    if method == "input.requested":
        return "input" in channels
    if method == "custom":
        name = data.get("name") if isinstance(data, dict) else None
        return "custom" in channels or (name is not None and f"custom:{name}" in channels)
    return method in channels


async def _thread_events(
    thread_id: str, *, channels: set[str], namespaces: list[list[str]] | None, depth: int | None, after: int
) -> AsyncIterator[bytes]:
    async for item in read_thread_v2(thread_id, after_seq=after, block_ms=HEARTBEAT_MS):
        if item is None:
            yield HEARTBEAT
            continue
        seq, raw = item
        envelope = json.loads(raw)
        params = envelope.get("params") or {}
        if not _channel_matches(channels, envelope.get("method", ""), params.get("data")):
            continue
        if not _namespace_matches(params.get("namespace") or [], namespaces, depth):
            continue
        envelope["seq"] = seq
        envelope["event_id"] = str(seq)
        yield format_event(envelope["method"], dumps(envelope), event_id=seq)


@router.post("/threads/{thread_id}/stream/events")
async def stream_events(request: HttpRequest, thread_id: str) -> HttpResponseBase:
    body = _json_body(request)
    if body is _NOT_JSON:
        return json_response({"detail": "Invalid JSON body"}, status=400)
    if not isinstance(body, dict):
        return json_response({"detail": "The body must be a JSON object"}, status=400)
    channels, namespaces, depth, since = _parse_filter(body)
    try:
        tid = uuid.UUID(thread_id)
    except ValueError:
        raise NotFoundError(f"Thread with ID {thread_id} not found") from None
    await call(thread_get)(thread_id=tid)
    after = since if since is not None else await thread_replay_start(str(tid))
    events = _thread_events(str(tid), channels=channels, namespaces=namespaces, depth=depth, after=after)
    return sse_response(events, request=request, headers={})
