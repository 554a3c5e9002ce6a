"""SSE framing (§2.1)."""

from __future__ import annotations

from atrium.runtime.engine.sse import HEARTBEAT, format_event


def test_event_is_one_data_line_with_crlf() -> None:
    assert format_event("values", {"a": 1}) == b'event: values\r\ndata: {"a":1}\r\n\r\n'


def test_id_line_when_resumable() -> None:
    assert (
        format_event("updates|tools:1", [1], event_id=7)
        == b"event: updates|tools:1\r\ndata: [1]\r\nid: 7\r\n\r\n"
    )


def test_pre_encoded_data_is_written_as_is() -> None:
    assert format_event("metadata", b'{"run_id":"r"}') == b'event: metadata\r\ndata: {"run_id":"r"}\r\n\r\n'


def test_line_breaks_in_names_cannot_forge_fields() -> None:
    assert format_event("values\r\nid: 9", None) == b"event: valuesid: 9\r\ndata: null\r\n\r\n"


def test_heartbeat_is_a_comment() -> None:
    assert HEARTBEAT == b": heartbeat\r\n\r\n"
