"""Local development (`make dev`): debug on, the local services started by the Makefile."""

from config.env import env_bool
from config.settings.base import *  # noqa: F403

DEBUG = env_bool("ATRIUM_DEBUG", True)
ATRIUM_OAUTH_ALLOW_PRIVATE_HOSTS = env_bool("ATRIUM_OAUTH_ALLOW_PRIVATE_HOSTS", True)
ATRIUM_MCP_ALLOW_PRIVATE_HOSTS = env_bool("ATRIUM_MCP_ALLOW_PRIVATE_HOSTS", True)
# A local chat UI or studio (e.g. agent-chat-ui on :3000) works at once, as with `langgraph dev`.
ATRIUM_CORS_ALLOW_LOOPBACK = env_bool("ATRIUM_CORS_ALLOW_LOOPBACK", True)
