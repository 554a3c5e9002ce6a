"""What an assistant's settings may reach: where builders' settings meet what admins approved.

Builders write an assistant's settings (its versions); admins approve what those settings may reach:
the hosts sandboxes may call (`OrgPolicy.egress_hosts`), the base URLs each OAuth provider's tokens
may go to (`OAuthProvider.api_base_urls`) and the workspace secrets each assistant receives
(`Assistant.granted_secrets`) and the MCP servers assistants may name (`McpServer`, enabled).
`policy_violations` is the one rule; it is checked when settings are saved (a 422 naming the
setting) and again when a worker claims a run, so an approval withdrawn later stops runs of
assistants saved before (MCP server names: when the run's MCP port reads them).

The settings it reads are the platform's conventions, whatever the graph: `sandbox_egress` (rules
with a `host` and `${NAME}` secret references in their values) and `connected_apis` (entries with a
`provider` and a `base_url`) and `mcp_servers` (names of the org's MCP servers), in an assistant's
`context` or its `config["configurable"]`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from atrium.credentials.models import SECRET_NAME_PATTERN

EGRESS_SETTING = "sandbox_egress"
CONNECTED_APIS_SETTING = "connected_apis"
MCP_SERVERS_SETTING = "mcp_servers"
POLICY_SETTINGS = (EGRESS_SETTING, CONNECTED_APIS_SETTING, MCP_SERVERS_SETTING)
SECRET_REFERENCE = re.compile(r"\$\{([^}]*)\}")
SECRET_NAME = re.compile(SECRET_NAME_PATTERN)
_HOST_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
HOST_PATTERN = re.compile(rf"^(\*\.)?{_HOST_LABEL}(\.{_HOST_LABEL})*$")
MAX_APPROVALS = 200


class PolicyViolationError(ValueError):
    """A run's settings reach past what the org's admins approved: the run ends with this error (a
    ValueError, so its message, which names only settings, reaches the client)."""


@dataclass(frozen=True)
class Approvals:
    """What an admin approved for one assistant."""

    egress_hosts: tuple[str, ...] = ()
    provider_base_urls: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    secrets: frozenset[str] = frozenset()
    # The names of the org's enabled MCP servers; None where they were not read (a worker's claim):
    # the run's MCP port then refuses, at call time, any name that is not one of them.
    mcp_servers: frozenset[str] | None = None


def settings_violations(layers: Iterable[Mapping[str, Any] | None], approvals: Approvals) -> list[str]:
    """`policy_violations` of each settings layer on its own (an assistant's or run's context, its
    configurable): a graph may read either, so one layer may not hide another from the check."""
    problems: list[str] = []
    for layer in layers:
        if isinstance(layer, Mapping):
            settings = {k: layer[k] for k in POLICY_SETTINGS if k in layer}
            problems += [p for p in policy_violations(settings, approvals) if p not in problems]
    return problems


def host_approved(host: str, patterns: Iterable[str]) -> bool:
    host = host.lower().rstrip(".")
    for pattern in patterns:
        if pattern.startswith("*."):
            if host.endswith(pattern[1:]) and host != pattern[2:]:
                return True
        elif host == pattern:
            return True
    return False


def _origin_and_path(url: str) -> tuple[str, str, int | None, str] | None:
    """None for what is not a plain http(s) URL, or whose path could climb out of a prefix once an
    HTTP client or server normalises it (`.`/`..` segments, encoded dots or slashes, backslashes)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        return None
    path = parts.path
    if "\\" in path or re.search(r"%(2e|2f|5c)", path, flags=re.I):
        return None
    if any(segment in (".", "..") for segment in path.split("/")):
        return None
    return parts.scheme, parts.hostname.lower(), port, path.rstrip("/")


def base_url_approved(url: str, approved: Iterable[str]) -> bool:
    """`url` is one of the approved base URLs or lies under one (same scheme, host and port; the path
    extends the approved one at a `/`)."""
    wanted = _origin_and_path(url)
    if wanted is None:
        return False
    for candidate in approved:
        base = _origin_and_path(candidate)
        if base is None or base[:3] != wanted[:3]:
            continue
        if wanted[3] == base[3] or wanted[3].startswith(base[3] + "/"):
            return True
    return False


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def _entries(settings: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    value = settings.get(key) or []
    if not isinstance(value, list):
        return []  # the graph's own validation says what is wrong with the shape
    return [entry for entry in value if isinstance(entry, Mapping)]


def policy_violations(settings: Mapping[str, Any], approvals: Approvals) -> list[str]:
    """Every way `settings` reaches past `approvals`, each a sentence naming the setting; [] if none."""
    problems: list[str] = []
    for rule in _entries(settings, EGRESS_SETTING):
        host = rule.get("host")
        if isinstance(host, str) and not host_approved(host, approvals.egress_hosts):
            problems.append(f"{EGRESS_SETTING}: host {host!r} is not approved by an admin")
        for text in _strings(rule):
            for name in SECRET_REFERENCE.findall(text):
                if name not in approvals.secrets:
                    problems.append(
                        f"{EGRESS_SETTING}: secret ${{{name}}} is not granted to this assistant by an admin"
                    )
    for api in _entries(settings, CONNECTED_APIS_SETTING):
        provider, base_url = api.get("provider"), api.get("base_url")
        if not isinstance(provider, str) or not isinstance(base_url, str):
            continue
        allowed = approvals.provider_base_urls.get(provider)
        if allowed is None:
            problems.append(f"{CONNECTED_APIS_SETTING}: {provider!r} is not an OAuth provider of this org")
        elif not base_url_approved(base_url, allowed):
            problems.append(
                f"{CONNECTED_APIS_SETTING}: base_url {base_url!r} is not approved for provider {provider!r}"
            )
    servers = settings.get(MCP_SERVERS_SETTING) or []
    if approvals.mcp_servers is not None and isinstance(servers, list):
        for name in servers:
            if isinstance(name, str) and name not in approvals.mcp_servers:
                problems.append(
                    f"{MCP_SERVERS_SETTING}: {name!r} is not an MCP server an admin registered for this org"
                )
    return problems


def host_patterns_validate(hosts: Iterable[Any]) -> list[str]:
    """Host patterns as an admin approves them (lowercased), or ValueError naming the bad one."""
    clean: list[str] = []
    for host in hosts:
        if not isinstance(host, str) or not HOST_PATTERN.match(host.lower().rstrip(".")):
            raise ValueError(f"{host!r} is not a host name or a '*.' pattern of one")
        clean.append(host.lower().rstrip("."))
    if len(clean) > MAX_APPROVALS:
        raise ValueError(f"at most {MAX_APPROVALS} entries")
    return sorted(set(clean))


def secret_names_validate(names: Iterable[Any]) -> list[str]:
    clean: list[str] = []
    for name in names:
        if not isinstance(name, str) or not SECRET_NAME.match(name):
            raise ValueError(f"{name!r} is not a secret name (upper case letters, digits and _)")
        clean.append(name)
    if len(clean) > MAX_APPROVALS:
        raise ValueError(f"at most {MAX_APPROVALS} entries")
    return sorted(set(clean))
