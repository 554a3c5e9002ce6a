"""One JSON encoder for stream events, state bodies and the event log."""

from __future__ import annotations

import dataclasses
import datetime
import uuid
from decimal import Decimal
from typing import Any

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage
from langgraph.types import Command, Interrupt, Send
from pydantic import BaseModel

from atrium.runtime.engine import serde


class Point(BaseModel):
    x: int


@dataclasses.dataclass
class Pair:
    a: int
    b: str


def test_messages_encode_as_their_model_dump() -> None:
    message = AIMessage(content="hi", id="a1", tool_calls=[{"name": "f", "args": {"q": 1}, "id": "c1"}])

    assert serde.to_jsonable(message) == {
        "content": "hi",
        "additional_kwargs": {},
        "response_metadata": {},
        "type": "ai",
        "name": None,
        "id": "a1",
        "tool_calls": [{"name": "f", "args": {"q": 1}, "id": "c1", "type": "tool_call"}],
        "invalid_tool_calls": [],
        "usage_metadata": None,
    }
    assert serde.to_jsonable(AIMessageChunk(content="h", id="a1"))["type"] == "AIMessageChunk"
    assert serde.to_jsonable(HumanMessage(content="q"))["type"] == "human"


def test_interrupt_send_and_command() -> None:
    assert serde.to_jsonable(Interrupt(value={"q": 1}, id="i1")) == {
        "value": {"q": 1},
        "id": "i1",
        "response_schema": None,
    }
    assert serde.to_jsonable(Send("node", {"x": 1})) == {"node": "node", "args": {"x": 1}}
    assert serde.to_jsonable(Command(resume="yes", goto=[Send("n", 1)])) == {
        "graph": None,
        "update": None,
        "resume": "yes",
        "goto": [{"node": "n", "args": 1}],
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Point(x=1), {"x": 1}),
        (Pair(1, "b"), {"a": 1, "b": "b"}),
        (uuid.UUID("12345678-1234-5678-1234-567812345678"), "12345678-1234-5678-1234-567812345678"),
        (datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC), "2026-01-02T03:04:05+00:00"),
        ({1, 2}, [1, 2]),
        (frozenset({"a"}), ["a"]),
        (b"\x00\x01", "AAE="),
        (Decimal("3"), 3),
        (Decimal("1.5"), 1.5),
        (datetime.timedelta(seconds=90), 90.0),
        ({1: "int key"}, {"1": "int key"}),
    ],
)
def test_common_python_values(value: Any, expected: Any) -> None:
    assert serde.to_jsonable(value) == expected


def test_output_is_compact_and_single_line() -> None:
    assert serde.dumps({"a": [1, 2], "b": "x\ny"}) == b'{"a":[1,2],"b":"x\\ny"}'


def test_nul_characters_are_replaced_for_postgres_jsonb() -> None:
    assert serde.dumps("a\x00b") == b'"a\\ufffdb"'


def test_lone_surrogates_do_not_fail() -> None:
    assert serde.dumps("\ud83d") == b'"\\ud83d"'


def test_error_payload_hides_messages_of_internal_errors() -> None:
    assert serde.error_payload(ValueError("kaboom")) == {"error": "ValueError", "message": "kaboom"}
    assert serde.error_payload(ConnectionError("db at 10.0.0.5 refused")) == {
        "error": "ConnectionError",
        "message": "An internal error occurred",
    }
    assert serde.to_jsonable(ValueError("x")) == {"error": "ValueError", "message": "x"}


def test_unknown_objects_raise_type_error() -> None:
    with pytest.raises(TypeError):
        serde.dumps(object())


def test_stdlib_fallback_matches_orjson(monkeypatch: pytest.MonkeyPatch) -> None:
    payload = {"m": AIMessage(content="hi", id="a"), "s": {1}, 2: Interrupt(value=1, id="i")}
    fast = serde.dumps(payload)

    monkeypatch.setattr(serde, "_dumps", serde._dumps_stdlib)

    assert serde.dumps(payload) == fast


def _nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = {"n": value}
    return value


def _depth(value: Any) -> int:
    level = 0
    while isinstance(value, dict):
        value, level = value["n"], level + 1
    return level


def test_values_deeper_than_orjson_writes_are_encoded_whole() -> None:
    # Stored before the door's depth limit: orjson stops at 254 levels, the stdlib encoder does not.
    encoded = serde.dumps({"deep": _nested(400), "after": 1})

    assert _depth(serde.json.loads(encoded)["deep"]) == 400
    assert serde.json.loads(encoded)["after"] == 1


def test_values_deeper_than_python_recursion_are_served_clipped() -> None:
    decoded = serde.json.loads(serde.dumps({"deep": _nested(5000), "after": 1}))

    assert _depth(decoded["deep"]) == serde.CLIP_DEPTH - 1
    assert list(decoded) == ["deep", "after"]
    value = decoded["deep"]
    while isinstance(value, dict):
        value = value["n"]
    assert value == serde.CLIPPED
