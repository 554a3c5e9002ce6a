"""Production: every secret comes from the environment and debug is refused."""

from config.env import ImproperlyConfiguredError, env_bool, env_str
from config.settings.base import *  # noqa: F403

if env_bool("ATRIUM_DEBUG", False):
    raise ImproperlyConfiguredError("ATRIUM_DEBUG must be off in production.")
DEBUG = False
SECRET_KEY = env_str("ATRIUM_SECRET_KEY")
if SECRET_KEY.startswith("insecure"):
    raise ImproperlyConfiguredError("Set a real ATRIUM_SECRET_KEY in production.")
SESSION_COOKIE_SECURE = env_bool("ATRIUM_SECURE_COOKIES", True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
ATRIUM_VAULT_KEYS = env_str("ATRIUM_VAULT_KEYS")
if "dev-insecure:" in ATRIUM_VAULT_KEYS:
    raise ImproperlyConfiguredError("Set real ATRIUM_VAULT_KEYS in production (see .env.example).")
