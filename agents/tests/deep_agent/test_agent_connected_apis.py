"""`call_connected_api`: the deep agent reads an outside API as the user; no grant → consent interrupt."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from langgraph.types import Command

from atrium_agents.auth import CREDENTIALS_KEY
from atrium_agents.deep_agent.context import Context
from atrium_agents.outbound import OUTBOUND_KEY
from tests.conftest import ALICE

TOKEN = "user-token-123"


class Port:
    def __init__(self) -> None:
        self.connected = False

    async def token(self, provider: str, scopes: Sequence[str]) -> Mapping[str, Any]:
        if self.connected:
            return {"access_token": TOKEN, "token_type": "Bearer"}
        return {
            "consent": {
                "provider": provider,
                "provider_name": "Acme CRM",
                "authorization_url": "https://idp/x",
            }
        }


@pytest.fixture
def api() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_GET(self) -> None:
            seen.append(f"{self.path} {self.headers.get('authorization')}")
            body = json.dumps({"deals": 3}).encode()
            self.send_response(200)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1", seen
    server.shutdown()


async def test_no_grant_asks_to_connect_and_the_resumed_call_uses_the_token(make_agent, api):
    base_url, seen = api
    agent = make_agent(
        connected_apis=[{"name": "crm", "provider": "acme-crm", "base_url": base_url, "scopes": "read"}]
    )
    port = Port()
    config = {**agent.config(ALICE, "t1")}
    config["configurable"] = {**config["configurable"], CREDENTIALS_KEY: port}
    call = 'call call_connected_api {"api": "crm", "path": "/deals"}'
    # when the agent calls the API for a user without a grant
    result = await agent.graph.ainvoke(
        {"messages": [{"role": "user", "content": call}]}, config, context=agent.context(ALICE)
    )
    # then the run waits for the user to connect, and nothing reached the API
    [pending] = result["__interrupt__"]
    assert pending.value["type"] == "oauth_consent"
    assert pending.value["provider_name"] == "Acme CRM"
    assert seen == []
    # when the user has connected and the run resumes
    port.connected = True
    result = await agent.graph.ainvoke(
        Command(resume={pending.id: {"connected": True}}), config, context=agent.context(ALICE)
    )
    # then the call went to the API with the user's token, and the token is nowhere in the state
    assert seen == [f"/v1/deals Bearer {TOKEN}"]
    assert "deals" in result["messages"][-1].text
    assert TOKEN not in repr(result)


async def test_paths_outside_the_api_are_refused(make_agent, api):
    base_url, seen = api
    agent = make_agent(
        connected_apis=[{"name": "crm", "provider": "acme-crm", "base_url": base_url, "scopes": ""}]
    )
    port = Port()
    port.connected = True
    config = {**agent.config(ALICE, "t2")}
    config["configurable"] = {**config["configurable"], CREDENTIALS_KEY: port}
    for path in (
        "https://evil.example/x",
        "//evil.example/x",
        "/../admin",
        "/%2e%2e/admin",
        "/a%2F..%2Fadmin",
    ):
        call = f"call call_connected_api {json.dumps({'api': 'crm', 'path': path})}"
        result = await agent.graph.ainvoke(
            {"messages": [{"role": "user", "content": call}]}, config, context=agent.context(ALICE)
        )
        assert "path must be a path under the API" in result["messages"][-1].text
    assert seen == []


@pytest.mark.parametrize(
    "spec",
    [
        {"name": "crm", "provider": "", "base_url": "https://x", "scopes": ""},
        {"name": "crm", "provider": "p", "base_url": "ftp://x", "scopes": ""},
        {"name": "crm", "provider": "p", "base_url": "https://x?q=1", "scopes": ""},
    ],
)
def test_bad_specs_are_refused(spec):
    with pytest.raises(ValueError, match="connected_apis"):
        Context(connected_apis=[spec])


async def test_without_the_runtimes_outbound_port_no_call_is_made(make_agent, api):
    # given a runtime that hands the graph credentials but no outbound guard
    base_url, seen = api
    agent = make_agent(
        connected_apis=[{"name": "crm", "provider": "acme-crm", "base_url": base_url, "scopes": ""}]
    )
    port = Port()
    port.connected = True
    config = {**agent.config(ALICE, "t3")}
    config["configurable"] = {
        **{k: v for k, v in config["configurable"].items() if k != OUTBOUND_KEY},
        CREDENTIALS_KEY: port,
    }
    call = 'call call_connected_api {"api": "crm", "path": "/deals"}'
    # when
    result = await agent.graph.ainvoke(
        {"messages": [{"role": "user", "content": call}]}, config, context=agent.context(ALICE)
    )
    # then the tool refuses, failing closed, and the API saw nothing
    assert "no guarded outbound calls" in result["messages"][-1].text
    assert seen == []
