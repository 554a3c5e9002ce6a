"""Turn a model setting (``provider:model``) into a chat model.

Unset or ``offline`` gives the offline model, so a fresh install, CI and every test run with no key and
no network. A real provider switches on by configuration alone, e.g. ``openai:gpt-4.1``: its key comes
from the ``secrets`` mapping the runtime hands over (an org's stored credential), else from the
environment the provider's client reads by itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from langchain.chat_models import init_chat_model
from langchain_core.language_models import BaseChatModel

from atrium_agents.models.offline import OFFLINE_PROVIDER, OfflineChatModel

OFFLINE = "offline"

# Offline variants that misbehave on purpose, so retries and fallbacks can be tried without a provider.
_OFFLINE_VARIANTS: dict[str, dict[str, Any]] = {
    "unavailable": {"always_fail": True},
    "flaky": {"fail_first": 1},
    "slow": {"token_delay": 0.05},
}

# Where a provider's key lives in a secrets mapping, when it is not simply <PROVIDER>_API_KEY.
_SECRET_NAMES: dict[str, str] = {
    "google_genai": "GOOGLE_API_KEY",
    "azure_openai": "AZURE_OPENAI_API_KEY",
}


@dataclass(frozen=True)
class ModelSpec:
    """A parsed model setting."""

    provider: str
    model: str

    @property
    def is_offline(self) -> bool:
        return self.provider == OFFLINE_PROVIDER

    def __str__(self) -> str:
        return f"{self.provider}:{self.model}"


def parse_model_spec(spec: str | None) -> ModelSpec:
    """Parse ``provider:model``; unset and ``offline`` (or ``offline:<variant>``) mean the offline model.

    Raises ValueError for a spec without a provider, so a typo fails when the assistant is saved
    rather than on its first run.
    """
    spec = (spec or "").strip()
    if spec in ("", OFFLINE):
        return ModelSpec(provider=OFFLINE_PROVIDER, model=OFFLINE)
    provider, sep, model = spec.partition(":")
    if not sep or not provider or not model:
        raise ValueError(
            f"model must look like 'provider:model' (e.g. 'openai:gpt-4.1') or 'offline', got {spec!r}"
        )
    if provider == OFFLINE:
        return ModelSpec(provider=OFFLINE_PROVIDER, model=model)
    return ModelSpec(provider=provider, model=model)


def make_chat_model(
    spec: str | None,
    *,
    secrets: Mapping[str, str] | None = None,
    **kwargs: Any,
) -> BaseChatModel:
    """Build the chat model a setting names.

    ``secrets`` maps environment-style names (``OPENAI_API_KEY``) to values; it is read, never stored
    on anything that is checkpointed. Extra ``kwargs`` go to the provider's constructor.
    """
    parsed = parse_model_spec(spec)
    if parsed.is_offline:
        variant = _OFFLINE_VARIANTS.get(parsed.model, {})
        return OfflineChatModel(model_name=parsed.model, **variant)
    key = (secrets or {}).get(secret_name(parsed.provider))
    if key:
        kwargs.setdefault("api_key", key)
    model: BaseChatModel = init_chat_model(parsed.model, model_provider=parsed.provider, **kwargs)
    return model


def secret_name(provider: str) -> str:
    """The secrets-mapping key holding a provider's API key (``openai`` → ``OPENAI_API_KEY``)."""
    return _SECRET_NAMES.get(provider, f"{provider.upper()}_API_KEY")
