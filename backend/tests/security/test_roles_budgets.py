"""Budgets are the org admins' to set: a member held to one cannot lift it.

Attack: a builder or end user whose budget is spent raises their own limit, sets the org's, or deletes
the budget that holds them, through the control-plane API with their own key.
"""

from __future__ import annotations

from typing import Any

import pytest

from atrium.runtime.tests.live_stack import LiveStack
from security.control_plane import call


def _user_id(stack: LiveStack, who: str) -> int:
    email = f"{who}-"
    members = call(stack, "admin", "GET", "/members").json()
    return next(int(m["user"]["id"]) for m in members if m["user"]["email"].startswith(email))


def _budgets(stack: LiveStack) -> list[dict[str, Any]]:
    response = call(stack, "admin", "GET", "/budgets")
    assert response.status_code == 200, response.text
    return list(response.json())


@pytest.mark.parametrize("who", ["editor", "enduser"])
def test_a_member_cannot_create_raise_or_delete_a_budget(stack: LiveStack, who: str) -> None:
    # given an admin holds the member to a spent budget, and the org to another
    user_id = _user_id(stack, who)
    spent = {"user_id": user_id, "period": "month", "metric": "tokens", "limit": 0}
    theirs = call(stack, "admin", "PUT", "/budgets", spent).json()
    org = call(stack, "admin", "PUT", "/budgets", {"period": "day", "metric": "cost", "limit": 1}).json()
    before = _budgets(stack)
    try:
        # when the member tries every way to lift them
        lift = {"period": "month", "metric": "tokens", "limit": 10**9}
        attempts = [
            call(stack, who, "PUT", "/budgets", {**lift, "user_id": user_id}),
            call(stack, who, "PUT", "/budgets", {"period": "day", "metric": "cost", "limit": 10**9}),
            call(stack, who, "PUT", "/budgets", {**lift, "period": "day"}),
            call(stack, who, "DELETE", f"/budgets/{theirs['id']}"),
            call(stack, who, "DELETE", f"/budgets/{org['id']}"),
            call(stack, who, "GET", "/budgets"),
        ]
        # then each is refused and the budgets are as the admin set them
        assert [r.status_code for r in attempts] == [403] * len(attempts), [r.text for r in attempts]
        assert {r.json()["code"] for r in attempts} == {"permission_denied"}
        assert _budgets(stack) == before
    finally:
        for budget in (theirs, org):
            call(stack, "admin", "DELETE", f"/budgets/{budget['id']}")
