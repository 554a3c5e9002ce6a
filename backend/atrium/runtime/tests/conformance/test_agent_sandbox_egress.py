"""A sandboxed agent calls an outside API with a workspace secret it never sees: an org admin stores the
key in the vault, the assistant lists the host with a header referencing it, and code run by the real
worker in a bubblewrap sandbox gets an answer from a loopback API that requires the key, while the key
appears in no streamed part, run output, Postgres row, Redis entry or log."""

from __future__ import annotations

import json
import shutil
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from atrium.runtime.tests.conformance.conftest import LiveStack
from atrium.runtime.tests.conformance.test_agent_pii import _postgres_hits, _redis_hits
from atrium.runtime.tests.conformance.test_agent_secrets import _set_secret

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")


class KeyedApi(ThreadingHTTPServer):
    key = ""
    seen: list[str | None]


class _Handler(BaseHTTPRequestHandler):
    server: KeyedApi

    def do_GET(self) -> None:
        self.server.seen.append(self.headers.get("X-Api-Key"))
        ok = self.headers.get("X-Api-Key") == self.server.key
        body = b"forecast: sunny\n" if ok else b"missing key\n"
        self.send_response(200 if ok else 401)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def keyed_api() -> Iterator[KeyedApi]:
    server = KeyedApi(("127.0.0.1", 0), _Handler)
    server.key = f"wk-{uuid.uuid4().hex}"
    server.seen = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_sandboxed_code_reaches_an_allowed_api_with_the_workspace_secret_it_never_sees(
    stack: LiveStack, keyed_api: KeyedApi, django_db_blocker: Any
) -> None:
    # given an org secret and an assistant whose sandbox may reach the API with it
    slug = _set_secret(stack, "WEATHER_KEY", keyed_api.key)
    client = stack.sync_client("editor")
    port = keyed_api.server_address[1]
    rule = {"host": "127.0.0.1", "port": port, "header": "X-Api-Key", "value": "${WEATHER_KEY}"}
    # (an admin approved the host and granted the secret to the assistant the builder configures)
    assistant = client.assistants.create(graph_id="agent", context={"model": "offline", "sandbox": "thread"})
    stack.admin_approve(assistant["assistant_id"], secrets=["WEATHER_KEY"], hosts=["127.0.0.1"])
    context = {"model": "offline", "sandbox": "thread", "sandbox_egress": [rule]}
    client.assistants.update(assistant["assistant_id"], context=context)
    thread = client.threads.create()
    command = f"curl -sS http://127.0.0.1:{port}/forecast; curl -sS http://example.org/; env | grep -ci key"
    try:
        # when the agent runs code calling the API, a host not listed, and looking for keys
        parts = list(
            client.runs.stream(
                thread["thread_id"],
                assistant["assistant_id"],
                input={"messages": [{"type": "human", "content": f"run `{command}`"}]},
                stream_mode=["values", "updates", "messages-tuple"],
            )
        )
    finally:
        httpx.delete(
            f"{stack.base_url}/api/v1/orgs/{slug}/secrets/WEATHER_KEY",
            headers=stack.headers("admin"),
            timeout=10,
        )

    # then the API answered the sandbox, the other host was refused, and the key is nowhere
    final = [p.data for p in parts if p.event == "values"][-1]
    output = final["messages"][-1]["content"]
    assert output == (
        "Command output:\nforecast: sunny\n[egress proxy] egress to example.org is not allowed\n0\n"
        "\n[Command failed with exit code 1]"
    )
    assert keyed_api.seen == [keyed_api.key]
    assert keyed_api.key not in json.dumps([p.data for p in parts], default=str)
    assert _postgres_hits(keyed_api.key, django_db_blocker) == []
    assert _redis_hits(keyed_api.key) == []
    logs = "".join(path.read_text(errors="replace") for path in stack.log_dir.glob("*.log"))
    assert keyed_api.key not in logs
