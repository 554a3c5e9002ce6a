"""Per-assistant settings and the identity of whoever a run is for.

One typed `Context` serves two purposes:

* **settings** (model, prompt, limits, retries, fallback, PII rules, approvals, memory policy) that
  shape the middleware stack, so `graph.make_graph` reads them from ``config["configurable"]`` when it
  builds the graph;
* **identity** (``user_id``, ``org_id``, ``assistant_id``) that memory namespaces need at run time,
  read from the run's ``context`` first and ``config["configurable"]`` second (see `memory.scope_of`):
  LangGraph does not checkpoint ``context``, so the runtime supplies it again on every run and resume.

Every field is a JSON scalar, a list of them, or a list of flat objects, so an assistant's settings
round-trip through the control plane's JSON as they are.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Required, get_args

from typing_extensions import TypedDict

from atrium_agents.deep_agent.connected_apis import ConnectedApiSpec, validate_specs
from atrium_agents.deep_agent.mcp import validate_server_names
from atrium_agents.deep_agent.pii_patterns import pattern_problem
from atrium_agents.deep_agent.prompts import SYSTEM_PROMPT
from atrium_agents.models.factory import parse_model_spec
from atrium_agents.sandbox.egress import EgressRuleSpec, parse_rules

PIIStrategy = Literal["redact", "mask", "hash", "block"]
MemoryAccess = Literal["read_write", "read_only", "off"]
OrgMemoryAccess = Literal["read_only", "off"]
SandboxMode = Literal["off", "thread", "assistant"]
BUILTIN_PII_TYPES = ("email", "credit_card", "ip", "mac_address", "url")


class PIIRule(TypedDict, total=False):
    """How to treat one kind of personal data.

    ``type`` is a built-in detector (`BUILTIN_PII_TYPES`) or any name with a ``pattern`` (a regular
    expression) for a custom detector, e.g. ``{"type": "employee_id", "pattern": r"EMP-\\d{6}"}``.
    ``block`` refuses the run; the others rewrite the text (``[REDACTED_EMAIL]``, ``****1111``,
    ``<email_hash:1a2b3c4d>``).
    """

    type: Required[str]
    strategy: PIIStrategy
    pattern: str


@dataclass(kw_only=True)
class Context:
    """Settings of one assistant plus the ids of the run's user, org and assistant."""

    # Identity: supplied by the runtime on every run, never by the assistant's editor.
    user_id: str | None = None
    org_id: str | None = None
    assistant_id: str | None = None

    # Model.
    model: str = "offline"
    """``provider:model`` (e.g. ``openai:gpt-4.1``), or ``offline`` for the built-in offline model."""
    fallback_model: str | None = None
    """Tried when the model still fails after its retries."""
    system_prompt: str = SYSTEM_PROMPT

    # Limits: None means no limit. A run that reaches one ends with a message saying so.
    model_call_limit_per_run: int | None = 25
    model_call_limit_per_thread: int | None = None
    tool_call_limit_per_run: int | None = 50
    tool_call_limit_per_thread: int | None = None

    # Retries with exponential backoff (delays in seconds).
    model_max_retries: int = 2
    tool_max_retries: int = 1
    retry_initial_delay: float = 1.0
    retry_backoff_factor: float = 2.0
    retry_max_delay: float = 60.0

    # Guardrails.
    pii_rules: list[PIIRule] = field(default_factory=list)
    interrupt_on: list[str] = field(default_factory=list)
    """Tool names that wait for a human to approve, edit or reject each call."""

    # Memory policy per scope.
    user_memory: MemoryAccess = "read_write"
    assistant_memory: MemoryAccess = "read_write"
    """Shared by every user of the assistant: what one user's run writes, another's reads."""
    org_memory: OrgMemoryAccess = "read_only"
    """Curated by org admins through the store API; never writable by the agent."""

    # Code execution.
    sandbox: SandboxMode = "off"
    """``thread``: each conversation gets its own isolated sandbox (``execute`` plus files under
    ``/workspace``); ``assistant``: one shared by all conversations with the assistant; ``off``: none."""
    sandbox_egress: list[EgressRuleSpec] = field(default_factory=list)
    """Hosts the sandbox may reach over HTTP, through the egress proxy, each with an optional header
    the proxy adds (``{"host": "api.example.com", "header": "Authorization", "value": "Bearer
    ${EXAMPLE_KEY}", "tls": true}``; ``${NAME}`` is a workspace secret). Empty: no network at all."""

    connected_apis: list[ConnectedApiSpec] = field(default_factory=list)
    """Outside APIs the agent may read as the user (``call_connected_api``), each granted by one of the
    org's OAuth providers: ``{"name", "provider", "base_url", "scopes"}``. Without a grant the run asks
    the user to connect."""

    mcp_servers: list[str] = field(default_factory=list)
    """Names of the org's MCP servers (registered by its admins) whose tools the agent gets. A server
    behind an OAuth provider is called with the user's token; without a grant the run asks the user
    to connect."""

    def __post_init__(self) -> None:
        parse_model_spec(self.model)
        if self.fallback_model:
            parse_model_spec(self.fallback_model)
        for run, thread, what in (
            (self.model_call_limit_per_run, self.model_call_limit_per_thread, "model call"),
            (self.tool_call_limit_per_run, self.tool_call_limit_per_thread, "tool call"),
        ):
            if any(limit is not None and limit < 1 for limit in (run, thread)):
                raise ValueError(f"{what} limits must be positive or unset")
            if run is not None and thread is not None and run > thread:
                raise ValueError(f"{what} limit per run ({run}) exceeds the limit per thread ({thread})")
        if min(self.model_max_retries, self.tool_max_retries) < 0:
            raise ValueError("retry counts cannot be negative")
        for rule in self.pii_rules:
            if rule.get("strategy", "redact") not in get_args(PIIStrategy):
                raise ValueError(f"unknown PII strategy in {rule!r}")
            if rule["type"] not in BUILTIN_PII_TYPES and not rule.get("pattern"):
                raise ValueError(f"PII type {rule['type']!r} is not built in and needs a 'pattern'")
            problem = pattern_problem(rule["pattern"]) if rule.get("pattern") else None
            if problem is not None:
                raise ValueError(f"the pattern of PII type {rule['type']!r} {problem}")
        parse_rules(self.sandbox_egress)
        validate_specs(self.connected_apis)
        validate_server_names(self.mcp_servers)
        for name, value, allowed in (
            ("user_memory", self.user_memory, get_args(MemoryAccess)),
            ("assistant_memory", self.assistant_memory, get_args(MemoryAccess)),
            ("org_memory", self.org_memory, get_args(OrgMemoryAccess)),
            ("sandbox", self.sandbox, get_args(SandboxMode)),
        ):
            if value not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {value!r}")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Context:
        """Build from a mapping holding other keys too (``thread_id``, ``run_id``...), e.g. configurable."""
        fields = {f.name: f for f in dataclasses.fields(cls)}
        # None means "unlimited"/"unset" where a field allows it, and "use the default" elsewhere.
        return cls(
            **{
                key: value
                for key, value in values.items()
                if key in fields and (value is not None or "None" in str(fields[key].type))
            }
        )
