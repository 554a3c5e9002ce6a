"""What `/agent/info` reports: versions, feature flags, and whether the offline model is in use."""

from __future__ import annotations

import os
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "unknown"


@lru_cache(maxsize=1)
def server_info() -> dict[str, Any]:
    # The same variable the worker reads (atrium.runtime.executor.DEFAULT_MODEL).
    default_model = os.environ.get("ATRIUM_DEFAULT_MODEL", "") or "offline"
    return {
        "version": _version("atrium-backend"),
        "langgraph_py_version": _version("langgraph"),
        "flags": {"assistants": True, "crons": True, "langsmith": False, "thread_ttl": True},
        "host": {"kind": "atrium", "project_id": None, "revision_id": None},
        "atrium": {"default_model": default_model, "offline_model": default_model == "offline"},
    }
