"""The demo's MCP server: a real one (the `mcp` SDK's, streamable HTTP) with two tools over fixed data,
so `make dev`'s seeded deep agent has an MCP tool to call (docs/mcp.md).

    python -m atrium.mcp_servers.demo_server --port 8765 [--host 127.0.0.1]

Its tools read nothing but the tables below and write nothing. It imports no Django: dev.sh and the
browser tests start it as a program of its own; `seed_demo` registers its URL (ATRIUM_DEMO_MCP_URL).
"""

from __future__ import annotations

import argparse

import uvicorn
from mcp.server.mcpserver import MCPServer

NAME = "demo-shop"
ORDERS = {
    "A-17": "order A-17: shipped on 2026-12-01, 3 parcels, arriving 2026-12-04",
    "B-42": "order B-42: paid, waiting for stock (blue kettle), ships within 5 days",
}
HANDBOOK = {
    "returns": "Returns: within 30 days of delivery, unused, with the order number; refunds in 5 days.",
    "shipping": "Shipping: free above 50 EUR, otherwise 4.90 EUR; parcels leave within 2 working days.",
}


def lookup_order(order_id: str) -> str:
    """Look an order up by its id (like A-17 or B-42): where it is and when it shipped."""
    return ORDERS.get(order_id.strip().upper(), f"no order {order_id.strip()} (try A-17 or B-42)")


def handbook(topic: str) -> str:
    """The shop's handbook on a topic: returns or shipping."""
    topic = topic.strip()
    return HANDBOOK.get(topic.lower(), f"no handbook entry on {topic!r} (try returns or shipping)")


def server() -> MCPServer:
    demo = MCPServer(NAME, log_level="WARNING")  # not a line per request in `make dev`'s output
    demo.tool()(lookup_order)
    demo.tool()(handbook)
    return demo


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    # Stateless JSON answers: any web or worker process may call it, nothing is kept between calls.
    app = server().streamable_http_app(stateless_http=True, json_response=True)
    # SIGTERM (the supervisor's, or its death signal) stops it at once: nothing to finish.
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", timeout_graceful_shutdown=1)


if __name__ == "__main__":
    main()
