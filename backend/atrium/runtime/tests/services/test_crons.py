"""Cron services: schedules in their timezone, create and update rules, and the exactly-once tick."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from conftest import Member
from django.db import connection
from django.utils import timezone

from atrium.accounts.services import user_create
from atrium.core.errors import AtriumError, NotFoundError, PermissionDeniedError, ValidationFailedError
from atrium.core.tenancy import Role, scoped, system_scope
from atrium.orgs.models import Membership
from atrium.orgs.services import membership_ensure
from atrium.runtime.models import Cron, Run, Thread
from atrium.runtime.services import crons as services
from atrium.runtime.services.crons import cron_claim_due, cron_fire, cron_tick, next_run_after
from atrium.runtime.services.threads import thread_create

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def editor2(org) -> Member:
    user = user_create(email="editor2@acme.test", password="a-long-test-password")
    membership_ensure(org=org, user=user, role=Role.BUILDER)
    return Member(user=user, org=org, role=Role.BUILDER)


@pytest.fixture
def no_broker(monkeypatch) -> list[str]:
    """Runs committed by a tick would be sent to the broker: record them instead."""
    sent: list[str] = []
    monkeypatch.setattr("atrium.runtime.dispatch.enqueue_run", lambda run_id, delay=0: sent.append(run_id))
    monkeypatch.setattr("atrium.runtime.dispatch.announce_run", lambda run_id, thread_id: None)
    return sent


def new_thread(member: Member) -> Thread:
    with scoped(member.scope()):
        thread, _ = thread_create()
    return thread


def new_cron(member: Member, **kwargs) -> Cron:
    kwargs.setdefault("assistant_id", "echo")
    kwargs.setdefault("schedule", "*/5 * * * *")
    kwargs.setdefault("payload", {"input": {"messages": []}})
    with scoped(member.scope()):
        return services.cron_create(**kwargs)


def make_due(cron: Cron, at: datetime = NOW - timedelta(minutes=1)) -> None:
    Cron.unscoped.filter(id=cron.id).update(next_run_date=at)


def reload(cron: Cron) -> Cron:
    return Cron.unscoped.get(id=cron.id)


# --- schedules -----------------------------------------------------------------------------------


def test_the_next_run_is_read_in_the_crons_timezone():
    nine_daily = "0 9 * * *"
    assert next_run_after(schedule=nine_daily, timezone="UTC", after=NOW) == datetime(
        2026, 1, 16, 9, tzinfo=UTC
    )
    # 9:00 in New York is 14:00 UTC in winter (EST) and 13:00 UTC in summer (EDT) ...
    assert next_run_after(schedule=nine_daily, timezone="America/New_York", after=NOW) == datetime(
        2026, 1, 15, 14, tzinfo=UTC
    )
    summer = datetime(2026, 7, 15, 12, tzinfo=UTC)
    assert next_run_after(schedule=nine_daily, timezone="America/New_York", after=summer) == datetime(
        2026, 7, 15, 13, tzinfo=UTC
    )
    # ... including across the night the clocks change (8 March 2026)
    before_change = datetime(2026, 3, 7, 15, tzinfo=UTC)
    assert next_run_after(schedule=nine_daily, timezone="America/New_York", after=before_change) == datetime(
        2026, 3, 8, 13, tzinfo=UTC
    )


def test_the_next_run_is_strictly_after():
    assert next_run_after(schedule="*/5 * * * *", timezone="UTC", after=NOW) == NOW + timedelta(minutes=5)


@pytest.mark.parametrize(
    "schedule", ["not a schedule", "* * * *", "0 0 * * * *", "61 * * * *", "", "@hourly"]
)
def test_invalid_schedules_are_refused(schedule):
    with pytest.raises(ValidationFailedError, match="Invalid cron schedule"):
        services.validated_schedule(schedule)


def test_schedules_are_normalised():
    assert services.validated_schedule("  */5   *  * * 1-5 ") == "*/5 * * * 1-5"


@pytest.mark.parametrize("name", ["Mars/Olympus_Mons", "Not a zone", "../../etc/passwd"])
def test_invalid_timezones_are_refused(name):
    with pytest.raises(ValidationFailedError, match="Invalid timezone"):
        services.validated_timezone(name)


def test_no_timezone_means_utc():
    assert services.validated_timezone(None) == "UTC"
    assert services.validated_timezone("Europe/Paris") == "Europe/Paris"


# --- create --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_cron_without_thread_acts_as_its_creator_and_deletes_its_threads_by_default(editor):
    before = timezone.now()
    cron = new_cron(editor, metadata={"k": "v"}, timezone="Europe/Paris")
    assert cron.user_id == editor.user.id
    assert cron.org_id == editor.org.id
    assert cron.thread_id is None
    assert cron.on_run_completed == "delete"
    assert cron.enabled is True
    assert cron.timezone == "Europe/Paris"
    assert cron.payload == {"assistant_id": str(cron.assistant_id), "input": {"messages": []}}
    assert cron.metadata == {"k": "v"}
    assert cron.next_run_date == next_run_after(schedule="*/5 * * * *", timezone="Europe/Paris", after=before)


@pytest.mark.django_db
def test_a_threads_cron_keeps_the_thread_and_has_no_completion_rule(editor):
    thread = new_thread(editor)
    cron = new_cron(editor, thread_id=thread.id, on_run_completed="delete")
    assert cron.thread_id == thread.id
    assert cron.on_run_completed is None


@pytest.mark.django_db
def test_a_cron_on_someone_elses_thread_is_not_found(editor, editor2):
    thread = new_thread(editor2)
    with pytest.raises(NotFoundError):
        new_cron(editor, thread_id=thread.id)
    assert Cron.unscoped.count() == 0


@pytest.mark.django_db
def test_if_not_exists_create_makes_the_thread(editor):
    tid = uuid.uuid4()
    cron = new_cron(editor, thread_id=tid, if_not_exists="create")
    assert cron.thread_id == tid
    assert Thread.unscoped.get(id=tid).owner_id == editor.user.id


@pytest.mark.django_db
def test_viewers_cannot_create_crons(viewer):
    with pytest.raises(PermissionDeniedError):
        new_cron(viewer)
    assert Cron.unscoped.count() == 0


@pytest.mark.django_db
def test_configurable_and_context_together_are_refused(editor):
    with pytest.raises(AtriumError) as raised:
        new_cron(editor, payload={"config": {"configurable": {"a": 1}}, "context": {"b": 2}})
    assert raised.value.status_code == 400


@pytest.mark.django_db
def test_unknown_graph_names_are_422(editor):
    with pytest.raises(ValidationFailedError):
        new_cron(editor, assistant_id="no-such-graph")


# --- update --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_end_time_is_set_kept_and_cleared(editor):
    cron = new_cron(editor)
    end = datetime(2027, 1, 1, tzinfo=UTC)
    with scoped(editor.scope()):
        assert services.cron_update(cron_id=cron.id, end_time=end).end_time == end
        assert services.cron_update(cron_id=cron.id, enabled=True).end_time == end
        assert services.cron_update(cron_id=cron.id, end_time=None).end_time is None


@pytest.mark.django_db
def test_changing_the_schedule_or_timezone_recomputes_the_next_run(editor):
    cron = new_cron(editor, schedule="0 9 * * *")
    with scoped(editor.scope()):
        updated = services.cron_update(cron_id=cron.id, timezone="Asia/Tokyo")
    assert updated.next_run_date is not None
    assert updated.next_run_date.astimezone(services.ZoneInfo("Asia/Tokyo")).hour == 9
    with scoped(editor.scope()):
        updated = services.cron_update(cron_id=cron.id, schedule="30 18 * * *")
    assert updated.next_run_date.astimezone(services.ZoneInfo("Asia/Tokyo")).hour == 18


@pytest.mark.django_db
def test_re_enabling_a_cron_moves_its_next_run_past_now(editor):
    cron = new_cron(editor)
    make_due(cron, at=timezone.now() - timedelta(days=3))
    with scoped(editor.scope()):
        services.cron_update(cron_id=cron.id, enabled=False)
        updated = services.cron_update(cron_id=cron.id, enabled=True)
    assert updated.next_run_date > timezone.now()


@pytest.mark.django_db
def test_metadata_merges_and_payload_fields_replace(editor):
    cron = new_cron(
        editor, metadata={"a": 1}, payload={"input": {"x": 1}, "webhook": "https://example.test/h"}
    )
    with scoped(editor.scope()):
        updated = services.cron_update(
            cron_id=cron.id, metadata={"b": 2}, payload={"input": {"x": 2}, "webhook": None}
        )
    assert updated.metadata == {"a": 1, "b": 2}
    assert updated.payload == {"assistant_id": str(cron.assistant_id), "input": {"x": 2}}


@pytest.mark.django_db
def test_an_empty_update_is_400(editor):
    cron = new_cron(editor)
    with scoped(editor.scope()), pytest.raises(AtriumError) as raised:
        services.cron_update(cron_id=cron.id)
    assert raised.value.status_code == 400
    assert raised.value.code == "empty_update"


@pytest.mark.django_db
def test_a_threads_cron_has_no_completion_rule_to_update(editor):
    cron = new_cron(editor, thread_id=new_thread(editor).id)
    with scoped(editor.scope()), pytest.raises(ValidationFailedError):
        services.cron_update(cron_id=cron.id, on_run_completed="keep")


@pytest.mark.django_db
def test_another_editors_cron_is_not_found_but_admins_manage_it(editor, editor2, admin):
    cron = new_cron(editor)
    with scoped(editor2.scope()), pytest.raises(NotFoundError):
        services.cron_update(cron_id=cron.id, enabled=False)
    with scoped(editor2.scope()), pytest.raises(NotFoundError):
        services.cron_delete(cron_id=cron.id)
    assert reload(cron).enabled is True
    with scoped(admin.scope()):
        services.cron_delete(cron_id=cron.id)
    assert not Cron.unscoped.filter(id=cron.id).exists()


# --- claim ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_due_cron_is_claimed_once_and_moves_past_now(editor):
    cron = new_cron(editor)
    missed = NOW - timedelta(days=1)
    make_due(cron, at=missed)
    with system_scope():
        fires = cron_claim_due(now=NOW)
        again = cron_claim_due(now=NOW)
    assert [(f.cron_id, f.fire_time) for f in fires] == [(cron.id, missed)]
    assert again == []
    # Missed ticks are skipped, not replayed: the next one is the first after now.
    assert reload(cron).next_run_date == NOW + timedelta(minutes=5)


@pytest.mark.django_db
def test_disabled_and_ended_crons_are_not_claimed(editor):
    disabled, ended, ends_at_tick, not_due = (new_cron(editor) for _ in range(4))
    for cron in (disabled, ended, ends_at_tick):
        make_due(cron)
    Cron.unscoped.filter(id=disabled.id).update(enabled=False)
    Cron.unscoped.filter(id=ended.id).update(end_time=NOW - timedelta(minutes=2))
    Cron.unscoped.filter(id=ends_at_tick.id).update(end_time=NOW - timedelta(minutes=1))
    Cron.unscoped.filter(id=not_due.id).update(next_run_date=NOW + timedelta(seconds=1))
    with system_scope():
        fires = cron_claim_due(now=NOW)
    assert [f.cron_id for f in fires] == [ends_at_tick.id]


@pytest.mark.django_db
def test_only_the_scheduler_claims(editor):
    with scoped(editor.scope()), pytest.raises(PermissionDeniedError):
        cron_claim_due(now=NOW)


@pytest.mark.django_db(transaction=True)
def test_two_schedulers_claiming_at_once_claim_each_tick_exactly_once(editor):
    # Given twenty due crons
    crons = [new_cron(editor) for _ in range(20)]
    for cron in crons:
        make_due(cron)
    barrier = threading.Barrier(2)
    claimed: list[list[uuid.UUID]] = [[], []]

    def scheduler(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            with system_scope():
                claimed[index] = [fire.cron_id for fire in cron_claim_due(now=NOW)]
        finally:
            connection.close()

    # When two schedulers claim at the same moment
    workers = [threading.Thread(target=scheduler, args=(i,)) for i in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    # Then every cron was claimed by exactly one of them
    together = claimed[0] + claimed[1]
    assert sorted(together) == sorted(cron.id for cron in crons)
    assert len(set(together)) == len(together)
    assert all(reload(cron).next_run_date == NOW + timedelta(minutes=5) for cron in crons)


# --- fire and tick -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_threads_cron_runs_on_its_thread_as_its_user(editor):
    thread = new_thread(editor)
    cron = new_cron(editor, thread_id=thread.id, metadata={"source": "cron"}, payload={"input": {"q": 1}})
    make_due(cron)
    with system_scope():
        assert cron_tick(now=NOW) == 1
    run = Run.unscoped.get()
    assert run.thread_id == thread.id
    assert run.user_id == editor.user.id
    assert run.assistant_id == cron.assistant_id
    assert run.kwargs["input"] == {"q": 1}
    assert run.metadata["source"] == "cron"
    assert run.metadata["cron_id"] == str(cron.id)
    assert run.idempotency_key == f"cron:{cron.id}:{(NOW - timedelta(minutes=1)).isoformat()}"


@pytest.mark.django_db
@pytest.mark.parametrize(("completion", "temporary"), [("delete", True), ("keep", False)])
def test_a_cron_without_thread_runs_on_a_new_thread_each_tick(editor, completion, temporary):
    cron = new_cron(editor, on_run_completed=completion)
    for tick in (NOW, NOW + timedelta(minutes=5)):
        make_due(cron, at=tick - timedelta(minutes=1))
        with system_scope():
            assert cron_tick(now=tick) == 1
    runs = list(Run.unscoped.order_by("created_at"))
    assert len(runs) == 2
    assert runs[0].thread_id != runs[1].thread_id
    assert all(run.thread.temporary is temporary for run in runs)
    assert all(run.kwargs["on_completion"] == completion for run in runs)
    assert all(run.thread.owner_id == editor.user.id for run in runs)


@pytest.mark.django_db
def test_firing_the_same_tick_twice_makes_one_run(editor):
    cron = new_cron(editor, thread_id=new_thread(editor).id)
    make_due(cron)
    with system_scope():
        (fire,) = cron_claim_due(now=NOW)
        first, second = cron_fire(fire=fire), cron_fire(fire=fire)
    assert first is not None
    assert second is not None
    assert first.id == second.id
    assert Run.unscoped.count() == 1


@pytest.mark.django_db
def test_a_cron_whose_user_left_the_org_does_not_fire(editor):
    cron = new_cron(editor)
    make_due(cron)
    Membership.unscoped.filter(user=editor.user, org=editor.org).delete()
    with system_scope():
        assert cron_tick(now=NOW) == 0
    assert Run.unscoped.count() == 0
    assert reload(cron).next_run_date == NOW + timedelta(minutes=5)


@pytest.mark.django_db
def test_a_cron_whose_user_became_a_viewer_is_refused_and_others_still_fire(editor, editor2):
    refused, fine = new_cron(editor), new_cron(editor2)
    for cron in (refused, fine):
        make_due(cron)
    Membership.unscoped.filter(user=editor.user, org=editor.org).update(role=Role.VIEWER)
    with system_scope():
        assert cron_tick(now=NOW) == 1
    assert [run.user_id for run in Run.unscoped.all()] == [editor2.user.id]
    assert reload(refused).next_run_date == NOW + timedelta(minutes=5)


@pytest.mark.django_db(transaction=True)
def test_two_ticks_at_once_create_one_run_per_cron(editor, no_broker):
    # Given five due crons on one thread each
    crons = [new_cron(editor, thread_id=new_thread(editor).id) for _ in range(5)]
    for cron in crons:
        make_due(cron)
    barrier = threading.Barrier(2)
    fired = [0, 0]

    def beat(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            with system_scope():
                fired[index] = cron_tick(now=NOW)
        finally:
            connection.close()

    # When two beats tick at once
    workers = [threading.Thread(target=beat, args=(i,)) for i in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    # Then each cron made exactly one run, and each run was sent to the workers once, after commit
    assert sum(fired) == 5
    runs = list(Run.unscoped.all())
    assert sorted(run.thread_id for run in runs) == sorted(cron.thread_id for cron in crons)
    assert sorted(no_broker) == sorted(str(run.id) for run in runs)


@pytest.mark.django_db
def test_the_beat_task_fires_due_crons_in_a_system_scope(editor, settings):
    from atrium.runtime.tasks import crons_tick

    entry = settings.CELERY_BEAT_SCHEDULE["crons-tick"]
    assert entry == {"task": crons_tick.name, "schedule": 10.0}
    cron = new_cron(editor, thread_id=new_thread(editor).id)
    make_due(cron, at=timezone.now() - timedelta(seconds=1))
    assert crons_tick() == 1
    assert crons_tick() == 0
    assert Run.unscoped.get().thread_id == cron.thread_id


@pytest.mark.django_db
def test_a_crons_webhook_is_checked_when_set(editor):
    with pytest.raises(ValidationFailedError, match="not a public address"):
        new_cron(editor, payload={"webhook": "http://10.0.0.5/hook"})
    cron = new_cron(editor, payload={"webhook": "https://hooks.example.com/x"})
    with scoped(editor.scope()), pytest.raises(ValidationFailedError, match="loopback"):
        services.cron_update(cron_id=cron.id, payload={"webhook": "http://localhost/x"})
    assert reload(cron).payload["webhook"] == "https://hooks.example.com/x"


@pytest.mark.django_db
def test_each_run_of_a_cron_carries_its_webhook_and_cron_id(editor, no_broker):
    cron = new_cron(editor, payload={"webhook": "https://hooks.example.com/x"})
    make_due(cron)
    with system_scope():
        assert cron_tick(now=NOW) == 1
    run = Run.unscoped.get()
    assert run.kwargs["webhook"] == "https://hooks.example.com/x"
    assert run.metadata["cron_id"] == str(cron.id)


@pytest.mark.django_db
def test_a_client_cannot_claim_a_cron_id_in_run_metadata(editor, no_broker):
    from atrium.runtime.services.runs import RunCreate, run_create

    thread = new_thread(editor)
    with scoped(editor.scope()):
        payload = RunCreate(assistant_id="echo", metadata={"cron_id": "x"})
        run = run_create(thread_id=thread.id, payload=payload)
    assert "cron_id" not in run.metadata
