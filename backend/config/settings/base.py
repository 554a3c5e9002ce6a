"""Settings shared by every environment. Environment-specific modules import from here."""

from __future__ import annotations

from pathlib import Path

from atrium.core.logs import logging_config
from atrium.runtime.adapters import ADAPTERS
from config.env import (
    database_from_url,
    env_bool,
    env_float,
    env_int,
    env_int_list,
    env_json,
    env_list,
    env_path,
    env_str,
    env_subset,
)

BACKEND_DIR = Path(__file__).resolve().parents[2]
REPO_DIR = BACKEND_DIR.parent

SECRET_KEY = env_str("ATRIUM_SECRET_KEY", "insecure-dev-key-change-me")
DEBUG = env_bool("ATRIUM_DEBUG", False)
ALLOWED_HOSTS = env_list("ATRIUM_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
# Browser origins allowed to call the Agent Server API cross-origin (with credentials), e.g. a
# separately hosted chat UI. Same-origin use (the bundled web app) needs nothing here.
ATRIUM_CORS_ORIGINS = env_list("ATRIUM_CORS_ORIGINS", [])
# Also allow browser pages on loopback origins (http://localhost:*, 127.0.0.1, [::1]; without
# credentials: they authenticate with an API key). On in the dev settings, off everywhere else.
ATRIUM_CORS_ALLOW_LOOPBACK = env_bool("ATRIUM_CORS_ALLOW_LOOPBACK", False)
CSRF_TRUSTED_ORIGINS = env_list(
    "ATRIUM_CSRF_TRUSTED_ORIGINS", ["http://localhost:5173", "http://127.0.0.1:5173"]
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "ninja",
    "atrium.core",
    "atrium.accounts",
    "atrium.orgs",
    "atrium.audit",
    "atrium.assistants",
    "atrium.runtime",
    "atrium.credentials",
    "atrium.mcp_servers",
    "atrium.usage",
    "atrium.skills",
]

MIDDLEWARE = [
    "atrium.core.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "atrium.core.middleware.TenancyScopeMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# The Agent Server API's handler (config.asgi): native-async middleware only, for its hot paths.
AGENT_MIDDLEWARE = [
    "atrium.core.middleware.RequestIdMiddleware",
    "atrium.core.agent_middleware.AgentCorsMiddleware",
    "atrium.core.middleware.TenancyScopeMiddleware",
    "atrium.core.agent_middleware.LazySessionUserMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": database_from_url(
        env_str("DATABASE_URL", "postgres://atrium@127.0.0.1:54329/atrium"),
        pool=env_bool("ATRIUM_DB_POOL", True),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/admin/login/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BACKEND_DIR / "staticfiles"
# The built web app (frontend/dist) is served from the site root: /assets/* by WhiteNoise, and
# index.html for every client-side route by atrium.core.views.web_app.
FRONTEND_DIST = env_path("ATRIUM_FRONTEND_DIST", REPO_DIR / "frontend" / "dist")
WHITENOISE_ROOT = FRONTEND_DIST if FRONTEND_DIST.is_dir() else None
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Adapters of atrium/runtime/adapters/ switched back to their library's stock path (`all`, or names like
# `langgraph_checkpoint,kombu_redis`): for a library upgrade whose contract test fails
# (docs/runbooks/upgrade-dependencies.md). Slower, or less robust where the adapter fixed a failure.
ATRIUM_STOCK_LIBRARY_PATHS = env_subset("ATRIUM_STOCK_LIBRARY_PATHS", ADAPTERS)

REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:63799/0")
CELERY_BROKER_URL = REDIS_URL
if REDIS_URL.startswith("redis://") and "kombu_redis" not in ATRIUM_STOCK_LIBRARY_PATHS:
    # kombu's Redis transport, kept from exiting a worker when Redis restarts (adapters/kombu_redis.py).
    # TLS (rediss://) and Sentinel URLs keep kombu's own transports, which set up their connections.
    CELERY_BROKER_TRANSPORT = "atrium.runtime.adapters.kombu_redis:Transport"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# The broker's redelivery is only the backstop for a lost worker: the run lease (below) notices one in
# seconds. A redelivered message is harmless (only a pending run can be claimed), so the timeout need
# not exceed the longest run; it must exceed the longest `after_seconds` delay (an ETA message is held
# unacknowledged until due and would otherwise be delivered twice, harmlessly but wastefully).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("ATRIUM_BROKER_VISIBILITY_TIMEOUT", 3600)}

# Run leases (docs/reliability.md): a worker renews its run's lease every ATRIUM_RUN_HEARTBEAT_SECONDS
# while the fence is still its own; the sweeper (a thread in every worker process, `watchdog.py`)
# reclaims a run whose lease has lapsed. Death to reclaim is at most lease + sweep interval.
ATRIUM_RUN_LEASE_SECONDS = env_int("ATRIUM_RUN_LEASE_SECONDS", 8)
ATRIUM_RUN_HEARTBEAT_SECONDS = env_int("ATRIUM_RUN_HEARTBEAT_SECONDS", 2)
ATRIUM_RUN_SWEEP_SECONDS = env_int("ATRIUM_RUN_SWEEP_SECONDS", 1)
# Claims a run may take (first run, reclaims after a lost lease, hand-backs at shutdown) before a lost
# lease ends it `error` instead of another try.
ATRIUM_RUN_MAX_ATTEMPTS = env_int("ATRIUM_RUN_MAX_ATTEMPTS", 3)
# The reconciler re-enqueues runs pending (and claimable) for longer than this: their message may have
# been lost with Redis. Re-enqueueing a run whose message is only queued is harmless.
ATRIUM_RUN_RECONCILE_SECONDS = env_int("ATRIUM_RUN_RECONCILE_SECONDS", 5)
ATRIUM_RUN_RECONCILE_AFTER_SECONDS = env_int("ATRIUM_RUN_RECONCILE_AFTER_SECONDS", 15)
# On SIGTERM, running graphs get this long to finish before they are asked to stop at their next step
# and handed back to another worker. Keep it well under the orchestrator's kill timeout (compose: 10 s).
ATRIUM_SHUTDOWN_GRACE_SECONDS = env_int("ATRIUM_SHUTDOWN_GRACE_SECONDS", 5)
# Runs one worker process holds at once on its event loop. Graphs wait on models and tools, so a
# process holds hundreds; at the limit its task threads wait for a free slot before they claim, so the
# worker takes no more from the broker than it can run (prefetch multiplier 1, above).
ATRIUM_WORKER_MAX_INFLIGHT = env_int("ATRIUM_WORKER_MAX_INFLIGHT", 300)

# Agent sandboxes: the provider (a dotted path to a callable returning one) and how often beat deletes
# those past their TTL.
ATRIUM_SANDBOX_PROVIDER = env_str(
    "ATRIUM_SANDBOX_PROVIDER", "atrium_agents.sandbox.run_scoped:default_provider"
)
ATRIUM_SANDBOX_SWEEP_SECONDS = env_int("ATRIUM_SANDBOX_SWEEP_SECONDS", 300)
# The sandbox egress proxy connects only to public addresses, on ports 80, 443 and a rule's own port.
# The operator (not an org admin) may let it reach private addresses and more ports.
ATRIUM_EGRESS_ALLOW_PRIVATE = env_bool("ATRIUM_EGRESS_ALLOW_PRIVATE", False)
ATRIUM_EGRESS_ALLOWED_PORTS = env_int_list("ATRIUM_EGRESS_ALLOWED_PORTS", [])

# How often beat looks for due crons: a cron fires at most this late.
ATRIUM_CRONS_TICK_SECONDS = env_float("ATRIUM_CRONS_TICK_SECONDS", 10.0)
CELERY_BEAT_SCHEDULE = {
    "crons-tick": {"task": "atrium.runtime.crons_tick", "schedule": ATRIUM_CRONS_TICK_SECONDS},
    "threads-expire": {
        "task": "atrium.runtime.threads_expire",
        "schedule": 60.0,
        "options": {"expires": 60.0},
    },
    "sandboxes-expire": {
        "task": "atrium.runtime.sandboxes_expire",
        "schedule": float(ATRIUM_SANDBOX_SWEEP_SECONDS),
        "options": {"expires": float(ATRIUM_SANDBOX_SWEEP_SECONDS)},
    },
    "oauth-authorizations-expire": {
        "task": "atrium.credentials.oauth_authorizations_expire",
        "schedule": 600.0,
        "options": {"expires": 600.0},
    },
}

# The vault's key-encryption keys, `id:base64key,...`: the first wraps new secrets, all unwrap
# (docs/runbooks/rotate-vault-keys.md). Dev and test fall back to a fixed, public key; production
# refuses to start without a real one.
DEV_VAULT_KEYS = "dev-insecure:YXRyaXVtLWRldi12YXVsdC1rZXktbm90LXNlY3JldCE"
ATRIUM_VAULT_KEYS = env_str("ATRIUM_VAULT_KEYS", DEV_VAULT_KEYS)
# The URL users reach Atrium at; OAuth providers redirect to <it>/api/v1/oauth/<provider>/callback.
ATRIUM_PUBLIC_URL = env_str("ATRIUM_PUBLIC_URL", "http://localhost:8000")
# Let OAuth provider URLs resolve to private or loopback addresses (an intranet identity provider;
# development and tests). Off, they are refused, so an org admin cannot aim the server at its own network.
ATRIUM_OAUTH_ALLOW_PRIVATE_HOSTS = env_bool("ATRIUM_OAUTH_ALLOW_PRIVATE_HOSTS", False)
# MCP servers an org admin registers (docs/mcp.md): their URLs may resolve to private or loopback
# addresses only when this is on (a server on the intranet; development and tests). stdio servers (a
# command the worker starts) only when ATRIUM_MCP_ALLOW_STDIO is on: the command runs as the worker.
ATRIUM_MCP_ALLOW_PRIVATE_HOSTS = env_bool("ATRIUM_MCP_ALLOW_PRIVATE_HOSTS", False)
ATRIUM_MCP_ALLOW_STDIO = env_bool("ATRIUM_MCP_ALLOW_STDIO", False)
# How long a worker keeps an MCP server's tool list (per server, and per user when it needs a token).
ATRIUM_MCP_TOOLS_TTL_SECONDS = env_int("ATRIUM_MCP_TOOLS_TTL_SECONDS", 300)

# Webhooks (docs/architecture.md, Webhooks): each org's signing secret is derived from this key.
ATRIUM_WEBHOOK_SIGNING_KEY = env_str("ATRIUM_WEBHOOK_SIGNING_KEY", SECRET_KEY)
ATRIUM_WEBHOOK_MAX_ATTEMPTS = env_int("ATRIUM_WEBHOOK_MAX_ATTEMPTS", 6)
# Retry n waits about BACKOFF * 2**(n-1) seconds (with jitter), at most BACKOFF_MAX.
ATRIUM_WEBHOOK_BACKOFF_SECONDS = env_float("ATRIUM_WEBHOOK_BACKOFF_SECONDS", 10.0)
ATRIUM_WEBHOOK_BACKOFF_MAX_SECONDS = env_float("ATRIUM_WEBHOOK_BACKOFF_MAX_SECONDS", 1800.0)
# One attempt in all (connect, send, read), and the largest body sent.
ATRIUM_WEBHOOK_TIMEOUT_SECONDS = env_float("ATRIUM_WEBHOOK_TIMEOUT_SECONDS", 10.0)
ATRIUM_WEBHOOK_MAX_BODY_BYTES = env_int("ATRIUM_WEBHOOK_MAX_BODY_BYTES", 1 << 20)
# Beat re-sends pending deliveries whose next attempt is overdue by this much (lost messages).
ATRIUM_WEBHOOK_RECONCILE_AFTER_SECONDS = env_int("ATRIUM_WEBHOOK_RECONCILE_AFTER_SECONDS", 300)
ATRIUM_WEBHOOK_RECONCILE_SECONDS = env_int("ATRIUM_WEBHOOK_RECONCILE_SECONDS", 60)
CELERY_BEAT_SCHEDULE["webhooks-reconcile"] = {
    "task": "atrium.runtime.webhooks_reconcile",
    "schedule": float(ATRIUM_WEBHOOK_RECONCILE_SECONDS),
    "options": {"expires": float(ATRIUM_WEBHOOK_RECONCILE_SECONDS)},
}

# Quotas (docs/architecture.md, Rate limits): defaults for orgs whose settings leave a value blank;
# 0 is unlimited. Rates are per minute, as token buckets (a full minute's allowance may come at once).
ATRIUM_RATE_API_PER_MINUTE = env_int("ATRIUM_RATE_API_PER_MINUTE", 30000)
ATRIUM_RATE_API_PER_MINUTE_PER_USER = env_int("ATRIUM_RATE_API_PER_MINUTE_PER_USER", 6000)
ATRIUM_RATE_RUNS_PER_MINUTE = env_int("ATRIUM_RATE_RUNS_PER_MINUTE", 6000)
ATRIUM_RATE_RUNS_PER_MINUTE_PER_USER = env_int("ATRIUM_RATE_RUNS_PER_MINUTE_PER_USER", 3000)
ATRIUM_MAX_CONCURRENT_RUNS = env_int("ATRIUM_MAX_CONCURRENT_RUNS", 200)
# Runs one POST /agent/runs/batch may create (one transaction for all of them; 422 past it).
ATRIUM_RUNS_BATCH_MAX = env_int("ATRIUM_RUNS_BATCH_MAX", 100)
# Run caps (docs/architecture.md, Run limits): wall-clock seconds and graph steps (LangGraph's
# recursion_limit) one run attempt may take; assistants and orgs may only lower them. 0: no cap.
ATRIUM_RUN_MAX_SECONDS = env_int("ATRIUM_RUN_MAX_SECONDS", 3600)
ATRIUM_RUN_MAX_STEPS = env_int("ATRIUM_RUN_MAX_STEPS", 10000)
# Events one run may append to its Redis stream; a run that reaches it ends with an error.
ATRIUM_RUN_MAX_STREAM_EVENTS = env_int("ATRIUM_RUN_MAX_STREAM_EVENTS", 100000)
# How long a process keeps an org's limits before reading them again.
ATRIUM_LIMITS_CACHE_SECONDS = env_float("ATRIUM_LIMITS_CACHE_SECONDS", 10.0)
# The price table of model usage (atrium/usage/prices.py): JSON, or the path of a JSON file.
ATRIUM_MODEL_PRICES = env_str("ATRIUM_MODEL_PRICES", "")
# A run that finds its org at its concurrent-run cap is offered to the workers again after this long.
ATRIUM_CAPACITY_RETRY_SECONDS = env_float("ATRIUM_CAPACITY_RETRY_SECONDS", 1.0)

# Input limits of both APIs (docs/architecture.md, Input limits): a larger body is refused with 413
# before it is read, deeper JSON with 422. Django's own check on reading a body uses the same number.
ATRIUM_MAX_BODY_BYTES = env_int("ATRIUM_MAX_BODY_BYTES", 8 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = ATRIUM_MAX_BODY_BYTES
ATRIUM_MAX_JSON_DEPTH = env_int("ATRIUM_MAX_JSON_DEPTH", 64)
# Files end users attach to a thread (POST /agent/threads/{id}/files): the largest file (413 past it),
# and the name endings accepted (415 otherwise). Text endings are stored as text the agent reads; the
# others as bytes it can list.
ATRIUM_UPLOAD_MAX_BYTES = env_int("ATRIUM_UPLOAD_MAX_BYTES", 2 * 1024 * 1024)
ATRIUM_UPLOAD_TEXT_TYPES = env_list(
    "ATRIUM_UPLOAD_TEXT_TYPES", ["md", "txt", "csv", "tsv", "json", "yaml", "yml"]
)
ATRIUM_UPLOAD_BINARY_TYPES = env_list("ATRIUM_UPLOAD_BINARY_TYPES", ["pdf", "png", "jpg", "jpeg"])
# What one thread may hold in all (413 past either): files (a name uploaded again replaces its file and
# counts once), and bytes of every file together.
ATRIUM_UPLOAD_MAX_FILES = env_int("ATRIUM_UPLOAD_MAX_FILES", 20)
ATRIUM_UPLOAD_MAX_THREAD_BYTES = env_int("ATRIUM_UPLOAD_MAX_THREAD_BYTES", 20 * 1024 * 1024)
# What one member's files may take in all, across their threads in an org (413 past it; 0: no limit):
# without it a member could fill the database a thread at a time, or by copying a full thread.
ATRIUM_UPLOAD_MAX_MEMBER_BYTES = env_int("ATRIUM_UPLOAD_MAX_MEMBER_BYTES", 200 * 1024 * 1024)

ATRIUM_PORT = env_int("ATRIUM_PORT", 8000)
# A verified API key is trusted by the process that verified it for this long (0: check every request):
# revoking a key or changing its member's role reaches other processes within this delay.
ATRIUM_API_KEY_CACHE_SECONDS = env_int("ATRIUM_API_KEY_CACHE_SECONDS", 5)
# Sign-in throttling (API and admin login): past this many failed attempts on one account, or from one
# address, sign-in is refused (429) until the lockout window ends; 0 is unlimited.
ATRIUM_LOGIN_FAILURES_PER_ACCOUNT = env_int("ATRIUM_LOGIN_FAILURES_PER_ACCOUNT", 10)
ATRIUM_LOGIN_FAILURES_PER_ADDRESS = env_int("ATRIUM_LOGIN_FAILURES_PER_ADDRESS", 100)
ATRIUM_LOGIN_LOCKOUT_SECONDS = env_int("ATRIUM_LOGIN_LOCKOUT_SECONDS", 900)
# Reverse proxies in front of the web processes that append to X-Forwarded-For (0: trust no header).
ATRIUM_TRUSTED_PROXY_HOPS = env_int("ATRIUM_TRUSTED_PROXY_HOPS", 0)
# Connections of the runtime's own async pool (LangGraph checkpointer and store), per process.
ATRIUM_RUNTIME_POOL_SIZE = env_int("ATRIUM_RUNTIME_POOL_SIZE", 20)
# Server-side prepared statements on that pool; off behind a pooler that cannot keep them (runtime/db.py).
ATRIUM_DB_PREPARED_STATEMENTS = env_bool("ATRIUM_DB_PREPARED_STATEMENTS", True)
ATRIUM_GRAPHS = env_path("ATRIUM_GRAPHS", REPO_DIR / "agents" / "langgraph.json")
# Where the launchers install each project's `dependencies` (runtime/engine/project_deps.py), one
# directory per fingerprint, outside the locked virtualenv so `uv sync` never removes them.
ATRIUM_PROJECT_DEPS_DIR = env_path(
    "ATRIUM_PROJECT_DEPS_DIR", env_path("ATRIUM_DATA_DIR", REPO_DIR / ".data") / "projects"
)

# /metrics (atrium/core/health.py): a scraper sends `Authorization: Bearer <token>`; unset, only
# loopback clients may scrape.
ATRIUM_METRICS_TOKEN = env_str("ATRIUM_METRICS_TOKEN", "")

# Logs (atrium/core/logs.py): `text` or `json` lines carrying request, org, run and thread ids, with
# anything credential-like scrubbed. Celery's processes use the same configuration.
ATRIUM_LOG_FORMAT = env_str("ATRIUM_LOG_FORMAT", "text")
LOGGING = logging_config(level=env_str("ATRIUM_LOG_LEVEL", "INFO"), fmt=ATRIUM_LOG_FORMAT)

# Single sign-on for the web app (OpenID Connect, atrium/accounts/oidc.py): a JSON list of providers,
# each {"slug", "name", "issuer", "client_id", "client_secret", "scopes"?, "org"?, "role"?,
# "create_users"?, "allowed_domains"?}. Empty: password sign-in only.
ATRIUM_OIDC_PROVIDERS = env_json("ATRIUM_OIDC_PROVIDERS", [])
