"""The operator's dashboard of runs in the Django admin: filters, and cancel / retry through the
runtime's services. Tasks are not sent: the test transaction never commits, so the on-commit enqueue
never fires, and the rows are what the assertions read."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from atrium.assistants.services import assistant_create
from atrium.core.tenancy import scoped
from atrium.runtime.models import Run, RunStatus
from atrium.runtime.services.runs import RunCreate, run_create
from atrium.runtime.services.threads import thread_create

pytestmark = pytest.mark.django_db
RUNS = "/admin/runtime/run/"


def logged_in(member) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(member.user)
    return client


def a_run(member, *, assistant_id: str = "echo", status: str | None = None, **kwargs) -> Run:  # type: ignore[no-untyped-def]
    with scoped(member.scope()):
        thread, _ = thread_create()
        run = run_create(thread_id=thread.id, payload=RunCreate(assistant_id=assistant_id, **kwargs))
    if status is not None:
        now = timezone.now()
        Run.unscoped.filter(id=run.id).update(status=status, started_at=now, ended_at=now)
    return Run.unscoped.get(id=run.id)


def act(client: Client, action: str, *runs: Run):  # type: ignore[no-untyped-def]
    return client.post(RUNS, {"action": action, "_selected_action": [str(r.id) for r in runs]}, follow=True)


def test_runs_filter_by_status_org_and_assistant(admin, editor, outsider):
    # given runs of two assistants in different states, and a run of another org
    with scoped(admin.scope()):
        helper = assistant_create(graph_id="echo", name="Helper bot")
    failed = a_run(editor, status=RunStatus.ERROR)
    pending = a_run(editor, assistant_id=str(helper.id))
    foreign = a_run(outsider)
    client = logged_in(admin)

    # when the admin lists them, then only their org's runs are there, named by assistant
    page = client.get(RUNS).content.decode()
    assert str(failed.id) in page
    assert str(pending.id) in page
    assert str(foreign.id) not in page
    assert "Helper bot" in page

    # and each filter narrows the list
    by_status = client.get(RUNS, {"status__exact": "error"}).content.decode()
    assert str(failed.id) in by_status
    assert str(pending.id) not in by_status
    by_assistant = client.get(RUNS, {"assistant": str(helper.id)}).content.decode()
    assert str(pending.id) in by_assistant
    assert str(failed.id) not in by_assistant
    by_org = client.get(RUNS, {"org__id__exact": str(admin.org.id)}).content.decode()
    assert str(failed.id) in by_org


def test_cancel_ends_a_pending_run_and_frees_its_thread(admin, editor):
    # given a pending run on a busy thread
    run = a_run(editor)
    assert run.thread.status == "busy"

    # when an admin cancels it from the dashboard
    response = act(logged_in(admin), "cancel_runs", run)

    # then the runtime's cancel ended it and settled the thread
    assert "Cancelled 1 run(s)." in response.content.decode()
    run.refresh_from_db()
    run.thread.refresh_from_db()
    assert run.status == RunStatus.INTERRUPTED
    assert run.thread.status == "idle"


def test_retry_starts_the_same_request_again_from_the_runs_first_checkpoint(admin, editor):
    # given a failed run that had started from a known checkpoint
    failed = a_run(editor, status=RunStatus.ERROR, input={"messages": ["hello"]}, metadata={"ticket": 7})
    start = {"thread_id": str(failed.thread_id), "checkpoint_ns": "", "checkpoint_id": "1ef-abc"}
    Run.unscoped.filter(id=failed.id).update(checkpoint_start=start)
    type(failed.thread).unscoped.filter(id=failed.thread_id).update(status="error")

    # when an admin retries it
    response = act(logged_in(admin), "retry_runs", failed)

    # then a new pending run of the same assistant and input exists on the thread, acting as the
    # original user, starting from the failed run's first checkpoint
    assert "Retried 1 run(s)." in response.content.decode()
    retry = Run.unscoped.exclude(id=failed.id).get(thread_id=failed.thread_id)
    assert retry.status == RunStatus.PENDING
    assert retry.assistant_id == failed.assistant_id
    assert retry.user_id == editor.user.id
    assert retry.kwargs["input"] == {"messages": ["hello"]}
    assert retry.kwargs["checkpoint"] == start
    assert retry.metadata["retry_of"] == str(failed.id)
    assert retry.metadata["ticket"] == 7
    assert retry.multitask_strategy == "reject"


def test_an_active_run_is_not_retried_and_the_admin_is_told_why(admin, editor):
    run = a_run(editor)
    response = act(logged_in(admin), "retry_runs", run)
    assert "still active" in response.content.decode()
    assert Run.unscoped.filter(thread_id=run.thread_id).count() == 1


def test_an_org_admin_cannot_act_on_another_orgs_run(admin, outsider):
    # given a pending run of another org
    foreign = a_run(outsider)

    # when this org's admin posts its id to both actions
    client = logged_in(admin)
    act(client, "cancel_runs", foreign)
    act(client, "retry_runs", foreign)

    # then nothing changed: it was never in their queryset
    foreign.refresh_from_db()
    assert foreign.status == RunStatus.PENDING
    assert Run.unscoped.filter(thread_id=foreign.thread_id).count() == 1


def test_viewers_and_editors_have_no_dashboard(editor, viewer):
    for member in (editor, viewer):
        assert logged_in(member).get(RUNS).status_code == 302
