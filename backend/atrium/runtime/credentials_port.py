"""The credentials port the runtime hands to graphs (``configurable["__atrium_credentials"]``).

Graphs ask it for a user's token at an outside service at call time (see ``atrium_agents.auth``); it
answers with the token, refreshed if due, or with the consent the user must give, in which case the
graph interrupts and the OAuth callback resumes the run on this thread once the user has consented.
Plain dicts cross the boundary: graphs do not import the platform, nor the platform the graphs.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import connection

from atrium.core.tenancy import Role, Scope, scoped
from atrium.credentials.oauth import AccessToken, oauth_token_get

CREDENTIALS_CONFIGURABLE = "__atrium_credentials"
CONSENT_INTERRUPT = "oauth_consent"


class RuntimeCredentials:
    """One run's port: the run's user, in the run's org, on the run's thread."""

    def __init__(self, *, user_id: int | None, org_id: str, role: str, thread_id: str | None) -> None:
        self._user_id = user_id
        self._org_id = uuid.UUID(str(org_id))
        self._role = Role(role) if role in Role.values else Role.VIEWER
        self._thread_id = uuid.UUID(str(thread_id)) if thread_id else None

    def __repr__(self) -> str:
        return f"RuntimeCredentials(user={self._user_id}, org={self._org_id})"

    async def token(self, provider: str, scopes: Sequence[str]) -> Mapping[str, Any]:
        return await asyncio.to_thread(self._token, provider, tuple(scopes))

    def _token(self, provider: str, scopes: tuple[str, ...]) -> Mapping[str, Any]:
        if self._user_id is None:
            raise PermissionError("A run without a user cannot act for one at an outside service.")
        try:
            with scoped(Scope(user_id=self._user_id, org_id=self._org_id, role=self._role)):
                answer = oauth_token_get(
                    user_id=self._user_id, provider=provider, scopes=scopes, resume_thread_id=self._thread_id
                )
        finally:
            connection.close()  # this pool thread holds no connection between calls
        if isinstance(answer, AccessToken):
            return {"access_token": answer.access_token, "token_type": answer.token_type}
        return {
            "consent": {
                "provider_id": str(answer.provider_id),
                "provider": answer.provider_slug,
                "provider_name": answer.provider_name,
                "scopes": list(answer.scopes),
                "authorization_url": answer.authorization_url,
                "reason": answer.reason,
            }
        }
