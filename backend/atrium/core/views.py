from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

_PLACEHOLDER = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Atrium</title></head>
<body><main><h1>Atrium</h1><p>The web app is not built yet: run <code>make frontend</code>.</p>
<p><a href="/admin/">Admin</a> · <a href="/api/v1/docs">API docs</a></p></main></body></html>"""


@require_safe
def web_app(request: HttpRequest) -> HttpResponse:
    """Serve the built single-page app's index.html for every client-side route."""
    index = settings.FRONTEND_DIST / "index.html"
    if not index.is_file():
        return HttpResponse(_PLACEHOLDER)
    response = HttpResponse(index.read_bytes(), content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response
