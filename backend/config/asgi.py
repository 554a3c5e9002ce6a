"""The ASGI entry point: one server for the web app, the control plane, the admin and /agent.

Requests under /agent go to a second Django handler built with `AGENT_MIDDLEWARE` (native-async
middleware only; see atrium.core.agent_middleware); everything else takes the full middleware stack.
"""

from __future__ import annotations

import os
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

import django

django.setup(set_prefix=False)

from django.conf import settings  # noqa: E402
from django.core.handlers.asgi import ASGIHandler  # noqa: E402

from config.observability import traced_asgi  # noqa: E402


class AgentASGIHandler(ASGIHandler):
    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        # Django wraps each request in a ThreadSensitiveContext, which starts a thread for the request's
        # thread-sensitive sync calls and joins it at the end: two thread starts per request. /agent runs
        # its database work on shared executor threads (thread_sensitive=False, api/common.py); all that
        # is left thread-sensitive is Django's per-request signal handlers and response.close(), which
        # touch no connection there and run on asgiref's shared thread instead.
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        await self.handle(scope, receive, send)

    async def send_response(self, response: Any, send: Any) -> None:
        # The body's length, as Django's CommonMiddleware (not on this lean path) would add it: without
        # it uvicorn frames every answer as chunks, which each client then has to take apart.
        if (
            not response.streaming
            and response.status_code not in (204, 304)
            and "Content-Length" not in response
        ):
            response["Content-Length"] = str(len(response.content))
        await super().send_response(response, send)

    def load_middleware(self, is_async: bool = False) -> None:
        # BaseHandler reads settings.MIDDLEWARE; swap in the lean list while this handler builds its chain.
        full = settings.MIDDLEWARE
        settings.MIDDLEWARE = settings.AGENT_MIDDLEWARE
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = full


site = ASGIHandler()
agent = AgentASGIHandler()


async def route(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http" and scope["path"].startswith("/agent/"):
        await agent(scope, receive, send)
    else:
        await site(scope, receive, send)


# With OTEL_EXPORTER_OTLP_ENDPOINT set, a server span per request (config/observability.py).
application = traced_asgi(route)
