"""Writes on organisations, memberships and API keys."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify

from atrium.accounts.models import User
from atrium.accounts.services import user_get_or_create
from atrium.audit.services import audit_record
from atrium.core.errors import ConflictError, NotFoundError, ValidationFailedError
from atrium.core.tenancy import Permission, Role, current_scope
from atrium.orgs.access import access_epoch, access_epoch_known, access_revoked
from atrium.orgs.keys import generate_key, hash_key, key_matches, parse_prefix, webhook_secret
from atrium.orgs.models import ApiKey, Membership, Organization, OrgSettings

# last_used_at is informative; writing it on every request would put a row update on the hot path.
API_KEY_TOUCH_INTERVAL = timedelta(minutes=1)
# Verified keys, per process, for ATRIUM_API_KEY_CACHE_SECONDS: keyed by the secret's digest (never the
# secret), holding the key, the membership it acts through and the access epoch it was verified under.
# Revoking a key, or changing or removing its membership, clears this process's entries at once and
# other processes' within a second (atrium.orgs.access).
_VERIFIED: dict[str, tuple[float, int, ApiKey, Membership]] = {}
_VERIFIED_LOCK = threading.Lock()
_VERIFIED_MAX = 10_000


def api_key_cache_clear() -> None:
    with _VERIFIED_LOCK:
        _VERIFIED.clear()


def _grant_admin_site(user: User, role: Role) -> None:
    """Org admins manage their org's rows in the Django admin, which requires `is_staff`."""
    if role == Role.ADMIN and not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])


def org_create(*, creator: User, name: str, slug: str | None = None) -> Organization:
    """Create an organisation whose first admin is its creator."""
    slug = slugify(slug or name)[:64]
    if not slug:
        raise ValidationFailedError(
            "An organisation needs a name made of letters or digits.", code="invalid_slug"
        )
    try:
        with transaction.atomic():
            org = Organization.objects.create(slug=slug, name=name.strip() or slug)
            Membership.unscoped.create(org=org, user=creator, role=Role.ADMIN)
            _grant_admin_site(creator, Role.ADMIN)
            audit_record(
                action="org.create", target_type="org", target_id=org.id, org_id=org.id, actor_id=creator.id
            )
    except IntegrityError as exc:
        raise ConflictError(f"The organisation slug {slug!r} is taken.", code="slug_taken") from exc
    return org


def org_update(*, name: str) -> Organization:
    scope = current_scope()
    scope.require(Permission.MANAGE_ORG)
    org = Organization.objects.get(id=scope.org)
    with transaction.atomic():
        org.name = name.strip() or org.name
        org.save(update_fields=["name", "updated_at"])
        audit_record(action="org.update", target_type="org", target_id=org.id, data={"name": org.name})
    return org


def org_ensure(*, slug: str, name: str) -> Organization:
    """Idempotent create, for seeding and operator commands."""
    org, _ = Organization.objects.get_or_create(slug=slug, defaults={"name": name})
    return org


def membership_ensure(*, org: Organization, user: User, role: Role) -> Membership:
    """Idempotent: create the membership or set its role. Operator commands only (no role check)."""
    with transaction.atomic():
        membership, _ = Membership.unscoped.update_or_create(org=org, user=user, defaults={"role": role})
        _grant_admin_site(user, role)
    return membership


def membership_add(*, email: str, role: Role, name: str = "") -> Membership:
    """Add a person to the current org, creating their account (without a password) if needed."""
    scope = current_scope()
    scope.require(Permission.MANAGE_ORG)
    user, _ = user_get_or_create(email=email, name=name)
    try:
        with transaction.atomic():
            membership = Membership.objects.create(org_id=scope.org, user=user, role=role)
            _grant_admin_site(user, role)
            audit_record(
                action="membership.add",
                target_type="membership",
                target_id=membership.id,
                data={"email": user.email, "role": role.value},
            )
            return membership
    except IntegrityError as exc:
        raise ConflictError(f"{user.email} is already a member.", code="already_member") from exc


def _lock_admins() -> list[Membership]:
    # Locking every admin row serialises concurrent demotions, so two admins cannot demote each other
    # and leave the org with none.
    return list(Membership.objects.select_for_update().filter(role=Role.ADMIN).order_by("id"))


def membership_update_role(*, membership_id: str, role: Role) -> Membership:
    scope = current_scope()
    scope.require(Permission.MANAGE_ORG)
    with transaction.atomic():
        admins = _lock_admins()
        membership = _membership_for_update(membership_id)
        if membership.role == Role.ADMIN and role != Role.ADMIN and len(admins) <= 1:
            raise ConflictError("An organisation needs at least one admin.", code="last_admin")
        previous = membership.role
        membership.role = role
        membership.save(update_fields=["role", "updated_at"])
        _grant_admin_site(membership.user, role)
        audit_record(
            action="membership.role_change",
            target_type="membership",
            target_id=membership.id,
            data={"email": membership.user.email, "from": previous, "to": Role(role).value},
        )
        access_revoked()
    api_key_cache_clear()
    return membership


# What other apps undo when a member leaves, inside the removal's transaction (runtime cancels the
# member's active runs): registered by those apps' AppConfig.ready, since orgs may not import them
# (imports point down). Explicit steps, not signals: a failing step rolls the removal back.
class MemberRemovalStep(Protocol):
    def __call__(self, *, membership: Membership) -> object: ...


_member_removal_steps: list[MemberRemovalStep] = []


def member_removal_step_register(step: MemberRemovalStep) -> None:
    if step not in _member_removal_steps:
        _member_removal_steps.append(step)


def membership_remove(*, membership_id: str, via: str = "") -> None:
    """Remove a member from the current org and everything they still had going in it, in one
    transaction: their API keys of the org are revoked, their pending and running runs cancelled, and
    their open streams end (atrium.orgs.access)."""
    scope = current_scope()
    scope.require(Permission.MANAGE_ORG)
    with transaction.atomic():
        admins = _lock_admins()
        membership = _membership_for_update(membership_id)
        if membership.role == Role.ADMIN and len(admins) <= 1:
            raise ConflictError("An organisation needs at least one admin.", code="last_admin")
        revoked = ApiKey.objects.filter(user_id=membership.user_id, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        for step in _member_removal_steps:
            step(membership=membership)
        audit_record(
            action="membership.remove",
            target_type="membership",
            target_id=membership.id,
            data={
                "email": membership.user.email,
                "role": membership.role,
                "api_keys_revoked": revoked,
                **({"via": via} if via else {}),
            },
        )
        membership.delete()
        access_revoked()
    api_key_cache_clear()


def _membership_for_update(membership_id: str) -> Membership:
    try:
        return Membership.objects.select_for_update().get(id=membership_id)
    except (Membership.DoesNotExist, ValueError, ValidationFailedError, DjangoValidationError) as exc:
        raise NotFoundError("Member not found.") from exc


def api_key_create(*, user: User, name: str) -> tuple[ApiKey, str]:
    """Create a key acting as `user` in the current org. The plaintext is returned once, never stored."""
    scope = current_scope()
    scope.require(Permission.MANAGE_ORG)
    if not Membership.objects.filter(user=user).exists():
        raise ValidationFailedError(
            f"{user.email} is not a member of this organisation.", code="not_a_member"
        )
    generated = generate_key()
    with transaction.atomic():
        key = ApiKey.objects.create(
            org_id=scope.org,
            user=user,
            name=name.strip() or "API key",
            prefix=generated.prefix,
            hashed_secret=generated.hashed,
        )
        audit_record(
            action="api_key.create",
            target_type="api_key",
            target_id=key.id,
            data={"name": key.name, "prefix": key.prefix, "user": user.email},
        )
    return key, generated.plaintext


def api_key_revoke(*, key_id: str, via: str = "") -> ApiKey:
    scope = current_scope()
    scope.require(Permission.MANAGE_ORG)
    try:
        key = ApiKey.objects.get(id=key_id)
    except (ApiKey.DoesNotExist, ValueError, DjangoValidationError) as exc:
        raise NotFoundError("API key not found.") from exc
    if key.revoked_at is None:
        with transaction.atomic():
            key.revoked_at = timezone.now()
            key.save(update_fields=["revoked_at"])
            audit_record(
                action="api_key.revoke",
                target_type="api_key",
                target_id=key.id,
                data={"name": key.name, "prefix": key.prefix, **({"via": via} if via else {})},
            )
            access_revoked()
    api_key_cache_clear()
    return key


def api_key_authenticate(*, plaintext: str) -> tuple[ApiKey, Membership] | None:
    """Find the active key and the membership it acts through, or None.

    Runs before any scope exists (it is what establishes one), hence the unscoped managers. A key
    whose user has left the org, or is deactivated, authenticates nobody.
    """
    prefix = parse_prefix(plaintext)
    if prefix is None:
        return None
    ttl = settings.ATRIUM_API_KEY_CACHE_SECONDS
    epoch = access_epoch() if ttl > 0 else 0  # read before the lookup: a revocation meanwhile voids it
    cached = api_key_cached(plaintext=plaintext)
    if cached is not None:
        return cached
    found = _api_key_lookup(plaintext=plaintext, prefix=prefix)
    if found is not None and ttl > 0:
        with _VERIFIED_LOCK:
            if len(_VERIFIED) >= _VERIFIED_MAX:
                _VERIFIED.clear()
            _VERIFIED[hash_key(plaintext)] = (time.monotonic() + ttl, epoch, *found)
    return found


def api_key_cached(*, plaintext: str) -> tuple[ApiKey, Membership] | None:
    """`api_key_authenticate`'s answer if this process verified the key within the cache's TTL and no
    access was taken away since (as far as this process last read the access epoch), else None. No
    I/O: async callers read the epoch first (`access_epoch_async`)."""
    if settings.ATRIUM_API_KEY_CACHE_SECONDS <= 0:
        return None
    cached = _VERIFIED.get(hash_key(plaintext))
    if cached is not None and cached[0] > time.monotonic() and cached[1] == access_epoch_known():
        return cached[2], cached[3]
    return None


def _api_key_lookup(*, plaintext: str, prefix: str) -> tuple[ApiKey, Membership] | None:
    key = ApiKey.unscoped.select_related("user").filter(prefix=prefix, revoked_at__isnull=True).first()
    if key is None or not key_matches(plaintext, key.hashed_secret) or not key.user.is_active:
        return None
    membership = (
        Membership.unscoped.select_related("org").filter(org_id=key.org_id, user_id=key.user_id).first()
    )
    if membership is None:
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > API_KEY_TOUCH_INTERVAL:
        ApiKey.unscoped.filter(id=key.id).update(last_used_at=now)
    return key, membership


def org_settings_ensure() -> OrgSettings:
    """The current org's settings row, created with the defaults on first use."""
    scope = current_scope()
    settings_row, _ = OrgSettings.objects.get_or_create(org_id=scope.org)
    return settings_row


def org_webhook_secret(*, org_id: str, generation: int) -> str:
    return webhook_secret(
        signing_key=settings.ATRIUM_WEBHOOK_SIGNING_KEY, org_id=str(org_id), generation=generation
    )


def org_webhook_secret_reveal() -> str:
    """The org's webhook signing secret, for an admin configuring a receiver. Every read is audited."""
    scope = current_scope()
    scope.require(Permission.MANAGE_ORG)
    with transaction.atomic():
        row = org_settings_ensure()
        audit_record(action="webhook_secret.read", target_type="org", target_id=scope.org)
    return org_webhook_secret(org_id=str(scope.org), generation=row.webhook_secret_generation)


def org_webhook_secret_rotate() -> str:
    """Replace the org's webhook signing secret; deliveries signed from now on use the new one."""
    scope = current_scope()
    scope.require(Permission.MANAGE_ORG)
    with transaction.atomic():
        row = org_settings_ensure()
        OrgSettings.objects.filter(id=row.id).update(
            webhook_secret_generation=F("webhook_secret_generation") + 1
        )
        row.refresh_from_db()
        audit_record(
            action="webhook_secret.rotate",
            target_type="org",
            target_id=scope.org,
            data={"generation": row.webhook_secret_generation},
        )
    return org_webhook_secret(org_id=str(scope.org), generation=row.webhook_secret_generation)


def sso_membership_ensure(*, org_slug: str, user: User, role: Role) -> Membership | None:
    """The membership a single sign-on provider grants: created with `role` when missing; an existing
    one is kept as it is (sign-in never lowers, nor raises, a role an admin set). None when the org
    does not exist."""
    org = Organization.objects.filter(slug=org_slug).first()
    if org is None:
        return None
    with transaction.atomic():
        membership, created = Membership.unscoped.get_or_create(org=org, user=user, defaults={"role": role})
        if created:
            _grant_admin_site(user, role)
            audit_record(
                action="membership.add",
                target_type="membership",
                target_id=membership.id,
                data={"email": user.email, "role": role.value, "via": "sso"},
                org_id=org.id,
                actor_id=user.id,
            )
    return membership
