"""The project's own HTTP app (``"http": {"app": "./webapp.py:app"}``), as a LangGraph project writes it
with Starlette: a greeting that names the caller (and what its lifespan set up), an echo, and a
streamed answer."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route


async def hello(request: Request) -> JSONResponse:
    user = request.scope.get("user")
    return JSONResponse(
        {
            "hello": "world",
            "identity": user.identity if user is not None else None,
            "path": request.url.path,
            "query": dict(request.query_params),
            "started": request.state.started,
        }
    )


async def echo(request: Request) -> JSONResponse:
    try:
        body = await request.json()
    except ValueError:
        return JSONResponse({"detail": "send JSON"}, status_code=400)
    return JSONResponse({"echo": body}, status_code=201, headers={"x-project": "yes"})


async def countdown(request: Request) -> StreamingResponse:
    async def lines() -> AsyncIterator[str]:
        for n in (3, 2, 1):
            yield f"{n}\n"

    return StreamingResponse(lines(), media_type="text/plain")


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
    yield {"started": True}  # e.g. a client pool, opened once


app = Starlette(
    lifespan=lifespan,
    routes=[
        Route("/hello", hello),
        Route("/echo", echo, methods=["POST"]),
        Route("/countdown", countdown),
    ],
)
