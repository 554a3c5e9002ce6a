"""Test runs (`make test`): the throwaway Postgres and Redis started for the run."""

from config.env import env_bool, env_int
from config.settings.base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# pytest-django creates and drops the test database; a pool held across that confuses teardown.
DATABASES["default"].get("OPTIONS", {}).pop("pool", None)  # noqa: F405
WHITENOISE_AUTOREFRESH = True
ATRIUM_OAUTH_ALLOW_PRIVATE_HOSTS = env_bool("ATRIUM_OAUTH_ALLOW_PRIVATE_HOSTS", True)
ATRIUM_MCP_ALLOW_PRIVATE_HOSTS = env_bool("ATRIUM_MCP_ALLOW_PRIVATE_HOSTS", True)
# Loopback servers stand in for outside hosts; the security tests turn this off where they attack it.
ATRIUM_EGRESS_ALLOW_PRIVATE = env_bool("ATRIUM_EGRESS_ALLOW_PRIVATE", True)
# Failed sign-ins are counted in Redis, which outlives a test run: fixed test accounts failing on
# purpose would lock each other out across runs. The throttling tests set their own limits.
ATRIUM_LOGIN_FAILURES_PER_ACCOUNT = env_int("ATRIUM_LOGIN_FAILURES_PER_ACCOUNT", 0)
ATRIUM_LOGIN_FAILURES_PER_ADDRESS = env_int("ATRIUM_LOGIN_FAILURES_PER_ADDRESS", 0)
