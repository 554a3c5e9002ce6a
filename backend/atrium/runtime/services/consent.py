"""Resuming runs that interrupted for a user's consent at an outside service."""

from __future__ import annotations

import logging

from atrium.core.errors import AtriumError
from atrium.core.tenancy import Permission, current_scope
from atrium.credentials.models import OAuthAuthorization
from atrium.runtime.credentials_port import CONSENT_INTERRUPT
from atrium.runtime.models import Run
from atrium.runtime.selectors.threads import thread_queryset
from atrium.runtime.services import lifecycle

logger = logging.getLogger(__name__)


def run_resume_after_consent(authorization: OAuthAuthorization) -> Run | None:
    """Resume the thread that waited for this consent: answer its pending consent interrupts for the
    provider with ``{"connected": true}``, in the protocol and stream modes of the run that asked.

    Nothing happens when the thread is not the user's, or no longer waits for this provider (already
    resumed, answered otherwise, deleted). Never raises: the consent itself succeeded either way."""
    scope = current_scope()
    if not scope.has(Permission.USE_AGENTS) or authorization.resume_thread_id is None:
        return None
    thread = (
        thread_queryset().filter(id=authorization.resume_thread_id, owner_id=authorization.user_id).first()
    )
    if thread is None or thread.assistant_id is None:
        return None
    provider_id = str(authorization.provider_id)
    pending = [
        item
        for items in (thread.interrupts or {}).values()
        for item in items
        if isinstance(item.get("value"), dict)
        and item["value"].get("type") == CONSENT_INTERRUPT
        and item["value"].get("provider_id") == provider_id
    ]
    if not pending:
        return None
    last = Run.objects.filter(thread_id=thread.id).order_by("-created_at").first()
    asked = dict(last.kwargs or {}) if last is not None else {}
    payload = lifecycle.RunCreate(
        assistant_id=str(thread.assistant_id),
        command={"resume": {item["id"]: {"connected": True} for item in pending}},
        stream_mode=list(asked.get("stream_mode") or ["values"]),
        stream_subgraphs=bool(asked.get("stream_subgraphs")),
        stream_resumable=bool(asked.get("stream_resumable")),
        on_completion="keep",
        protocol=str(asked.get("protocol") or "v1"),
        metadata={"resumed_after_consent": authorization.provider.slug},
    )
    try:
        return lifecycle.create(thread_id=thread.id, payload=payload)
    except AtriumError as exc:  # e.g. the thread is busy with another run meanwhile
        logger.warning("could not resume thread %s after consent: %s", thread.id, exc.message)
        return None
