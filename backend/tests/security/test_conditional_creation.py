"""The Agent Server advisories' cases: creating "if it does not exist" must not hand a caller a resource
they could not read. Another user's thread is as absent for `if_exists="do_nothing"` and for a run's
`if_not_exists="create"` as for a plain read, and nothing of it changes."""

from __future__ import annotations

from atrium.runtime.tests.live_stack import LiveStack
from security.control_plane import agent


def _alices_thread(stack: LiveStack) -> tuple[str, dict[str, object]]:
    created = agent(stack, "enduser", "POST", "/threads", {"metadata": {"owner": "alice", "secret": "s3"}})
    assert created.status_code == 200, created.text
    thread = created.json()
    return str(thread["thread_id"]), dict(thread)


def test_conditional_thread_creation_does_not_return_another_users_thread(stack: LiveStack) -> None:
    thread_id, before = _alices_thread(stack)
    # when bob asks for "this id, or nothing if it exists"
    response = agent(
        stack, "enduser2", "POST", "/threads", {"thread_id": thread_id, "if_exists": "do_nothing"}
    )
    # then he gets no view of alice's thread: a conflict, not her metadata
    assert response.status_code in (404, 409), response.text
    assert "s3" not in response.text
    after = agent(stack, "enduser", "GET", f"/threads/{thread_id}").json()
    assert (after["metadata"], after["updated_at"]) == (before["metadata"], before["updated_at"])


def test_a_run_with_if_not_exists_create_does_not_run_on_another_users_thread(stack: LiveStack) -> None:
    thread_id, _ = _alices_thread(stack)
    response = agent(
        stack,
        "enduser2",
        "POST",
        f"/threads/{thread_id}/runs",
        {"assistant_id": "simple", "input": {"messages": []}, "if_not_exists": "create"},
    )
    assert response.status_code in (404, 409), response.text
    assert agent(stack, "enduser", "GET", f"/threads/{thread_id}/runs").json() == []
    # and the thread is still alice's alone
    assert agent(stack, "enduser2", "GET", f"/threads/{thread_id}").status_code == 404
