from __future__ import annotations

import pytest

from atrium.assistants.models import Assistant, AssistantVersion
from atrium.assistants.selectors import assistant_get, assistant_list, assistant_version_list
from atrium.assistants.services import assistant_create, assistant_set_latest, assistant_update
from atrium.core.errors import ConflictError, NotFoundError, ValidationFailedError
from atrium.core.tenancy import scoped


def test_create_writes_version_one(editor):
    with scoped(editor.scope()):
        assistant = assistant_create(graph_id="echo", name="Helper", metadata={"team": "a"})
        versions = list(assistant_version_list(assistant_id=assistant.id))
    assert assistant.version == 1
    assert [(v.version, v.name, v.metadata) for v in versions] == [(1, "Helper", {"team": "a"})]
    assert assistant.created_by_id == editor.user.id


def test_unknown_graph_is_a_validation_error_that_names_it(editor):
    with scoped(editor.scope()), pytest.raises(ValidationFailedError, match="'nope'"):
        assistant_create(graph_id="nope")
    assert Assistant.unscoped.count() == 0


def test_update_makes_a_new_version_and_merges_metadata(editor):
    with scoped(editor.scope()):
        assistant = assistant_create(graph_id="echo", metadata={"a": 1, "b": 2})
        updated = assistant_update(assistant_id=assistant.id, name="Renamed", metadata={"b": 3, "c": None})
        versions = [v.version for v in assistant_version_list(assistant_id=assistant.id)]
    assert updated.version == 2
    assert updated.name == "Renamed"
    assert updated.metadata == {"a": 1, "b": 3, "c": None}
    assert versions == [2, 1]


def test_set_latest_restores_an_old_version_and_the_next_update_counts_on(editor):
    with scoped(editor.scope()):
        assistant = assistant_create(graph_id="echo", name="v1")
        assistant_update(assistant_id=assistant.id, name="v2")
        restored = assistant_set_latest(assistant_id=assistant.id, version=1)
        assert (restored.name, restored.version) == ("v1", 1)
        after = assistant_update(assistant_id=assistant.id, name="v3")
    assert after.version == 3


def test_set_latest_to_a_missing_version_is_404(editor):
    with scoped(editor.scope()):
        assistant = assistant_create(graph_id="echo")
        with pytest.raises(NotFoundError):
            assistant_set_latest(assistant_id=assistant.id, version=9)


def test_another_orgs_assistant_is_not_found(editor, outsider):
    with scoped(outsider.scope()):
        foreign = assistant_create(graph_id="echo")
    with scoped(editor.scope()):
        with pytest.raises(NotFoundError):
            assistant_get(assistant_id=foreign.id)
        with pytest.raises(NotFoundError):
            assistant_update(assistant_id=foreign.id, name="hijack")
        assert list(assistant_list()) == []
    assert Assistant.unscoped.get(id=foreign.id).name == "Untitled"


def test_malformed_ids_are_404_not_500(editor):
    with scoped(editor.scope()), pytest.raises(NotFoundError):
        assistant_get(assistant_id="not-a-uuid")


def test_reusing_an_id_is_a_conflict_and_do_nothing_returns_the_existing_one(editor):
    with scoped(editor.scope()):
        first = assistant_create(graph_id="echo", name="First")
        with pytest.raises(ConflictError):
            assistant_create(graph_id="echo", assistant_id=first.id)
        same = assistant_create(graph_id="echo", assistant_id=first.id, if_exists="do_nothing")
    assert same.id == first.id
    assert AssistantVersion.unscoped.count() == 1


def test_non_object_config_is_rejected(editor):
    with scoped(editor.scope()), pytest.raises(ValidationFailedError, match="config"):
        assistant_create(graph_id="echo", config=["not", "an", "object"])  # type: ignore[arg-type]


def test_context_is_validated_against_the_graphs_context_schema(editor):
    with scoped(editor.scope()):
        with pytest.raises(ValidationFailedError, match=r"^context\.model_call_limit_per_run: "):
            assistant_create(graph_id="agent", context={"model_call_limit_per_run": "lots"})
        with pytest.raises(ValidationFailedError, match=r"^context\.temprature: not a setting"):
            assistant_create(graph_id="agent", context={"temprature": 0.2})
        assistant = assistant_create(
            graph_id="agent", context={"model_call_limit_per_run": 5, "model": "offline"}
        )
        with pytest.raises(ValidationFailedError, match=r"^context\.user_memory: "):
            assistant_update(assistant_id=assistant.id, context={"user_memory": "everything"})
    assert Assistant.unscoped.get(id=assistant.id).context == {
        "model_call_limit_per_run": 5,
        "model": "offline",
    }
    assert AssistantVersion.unscoped.filter(assistant_id=assistant.id).count() == 1
