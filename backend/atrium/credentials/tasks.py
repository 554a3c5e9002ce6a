"""Celery tasks of the credentials app: thin; they call services."""

from __future__ import annotations

from celery import shared_task

from atrium.credentials.oauth import oauth_authorizations_expire as expire_authorizations


@shared_task(name="atrium.credentials.oauth_authorizations_expire", acks_late=True, ignore_result=True)
def oauth_authorizations_expire() -> int:
    """Delete expired consents in flight (beat). No retry: the next beat is one."""
    return expire_authorizations()
