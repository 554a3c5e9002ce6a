"""/ok and /info: unauthenticated, as in the reference server."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import Router

from atrium.runtime.api.common import json_response

router = Router(tags=["meta"])


@router.get("/ok", auth=None)
async def ok(request: HttpRequest) -> HttpResponse:
    return json_response({"ok": True})


@router.get("/info", auth=None)
async def info(request: HttpRequest) -> HttpResponse:
    from atrium.runtime.info import server_info

    return json_response(server_info())
