"""What of a ``langgraph.json`` besides its graphs the platform honours: the store's and the
checkpointer's TTLs (``store.ttl``, ``checkpointer.ttl``) and the custom HTTP app (``http``).

Read as the Agent Server reads them; a value it would refuse is a ``GraphLoadError`` naming the key, so
a mistyped TTL stops the start-up instead of silently keeping data forever.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from langgraph.store.base import TTLConfig

# The Agent Server's default interval between sweeps, in minutes (LangGraph's TTL sweeper uses 5 too).
DEFAULT_SWEEP_MINUTES = 5.0
CHECKPOINTER_TTL_STRATEGIES = ("delete", "keep_latest")


@dataclass(frozen=True, slots=True)
class CheckpointerTTL:
    """``checkpointer.ttl``: threads idle (not updated) for ``default_ttl`` minutes are deleted (or,
    with ``keep_latest``, pruned to their latest checkpoint); a thread with a TTL of its own keeps it."""

    default_ttl: float
    strategy: str = "delete"
    sweep_interval_minutes: float = DEFAULT_SWEEP_MINUTES


@dataclass(frozen=True, slots=True)
class ProjectTTLs:
    store: TTLConfig | None = None
    """``store.ttl`` as LangGraph's ``TTLConfig`` (``default_ttl``, ``refresh_on_read``,
    ``sweep_interval_minutes``); None when the project sets none."""
    checkpointer: CheckpointerTTL | None = None

    @property
    def store_sweep_minutes(self) -> float:
        configured = (self.store or {}).get("sweep_interval_minutes")
        return float(configured) if configured else DEFAULT_SWEEP_MINUTES


class ProjectConfigError(ValueError):
    """A ``langgraph.json`` setting the Agent Server would refuse; the message names the key."""


def _minutes(value: Any, key: str, *, optional: bool = False) -> float | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ProjectConfigError(f"{key} must be a positive number of minutes, not {value!r}")
    return float(value)


def _section(config: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    section = config.get(name)
    if section is None:
        return {}
    if not isinstance(section, Mapping):
        raise ProjectConfigError(f'"{name}" must be an object')
    ttl = section.get("ttl")
    if ttl is not None and not isinstance(ttl, Mapping):
        raise ProjectConfigError(f'"{name}.ttl" must be an object')
    return ttl or {}


def parse_ttls(config: Mapping[str, Any]) -> ProjectTTLs:
    """``store.ttl`` and ``checkpointer.ttl`` of a ``langgraph.json``."""
    store_ttl: TTLConfig | None = None
    raw = _section(config, "store")
    if raw:
        store_ttl = {}
        default_ttl = _minutes(raw.get("default_ttl"), "store.ttl.default_ttl", optional=True)
        if default_ttl is not None:
            store_ttl["default_ttl"] = default_ttl
        if "refresh_on_read" in raw:
            if not isinstance(raw["refresh_on_read"], bool):
                raise ProjectConfigError("store.ttl.refresh_on_read must be true or false")
            store_ttl["refresh_on_read"] = raw["refresh_on_read"]
        sweep = _minutes(raw.get("sweep_interval_minutes"), "store.ttl.sweep_interval_minutes", optional=True)
        if sweep is not None:
            store_ttl["sweep_interval_minutes"] = sweep  # type: ignore[typeddict-item]  # minutes, may be a fraction
    checkpointer_ttl = None
    raw = _section(config, "checkpointer")
    if raw:
        strategy = raw.get("strategy", "delete")
        if strategy not in CHECKPOINTER_TTL_STRATEGIES:
            raise ProjectConfigError(
                f"checkpointer.ttl.strategy must be one of {list(CHECKPOINTER_TTL_STRATEGIES)}, "
                f"not {strategy!r}"
            )
        default_ttl = _minutes(raw.get("default_ttl"), "checkpointer.ttl.default_ttl", optional=True)
        sweep = _minutes(
            raw.get("sweep_interval_minutes"), "checkpointer.ttl.sweep_interval_minutes", optional=True
        )
        if default_ttl is not None:
            checkpointer_ttl = CheckpointerTTL(
                default_ttl=default_ttl,
                strategy=strategy,
                sweep_interval_minutes=sweep or DEFAULT_SWEEP_MINUTES,
            )
    return ProjectTTLs(store=store_ttl, checkpointer=checkpointer_ttl)


@dataclass(frozen=True, slots=True)
class HttpSettings:
    """``http``: the project's own ASGI app (``"app": "./webapp.py:app"``), served next to the Agent
    API. Unlike the Agent Server, whose custom routes are public unless ``enable_custom_route_auth`` is
    true, its routes are behind the API's authentication unless the project sets it to ``false``."""

    app: str | None = None
    enable_custom_route_auth: bool = True


def parse_http(config: Mapping[str, Any]) -> HttpSettings:
    http = config.get("http")
    if http is None:
        return HttpSettings()
    if not isinstance(http, Mapping):
        raise ProjectConfigError('"http" must be an object')
    app = http.get("app")
    if app is not None and (not isinstance(app, str) or ":" not in app):
        raise ProjectConfigError('http.app must be "./path/to/file.py:variable" or "module:variable"')
    enable = http.get("enable_custom_route_auth", True)
    if not isinstance(enable, bool):
        raise ProjectConfigError("http.enable_custom_route_auth must be true or false")
    return HttpSettings(app=app, enable_custom_route_auth=enable)


DISTANCE_TYPES = ("cosine", "l2", "inner_product")
# pgvector indexes vectors of at most 2,000 dimensions (HNSW and IVFFlat alike).
MAX_INDEXED_DIMS = 2000


@dataclass(frozen=True, slots=True)
class StoreIndex:
    """``store.index``: semantic search over store items. ``embed`` is ``"provider:model"`` (LangChain's
    ``init_embeddings``) or ``"./file.py:function"`` / ``"module:function"``; ``fields`` are the JSON
    paths of an item's value that are embedded (``["$"]``, the whole value, by default)."""

    dims: int
    embed: str
    fields: tuple[str, ...] = ("$",)
    distance_type: str = "cosine"

    @property
    def embed_is_provider(self) -> bool:
        """``openai:text-embedding-3-small`` names a provider; a path or a dotted module names code."""
        head = self.embed.rsplit(":", 1)[0]
        return "/" not in head and "." not in head and not head.endswith(".py")


def parse_store_index(config: Mapping[str, Any]) -> StoreIndex | None:
    store = config.get("store")
    if not isinstance(store, Mapping) or store.get("index") is None:
        return None
    raw = store["index"]
    if not isinstance(raw, Mapping):
        raise ProjectConfigError('"store.index" must be an object')
    dims = raw.get("dims")
    if isinstance(dims, bool) or not isinstance(dims, int) or not 0 < dims <= MAX_INDEXED_DIMS:
        raise ProjectConfigError(
            f"store.index.dims must be a whole number from 1 to {MAX_INDEXED_DIMS}, not {dims!r}"
        )
    embed = raw.get("embed")
    if not isinstance(embed, str) or ":" not in embed:
        raise ProjectConfigError(
            'store.index.embed must be "provider:model" (e.g. "openai:text-embedding-3-small") '
            f'or "./path/to/file.py:function", not {embed!r}'
        )
    fields = raw.get("fields", ["$"])
    if not isinstance(fields, list) or not fields or not all(isinstance(f, str) and f for f in fields):
        raise ProjectConfigError(f"store.index.fields must be a list of field paths, not {fields!r}")
    distance = raw.get("distance_type", "cosine")
    if distance not in DISTANCE_TYPES:
        raise ProjectConfigError(
            f"store.index.distance_type must be one of {list(DISTANCE_TYPES)}, not {distance!r}"
        )
    return StoreIndex(dims=dims, embed=embed, fields=tuple(fields), distance_type=distance)
