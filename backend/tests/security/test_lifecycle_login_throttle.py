"""Password guessing at `/api/v1/auth/login` and `/admin/login/` is throttled per account and per
client address (issue 18, lifecycle). Only failures count: a user who gets it right is never slowed."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable

import pytest
from django.http import HttpResponse as Response
from django.test import Client, override_settings

from atrium.accounts.models import User
from atrium.accounts.services import user_create

PASSWORD = "correct horse battery staple"
LIMITS = {
    "ATRIUM_LOGIN_FAILURES_PER_ACCOUNT": 3,
    "ATRIUM_LOGIN_FAILURES_PER_ADDRESS": 6,
    "ATRIUM_LOGIN_LOCKOUT_SECONDS": 2,
}


@pytest.fixture(autouse=True)
def limits() -> object:
    with override_settings(**LIMITS):
        yield


@pytest.fixture
def make_user(db: None) -> Callable[..., User]:
    def make(*, staff: bool = False) -> User:
        email = f"guess-{uuid.uuid4().hex[:10]}@throttle.test"
        return user_create(email=email, password=PASSWORD, is_staff=staff)

    return make


def _address() -> str:
    """A fresh client address per test: the counters live in Redis, across tests and runs."""
    return f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"


def login(client: Client, email: str, password: str, **extra: str) -> Response:
    return client.post(
        "/api/v1/auth/login",
        data=json.dumps({"email": email, "password": password}),
        content_type="application/json",
        **extra,
    )


def test_wrong_passwords_then_the_right_one_is_refused_until_the_window_passes(make_user):
    user = make_user()
    client = Client(REMOTE_ADDR=_address())
    for _ in range(3):
        assert login(client, user.email, "guess").status_code == 400
    refused = login(client, user.email, PASSWORD)
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    assert refused.json()["detail"].startswith("Too many failed sign-in attempts.")
    assert 1 <= int(refused["Retry-After"]) <= 2
    assert client.get("/api/v1/me").status_code == 401  # no session was started
    # another address does not help: the account itself is locked
    assert login(Client(REMOTE_ADDR=_address()), user.email, PASSWORD).status_code == 429
    time.sleep(2.2)
    assert login(client, user.email, PASSWORD).status_code == 200
    assert client.get("/api/v1/me").json()["email"] == user.email


def test_another_account_from_another_address_is_unaffected(make_user):
    victim, bystander = make_user(), make_user()
    attacker = Client(REMOTE_ADDR=_address())
    for _ in range(4):
        login(attacker, victim.email, "guess")
    assert login(attacker, victim.email, PASSWORD).status_code == 429
    assert login(Client(REMOTE_ADDR=_address()), bystander.email, PASSWORD).status_code == 200


def test_one_address_guessing_many_accounts_is_refused_for_all(make_user):
    users = [make_user() for _ in range(3)]
    address = _address()
    attacker = Client(REMOTE_ADDR=address)
    for user in users:  # two failures each: no account reaches its own limit
        assert login(attacker, user.email, "guess").status_code == 400
        assert login(attacker, user.email, "guess").status_code == 400
    refused = login(attacker, users[0].email, PASSWORD)
    assert refused.status_code == 429
    assert login(Client(REMOTE_ADDR=_address()), users[0].email, PASSWORD).status_code == 200


def test_a_forged_forwarded_for_does_not_escape_the_address_limit(make_user):
    users = [make_user() for _ in range(4)]
    attacker = Client(REMOTE_ADDR=_address())
    for n, user in enumerate(users[:3]):
        for m in range(2):
            login(attacker, user.email, "guess", HTTP_X_FORWARDED_FOR=f"192.0.2.{n * 2 + m + 1}")
    assert login(attacker, users[3].email, PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.99").status_code == 429


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_client(make_user):
    users = [make_user() for _ in range(4)]
    proxy = _address()
    guesser, other = _address(), _address()
    with override_settings(ATRIUM_TRUSTED_PROXY_HOPS=1):
        through_proxy = Client(REMOTE_ADDR=proxy)
        for user in users[:3]:
            for _ in range(2):
                # the client's own header value is left of what the proxy appended
                login(through_proxy, user.email, "guess", HTTP_X_FORWARDED_FOR=f"203.0.113.7, {guesser}")
        assert login(through_proxy, users[3].email, PASSWORD, HTTP_X_FORWARDED_FOR=guesser).status_code == 429
        assert login(through_proxy, users[3].email, PASSWORD, HTTP_X_FORWARDED_FOR=other).status_code == 200


def test_successful_logins_are_not_slowed(make_user):
    user = make_user()
    client = Client(REMOTE_ADDR=_address())
    for _ in range(20):
        assert login(client, user.email, PASSWORD).status_code == 200


def test_the_admin_login_form_is_throttled_with_a_clear_message(make_user):
    user = make_user(staff=True)
    browser = Client(REMOTE_ADDR=_address())
    for _ in range(3):
        wrong = browser.post("/admin/login/", {"username": user.email, "password": "guess"})
        assert wrong.status_code == 200
        assert "Please enter the correct email" in wrong.content.decode()
    refused = browser.post("/admin/login/", {"username": user.email, "password": PASSWORD})
    assert refused.status_code == 200
    assert "Too many failed sign-in attempts. Try again in" in refused.content.decode()
    assert "_auth_user_id" not in browser.session
    time.sleep(2.2)
    accepted = browser.post("/admin/login/", {"username": user.email, "password": PASSWORD})
    assert accepted.status_code == 302
    assert browser.session["_auth_user_id"] == str(user.pk)


def test_parallel_attempts_cannot_pass_the_limit_together():
    """Each attempt takes its place in the count before its password is checked: of many attempts
    racing on one account, only `limit` get to try."""
    from concurrent.futures import ThreadPoolExecutor

    from atrium.core.ratelimit import FailureCounter, failure_reserve

    counter = FailureCounter(f"test:parallel:{uuid.uuid4().hex}", limit=3, window=5)
    with ThreadPoolExecutor(max_workers=12) as pool:
        waits = list(pool.map(lambda _: failure_reserve([counter]), range(12)))
    assert sorted(waits)[:3] == [0.0, 0.0, 0.0]
    assert all(wait > 0 for wait in sorted(waits)[3:])
