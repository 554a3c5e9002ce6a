from __future__ import annotations

import pytest
from langchain_anthropic import ChatAnthropic
from langchain_openai import ChatOpenAI

from atrium_agents.models.factory import ModelSpec, make_chat_model, parse_model_spec, secret_name
from atrium_agents.models.offline import OfflineChatModel


@pytest.mark.parametrize("spec", [None, "", "offline", "  offline  "])
def test_unset_or_offline_gives_the_offline_model(spec):
    # when
    model = make_chat_model(spec)

    # then
    assert isinstance(model, OfflineChatModel)
    assert model.model_name == "offline"
    assert parse_model_spec(spec).is_offline


def test_offline_variants_misbehave_on_purpose():
    # when
    unavailable = make_chat_model("offline:unavailable")
    flaky = make_chat_model("offline:flaky")

    # then
    assert isinstance(unavailable, OfflineChatModel)
    assert unavailable.always_fail is True
    assert isinstance(flaky, OfflineChatModel)
    assert flaky.fail_first == 1


def test_provider_key_comes_from_the_secrets_mapping(monkeypatch):
    # given
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)

    # when
    model = make_chat_model("openai:gpt-4.1", secrets={"OPENAI_API_KEY": "sk-from-vault"})

    # then
    assert isinstance(model, ChatOpenAI)
    assert model.model_name == "gpt-4.1"
    assert model.openai_api_key is not None
    assert model.openai_api_key.get_secret_value() == "sk-from-vault"


def test_provider_key_falls_back_to_the_environment(monkeypatch):
    # given
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-from-env")

    # when
    model = make_chat_model("anthropic:claude-sonnet-4-6")

    # then
    assert isinstance(model, ChatAnthropic)
    assert model.anthropic_api_key.get_secret_value() == "sk-from-env"


@pytest.mark.parametrize("spec", ["gpt-4.1", ":gpt-4.1", "openai:"])
def test_a_spec_without_provider_is_refused(spec):
    with pytest.raises(ValueError, match="provider:model"):
        parse_model_spec(spec)


def test_spec_and_secret_names():
    assert str(parse_model_spec("openai:gpt-4.1")) == "openai:gpt-4.1"
    assert parse_model_spec("openai:gpt-4.1") == ModelSpec(provider="openai", model="gpt-4.1")
    assert secret_name("openai") == "OPENAI_API_KEY"
    assert secret_name("google_genai") == "GOOGLE_API_KEY"
