"""Chat models: the offline model every test runs on, and the factory that picks a real one by setting."""

from atrium_agents.models.factory import ModelSpec, make_chat_model, parse_model_spec
from atrium_agents.models.offline import OFFLINE_PROVIDER, OfflineChatModel

__all__ = ["OFFLINE_PROVIDER", "ModelSpec", "OfflineChatModel", "make_chat_model", "parse_model_spec"]
