"""Files the agent produced in a thread's sandbox, for the web app's download links.

Mounted on the control-plane API under ``/orgs/{org}`` (not on the Agent Server API, whose surface is
the LangGraph protocol's). Only the thread's owner gets an answer; anyone else a 404.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from django.http import HttpRequest, HttpResponse
from ninja import Path, Router, Schema

from atrium.runtime.selectors.artifacts import Artifact, artifact_list, artifact_read

PathStr = Annotated[str, Path()]

router = Router(tags=["artifacts"])


class ArtifactOut(Schema):
    path: str
    size: int
    modified_at: str | None


@router.get("/threads/{thread_id}/artifacts", response=list[ArtifactOut])
def artifacts_list(request: HttpRequest, org: PathStr, thread_id: str) -> list[Artifact]:
    return artifact_list(thread_id=thread_id)


@router.get("/threads/{thread_id}/artifacts/{path:path}")
def artifact_download(request: HttpRequest, org: PathStr, thread_id: str, path: str) -> HttpResponse:
    name, content = artifact_read(thread_id=thread_id, path=path)
    return download_response(name, content)


def download_response(name: str, content: bytes) -> HttpResponse:
    """Always a download, never rendered on our origin: the content is whatever a user or sandboxed
    code wrote (also used for the files users attach, api/threads.py)."""
    response = HttpResponse(content, content_type="application/octet-stream")
    response["Content-Disposition"] = _attachment(name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _attachment(name: str) -> str:
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "_").replace("\\", "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
