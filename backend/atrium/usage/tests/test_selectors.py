"""A member's own usage, by model and by assistant, through `/usage/me`."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from atrium.assistants.models import Assistant
from atrium.assistants.services import assistant_create
from atrium.core.tenancy import scoped
from atrium.usage.models import ModelUsage

pytestmark = pytest.mark.django_db

FIGURES = ("calls", "input_tokens", "output_tokens", "cached_input_tokens", "total_tokens")


def _spend(member, assistant_id: uuid.UUID | None, *, tokens: int, cost: str | None = "0.5") -> None:
    ModelUsage.unscoped.create(
        org=member.org,
        user=member.user,
        run_id=uuid.uuid4(),
        assistant_id=assistant_id,
        model="m",
        calls=1,
        input_tokens=tokens,
        output_tokens=tokens // 10,
        cached_input_tokens=tokens // 100,
        cost=Decimal(cost) if cost is not None else None,
        created_at=timezone.now(),
    )


def test_a_members_usage_by_assistant_names_each_adds_up_and_is_theirs_only(
    client_for, admin, end_user, editor, outsider
):
    # given two assistants the end user chatted with, one since deleted, and usage of no assistant
    with scoped(admin.scope()):
        research = assistant_create(graph_id="echo", name="Research")
        doomed = assistant_create(graph_id="echo", name="Doomed")
    with scoped(outsider.scope()):
        theirs = assistant_create(graph_id="echo", name="Globex helper")
    _spend(end_user, research.id, tokens=1000)
    _spend(end_user, research.id, tokens=500, cost=None)
    _spend(end_user, doomed.id, tokens=300)
    _spend(end_user, None, tokens=200)
    # and other members' usage, of this org and another
    _spend(editor, research.id, tokens=9000)
    _spend(editor, doomed.id, tokens=9000)
    _spend(outsider, theirs.id, tokens=9000)
    Assistant.unscoped.filter(id=doomed.id).delete()

    # when the end user reads their usage
    response = client_for("end_user").get("/api/v1/orgs/acme/usage/me")

    # then each assistant is named (a deleted one says so), with the member's figures only
    assert response.status_code == 200, response.content
    usage = response.json()
    rows = {row["assistant_id"]: row for row in usage["by_assistant"]}
    assert {key: (row["name"], row["deleted"]) for key, row in rows.items()} == {
        str(research.id): ("Research", False),
        str(doomed.id): ("", True),
        None: ("", False),
    }
    assert usage["by_assistant"][-1]["assistant_id"] is None  # usage of no assistant comes last
    assert {key: (row["calls"], row["input_tokens"]) for key, row in rows.items()} == {
        str(research.id): (2, 1500),
        str(doomed.id): (1, 300),
        None: (1, 200),
    }
    assert rows[str(research.id)]["cost"] == 0.5  # the unpriced call adds nothing
    # and the figures add up to the member's totals
    for figure in FIGURES:
        assert sum(row[figure] for row in usage["by_assistant"]) == usage["totals"][figure], figure
    assert sum(row["cost"] for row in usage["by_assistant"]) == usage["totals"]["cost"] == 1.5
    assert usage["totals"]["calls"] == 4


def test_a_member_without_usage_has_no_assistant_rows(client_for, end_user, editor):
    _spend(editor, None, tokens=100)
    usage = client_for("end_user").get("/api/v1/orgs/acme/usage/me?period=day").json()
    assert (usage["by_assistant"], usage["totals"]["calls"]) == ([], 0)
