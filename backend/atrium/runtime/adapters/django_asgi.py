"""Adapter `django_asgi`: the /agent handler, with Django's `ASGIHandler.handle` copied and changed.

`AgentASGIHandler.handle` is Django's `handle` with one change: while every receiver of a request signal
is one of Django's own (`loop_safe`), it sends the signal inline on the loop, and a whole response's
`close()` too (ADR 0017); and `__call__` skips Django's per-request ThreadSensitiveContext. It relies on
the text of `ASGIHandler.handle` and `__call__` (copied), on `Signal._live_receivers` and on
`BaseHandler.load_middleware` reading `settings.MIDDLEWARE` (tests/adapters/test_django_asgi.py holds
them). With `ATRIUM_STOCK_LIBRARY_PATHS=django_asgi`, /agent is `LeanASGIHandler`: Django's own
`__call__` and `handle` with the lean middleware list.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from asgiref.sync import sync_to_async
from django import db
from django.conf import settings
from django.core import signals
from django.core.cache import close_caches
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.core.handlers.base import reset_urlconf
from django.dispatch import Signal
from django.urls import set_script_prefix

from atrium.runtime.adapters import stock

# Django's own receivers of the request signals. They reset and close the database connections and
# caches of the thread they run on, and the request's URLconf (context-local). On the event loop's
# thread there are no connections (Django refuses to open one in async code) and the default
# local-memory cache closes nothing, so they can run there instead of on asgiref's shared thread: one
# hop and one queue less.
LOOP_SAFE_RECEIVERS = frozenset({db.reset_queries, db.close_old_connections, close_caches, reset_urlconf})


def loop_safe(signal: Signal, sender: type) -> bool:
    """Whether every receiver of `signal` from `sender` is one of Django's own (safe on the loop)."""
    sync_receivers, async_receivers = signal._live_receivers(sender)
    return not async_receivers and all(receiver in LOOP_SAFE_RECEIVERS for receiver in sync_receivers)


class LeanASGIHandler(ASGIHandler):
    """Django's ASGI handler with the /agent middleware list (`AGENT_MIDDLEWARE`, native-async only)."""

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


class AgentASGIHandler(LeanASGIHandler):
    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        # Django wraps each request in a ThreadSensitiveContext, which starts a thread for the request's
        # thread-sensitive sync calls and joins it at the end: two thread starts per request. /agent runs
        # its database work on shared executor threads (thread_sensitive=False, api/common.py); all that
        # is left thread-sensitive is Django's per-request signal handlers and response.close(), which
        # touch no connection there and run on asgiref's shared thread instead.
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        await self.handle(scope, receive, send)

    async def handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Django's `ASGIHandler.handle`, but the request signals and a whole response's `close()` run
        inline while only Django's own receivers listen (`loop_safe`): each was a hop to asgiref's
        single shared thread, two per request, all requests queueing for that one thread."""
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        set_script_prefix(get_script_prefix(scope))
        sender = self.__class__
        if loop_safe(signals.request_started, sender):
            signals.request_started.send(sender=sender, scope=scope)
        else:
            await signals.request_started.asend(sender=sender, scope=scope)
        request, error_response = self.create_request(scope, body_file)
        if request is None:
            body_file.close()
            await self.send_response(error_response, send)
            await self._close(error_response)
            return

        async def process_request() -> Any:
            response = await self.run_get_response(request)
            with contextlib.suppress(asyncio.CancelledError):  # the client left during the answer
                await self.send_response(response, send)
            return response

        # As Django does: a disconnect while the response is being made cancels the view.
        tasks = [
            asyncio.create_task(self.listen_for_disconnect(receive)),
            asyncio.create_task(process_request()),
        ]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            if task.done():
                try:
                    task.result()
                except RequestAborted:
                    pass
                except AssertionError:
                    body_file.close()
                    raise
            else:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        try:
            response = tasks[1].result()
        except asyncio.CancelledError:
            await signals.request_finished.asend(sender=sender)
        else:
            await self._close(response)
        body_file.close()

    async def _close(self, response: Any) -> None:
        # A stream's closers may be the view's own iterators: those keep Django's hop.
        if not response.streaming and loop_safe(signals.request_finished, self.__class__):
            response.close()
        else:
            await sync_to_async(response.close)()


def agent_handler() -> ASGIHandler:
    """The /agent handler: the adapter's, or on the stock path Django's own with the lean middleware."""
    return LeanASGIHandler() if stock("django_asgi") else AgentASGIHandler()
