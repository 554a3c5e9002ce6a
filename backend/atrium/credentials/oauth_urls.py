"""Where providers send users back: one callback per provider, on the public URL."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    from atrium.credentials.models import OAuthAuthorization


def redirect_uri_for(provider_id: uuid.UUID | str) -> str:
    return f"{settings.ATRIUM_PUBLIC_URL.rstrip('/')}/api/v1/oauth/{provider_id}/callback"


def connections_page_for(authorization: OAuthAuthorization) -> str:
    """Where the browser lands after a consent (web app routes): the conversation that waited for it,
    else the connections page."""
    org = authorization.provider.org.slug
    connected = f"connected={authorization.provider.slug}"
    if authorization.resume_thread_id is not None:
        return f"/o/{org}/t/{authorization.resume_thread_id}?{connected}"
    return f"/o/{org}/connections?{connected}"
