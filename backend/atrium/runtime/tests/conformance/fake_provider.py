"""A fake model provider at the edge: an OpenAI-compatible chat-completions server on loopback.

The live worker reaches it through `OPENAI_BASE_URL`, so an assistant whose model is `openai:<any>`
makes real HTTP calls from the real worker; the server records each request's headers and answers a
fixed reply (plain JSON, or server-sent chunks when the client streams)."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

REPLY = "Hello from the fake provider."


@dataclass
class FakeProvider:
    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)

    def authorizations(self) -> list[str]:
        return [r["headers"].get("authorization", "") for r in self.requests]


def start_fake_provider() -> tuple[FakeProvider, ThreadingHTTPServer]:
    provider = FakeProvider(url="")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # keep the test output quiet
            return

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)) or b"{}")
            provider.requests.append(
                {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
            )
            base = {"id": "chatcmpl-fake", "created": 0, "model": body.get("model", "fake")}
            if not body.get("stream"):
                answer = {
                    **base,
                    "object": "chat.completion",
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": REPLY},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                }
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            chunks = [
                {"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None},
                *(
                    {"index": 0, "delta": {"content": word}, "finish_reason": None}
                    for word in REPLY.split(" ")
                ),
                {"index": 0, "delta": {}, "finish_reason": "stop"},
            ]
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.end_headers()
            for i, choice in enumerate(chunks):
                if 1 < i < len(chunks) - 1:
                    choice = {**choice, "delta": {"content": " " + choice["delta"]["content"]}}
                event = {**base, "object": "chat.completion.chunk", "choices": [choice]}
                self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    provider.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    threading.Thread(target=server.serve_forever, name="fake-provider", daemon=True).start()
    return provider, server
