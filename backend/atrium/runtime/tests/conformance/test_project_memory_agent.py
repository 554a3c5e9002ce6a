"""A memory agent in the layout of LangGraph's memory-agent template runs unchanged, with semantic search.

The project (`tests/projects/memory_app`) is a `src/memory_agent` package with its own `pyproject.toml`,
`env: ".env"`, a dataclass context whose defaults read the environment, and
`"store": {"index": {"dims": 1536, "embed": "openai:text-embedding-3-small"}}`. Its graph recalls
memories with `store.asearch(ns, query=...)` and saves them with `store.aput` from a tool the model calls.

A real web and worker run it; the chat model and the embeddings are LangChain's real `ChatOpenAI` and
`OpenAIEmbeddings` (via `init_chat_model` / `init_embeddings`) talking HTTP to a fake OpenAI-compatible
server on loopback, whose embeddings put texts sharing words near each other. Before, `query` was
ignored and scores were null: recall came back in write order.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from atrium.runtime.tests.conformance.fake_provider import (
    FakeProvider,
    Reply,
    offline_tiktoken_cache,
    start_fake_provider,
)
from atrium.runtime.tests.live_stack import XDIST_INDEX, LiveStack, running_stack
from atrium.runtime.tests.project_install import CACHE, PROJECTS_DIR, install_project

PROJECT = PROJECTS_DIR / "memory_app" / "langgraph.json"
REDIS_DB = 16 + XDIST_INDEX
# One stack per module and xdist worker, on a Redis database of its own (see live_stack.REDIS_DB).
pytestmark = pytest.mark.xdist_group("memory-stack")
REMEMBER = "remember that "


def _memories_in(system_prompt: str) -> list[str]:
    inside = system_prompt.split("<memories>", 1)[1].split("</memories>", 1)[0]
    return [line for line in inside.strip().splitlines() if line]


def _as_a_model_would(body: dict[str, Any]) -> Reply:
    """Save what the user asks to be remembered; otherwise answer from the most relevant memory."""
    messages = body["messages"]
    last = messages[-1]
    if last["role"] == "tool":
        return Reply("Noted.")
    text = str(last["content"])
    if text.lower().startswith(REMEMBER):
        fact = text[len(REMEMBER) :]
        return Reply(
            "", tool_calls=[{"name": "upsert_memory", "args": {"content": fact, "context": "asked"}}]
        )
    memories = _memories_in(str(messages[0]["content"]))
    return Reply(f"From memory: {memories[0]}" if memories else "I know nothing about you yet.")


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeProvider]:
    found, server = start_fake_provider()
    found.script = _as_a_model_would
    yield found
    server.shutdown()


@pytest.fixture(scope="module")
def memory_stack(
    provider: FakeProvider,
    django_db_setup: None,
    django_db_blocker: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LiveStack]:
    installed = install_project(PROJECT)
    assert installed.returncode == 0, installed.stderr
    env = {
        "ATRIUM_PROJECT_DEPS_DIR": str(CACHE),
        "OPENAI_BASE_URL": provider.url,
        "TIKTOKEN_CACHE_DIR": str(offline_tiktoken_cache(tmp_path_factory.mktemp("tiktoken"))),
        **{name: "" for name in ("MODEL", "OPENAI_API_KEY", "USER_ID")},
    }
    with running_stack(
        name="memory-stack",
        graphs=PROJECT,
        redis_db=REDIS_DB,
        env=env,
        django_db_blocker=django_db_blocker,
        tmp_path_factory=tmp_path_factory,
        concurrency=4,
    ) as stack:
        yield stack


def _say(stack: LiveStack, who: str, text: str) -> str:
    client = stack.sync_client(who, timeout=120)
    result = client.runs.wait(None, "memory_agent", input={"messages": [{"role": "user", "content": text}]})
    assert isinstance(result, dict), stack.logs()
    assert "messages" in result, (result, stack.logs())
    return str(result["messages"][-1]["content"])


def test_the_agent_recalls_by_meaning_through_real_embeddings(
    memory_stack: LiveStack, provider: FakeProvider
) -> None:
    seen = len(provider.requests)
    assert _say(memory_stack, "enduser", "Remember that I take my coffee black with no sugar") == "Noted."
    assert _say(memory_stack, "enduser", "Remember that my dog is called Rex") == "Noted."
    assert _say(memory_stack, "enduser", "Remember that I live near the harbour") == "Noted."

    # The embeddings went to the provider through OpenAIEmbeddings, with the project's key from .env.
    embedded = [r for r in provider.requests[seen:] if r["path"].endswith("/embeddings")]
    assert embedded, memory_stack.logs()
    assert {r["body"]["model"] for r in embedded} == {"text-embedding-3-small"}
    assert {r["headers"]["authorization"] for r in embedded} == {"Bearer sk-memory-app-dotenv-key"}

    # A new conversation: the memory nearest the question comes first in the prompt the model sees.
    answer = _say(memory_stack, "enduser", "How do I like my coffee in the morning")
    assert answer.startswith("From memory: "), answer
    assert "coffee black" in answer, answer
    prompt = provider.chat_requests()[-1]["body"]["messages"][0]["content"]
    recalled = _memories_in(prompt)
    assert len(recalled) == 3, recalled
    assert "coffee" in recalled[0], recalled
    assert "similarity: None" not in prompt

    answer = _say(memory_stack, "enduser", "What is my dog called")
    assert "Rex" in answer, answer


def test_the_store_api_searches_by_meaning_with_scores(memory_stack: LiveStack) -> None:
    client = memory_stack.sync_client("enduser2", timeout=60)
    client.store.put_item(["notes"], "tea", {"text": "green tea with lemon in the afternoon"})
    client.store.put_item(["notes"], "bike", {"text": "the bike needs new brakes"})
    client.store.put_item(["notes"], "plain", {"text": "green tea"}, index=False)

    found = client.store.search_items(["notes"], query="which brakes does the bike need")["items"]
    assert [item["key"] for item in found][:1] == ["bike"], found
    assert all(item["score"] is not None for item in found)
    assert found[0]["score"] > found[1]["score"]
    # An item written with `index=False` has no vector: a search by meaning cannot find it.
    assert "plain" not in {item["key"] for item in found}
    # Without a query the search is the ordinary listing (no scores), and lists every item.
    listed = client.store.search_items(["notes"])["items"]
    assert {item["key"] for item in listed} == {"tea", "bike", "plain"}
    assert {item["score"] for item in listed} == {None}


@pytest.mark.parametrize("who", ["enduser2", "other"])
def test_a_search_by_meaning_never_reaches_another_users_memories(memory_stack: LiveStack, who: str) -> None:
    # `enduser` (org a) saves memories under ("memories", <their user id>); the same namespace asked
    # for by another user of the org, or by a builder of org b, is their own, empty one.
    client = memory_stack.sync_client("enduser", timeout=120)
    _say(memory_stack, "enduser", "Remember that I take my coffee black with no sugar")
    [namespace] = client.store.list_namespaces(prefix=["memories"])["namespaces"]
    mine = client.store.search_items(namespace, query="how do I take my coffee")["items"]
    assert mine
    assert "coffee" in str(mine[0]["value"]), mine
    other = memory_stack.sync_client(who, timeout=60)
    for query in ("coffee", "black coffee no sugar", "dog Rex"):
        assert other.store.search_items(namespace, query=query)["items"] == []
        # Across every namespace the caller can see, their own items at most.
        for prefix in (["memories"], []):
            found = other.store.search_items(prefix, query=query, limit=100)["items"]
            assert not [i for i in found if "coffee" in str(i["value"]) or "Rex" in str(i["value"])]


def test_a_write_whose_embeddings_fail_is_a_503_and_stores_nothing(
    memory_stack: LiveStack, provider: FakeProvider
) -> None:
    provider.embeddings_down = True
    try:
        answer = httpx.put(
            f"{memory_stack.url}/store/items",
            headers=memory_stack.headers("enduser2"),
            json={"namespace": ["notes"], "key": "lost", "value": {"text": "never half written"}},
            timeout=60,
        )
    finally:
        provider.embeddings_down = False
    assert answer.status_code == 503, answer.text
    assert "store.index" in answer.json()["detail"]
    assert "sk-provider-echo" not in answer.text
    found = httpx.get(
        f"{memory_stack.url}/store/items",
        headers=memory_stack.headers("enduser2"),
        params={"namespace": "notes", "key": "lost"},
        timeout=30,
    )
    assert found.status_code == 200, found.text
    assert found.json() is None


def test_the_memory_project_is_unchanged() -> None:
    # The project is the template's shape: nothing in it names Atrium.
    for path in Path(PROJECT).parent.rglob("*"):
        if path.is_file() and "egg-info" not in str(path):
            assert "atrium" not in path.read_text(errors="ignore").lower(), path
