from __future__ import annotations

import time

import pytest
from django.utils import timezone

from atrium.core.errors import ConflictError, PermissionDeniedError
from atrium.core.tenancy import Role, scoped
from atrium.orgs.models import ApiKey, Membership, Organization
from atrium.orgs.services import (
    api_key_authenticate,
    api_key_create,
    api_key_revoke,
    membership_add,
    membership_remove,
    membership_update_role,
    org_create,
)


def test_org_create_makes_the_creator_its_admin_with_admin_site_access(viewer):
    org = org_create(creator=viewer.user, name="New Co")
    assert org.slug == "new-co"
    membership = Membership.unscoped.get(org=org, user=viewer.user)
    assert membership.role == Role.ADMIN
    viewer.user.refresh_from_db()
    assert viewer.user.is_staff is True


def test_org_create_with_a_taken_slug_is_a_conflict_and_writes_nothing(admin):
    with pytest.raises(ConflictError):
        org_create(creator=admin.user, name="Acme", slug="acme")
    assert Organization.objects.filter(slug="acme").count() == 1


def test_membership_add_creates_the_user_without_a_password(admin):
    with scoped(admin.scope()):
        membership = membership_add(email="New.Person@Acme.test", role=Role.BUILDER)
    assert membership.user.email == "new.person@acme.test"
    assert membership.user.has_usable_password() is False
    assert membership.role == Role.BUILDER


def test_membership_add_twice_is_a_conflict(admin, editor):
    with scoped(admin.scope()), pytest.raises(ConflictError):
        membership_add(email="editor@acme.test", role=Role.VIEWER)


def test_editors_cannot_manage_members(editor, viewer):
    with scoped(editor.scope()), pytest.raises(PermissionDeniedError):
        membership_add(email="x@acme.test", role=Role.VIEWER)
    assert not Membership.unscoped.filter(user__email="x@acme.test").exists()


def test_the_last_admin_cannot_be_demoted_or_removed(admin):
    membership = Membership.unscoped.get(user=admin.user)
    with scoped(admin.scope()):
        with pytest.raises(ConflictError):
            membership_update_role(membership_id=str(membership.id), role=Role.VIEWER)
        with pytest.raises(ConflictError):
            membership_remove(membership_id=str(membership.id))
    membership.refresh_from_db()
    assert membership.role == Role.ADMIN


def test_an_admin_can_be_demoted_when_another_admin_remains(admin, editor):
    editor_membership = Membership.unscoped.get(user=editor.user)
    admin_membership = Membership.unscoped.get(user=admin.user)
    with scoped(admin.scope()):
        membership_update_role(membership_id=str(editor_membership.id), role=Role.ADMIN)
        membership_update_role(membership_id=str(admin_membership.id), role=Role.VIEWER)
    admin_membership.refresh_from_db()
    assert admin_membership.role == Role.VIEWER


def test_api_key_is_shown_once_and_stored_only_as_a_digest(admin, editor):
    with scoped(admin.scope()):
        key, plaintext = api_key_create(user=editor.user, name="ci")
    assert plaintext.startswith(f"atr_{key.prefix}_")
    stored = ApiKey.unscoped.get(id=key.id)
    assert plaintext not in stored.hashed_secret
    assert len(stored.hashed_secret) == 64


def test_api_key_authenticates_as_its_membership(admin, editor):
    with scoped(admin.scope()):
        key, plaintext = api_key_create(user=editor.user, name="ci")
    found = api_key_authenticate(plaintext=plaintext)
    assert found is not None
    assert found[0].id == key.id
    assert found[1].role == Role.BUILDER
    assert ApiKey.unscoped.get(id=key.id).last_used_at is not None


@pytest.mark.parametrize("tamper", ["", "atr_x_y", "nope", "atr_000000000000_wrong"])
def test_malformed_or_wrong_keys_authenticate_nobody(tamper, admin):
    assert api_key_authenticate(plaintext=tamper) is None


def test_a_revoked_key_authenticates_nobody(admin, editor):
    with scoped(admin.scope()):
        key, plaintext = api_key_create(user=editor.user, name="ci")
        api_key_revoke(key_id=str(key.id))
    assert api_key_authenticate(plaintext=plaintext) is None


def test_a_verified_key_is_trusted_without_queries_until_its_cache_entry_expires(
    admin, editor, django_assert_num_queries, settings, monkeypatch
):
    settings.ATRIUM_API_KEY_CACHE_SECONDS = 5
    with scoped(admin.scope()):
        key, plaintext = api_key_create(user=editor.user, name="ci")
    assert api_key_authenticate(plaintext=plaintext) is not None
    with django_assert_num_queries(0):
        cached = api_key_authenticate(plaintext=plaintext)
    assert cached is not None
    assert cached[0].id == key.id
    # A revocation made by another process (a direct write here) applies once the entry expires.
    ApiKey.unscoped.filter(id=key.id).update(revoked_at=timezone.now())
    now = time.monotonic()
    monkeypatch.setattr(time, "monotonic", lambda: now + 6)
    assert api_key_authenticate(plaintext=plaintext) is None


def test_revoking_a_key_or_demoting_its_member_applies_at_once_in_the_process(admin, editor, settings):
    settings.ATRIUM_API_KEY_CACHE_SECONDS = 60
    with scoped(admin.scope()):
        key, plaintext = api_key_create(user=editor.user, name="ci")
        assert api_key_authenticate(plaintext=plaintext) is not None
        membership_update_role(
            membership_id=str(Membership.objects.get(user=editor.user).id), role=Role.VIEWER
        )
        found = api_key_authenticate(plaintext=plaintext)
        assert found is not None
        assert found[1].role == Role.VIEWER
        api_key_revoke(key_id=str(key.id))
    assert api_key_authenticate(plaintext=plaintext) is None


def test_with_no_cache_every_request_looks_the_key_up(admin, editor, django_assert_num_queries, settings):
    settings.ATRIUM_API_KEY_CACHE_SECONDS = 0
    with scoped(admin.scope()):
        _, plaintext = api_key_create(user=editor.user, name="ci")
    assert api_key_authenticate(plaintext=plaintext) is not None
    with django_assert_num_queries(2):
        assert api_key_authenticate(plaintext=plaintext) is not None


def test_removing_a_member_revokes_their_keys(admin, editor):
    with scoped(admin.scope()):
        _, plaintext = api_key_create(user=editor.user, name="ci")
        membership_remove(membership_id=str(Membership.objects.get(user=editor.user).id))
    assert api_key_authenticate(plaintext=plaintext) is None


def test_keys_cannot_be_created_for_non_members(admin, outsider):
    from atrium.core.errors import ValidationFailedError

    with scoped(admin.scope()), pytest.raises(ValidationFailedError):
        api_key_create(user=outsider.user, name="x")
    assert ApiKey.unscoped.count() == 0
