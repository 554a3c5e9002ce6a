"""PII rules run on the worker's shared event loop: their time is bounded, a rule that runs out of it
fails the run closed (nothing stored unscrubbed), and patterns slow on a probe are refused up front.
A `goto` Send's input is scrubbed like any other input."""

from __future__ import annotations

import asyncio
import time

import pytest
from langchain_core.messages import HumanMessage
from langgraph.types import Command, Send

from atrium_agents.deep_agent import pii
from atrium_agents.deep_agent.context import Context
from atrium_agents.deep_agent.pii import PIIScrubTimeoutError, Redactor
from tests.conftest import ALICE

EMAIL = "alice@example.com"
# Nested repetition over Greek letters, written with escapes: no probe character falls in the class,
# so it passes the save-time probe; only the run-time budget stops it. 36 letters and a full stop take
# the standard `re` seconds, and the `regex` package as long without a timeout.
SLOW_PATTERN = r"([\u03b2-\u03c8]|[\u03b2-\u03c8]{2})+$"
SLOW_INPUT = "\u03b3" * 36 + "."


@pytest.fixture
def small_budget(monkeypatch: pytest.MonkeyPatch) -> float:
    monkeypatch.setattr(pii, "SCRUB_BUDGET_SECONDS", 0.1)
    return 0.1


async def test_a_catastrophic_pattern_fails_the_run_closed_within_the_budget(make_agent, small_budget):
    # given an assistant with a custom pattern that backtracks without end on some input
    agent = make_agent(pii_rules=[{"type": "greek", "pattern": SLOW_PATTERN}])

    # when a user sends that input
    started = time.process_time()
    with pytest.raises(PIIScrubTimeoutError):
        await agent.say(ALICE, "t1", SLOW_INPUT)

    # then the matching stopped at the budget (in CPU time: the `regex` timeout's clock), and nothing
    # of the input was stored
    assert time.process_time() - started < small_budget + 0.5
    assert dict(agent.saver.storage) == {}
    assert agent.saver.writes == {}


async def test_the_event_loop_keeps_running_while_a_pattern_matches(make_agent, monkeypatch):
    # given a budget long enough to notice a stalled loop, and a ticker sharing the run's loop
    monkeypatch.setattr(pii, "SCRUB_BUDGET_SECONDS", 0.5)
    agent = make_agent(pii_rules=[{"type": "greek", "pattern": SLOW_PATTERN}])
    gaps: list[float] = []

    async def tick() -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.01)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    ticker = asyncio.create_task(tick())

    # when the pattern spends its whole budget on a user's input
    with pytest.raises(PIIScrubTimeoutError):
        await agent.say(ALICE, "t1", SLOW_INPUT)
    ticker.cancel()

    # then the loop's other work went on meanwhile
    assert len(gaps) > 20
    assert max(gaps) < 0.25


def test_the_runtime_copy_of_the_request_is_refused_too(make_agent, small_budget):
    agent = make_agent(pii_rules=[{"type": "greek", "pattern": SLOW_PATTERN}])
    with pytest.raises(PIIScrubTimeoutError):
        agent.graph.scrub_input({"messages": [{"type": "human", "content": SLOW_INPUT}]})


def test_a_built_in_detector_on_its_worst_input_is_bounded(small_budget):
    # given the built-in email detector, quadratic on long runs of "a." (tens of seconds for 200 KB)
    redactor = Redactor([{"type": "email"}])

    # when / then: it stops at the budget instead
    started = time.process_time()
    with pytest.raises(PIIScrubTimeoutError):
        redactor.text("a." * 100_000)
    assert time.process_time() - started < small_budget + 0.5


def test_long_text_is_scrubbed_whole_across_windows():
    # given emails straddling every window boundary of a long text
    redactor = Redactor([{"type": "email"}])
    filler = "lorem ipsum " * 400
    text = "".join(f"{filler[: 4096 - 8 - (i % 7)]} {EMAIL} " for i in range(40))

    # when
    scrubbed = redactor.text(text)

    # then every one is redacted once, and the rest is untouched
    assert EMAIL not in scrubbed
    assert "@" not in scrubbed
    assert scrubbed.count("[REDACTED_EMAIL]") == 40
    assert scrubbed.replace("[REDACTED_EMAIL]", EMAIL) == text


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        (r"(a+)+$", "too slow"),
        (r"(x|xx)+y", "too slow"),
        (r"(\w+\s?)+$", "too slow"),
        (r"EMP-(\d{6}", "does not compile"),
    ],
)
def test_patterns_that_fail_a_probe_are_refused_when_settings_are_validated(pattern, problem):
    with pytest.raises(ValueError, match=problem):
        Context(pii_rules=[{"type": "custom", "pattern": pattern}])


def test_ordinary_patterns_pass_the_probe():
    Context(pii_rules=[{"type": "employee_id", "pattern": r"EMP-\d{6}"}])
    Context(pii_rules=[{"type": "handle", "pattern": r"[\w.]+@[\w.]+"}])


async def test_a_goto_send_and_a_command_update_are_scrubbed_before_any_checkpoint(make_agent):
    # given a thread of an assistant that redacts emails
    agent = make_agent(pii_rules=[{"type": "email"}])
    config = agent.config(ALICE, "t1")
    await agent.say(ALICE, "t1", "hello")

    # when a client sends a command whose goto Send carries an email to a node, and whose update does
    command = Command(
        update={"messages": [HumanMessage(f"cc {EMAIL}")]},
        goto=Send("model", {"messages": [HumanMessage(f"write to {EMAIL}")]}),
    )
    await agent.graph.ainvoke(command, config, context=agent.context(ALICE))

    # then neither reached a checkpoint raw
    from tests.deep_agent.test_agent_pii import assert_never_persisted

    assert_never_persisted(agent.saver, EMAIL)
    texts = [m.text for m in (await agent.graph.aget_state(config)).values["messages"]]
    assert "cc [REDACTED_EMAIL]" in texts
