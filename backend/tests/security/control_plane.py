"""Control-plane calls as the live stack's members (each acts with its own API key)."""

from __future__ import annotations

from typing import Any

import httpx

from atrium.runtime.tests.live_stack import LiveStack


def call(stack: LiveStack, who: str, method: str, path: str, body: Any = None) -> httpx.Response:
    """`path` is relative to the caller's org (`/assistants`, `/policy`...)."""
    url = f"{stack.base_url}/api/v1/orgs/{stack.org_slug()}{path}"
    return httpx.request(method, url, json=body, headers=stack.headers(who), timeout=15)


def agent(stack: LiveStack, who: str, method: str, path: str, body: Any = None) -> httpx.Response:
    """The Agent Server API as `who`, raw (status codes and bodies the SDKs hide)."""
    return httpx.request(method, f"{stack.url}{path}", json=body, headers=stack.headers(who), timeout=30)
