"""The demo MCP server as `make dev` runs it: a program of its own that an MCP client lists and calls,
and that stops at once on the supervisor's SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

BACKEND = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_listening(program: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            assert program.poll() is None, "the demo server exited"
            assert time.monotonic() < deadline, "the demo server did not start"
            time.sleep(0.1)


async def _as_a_client(url: str) -> tuple[list[str], list[Any], list[Any]]:
    async with streamable_http_client(url) as streams, ClientSession(streams[0], streams[1]) as session:
        await session.initialize()
        listed = await session.list_tools()
        order = await session.call_tool("lookup_order", {"order_id": "a-17"})
        unknown = await session.call_tool("handbook", {"topic": "warranty"})
    texts = [[c.text for c in result.content if c.type == "text"] for result in (order, unknown)]
    return sorted(tool.name for tool in listed.tools), texts[0], texts[1]


def test_the_demo_server_answers_its_tools_from_fixed_data_and_stops_on_sigterm() -> None:
    port = _free_port()
    program = subprocess.Popen(
        [sys.executable, "-m", "atrium.mcp_servers.demo_server", "--port", str(port)],
        cwd=BACKEND,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_listening(program, port)

        tools, order, unknown = asyncio.run(_as_a_client(f"http://127.0.0.1:{port}/mcp"))

        assert tools == ["handbook", "lookup_order"]
        assert order == ["order A-17: shipped on 2026-12-01, 3 parcels, arriving 2026-12-04"]
        assert unknown == ["no handbook entry on 'warranty' (try returns or shipping)"]
        program.send_signal(signal.SIGTERM)
        # uvicorn shuts down, then ends by the signal it caught, as the supervisor expects
        assert program.wait(timeout=10) in (0, -signal.SIGTERM)
        output = program.stdout.read().decode() if program.stdout else ""
        assert "INFO" not in output  # no line per request in `make dev`'s output
    finally:
        if program.poll() is None:
            program.kill()
            program.wait()
