"""Which graph ids exist, read from the platform's langgraph.json without importing any graph."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from django.conf import settings


@lru_cache(maxsize=4)
def _graph_ids(path: Path, mtime: float) -> frozenset[str]:
    data = json.loads(path.read_text())
    return frozenset((data.get("graphs") or {}).keys())


def available_graph_ids() -> frozenset[str]:
    path = Path(settings.ATRIUM_GRAPHS)
    if not path.is_file():
        return frozenset()
    return _graph_ids(path, path.stat().st_mtime)
