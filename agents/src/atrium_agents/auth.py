"""Agent auth: tools that act for the user at an outside service (their GitHub, their Slack).

A tool declares what it needs (`OAuthRequirement(provider, scopes)`) and asks for a token at call time
with `provider_token(config, requirement)`. The runtime puts a credentials port in
``config["configurable"]["__atrium_credentials"]`` (a ``__`` key: never checkpointed, never
streamed); the port answers with a token, or with what the user must do to grant one. In that case the
run **interrupts** with a consent request (``{"type": "oauth_consent", "authorization_url": ...}``),
the web app shows a "Connect <provider>" card, and once the user has consented the platform resumes
the run by itself: the tool runs again and this time gets its token.

Tokens live only in the tool's local variables: never in state, messages or the interrupt.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from langchain_core.runnables import RunnableConfig
from langgraph.types import interrupt

CREDENTIALS_KEY = "__atrium_credentials"
CONSENT_INTERRUPT = "oauth_consent"
_MAX_CONSENT_ROUNDS = 3


@dataclass(frozen=True)
class OAuthRequirement:
    """What a tool needs: a provider (its slug in the org, or its id) and the scopes."""

    provider: str
    scopes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProviderToken:
    access_token: str
    token_type: str = "Bearer"

    def authorization(self) -> str:
        """The value of the ``Authorization`` header."""
        scheme = "Bearer" if self.token_type.lower() == "bearer" else self.token_type
        return f"{scheme} {self.access_token}"

    def __repr__(self) -> str:  # keep the token out of logs and tracebacks
        return f"ProviderToken(type={self.token_type!r})"


class CredentialsPort(Protocol):
    """What the runtime provides. ``token`` answers ``{"access_token", "token_type"}`` when the user
    has a valid grant, else ``{"consent": {...}}`` with the provider, scopes and authorization URL."""

    async def token(self, provider: str, scopes: Sequence[str]) -> Mapping[str, Any]: ...


class NoCredentialsError(RuntimeError):
    """The graph runs somewhere that provides no credentials port."""


class ConsentNotGivenError(RuntimeError):
    """The run was resumed without the user having consented, several times."""


def credentials_of(config: RunnableConfig | None) -> CredentialsPort:
    port = ((config or {}).get("configurable") or {}).get(CREDENTIALS_KEY)
    if port is None:
        raise NoCredentialsError("This runtime provides no credentials for outside services.")
    return port  # type: ignore[no-any-return]


async def provider_token(config: RunnableConfig | None, requirement: OAuthRequirement) -> ProviderToken:
    """A valid token for ``requirement``, interrupting the run for the user's consent when needed.

    Call it from inside a node or tool (``interrupt`` needs the graph's context). On resume the node
    runs again from its start; this time the port has a token and no interrupt happens."""
    port = credentials_of(config)
    for _ in range(_MAX_CONSENT_ROUNDS):
        answer = await port.token(requirement.provider, requirement.scopes)
        consent = answer.get("consent")
        if consent is None:
            return ProviderToken(
                access_token=str(answer["access_token"]), token_type=str(answer.get("token_type") or "Bearer")
            )
        interrupt({"type": CONSENT_INTERRUPT, **dict(consent)})
    raise ConsentNotGivenError(f"No consent for {requirement.provider}; connect it and try again.")
