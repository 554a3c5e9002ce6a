"""``call_connected_api``: read from an outside service as the user (their GitHub, their CRM).

An assistant lists the APIs it may call (``connected_apis`` in its settings): a name, the org's OAuth
provider that grants access, the scopes, and the API's base URL. The tool only reaches URLs under that
base URL, so the user's token goes to no other host, and asks for the token at call time
(``atrium_agents.auth``): without a grant the run interrupts with a "Connect <provider>" request.
The call itself goes through the runtime's outbound port (``atrium_agents.outbound``), which refuses
hosts in the platform's own network and connects to the address it checked.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any
from urllib.parse import urlsplit

from langchain.tools import ToolRuntime
from langchain_core.tools import BaseTool, StructuredTool
from typing_extensions import TypedDict

from atrium_agents.auth import OAuthRequirement, provider_token
from atrium_agents.outbound import NoOutboundError, outbound_of

MAX_ANSWER_CHARS = 4000


class ConnectedApiSpec(TypedDict):
    """``{"name": "github", "provider": "github", "base_url": "https://api.github.com", "scopes": "repo"}``
    (``scopes`` space-separated; ``provider`` is the slug of one of the org's OAuth providers)."""

    name: str
    provider: str
    base_url: str
    scopes: str


def validate_specs(specs: list[ConnectedApiSpec]) -> None:
    names = set()
    for spec in specs:
        for key in ("name", "provider", "base_url"):
            if not isinstance(spec.get(key), str) or not spec.get(key):
                raise ValueError(f"connected_apis entries need a non-empty {key!r}")
        parts = urlsplit(spec["base_url"])
        if parts.scheme not in ("https", "http") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError(
                f"connected_apis base_url must be an http(s) URL without query, got {spec['base_url']!r}"
            )
        if spec["name"] in names:
            raise ValueError(f"connected_apis names must be unique: {spec['name']!r}")
        names.add(spec["name"])


def _url(spec: ConnectedApiSpec, path: str) -> str:
    """``path`` under the API's base URL; anything that could leave it is refused."""
    segments = path.split("?")[0].split("/")
    # Encoded dots and slashes count too: a server that decodes them would climb out of the base URL.
    climbs = any(s in (".", "..") for s in segments) or re.search(r"%(2e|2f|5c)", path, flags=re.I)
    if "://" in path or path.startswith("//") or climbs or "\\" in path:
        raise ValueError("path must be a path under the API, like /user/repos")
    return spec["base_url"].rstrip("/") + "/" + path.lstrip("/")


def connected_api_tools(specs: list[ConnectedApiSpec]) -> list[BaseTool]:
    if not specs:
        return []
    by_name = {spec["name"]: spec for spec in specs}

    async def _acall(api: str, path: str, runtime: ToolRuntime[Any]) -> str:
        spec = by_name.get(api)
        if spec is None:
            return f"Unknown API {api!r}; this assistant may call: {', '.join(sorted(by_name))}."
        try:
            url = _url(spec, path)
            outbound = outbound_of(runtime.config)
        except (ValueError, NoOutboundError) as exc:
            return str(exc)
        token = await provider_token(
            runtime.config, OAuthRequirement(spec["provider"], tuple(spec["scopes"].split()))
        )
        answer = await outbound.get(
            url, headers={"Authorization": token.authorization()}, max_bytes=MAX_ANSWER_CHARS * 4
        )
        if "status" not in answer:
            return f"The call to {api} failed: {answer.get('refused') or answer.get('error')}"
        return f"HTTP {answer['status']}\n{str(answer['text'])[:MAX_ANSWER_CHARS]}"

    def _call(api: str, path: str, runtime: ToolRuntime[Any]) -> str:
        return asyncio.run(_acall(api, path, runtime))

    listed = ", ".join(f"{name} ({spec['base_url']})" for name, spec in sorted(by_name.items()))
    return [
        StructuredTool.from_function(
            func=_call,
            coroutine=_acall,
            name="call_connected_api",
            description=(
                f"GET a path of an outside service as the user, with their permission. APIs: {listed}."
            ),
        )
    ]
