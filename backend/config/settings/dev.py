"""Local development (`make dev`): debug on, the local services started by the Makefile."""

from config.env import env_bool
from config.settings.base import *  # noqa: F403

DEBUG = env_bool("ATRIUM_DEBUG", True)
ATRIUM_OAUTH_ALLOW_PRIVATE_HOSTS = env_bool("ATRIUM_OAUTH_ALLOW_PRIVATE_HOSTS", True)
