"""Small helpers."""

from __future__ import annotations

from langchain.chat_models import init_chat_model
from langchain_core.language_models import BaseChatModel


def split_model_and_provider(fully_specified_name: str) -> dict[str, str | None]:
    if "/" in fully_specified_name:
        provider, model = fully_specified_name.split("/", maxsplit=1)
        return {"model_provider": provider, "model": model}
    return {"model_provider": None, "model": fully_specified_name}


def load_chat_model(fully_specified_name: str) -> BaseChatModel:
    """A chat model from "provider/model-name"."""
    return init_chat_model(**split_model_and_provider(fully_specified_name))
