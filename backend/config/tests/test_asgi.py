"""The ASGI entry point's /agent handler, driven as a server would: whole JSON answers carry their
length (so they are not sent as chunks), body-less ones none, and streams stay streams."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from atrium.runtime.tests.agent_api import agent_loop
from config.asgi import application


def _request(
    loop: asyncio.AbstractEventLoop, method: str, path: str, headers: list[tuple[bytes, bytes]]
) -> Any:
    sent: list[dict[str, Any]] = []
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    received = False

    async def receive() -> dict[str, Any]:
        nonlocal received
        if not received:
            received = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.sleep(3600)  # the client never disconnects
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run_coroutine_threadsafe(application(scope, receive, send), loop).result(timeout=30)
    start = sent[0]
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return start["status"], {k.decode().lower(): v.decode() for k, v in start["headers"]}, body


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures(agent_loop.__name__)
def test_agent_json_answers_carry_their_length(agent_loop, editor, api_key_for):
    key = api_key_for(editor).encode()
    status, headers, body = _request(agent_loop, "GET", "/agent/info", [(b"x-api-key", key)])
    assert status == 200
    assert headers["content-length"] == str(len(body))
    status, headers, body = _request(agent_loop, "GET", "/agent/no-such-thing", [(b"x-api-key", key)])
    assert status == 404
    assert headers["content-length"] == str(len(body))
