"""Server-sent-event framing shared by the run streams (§2.1) and the thread event streams (§V2.4.2)."""

from __future__ import annotations

from typing import Any

from atrium.runtime.engine.serde import dumps

HEARTBEAT = b": heartbeat\r\n\r\n"
"""A comment line: both SDKs ignore it, and it keeps proxies and the 300 s client read timeout at bay."""


def _field(value: str) -> bytes:
    # A CR or LF inside a field would end it early and let the rest be read as another field.
    return value.replace("\r", "").replace("\n", "").encode()


def format_event(event: str, data: Any, *, event_id: str | int | None = None) -> bytes:
    """``event: <name>\\r\\ndata: <one-line JSON>\\r\\n[id: <id>\\r\\n]\\r\\n``.

    ``data`` may already be encoded JSON (``bytes``, e.g. a row from the event log); it is then written
    as is. Compact JSON never contains a raw newline, so one ``data:`` line always suffices: the JS
    client joins several ``data:`` lines without a separator.
    """
    payload = bytes(data) if isinstance(data, bytes | bytearray | memoryview) else dumps(data)
    frame = b"event: " + _field(event) + b"\r\ndata: " + payload + b"\r\n"
    if event_id is not None:
        frame += b"id: " + _field(str(event_id)) + b"\r\n"
    return frame + b"\r\n"
