"""The authorisation matrix of the Django admin: every registered ModelAdmin, every page, every caller.

- anonymous, and members who do not administer an org (end user, viewer, builder): the login page;
- a former org admin (still `is_staff`, now a builder): no page of any model;
- an org admin: their org's rows only; another org's row is a redirect (as if it did not exist), and
  none of that org's names appears on any page they open;
- the operator (a superuser with no membership): every row.

Each refused write (a delete confirmed by POST) leaves every row as it was, and no page shows a
secret (workspace secrets, OAuth client secrets and tokens, API keys, password hashes) in plain text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from conftest import PASSWORD
from django.contrib import admin as django_admin
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Model
from django.test import Client
from django.utils import timezone

from atrium.accounts.models import ExternalIdentity, User
from atrium.accounts.services import user_create
from atrium.assistants.models import OrgPolicy
from atrium.assistants.services import assistant_create, org_policy_set
from atrium.audit.models import AuditEvent
from atrium.core.tenancy import Role, scoped, system_scope
from atrium.credentials import vault
from atrium.credentials.models import OAuthAuthorization
from atrium.credentials.tests import factories
from atrium.mcp_servers.models import McpServer
from atrium.orgs.models import Membership, Organization, OrgSettings
from atrium.orgs.services import api_key_create, membership_ensure
from atrium.runtime.models import Cron, Run, Thread, WebhookDelivery
from atrium.skills.models import Skill
from atrium.usage.models import Budget, ModelUsage

pytestmark = pytest.mark.django_db

CALLERS = ("anonymous", "end_user", "viewer", "editor", "former_admin", "admin", "operator")
PAGES = ("changelist", "add", "change", "delete", "history")

# The pages an org admin may open for their own org's rows, model by model (a change page may be
# read-only: the model's admin decides what may be written; test_roles_operator.py checks the
# operator's fields). Another org's rows they may not open at all.
ADMIN_MAY: dict[str, set[str]] = {
    "auth.Group": set(),
    "accounts.User": {"changelist", "change", "history"},
    "accounts.ExternalIdentity": set(),
    "orgs.Organization": {"changelist", "change", "history"},
    "orgs.Membership": {"changelist", "add", "change", "delete", "history"},
    "orgs.ApiKey": {"changelist", "change", "delete", "history"},
    # the row holds the operator's caps: the org's admin reads it, only the operator adds or deletes it
    "orgs.OrgSettings": {"changelist", "change", "history"},
    "audit.AuditEvent": {"changelist", "change", "history"},
    "assistants.Assistant": {"changelist", "add", "change", "delete", "history"},
    "assistants.OrgPolicy": {"changelist", "add", "change", "delete", "history"},
    "runtime.Thread": {"changelist", "change", "delete", "history"},
    "runtime.Run": {"changelist", "change", "delete", "history"},
    "runtime.Cron": {"changelist", "change", "delete", "history"},
    "runtime.WebhookDelivery": {"changelist", "change", "delete", "history"},
    "credentials.WorkspaceSecret": {"changelist", "add", "change", "delete", "history"},
    "credentials.OAuthProvider": {"changelist", "add", "change", "delete", "history"},
    "credentials.OAuthConnection": {"changelist", "change", "delete", "history"},
    "credentials.OAuthAuthorization": {"changelist", "change", "delete", "history"},
    "mcp_servers.McpServer": {"changelist", "add", "change", "delete", "history"},
    # usage is written by the runtime, read here; budgets are set by the org's admins (and the operator)
    "usage.ModelUsage": {"changelist", "change", "history"},
    "usage.Budget": {"changelist", "add", "change", "delete", "history"},
    "skills.Skill": {"changelist", "add", "change", "delete", "history"},
}
# The operator: every org's rows, and a few models only they see.
OPERATOR_MAY: dict[str, set[str]] = {
    **ADMIN_MAY,
    "auth.Group": set(PAGES),
    "accounts.User": set(PAGES),
    "accounts.ExternalIdentity": {"changelist", "change", "delete", "history"},
    "orgs.Organization": set(PAGES),
    "orgs.OrgSettings": set(PAGES),
}
# Things no admin page may show, whoever looks.
SECRETS = (
    "sk-acme-plaintext",
    "sk-globex-plaintext",
    "client-secret-plaintext",
    "access-token-plaintext",
    "refresh-token-plaintext",
    "code-verifier-plaintext",
    "hook-token",  # a webhook URL's query string may carry a token: the admin shows the URL without it
)


@dataclass(frozen=True)
class Rows:
    acme: dict[str, Model]  # one row per registered model in the org `acme`
    globex: dict[str, Model]  # and in another org
    secrets: tuple[str, ...]  # plaintexts, keys and digests no page may show


def _org_rows(org: Organization, member: User, tag: str) -> tuple[dict[str, Model], tuple[str, ...]]:
    """One row of each registered model in `org`, and the secrets they hold beyond SECRETS."""
    scope = factories.admin_scope(org)
    with scoped(scope):
        key, plaintext = api_key_create(user=member, name=f"{tag} key")
        assistant = assistant_create(graph_id="echo", name=f"{tag} assistant")
        org_policy_set(egress_hosts=[f"{tag}.example.com"])
    secret = factories.secret(org, name=f"{tag.upper()}_SECRET", value=f"sk-{tag}-plaintext")
    provider = factories.provider(org, slug=f"{tag}-idp", client_secret="client-secret-plaintext")
    connection = factories.connection(
        provider, member, access_token="access-token-plaintext", refresh_token="refresh-token-plaintext"
    )
    authorization = OAuthAuthorization.unscoped.create(
        org=org,
        state=f"{tag}-state",
        user=member,
        provider=provider,
        sealed_code_verifier=vault.seal("code-verifier-plaintext", aad=f"{tag}-verifier"),
        redirect_uri="https://app.example.test/callback",
        expires_at=timezone.now() + timedelta(minutes=5),
    )
    thread = Thread.unscoped.create(org=org, owner=member, metadata={"title": f"{tag} thread"})
    run = Run.unscoped.create(org=org, thread=thread, assistant_id=assistant.id, user=member)
    rows: dict[str, Model] = {
        "auth.Group": Group.objects.create(name=f"{tag} group"),
        "accounts.User": member,
        "accounts.ExternalIdentity": ExternalIdentity.objects.create(
            user=member, provider=f"{tag}-sso", issuer=f"https://{tag}.example.test", subject=tag
        ),
        "orgs.Organization": org,
        "orgs.Membership": Membership.unscoped.get(org=org, user=member),
        "orgs.ApiKey": key,
        "orgs.OrgSettings": OrgSettings.unscoped.create(org=org, max_concurrent_runs=3),
        "audit.AuditEvent": AuditEvent.unscoped.filter(org_id=org.id).first(),
        "assistants.Assistant": assistant,
        "assistants.OrgPolicy": OrgPolicy.unscoped.get(org=org),
        "runtime.Thread": thread,
        "runtime.Run": run,
        "runtime.Cron": Cron.unscoped.create(
            org=org, assistant_id=assistant.id, user=member, schedule="0 0 1 1 *", metadata={"t": tag}
        ),
        "runtime.WebhookDelivery": WebhookDelivery.unscoped.create(
            org=org,
            run_id=run.id,
            url=f"https://{tag}.example.test/hook?token=hook-token",
            run_status="success",
        ),
        "credentials.WorkspaceSecret": secret,
        "credentials.OAuthProvider": provider,
        "credentials.OAuthConnection": connection,
        "credentials.OAuthAuthorization": authorization,
        "mcp_servers.McpServer": McpServer.unscoped.create(
            org=org, name=f"{tag}-tools", url=f"https://{tag}.example.test/mcp", oauth_provider=provider
        ),
        "usage.ModelUsage": ModelUsage.unscoped.create(
            org=org,
            run_id=run.id,
            thread_id=thread.id,
            assistant_id=assistant.id,
            user=member,
            model=f"{tag}-model",
            calls=1,
            input_tokens=10,
            output_tokens=5,
            created_at=timezone.now(),
        ),
        "usage.Budget": Budget.unscoped.create(
            org=org, user=member, period="day", metric="tokens", limit=100
        ),
        "skills.Skill": Skill.unscoped.create(
            org=org,
            name=f"{tag}-skill",
            description=f"The {tag} skill.",
            files={"SKILL.md": f"---\nname: {tag}-skill\ndescription: The {tag} skill.\n---\n"},
        ),
    }
    assert all(row is not None for row in rows.values())
    return rows, (plaintext, key.hashed_secret, member.password.split("$")[-1])


@pytest.fixture
def rows(members: dict[str, Any]) -> Rows:
    acme, acme_secrets = _org_rows(members["admin"].org, members["end_user"].user, "acme")
    globex, globex_secrets = _org_rows(members["other_org"].org, members["other_org"].user, "globex")
    return Rows(acme=acme, globex=globex, secrets=SECRETS + acme_secrets + globex_secrets)


def snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every row of every model the admin can write."""
    with system_scope():
        return {
            model._meta.label: list(
                getattr(model, "unscoped", model._default_manager).order_by("pk").values()
            )
            for model in django_admin.site._registry
        }


def url(label: str, page: str, row: Model | None) -> str:
    app, model = label.lower().split(".")
    base = f"/admin/{app}/{model}/"
    if page == "changelist":
        return base
    if page == "add":
        return f"{base}add/"
    assert row is not None
    return f"{base}{row.pk}/{page}/"


def test_every_registered_model_admin_is_in_the_matrix():
    assert sorted(model._meta.label for model in django_admin.site._registry) == sorted(ADMIN_MAY)


@pytest.fixture
def clients(client_for, members) -> dict[str, Client]:
    # a builder who was an org admin: demoted, and still staff (nothing takes `is_staff` back)
    former = user_create(email="former-admin@acme.test", password=PASSWORD)
    membership_ensure(org=members["admin"].org, user=former, role=Role.ADMIN)
    membership_ensure(org=members["admin"].org, user=former, role=Role.BUILDER)
    assert User.objects.get(id=former.id).is_staff
    made = {caller: client_for(caller) for caller in CALLERS if caller != "former_admin"}
    made["former_admin"] = Client()
    made["former_admin"].force_login(former)
    return made


@pytest.mark.parametrize("label", sorted(ADMIN_MAY))
def test_admin_pages(label, clients, rows):
    got: dict[str, str] = {}
    want: dict[str, str] = {}
    shown: list[str] = []
    changed: list[str] = []
    for caller, client in clients.items():
        # when each caller opens each page of the model, for a row of their org and of another
        for page in PAGES:
            for org, row in (("acme", rows.acme[label]), ("globex", rows.globex[label])):
                if page in ("changelist", "add") and org == "globex":
                    continue
                name = f"{caller} {page}" + ("" if page in ("changelist", "add") else f" ({org}'s row)")
                response = client.get(url(label, page, row))
                got[name] = outcome(response)
                want[name] = expected(label, caller, page, org)
                if response.status_code == 200:
                    html = response.content.decode()
                    if page == "changelist":  # each row links to its change page
                        listed = {
                            o
                            for o, r in (("acme", rows.acme), ("globex", rows.globex))
                            if url(label, "change", r[label]) in html
                        }
                        if listed != {"admin": {"acme"}, "operator": {"acme", "globex"}}[caller]:
                            shown.append(f"{name}: lists the rows of {sorted(listed)}")
                    shown += [f"{name}: {s}" for s in rows.secrets if s in html]
                    if caller == "admin" and "globex" in html.lower():
                        shown.append(f"{name}: another org's names")
                if page in ("change", "delete") and got[name] != "ok":
                    # a refused page refuses its form too: posted anyway, it changes nothing
                    with transaction.atomic():
                        before = snapshot()
                        client.post(url(label, page, row), {"post": "yes"} if page == "delete" else {})
                        if snapshot() != before:
                            changed.append(name)
                        transaction.set_rollback(True)
    # then each gets what the matrix says, sees no secret and nothing of another org, and changed nothing
    mismatches = sorted(f"{k}: {got[k]} (want {want[k]})" for k in got if got[k] != want[k])
    assert not mismatches, "\n".join(mismatches)
    assert shown == []
    assert changed == []


def outcome(response: Any) -> str:
    if response.status_code == 200:
        return "ok"
    if response.status_code == 302 and response["Location"].startswith("/admin/login/"):
        return "login"
    if response.status_code == 403 or (response.status_code == 302 and response["Location"] == "/admin/"):
        return "no"  # refused, or (a row the user may not see) sent back to the index as if absent
    return str(response.status_code)


def expected(label: str, caller: str, page: str, org: str) -> str:
    if caller in ("anonymous", "end_user", "viewer", "editor"):
        return "login"
    may = {"operator": OPERATOR_MAY, "admin": ADMIN_MAY}.get(caller, {}).get(label, set())
    if caller == "admin" and org == "globex":
        return "no"
    return "ok" if page in may else "no"
