"""Writes on assistants. Every change creates a new version; the assistant row mirrors the latest."""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max

from atrium.assistants.graphs import available_graph_ids, context_errors, default_assistant_id_for
from atrium.assistants.models import Assistant, AssistantVersion, Audience, OrgPolicy
from atrium.assistants.policy import (
    POLICY_SETTINGS,
    host_patterns_validate,
    secret_names_validate,
    settings_violations,
)
from atrium.assistants.selectors import assistant_approvals, assistant_get, assistant_queryset
from atrium.audit.services import audit_record
from atrium.core.errors import ConflictError, NotFoundError, ValidationFailedError
from atrium.core.run_limits import config_error
from atrium.core.tenancy import Permission, current_scope

_VERSIONED_FIELDS = ("graph_id", "name", "description", "config", "context", "metadata")


def _check_graph(graph_id: str) -> None:
    if graph_id not in available_graph_ids():
        known = ", ".join(sorted(available_graph_ids())) or "none"
        raise ValidationFailedError(
            f"Unknown graph {graph_id!r}; registered graphs: {known}.", code="unknown_graph"
        )


def _check_object(field: str, value: Any) -> None:
    if not isinstance(value, dict):
        raise ValidationFailedError(f"{field} must be a JSON object.", code="invalid_field")


def _check_config(config: dict[str, Any]) -> None:
    problem = config_error(config)
    if problem is not None:
        raise ValidationFailedError(problem, code="invalid_config")


def _check_context(graph_id: str, context: dict[str, Any]) -> None:
    """An assistant's context holds the graph's settings: validate them against its context schema."""
    if not context:
        return
    problem = context_errors(graph_id, context)
    if problem is not None:
        raise ValidationFailedError(problem, code="invalid_context")


def assistant_settings_check(
    *, graph_id: str, context: dict[str, Any], config: dict[str, Any], granted: list[str]
) -> None:
    """Everything a save checks of an assistant's settings, without saving (the admin's form asks)."""
    _check_graph(graph_id)
    _check_object("config", config)
    _check_object("context", context)
    _check_context(graph_id, context)
    _check_policy(context=context, config=config, granted=granted)


def _check_policy(*, context: dict[str, Any], config: dict[str, Any], granted: list[str]) -> None:
    """Settings may only reach what the org's admins approved (atrium.assistants.policy): a 422 naming
    the first setting that reaches past it."""
    layers = (context, config.get("configurable"))
    if not any(isinstance(layer, dict) and any(k in layer for k in POLICY_SETTINGS) for layer in layers):
        return  # nothing reaches out: no need to read the approvals
    problems = settings_violations(layers, assistant_approvals(granted_secrets=granted))
    if problems:
        raise ValidationFailedError(problems[0] + ".", code="policy_violation")


def _snapshot(assistant: Assistant) -> AssistantVersion:
    return AssistantVersion.objects.create(
        org_id=assistant.org_id,
        assistant=assistant,
        version=assistant.version,
        **{field: getattr(assistant, field) for field in _VERSIONED_FIELDS},
    )


# Orgs whose default assistants are known to exist, so hot paths skip the check; entries expire so a
# graph added to langgraph.json gets its assistant without a restart.
_DEFAULTS_CHECKED: dict[uuid.UUID, float] = {}
_DEFAULTS_TTL_SECONDS = 60.0


def assistants_ensure_defaults(*, contexts: Mapping[str, dict[str, Any]] | None = None) -> None:
    """Create the current org's default assistant for every registered graph that lacks one.

    Idempotent and race-free: the ids are deterministic and `ignore_conflicts` lets a concurrent
    creator win. Runs with the scope of any member (it is a system action, not a user edit).
    `contexts` gives some graphs' new default assistants their settings (the demo seed's); one the
    graph's context schema refuses is left out, and existing assistants are never changed.
    """
    scope = current_scope()
    now = time.monotonic()
    if contexts is None and _DEFAULTS_CHECKED.get(scope.org, 0.0) > now:
        return
    graph_ids = sorted(available_graph_ids())
    wanted = {default_assistant_id_for(scope.org, g): g for g in graph_ids}
    existing = set(Assistant.objects.filter(id__in=wanted).values_list("id", flat=True))
    missing = [(assistant_id, g) for assistant_id, g in wanted.items() if assistant_id not in existing]
    if not missing:
        _DEFAULTS_CHECKED[scope.org] = now + _DEFAULTS_TTL_SECONDS
        return
    settings_of = {
        g: context
        for g, context in (contexts or {}).items()
        if g in graph_ids and context_errors(g, context) is None
    }
    with transaction.atomic():
        created = Assistant.objects.bulk_create(
            [
                Assistant(
                    id=assistant_id,
                    org_id=scope.org,
                    graph_id=g,
                    name=g,
                    context=settings_of.get(g, {}),
                    metadata={"created_by": "system"},
                    version=1,
                )
                for assistant_id, g in missing
            ],
            ignore_conflicts=True,
        )
        AssistantVersion.objects.bulk_create(
            [
                AssistantVersion(
                    org_id=scope.org,
                    assistant_id=a.id,
                    version=1,
                    graph_id=a.graph_id,
                    name=a.name,
                    context=a.context,
                    metadata=a.metadata,
                )
                for a in created
            ],
            ignore_conflicts=True,
        )


def assistant_create(
    *,
    graph_id: str,
    name: str = "Untitled",
    description: str | None = None,
    config: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    assistant_id: uuid.UUID | None = None,
    if_exists: str = "raise",
    granted_secrets: list[str] | None = None,
) -> Assistant:
    """`granted_secrets` (an admin's grant, given at creation) needs the admin's permission."""
    scope = current_scope()
    scope.require(Permission.CONFIGURE_AGENTS)
    if granted_secrets:
        scope.require(Permission.MANAGE_ORG)
    _check_graph(graph_id)
    values = {"config": config or {}, "context": context or {}, "metadata": metadata or {}}
    for field, value in values.items():
        _check_object(field, value)
    _check_config(values["config"])
    _check_context(graph_id, values["context"])
    _check_policy(context=values["context"], config=values["config"], granted=granted_secrets or [])
    if assistant_id is not None and if_exists == "do_nothing":
        existing = assistant_queryset().filter(id=assistant_id).first()  # what this caller may see
        if existing is not None:
            return existing
    try:
        with transaction.atomic():
            assistant = Assistant.objects.create(
                id=assistant_id or uuid.uuid4(),
                org_id=scope.org,
                graph_id=graph_id,
                name=name,
                description=description,
                created_by_id=scope.user_id,
                version=1,
                granted_secrets=granted_secrets or [],
                **values,
            )
            _snapshot(assistant)
    except IntegrityError as exc:
        # The id may belong to another org: say "exists" without saying whose.
        raise ConflictError("An assistant with this id already exists.", code="assistant_exists") from exc
    return assistant


def assistant_update(
    *,
    assistant_id: uuid.UUID | str,
    graph_id: str | None = None,
    name: str | None = None,
    description: str | None = None,
    config: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
) -> Assistant:
    """Apply a partial update as a new version. `metadata` is shallow-merged, the others replace."""
    scope = current_scope()
    scope.require(Permission.CONFIGURE_AGENTS)
    if graph_id is not None:
        _check_graph(graph_id)
    for field, value in (("config", config), ("context", context), ("metadata", metadata)):
        if value is not None:
            _check_object(field, value)
    if config is not None:
        _check_config(config)
    with transaction.atomic():
        assistant = _assistant_for_update(assistant_id)
        if graph_id is not None:
            assistant.graph_id = graph_id
        if name is not None:
            assistant.name = name
        if description is not None:
            assistant.description = description
        if config is not None:
            assistant.config = config
        if context is not None:
            assistant.context = context
        if metadata is not None:
            assistant.metadata = {**assistant.metadata, **metadata}
        if context is not None or graph_id is not None:
            _check_context(assistant.graph_id, assistant.context)
        _check_policy(context=assistant.context, config=assistant.config, granted=assistant.granted_secrets)
        latest = AssistantVersion.objects.filter(assistant=assistant).aggregate(v=Max("version"))["v"] or 0
        assistant.version = latest + 1
        assistant.save()
        _snapshot(assistant)
    return assistant


def assistant_set_latest(*, assistant_id: uuid.UUID | str, version: int) -> Assistant:
    scope = current_scope()
    scope.require(Permission.CONFIGURE_AGENTS)
    with transaction.atomic():
        assistant = _assistant_for_update(assistant_id)
        snapshot = AssistantVersion.objects.filter(assistant=assistant, version=version).first()
        if snapshot is None:
            raise NotFoundError(f"Assistant version {version} not found.")
        for field in _VERSIONED_FIELDS:
            setattr(assistant, field, getattr(snapshot, field))
        _check_policy(context=assistant.context, config=assistant.config, granted=assistant.granted_secrets)
        assistant.version = snapshot.version
        assistant.save()
    return assistant


def assistant_delete(*, assistant_id: uuid.UUID | str) -> None:
    scope = current_scope()
    scope.require(Permission.CONFIGURE_AGENTS)
    assistant = assistant_get(assistant_id=assistant_id)
    assistant.delete()


def _assistant_for_update(assistant_id: uuid.UUID | str) -> Assistant:
    assistant_get(assistant_id=assistant_id)  # the same 404 for malformed, missing and other-org ids
    return Assistant.objects.select_for_update().get(id=assistant_id)


def assistant_resolve(*, assistant_id: str) -> Assistant:
    """An assistant by UUID, or the org's default assistant of a graph by the graph's id.

    The Agent Server API accepts a graph id wherever it takes an assistant id; `useStream` relies on
    that ("agent" means the default assistant of the graph `agent`).
    """
    return assistant_get(assistant_id=assistant_id_resolve(assistant_id=assistant_id))


def assistant_id_resolve(*, assistant_id: str) -> uuid.UUID:
    """The id `assistant_resolve` would fetch, without fetching it (the run hot path reads the row in
    its own statement). A graph id must name a registered graph; its default assistant is ensured."""
    try:
        return uuid.UUID(str(assistant_id))
    except ValueError:
        if assistant_id not in available_graph_ids():
            raise ValidationFailedError(
                f"Invalid assistant: '{assistant_id}'. Must be either a valid assistant UUID or one of the "
                f"registered graphs: {sorted(available_graph_ids())}",
                code="invalid_assistant",
            ) from None
        assistants_ensure_defaults()
        return default_assistant_id_for(current_scope().org, assistant_id)


def assistant_grants_set(*, assistant_id: uuid.UUID | str, secrets: list[str], audience: str) -> Assistant:
    """An admin's grants: which workspace secrets the assistant's runs receive, and who may use it."""
    scope = current_scope()
    scope.require(Permission.MANAGE_ORG)
    try:
        names = secret_names_validate(secrets)
    except ValueError as exc:
        raise ValidationFailedError(f"secrets: {exc}.", code="invalid_field") from exc
    if audience not in Audience.values:
        raise ValidationFailedError(f"audience must be one of {Audience.values}.", code="invalid_field")
    with transaction.atomic():
        assistant = _assistant_for_update(assistant_id)
        before = {"secrets": assistant.granted_secrets, "audience": assistant.audience}
        assistant.granted_secrets = names
        assistant.audience = audience
        assistant.save(update_fields=["granted_secrets", "audience", "updated_at"])
        audit_record(
            action="assistant.grants_change",
            target_type="assistant",
            target_id=assistant.id,
            data={"before": before, "after": {"secrets": names, "audience": audience}},
        )
    return assistant


def org_policy_set(*, egress_hosts: list[str]) -> OrgPolicy:
    """An admin's approvals for every assistant of the org: the hosts sandboxes may reach."""
    scope = current_scope()
    scope.require(Permission.MANAGE_ORG)
    try:
        hosts = host_patterns_validate(egress_hosts)
    except ValueError as exc:
        raise ValidationFailedError(f"egress_hosts: {exc}.", code="invalid_field") from exc
    with transaction.atomic():
        policy, _ = OrgPolicy.objects.select_for_update().get_or_create(org_id=scope.org)
        before = policy.egress_hosts
        policy.egress_hosts = hosts
        policy.save()
        audit_record(
            action="policy.change",
            target_type="policy",
            target_id=policy.id,
            data={"before": before, "after": hosts},
        )
    return policy
