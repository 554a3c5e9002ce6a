"""Consents in flight do not pile up: beat deletes them an hour after they expired, used or not."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from atrium.credentials.models import OAuthAuthorization
from atrium.credentials.tasks import oauth_authorizations_expire
from atrium.credentials.tests import factories


def _authorization(
    member: Any, provider: Any, *, expired_ago: timedelta, used: bool = False
) -> OAuthAuthorization:
    now = timezone.now()
    return OAuthAuthorization.unscoped.create(
        org_id=member.org.id,
        state=f"state-{expired_ago.total_seconds()}-{used}",
        user=member.user,
        provider=provider,
        sealed_code_verifier=b"sealed",
        redirect_uri="https://atrium.example.test/callback",
        expires_at=now - expired_ago,
        used_at=now - expired_ago if used else None,
    )


@pytest.mark.django_db
def test_beat_deletes_consents_an_hour_after_they_expired(admin: Any, outsider: Any) -> None:
    mine, theirs = factories.provider(admin.org), factories.provider(outsider.org)
    fresh = _authorization(admin, mine, expired_ago=-timedelta(minutes=5))  # expires in five minutes
    just_expired = _authorization(admin, mine, expired_ago=timedelta(minutes=10))
    old = _authorization(admin, mine, expired_ago=timedelta(hours=2))
    old_used = _authorization(admin, mine, expired_ago=timedelta(hours=2, minutes=1), used=True)
    old_elsewhere = _authorization(outsider, theirs, expired_ago=timedelta(days=3))

    assert oauth_authorizations_expire.apply().get() == 3

    left = set(OAuthAuthorization.unscoped.values_list("id", flat=True))
    assert left == {fresh.id, just_expired.id}
    assert not {old.id, old_used.id, old_elsewhere.id} & left


def test_beat_schedules_it() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["oauth-authorizations-expire"]
    assert entry["task"] == oauth_authorizations_expire.name
