"""Adapter `django_asgi` (atrium/runtime/adapters/django_asgi.py), the ASGI entry point's /agent handler,
driven as a server would: whole JSON answers carry their length (so they are not sent as chunks); Django's
own request-signal receivers run on the loop, any other keeps Django's hop. Its contract: the Django code
it copied and the internals it calls are unchanged. On the stock path /agent still answers."""

from __future__ import annotations

import asyncio
import threading
import uuid
from typing import Any

import pytest
from django.core import signals
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.base import BaseHandler
from django.dispatch import Signal
from django.test import override_settings

from atrium.runtime.adapters import django_asgi
from atrium.runtime.tests.adapters.contract import assert_source
from atrium.runtime.tests.agent_api import agent_loop
from config.asgi import application

ADAPTER = "django_asgi"


def test_contract_djangos_handler_code_is_what_the_adapter_copied() -> None:
    assert_source(ADAPTER, "ASGIHandler.handle (copied)", ASGIHandler.handle, "ab2236e287c805bf")
    assert_source(ADAPTER, "ASGIHandler.__call__ (copied)", ASGIHandler.__call__, "fd60e60793c4542e")
    assert_source(ADAPTER, "BaseHandler.load_middleware", BaseHandler.load_middleware, "892801349dd63900")
    assert_source(ADAPTER, "Signal._live_receivers", Signal._live_receivers, "151e1ea58308f1ea")


def _request(
    loop: asyncio.AbstractEventLoop,
    method: str,
    path: str,
    headers: list[tuple[bytes, bytes]],
    app: Any = application,
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

    asyncio.run_coroutine_threadsafe(app(scope, receive, send), loop).result(timeout=30)
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


def _threads_of_request_signals(
    loop: asyncio.AbstractEventLoop, key: str, monkeypatch: pytest.MonkeyPatch, *, known: bool
) -> list[str]:
    """GET /agent/info with a receiver of both request signals recording the thread it runs on;
    `known`: the receiver counts as one of Django's own."""
    seen: list[str] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        seen.append(threading.current_thread().name)

    if known:
        monkeypatch.setattr(django_asgi, "LOOP_SAFE_RECEIVERS", django_asgi.LOOP_SAFE_RECEIVERS | {receiver})
    signals.request_started.connect(receiver)
    signals.request_finished.connect(receiver)
    try:
        status, _, _ = _request(loop, "GET", "/agent/info", [(b"x-api-key", key.encode())])
    finally:
        signals.request_started.disconnect(receiver)
        signals.request_finished.disconnect(receiver)
    assert status == 200
    return seen


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures(agent_loop.__name__)
def test_django_own_request_signal_receivers_run_on_the_loop(agent_loop, editor, api_key_for, monkeypatch):
    """While only Django's own receivers listen, the request signals and a whole answer's close() run
    on the event loop's thread: no hop to asgiref's shared thread."""
    seen = _threads_of_request_signals(agent_loop, api_key_for(editor), monkeypatch, known=True)
    assert seen == ["agent-api-test-loop", "agent-api-test-loop"]  # started, then finished


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures(agent_loop.__name__)
def test_other_request_signal_receivers_keep_djangos_hop(agent_loop, editor, api_key_for, monkeypatch):
    """A receiver the handler does not know may block: it runs off the loop, as Django runs it."""
    seen = _threads_of_request_signals(agent_loop, api_key_for(editor), monkeypatch, known=False)
    assert len(seen) == 2
    assert "agent-api-test-loop" not in seen


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures(agent_loop.__name__)
def test_on_the_stock_path_agent_is_djangos_own_handler_and_answers(agent_loop, editor, api_key_for):
    # given the /agent handler built with the adapter switched off
    with override_settings(ATRIUM_STOCK_LIBRARY_PATHS=frozenset({ADAPTER})):
        handler = django_asgi.agent_handler()
    assert type(handler) is django_asgi.LeanASGIHandler
    assert type(handler).handle is ASGIHandler.handle
    # when a client asks it for the server's info, and for a thread with and without its key
    key = api_key_for(editor).encode()
    status, headers, body = _request(agent_loop, "GET", "/agent/info", [(b"x-api-key", key)], app=handler)
    assert status == 200
    assert headers["content-length"] == str(len(body))
    thread = f"/agent/threads/{uuid.uuid4()}"
    assert _request(agent_loop, "GET", thread, [(b"x-api-key", key)], app=handler)[0] == 404
    assert _request(agent_loop, "GET", thread, [], app=handler)[0] == 401
