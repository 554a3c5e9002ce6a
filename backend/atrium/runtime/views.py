from __future__ import annotations

from django.http import HttpRequest, JsonResponse


async def ok(request: HttpRequest) -> JsonResponse:
    """Liveness of the Agent Server API, unauthenticated as in the reference server."""
    return JsonResponse({"ok": True})
