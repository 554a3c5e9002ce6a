"""JSON encoding for everything a stream event, a state response or an event log row may hold.

``dumps`` is the only encoder the runtime uses, so a message looks the same on the SSE wire, in the
event log and in a ``/state`` body. The shapes follow the Agent Server: LangChain messages are their
pydantic dump (``{"content", "additional_kwargs", "response_metadata", "type", "name", "id", ...}``),
dataclasses (``Interrupt`` → ``{"value", "id", "response_schema"}``, ``Command``) are their fields,
``Send`` is ``{"node", "args"}``.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import decimal
import enum
import json
import pathlib
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from langgraph.errors import EmptyInputError, GraphBubbleUp, InvalidUpdateError, TaskNotFound
from langgraph.types import Send

try:
    import orjson
except ImportError:  # pragma: no cover - orjson is a declared dependency; the fallback keeps tools working
    orjson = None  # type: ignore[assignment]

# Exceptions whose message is safe to show to API clients. Anything else (a database driver error, an
# HTTP client error quoting a URL with a token) is reported by class name only, as the Agent Server does.
_PUBLIC_ERRORS: tuple[type[BaseException], ...] = (
    ValueError,
    TypeError,
    KeyError,
    AttributeError,
    RuntimeError,
    RecursionError,
    TimeoutError,
    InvalidUpdateError,
    GraphBubbleUp,
    EmptyInputError,
    TaskNotFound,
)
HIDDEN_ERROR_MESSAGE = "An internal error occurred"


def error_payload(exc: BaseException) -> dict[str, str]:
    """``{"error": <class name>, "message": <text>}``: the body of an ``error`` event and ``__error__``."""
    message = str(exc) if isinstance(exc, _PUBLIC_ERRORS) else HIDDEN_ERROR_MESSAGE
    return {"error": type(exc).__name__, "message": message}


def _default(obj: Any) -> Any:
    """Encode what orjson (or ``json``) cannot; raise ``TypeError`` for the truly unknown."""
    if isinstance(obj, Send):
        return {"node": obj.node, "args": obj.arg}
    if isinstance(obj, BaseException):
        return error_payload(obj)
    if isinstance(obj, type) and hasattr(obj, "model_json_schema"):
        # an ``Interrupt.response_schema`` given as a pydantic class
        return obj.model_json_schema()
    if hasattr(obj, "model_dump") and not isinstance(obj, type):
        return obj.model_dump()
    if hasattr(obj, "dict") and callable(obj.dict) and not isinstance(obj, type):
        # pydantic v1 models (still used by a few LangChain integrations)
        return obj.dict()
    if hasattr(obj, "_asdict") and not isinstance(obj, type):
        return obj._asdict()
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {field.name: getattr(obj, field.name) for field in dataclasses.fields(obj)}
    if isinstance(obj, set | frozenset | deque | tuple):
        return list(obj)
    if isinstance(obj, datetime.datetime | datetime.date | datetime.time):
        return obj.isoformat()
    if isinstance(obj, datetime.timedelta):
        return obj.total_seconds()
    if isinstance(obj, decimal.Decimal):
        return int(obj) if obj.is_finite() and obj == obj.to_integral_value() else float(obj)
    if isinstance(obj, uuid.UUID | pathlib.PurePath):
        return str(obj)
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(obj)).decode()
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def _stringify_keys(obj: Any) -> Any:
    """Make mappings JSON-object-shaped for the stdlib fallback (orjson does it natively)."""
    if isinstance(obj, Mapping):
        return {(k if isinstance(k, str) else str(k)): _stringify_keys(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_stringify_keys(v) for v in obj]
    return obj


def _fallback_default(obj: Any) -> Any:
    return _stringify_keys(_default(obj))


def _dumps_stdlib(obj: Any) -> bytes:
    return json.dumps(
        _stringify_keys(obj), default=_fallback_default, separators=(",", ":"), ensure_ascii=False
    ).encode()


def _dumps_stdlib_ascii(obj: Any) -> bytes:
    return json.dumps(_stringify_keys(obj), default=_fallback_default, separators=(",", ":")).encode()


# Messages of orjson's errors for values the stdlib encoder can still write.
_STDLIB_CAN = ("surrogates not allowed", "64-bit", "Recursion limit reached")
CLIP_DEPTH = 200
CLIPPED = "[nested too deeply]"


def clip_depth(obj: Any, depth: int) -> Any:
    """`obj` with every container deeper than `depth` levels replaced by a marker string (iterative:
    the value is too deep for recursion)."""
    root: list[Any] = [None]
    stack: list[tuple[Any, Any, Any, int]] = [(obj, root, 0, 1)]
    while stack:
        value, parent, key, level = stack.pop()
        if isinstance(value, Mapping | list | tuple):
            if level > depth:
                parent[key] = CLIPPED
                continue
            if isinstance(value, Mapping):
                copy: Any = dict.fromkeys(value)  # keeps the keys' order
                items: Any = value.items()
            else:
                copy = [None] * len(value)
                items = enumerate(value)
            parent[key] = copy
            stack.extend((child, copy, k, level + 1) for k, child in items)
        else:
            parent[key] = value
    return root[0]


def _dumps_orjson(obj: Any) -> bytes:
    return orjson.dumps(obj, default=_default, option=orjson.OPT_NON_STR_KEYS)


_dumps: Callable[[Any], bytes] = _dumps_orjson if orjson is not None else _dumps_stdlib


def dumps(obj: Any) -> bytes:
    """Compact UTF-8 JSON (no spaces, one line) for any value a graph run can produce.

    NUL characters are replaced by U+FFFD because Postgres ``jsonb`` rejects ``\\u0000``.
    """
    try:
        encoded = _dumps(obj)
    except TypeError as exc:
        if not any(reason in str(exc) for reason in _STDLIB_CAN):
            raise
        # Lone surrogates (e.g. half an emoji cut by a tokenizer) are invalid UTF-8, integers past 64
        # bits and nesting past 254 levels (stored JSON may hold them) are beyond orjson; the stdlib
        # encoder does all three, the last up to Python's recursion limit.
        try:
            encoded = _dumps_stdlib_ascii(obj)
        except RecursionError:
            # Deeper still (a row written before the door's depth limit): serve it clipped rather than
            # fail every read of the list it is in.
            encoded = _dumps_stdlib_ascii(clip_depth(obj, CLIP_DEPTH))
    if b"\\u0000" in encoded:
        encoded = encoded.replace(b"\\u0000", b"\\ufffd")
    return encoded


def to_jsonable(obj: Any) -> Any:
    """The plain JSON value (dicts, lists, str, numbers) ``dumps`` would write."""
    return json.loads(dumps(obj))
