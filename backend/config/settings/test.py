"""Test runs (`make test`): the throwaway Postgres and Redis started for the run."""

from config.env import env_bool
from config.settings.base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# pytest-django creates and drops the test database; a pool held across that confuses teardown.
DATABASES["default"].get("OPTIONS", {}).pop("pool", None)  # noqa: F405
WHITENOISE_AUTOREFRESH = True
ATRIUM_OAUTH_ALLOW_PRIVATE_HOSTS = env_bool("ATRIUM_OAUTH_ALLOW_PRIVATE_HOSTS", True)
# Loopback servers stand in for outside hosts; the security tests turn this off where they attack it.
ATRIUM_EGRESS_ALLOW_PRIVATE = env_bool("ATRIUM_EGRESS_ALLOW_PRIVATE", True)
