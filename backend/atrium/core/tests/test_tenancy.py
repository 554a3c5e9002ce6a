from __future__ import annotations

import pytest

from atrium.core.errors import PermissionDeniedError
from atrium.core.tenancy import Role, Scope, ScopeMissingError, scoped, system_scope
from atrium.orgs.models import Membership


def test_org_owned_queries_fail_closed_without_a_scope(admin, outsider):
    with pytest.raises(ScopeMissingError):
        list(Membership.objects.all())


def test_a_user_level_scope_cannot_read_org_owned_rows(admin):
    with scoped(Scope(user_id=admin.user.id)), pytest.raises(ScopeMissingError):
        list(Membership.objects.all())


def test_an_org_scope_sees_only_its_org(admin, editor, outsider):
    with scoped(admin.scope()):
        emails = sorted(m.user.email for m in Membership.objects.all())
    assert emails == ["admin@acme.test", "editor@acme.test"]


def test_another_orgs_row_is_invisible_even_by_primary_key(admin, outsider):
    foreign = Membership.unscoped.get(user=outsider.user)
    with scoped(admin.scope()):
        assert not Membership.objects.filter(pk=foreign.pk).exists()


def test_the_system_scope_sees_every_org(admin, outsider):
    with system_scope():
        assert Membership.objects.count() == 2


def test_roles_are_ordered_viewer_editor_admin():
    assert Role.ADMIN.allows(Role.BUILDER)
    assert Role.BUILDER.allows(Role.VIEWER)
    assert not Role.VIEWER.allows(Role.BUILDER)
    assert not Role.BUILDER.allows(Role.ADMIN)


def test_scope_require_raises_for_a_weaker_role(viewer):
    with pytest.raises(PermissionDeniedError):
        viewer.scope().require(Role.BUILDER)
    viewer.scope().require(Role.VIEWER)


def test_scope_is_reset_after_each_request(client_for, viewer):
    response = client_for("viewer").get("/api/v1/orgs/acme")
    assert response.status_code == 200
    # the autouse fixture asserts no scope is left over after the request
