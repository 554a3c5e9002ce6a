"""A thread sandbox is bound to the thread's generation, not its id alone: a thread created again
under a deleted one's id (clients choose ids) gets another sandbox."""

from __future__ import annotations

from atrium_agents.sandbox.provider import sandbox_id_for
from atrium_agents.sandbox.run_scoped import THREAD_GENERATION_KEY, labels_from

IDS = {"org_id": "org-1", "thread_id": "thread-x", "assistant_id": "asst-1"}


def test_a_new_generation_of_a_thread_id_has_another_sandbox() -> None:
    first = labels_from("thread", {**IDS, THREAD_GENERATION_KEY: "g1"})
    again = labels_from("thread", {**IDS, THREAD_GENERATION_KEY: "g2"})
    assert first == {"org_id": "org-1", "thread_id": "thread-x", "thread_generation": "g1"}
    assert first is not None
    assert again is not None
    assert sandbox_id_for(first) != sandbox_id_for(again)


def test_assistant_sandboxes_and_threads_without_a_generation_keep_their_labels() -> None:
    assert labels_from("assistant", {**IDS, THREAD_GENERATION_KEY: "g1"}) == {
        "org_id": "org-1",
        "assistant_id": "asst-1",
    }
    assert labels_from("thread", IDS) == {"org_id": "org-1", "thread_id": "thread-x"}
