"""The ASGI entry point: one server for the web app, the control plane, the admin and /agent.

Requests under /agent go to a second Django handler built with `AGENT_MIDDLEWARE` (native-async
middleware only; see atrium.core.agent_middleware): `AgentASGIHandler`, in runtime/adapters/django_asgi.py.
Everything else takes the full middleware stack.
"""

from __future__ import annotations

import json
import os
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

import django

django.setup(set_prefix=False)

from django.conf import settings  # noqa: E402
from django.core.handlers.asgi import ASGIHandler  # noqa: E402

from atrium.core.parsers import body_too_large_message  # noqa: E402
from atrium.runtime.adapters.django_asgi import AgentASGIHandler, agent_handler  # noqa: E402
from config.observability import traced_asgi  # noqa: E402

__all__ = ("AgentASGIHandler", "application")

site = ASGIHandler()
agent = agent_handler()


def _declared_too_large(scope: dict[str, Any]) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return value.isdigit() and int(value) > settings.ATRIUM_MAX_BODY_BYTES
    return False


async def _refuse_too_large(scope: dict[str, Any], send: Any) -> None:
    """413 before reading a body that declares itself over the limit (Django would first spool it to
    disk, then refuse it); a chunked body over it is refused when read (`DATA_UPLOAD_MAX_MEMORY_SIZE`)."""
    error: dict[str, str] = {"detail": body_too_large_message()}
    if not scope["path"].startswith("/agent/"):
        error["code"] = "body_too_large"  # the control plane's error shape
    body = json.dumps(error).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def route(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http" and _declared_too_large(scope):
        await _refuse_too_large(scope, send)
    elif scope["type"] == "http" and scope["path"].startswith("/agent/"):
        await agent(scope, receive, send)
    else:
        await site(scope, receive, send)


# With OTEL_EXPORTER_OTLP_ENDPOINT set, a server span per request (config/observability.py).
application = traced_asgi(route)
