"""Budgets on the org's and a member's spend, refused up front when spent; the price table."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.utils import timezone

from atrium.audit.models import AuditEvent
from atrium.core.tenancy import scoped
from atrium.usage.budgets import BudgetExceededError, period_end, period_start
from atrium.usage.models import Budget, ModelUsage
from atrium.usage.prices import Price, PriceTableError, parse_price_table, price_for
from atrium.usage.services import usage_run_allow

pytestmark = pytest.mark.django_db


def _spend(member, *, tokens: int, cost: str | None = None, at: dt.datetime | None = None) -> None:
    ModelUsage.unscoped.create(
        org=member.org,
        user=member.user,
        run_id="01a25054-b67d-796e-b495-8bbd5b8461fd",
        model="m",
        calls=1,
        input_tokens=tokens,
        output_tokens=0,
        cost=Decimal(cost) if cost is not None else None,
        created_at=at or timezone.now(),
    )


def test_an_org_cost_budget_once_spent_refuses_every_members_new_run(admin, end_user, editor, outsider):
    # given an org budget of 1.00 a month, of which the end user spent 0.60 and the builder 0.40
    Budget.unscoped.create(org=admin.org, period="month", metric="cost", limit=Decimal("1"))
    _spend(end_user, tokens=10, cost="0.6")
    with scoped(editor.scope()):
        usage_run_allow(editor.scope())  # not yet spent
    _spend(editor, tokens=10, cost="0.4")

    # when any member of the org starts a run, then it is refused, saying which budget; only the
    # org's admin is told what the org spent (the others' spend is not a member's to see)
    for member, spent in ((end_user, ""), (editor, ""), (admin, " (1 used this month, UTC)")):
        with scoped(member.scope()), pytest.raises(BudgetExceededError) as refused:
            usage_run_allow(member.scope())
        assert refused.value.status_code == 429
        assert refused.value.message.startswith(
            f"The monthly budget of your organisation's model usage (1 in cost) is spent{spent}. "
        )
    # and another org is not held to it
    with scoped(outsider.scope()):
        usage_run_allow(outsider.scope())


def test_a_members_daily_token_budget_counts_only_their_spend_of_the_day(admin, end_user, editor):
    Budget.unscoped.create(org=admin.org, user=end_user.user, period="day", metric="tokens", limit=100)
    yesterday = period_start("day", timezone.now()) - dt.timedelta(seconds=1)
    _spend(end_user, tokens=500, at=yesterday)  # another day
    _spend(editor, tokens=500)  # another member
    _spend(end_user, tokens=99)
    with scoped(end_user.scope()):
        usage_run_allow(end_user.scope())  # 99 of 100
    _spend(end_user, tokens=1)
    with (
        scoped(end_user.scope()),
        pytest.raises(BudgetExceededError, match=r"daily budget of your model usage"),
    ):
        usage_run_allow(end_user.scope())
    with scoped(editor.scope()):
        usage_run_allow(editor.scope())


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"period": "week", "metric": "tokens", "limit": 1}, 422, "validation_error"),
        ({"period": "day", "metric": "tokens", "limit": -1}, 422, "validation_error"),
        ({"period": "day", "metric": "dollars", "limit": 1}, 422, "validation_error"),
        ({"period": "day", "metric": "cost", "limit": "NaN"}, 422, "validation_error"),
        ({"user_id": 987654, "period": "day", "metric": "tokens", "limit": 1}, 404, "not_found"),
    ],
    ids=["period", "negative", "metric", "nan", "not-a-member"],
)
def test_a_bad_budget_is_a_4xx_that_writes_nothing(client_for, admin, body, status, code):
    response = client_for("admin").put(
        "/api/v1/orgs/acme/budgets", data=json.dumps(body), content_type="application/json"
    )
    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    assert not Budget.unscoped.exists()


def test_another_orgs_member_cannot_be_given_a_budget_here(client_for, admin, outsider):
    body = {"user_id": outsider.user.id, "period": "day", "metric": "tokens", "limit": 1}
    response = client_for("admin").put(
        "/api/v1/orgs/acme/budgets", data=json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 404
    assert not Budget.unscoped.exists()


def test_setting_a_budget_again_changes_its_limit(client_for, admin, end_user):
    client = client_for("admin")
    body = {"user_id": end_user.user.id, "period": "month", "metric": "cost", "limit": "2.5"}
    first = client.put("/api/v1/orgs/acme/budgets", data=json.dumps(body), content_type="application/json")
    second = client.put(
        "/api/v1/orgs/acme/budgets", data=json.dumps({**body, "limit": 4}), content_type="application/json"
    )
    assert first.json()["id"] == second.json()["id"]
    assert second.json()["limit"] == 4.0
    assert second.json()["user_email"] == "user@acme.test"
    assert list(Budget.unscoped.values_list("limit", flat=True)) == [Decimal(4)]


def test_periods_are_calendar_days_and_months_in_utc():
    now = dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC)
    assert period_start("day", now) == dt.datetime(2026, 12, 31, tzinfo=dt.UTC)
    assert period_end("day", now) == dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    assert period_start("month", now) == dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    assert period_end("month", now) == dt.datetime(2027, 1, 1, tzinfo=dt.UTC)


def test_cached_input_is_priced_at_its_own_rate_and_defaults_to_the_input_price():
    table = parse_price_table(
        {"a": {"input": 2, "output": 8, "cached_input": 1}, "b": {"input": 2, "output": 8}}
    )
    assert table["a"].cost(
        input_tokens=1_000_000, output_tokens=500_000, cached_input_tokens=400_000
    ) == Decimal("1.2") + Decimal("0.4") + Decimal(4)
    assert table["b"] == Price(input=Decimal(2), output=Decimal(8), cached_input=Decimal(2))


@pytest.mark.parametrize(
    "raw",
    [
        [],
        {"a": 1},
        {"a": {"input": 1}},
        {"a": {"input": -1, "output": 1}},
        {"a": {"input": 1, "output": 1, "x": 1}},
    ],
)
def test_a_malformed_price_table_is_refused(raw):
    with pytest.raises(PriceTableError):
        parse_price_table(raw)


def test_an_unknown_model_has_no_price_and_a_provider_prefix_is_ignored(settings, tmp_path):
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"gpt-4o": {"input": 2.5, "output": 10}}))
    settings.ATRIUM_MODEL_PRICES = str(prices)
    assert price_for("openai:gpt-4o") == Price(Decimal("2.5"), Decimal(10), Decimal("2.5"))
    assert price_for("unknown", None) is None
    settings.ATRIUM_MODEL_PRICES = "{not json"
    assert price_for("gpt-4o") is None  # logged; costs unknown rather than runs failing


def test_a_member_sees_their_budget_and_whether_the_orgs_is_spent_but_not_the_orgs_spend(
    client_for, admin, end_user, editor
):
    Budget.unscoped.create(org=admin.org, period="month", metric="tokens", limit=1000)
    Budget.unscoped.create(org=admin.org, user=end_user.user, period="day", metric="tokens", limit=50)
    _spend(end_user, tokens=40)
    _spend(editor, tokens=700)

    budgets = client_for("end_user").get("/api/v1/orgs/acme/usage/me?period=day").json()["budgets"]
    assert sorted((b["scope"], b["limit"], b["spent"], b["exceeded"]) for b in budgets) == [
        ("org", 1000.0, None, False),
        ("user", 50.0, 40.0, False),
    ]
    budgets = client_for("admin").get("/api/v1/orgs/acme/usage/me").json()["budgets"]
    assert [(b["scope"], b["spent"]) for b in budgets] == [("org", 740.0)]


def test_the_operator_sets_an_org_budget_in_the_admin_and_it_is_audited(
    client_for, operator, admin, outsider
):
    client = client_for("operator")
    form = {"org": str(admin.org.id), "period": "month", "metric": "cost", "limit": "250"}

    # a member of another org cannot be given this org's budget: the form says so, nothing is written
    refused = client.post("/admin/usage/budget/add/", {**form, "user": str(outsider.user.id)})
    assert refused.status_code == 200
    assert "not a member of the organisation" in refused.content.decode()
    assert not Budget.unscoped.exists()

    added = client.post("/admin/usage/budget/add/", form)
    assert added.status_code == 302
    budget = Budget.unscoped.get()
    assert (budget.org_id, budget.user_id, budget.limit) == (admin.org.id, None, Decimal(250))
    assert AuditEvent.unscoped.filter(org=admin.org, action="budget.set", target_id=str(budget.id)).exists()
