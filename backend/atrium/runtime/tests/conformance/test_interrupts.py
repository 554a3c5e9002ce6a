"""§2.4 interrupts and §3 `command`: interrupt() state, resume by value and by interrupt id, static
breakpoints, `Command` update/goto (rows 9-12)."""

from __future__ import annotations

import httpx
import pytest

from atrium.runtime.tests.conformance.conftest import LiveStack
from atrium.runtime.tests.conformance.helpers import CHAT_INPUT, REPLY, collect, new_thread


async def _interrupted(stack: LiveStack) -> tuple[str, dict]:
    client = stack.client()
    tid = await new_thread(client)
    result = await client.runs.wait(tid, "approver", input=CHAT_INPUT)
    return tid, result


async def test_interrupt_state(stack: LiveStack) -> None:
    """Row 10: run `success`, thread `interrupted`, `next == ["approve"]`, the task holds the interrupt."""
    client = stack.client()
    tid, result = await _interrupted(stack)
    assert result["__interrupt__"][0]["value"] == {"question": "approve?"}
    assert result["__interrupt__"][0]["id"]
    thread = await client.threads.get(tid)
    assert thread["status"] == "interrupted"
    interrupts = [i for items in thread["interrupts"].values() for i in items]
    assert interrupts[0]["value"] == {"question": "approve?"}
    state = await client.threads.get_state(tid)
    assert state["next"] == ["approve"]
    assert state["tasks"][0]["interrupts"][0]["value"] == {"question": "approve?"}
    assert state["tasks"][0]["interrupts"][0]["id"] == result["__interrupt__"][0]["id"]
    assert state["interrupts"][0]["id"] == result["__interrupt__"][0]["id"]
    runs = await client.runs.list(tid)
    assert [r["status"] for r in runs] == ["success"]


async def test_resume_by_value(stack: LiveStack) -> None:
    """Row 11."""
    client = stack.client()
    tid, _ = await _interrupted(stack)
    result = await client.runs.wait(tid, "approver", command={"resume": "yes"})
    assert result["messages"][-1]["content"] == "approved=yes"
    assert "__interrupt__" not in result
    thread = await client.threads.get(tid)
    assert thread["status"] == "idle"
    assert thread["interrupts"] == {}
    assert (await client.threads.get_state(tid))["next"] == []


async def test_resume_by_interrupt_id(stack: LiveStack) -> None:
    """Row 11 (map form `{interrupt_id: value}`)."""
    client = stack.client()
    tid, result = await _interrupted(stack)
    interrupt_id = result["__interrupt__"][0]["id"]
    resumed = await client.runs.wait(tid, "approver", command={"resume": {interrupt_id: "by-id"}})
    assert resumed["messages"][-1]["content"] == "approved=by-id"


async def test_resume_streamed_without_input(stack: LiveStack, http: httpx.AsyncClient) -> None:
    """§4.5: `useStream` resumes with `command` and no `input` key at all."""
    tid, _ = await _interrupted(stack)
    body = {"assistant_id": "approver", "command": {"resume": "ok"}, "stream_mode": ["values"]}
    async with http.stream("POST", f"/threads/{tid}/runs/stream", json=body) as response:
        assert response.status_code == 200
        text = (await response.aread()).decode()
    assert "approved=ok" in text


async def test_breakpoints_before_and_after(stack: LiveStack) -> None:
    """Row 12: `interrupt_before` stops before the node; `input=None` continues."""
    client = stack.client()
    tid = await new_thread(client)
    await client.runs.wait(tid, "approver", input=CHAT_INPUT, interrupt_before=["tools"])
    state = await client.threads.get_state(tid)
    assert state["next"] == ["tools"]
    assert state["interrupts"] == []
    assert (await client.threads.get(tid))["status"] == "interrupted"
    await client.runs.wait(tid, "approver", input=None)
    assert (await client.threads.get_state(tid))["next"] == ["approve"]

    tid2 = await new_thread(client)
    await client.runs.wait(tid2, "simple", input={"steps": []}, interrupt_after=["first"])
    assert (await client.threads.get_state(tid2))["next"] == ["second"]
    result = await client.runs.wait(tid2, "simple", input=None)
    assert result["steps"] == ["first", "second", "third"]

    tid3 = await new_thread(client)
    await client.runs.wait(tid3, "simple", input={"steps": []}, interrupt_before="*")
    assert (await client.threads.get_state(tid3))["next"] == ["first"]


async def test_breakpoint_stream_has_no_interrupt_payload(stack: LiveStack) -> None:
    client = stack.client()
    tid = await new_thread(client)
    parts = await collect(
        client.runs.stream(
            tid, "simple", input={"steps": []}, interrupt_before=["second"], stream_mode="values"
        )
    )
    assert all("__interrupt__" not in p.data for p in parts if p.event == "values")
    assert parts[-1].data["steps"] == ["first"]


async def test_command_update(stack: LiveStack) -> None:
    client = stack.client()
    tid = await new_thread(client)
    await client.runs.wait(tid, "simple", input={"steps": []}, interrupt_before=["second"])
    result = await client.runs.wait(tid, "simple", command={"update": {"steps": ["patched"]}})
    assert result["steps"][:2] == ["first", "patched"]
    assert result["steps"][-1] == "third"


async def test_resume_with_a_chat_turn_after_interrupt(stack: LiveStack) -> None:
    """After a resume the graph finished; the next input starts a new turn on the same thread."""
    client = stack.client()
    tid, _ = await _interrupted(stack)
    await client.runs.wait(tid, "approver", command={"resume": "yes"})
    result = await client.runs.wait(
        tid, "approver", input={"messages": [{"type": "human", "content": "again"}]}
    )
    contents = [m["content"] for m in result["messages"]]
    assert contents[-2:] == ["again", REPLY]


@pytest.mark.parametrize("strict", [True, None])
async def test_strict_resume_is_accepted(stack: LiveStack, strict: bool | None) -> None:
    """§3 `strict_resume` (Python 0.4.14 only) must at least be accepted."""
    client = stack.client()
    tid, _ = await _interrupted(stack)
    result = await client.runs.wait(tid, "approver", command={"resume": "yes"}, strict_resume=strict)
    assert result["messages"][-1]["content"] == "approved=yes"
