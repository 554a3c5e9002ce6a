# One image for web, worker and beat (the command picks the role), serving the built web app too.
# Multi-stage: the web app is built with Node, the Python environment with uv from the lock file; the
# runtime stage gets only the virtualenv, the code and the built assets, and runs as a fixed non-root
# uid (10001, as the Helm chart's securityContext expects). Base images are pinned to exact releases;
# a release build pins them by digest too (docs/runbooks/upgrade.md).

# The LangGraph project the image serves, as `langgraph build` bakes one in (`make image
# GRAPHS=path/to/langgraph.json`): the named build context `project` is the directory of its
# langgraph.json and the build arg ATRIUM_GRAPHS its path inside the image (/app/project/<name>).
# Without `--build-context project=...` this empty stage stands in and the image serves agents/.
FROM scratch AS project

FROM node:20.20.2-bookworm-slim AS frontend
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
RUN npm run build

FROM python:3.11.14-slim-bookworm AS python
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PROJECT_ENVIRONMENT=/opt/venv UV_PYTHON_DOWNLOADS=never
RUN pip install --no-cache-dir uv==0.13.8
WORKDIR /src
COPY pyproject.toml uv.lock ./
COPY backend/pyproject.toml backend/pyproject.toml
COPY agents/pyproject.toml agents/pyproject.toml
# Dependencies first (cached until the lock file changes), then the project itself.
RUN mkdir -p backend/atrium backend/config agents/src/atrium_agents \
    && uv sync --frozen --no-dev --no-install-workspace
COPY backend/ backend/
COPY agents/ agents/
RUN uv sync --frozen --no-dev \
    && python -m compileall -q backend agents \
    && find backend agents -type d -name tests -prune -exec rm -rf {} +
# The project's `dependencies` into its overlay (backend/atrium/runtime/engine/project_deps.py), at the
# same paths as at run time, since the overlay's fingerprint and editable installs name them. Its .env
# files stay out of the image: a deployment sets the variables itself (compose's environment, the
# chart's secret), and those win over the project's `env` anyway.
ARG ATRIUM_GRAPHS=/app/agents/langgraph.json
ENV ATRIUM_PROJECT_DEPS_DIR=/opt/atrium-projects
COPY --from=project / /app/project/
# A project named but missing (a wrong GRAPHS) fails the build here, saying which file.
RUN mkdir -p /opt/atrium-projects \
    && find /app/project -name .env -type f -delete \
    && case "$ATRIUM_GRAPHS" in /app/project/*) \
         /opt/venv/bin/python -P backend/atrium/runtime/engine/project_deps.py install "$ATRIUM_GRAPHS" ;; \
       esac

FROM python:3.11.14-slim-bookworm AS runtime
# bubblewrap: the sandbox provider of agents that run code (docs/sandboxes.md, "Deploying").
RUN apt-get update && apt-get install -y --no-install-recommends bubblewrap && rm -rf /var/lib/apt/lists/*
# The sandboxes' directory belongs to the app's uid, so a fresh named volume mounted there does too.
RUN groupadd --system --gid 10001 atrium \
    && useradd --system --uid 10001 --gid atrium --home-dir /app --no-create-home --shell /usr/sbin/nologin atrium \
    && install -d -o 10001 -g 10001 -m 0711 /var/lib/atrium/sandboxes
ARG ATRIUM_GRAPHS=/app/agents/langgraph.json
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 HOME=/tmp XDG_CACHE_HOME=/tmp/.cache \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    ATRIUM_FRONTEND_DIST=/app/frontend/dist ATRIUM_GRAPHS=$ATRIUM_GRAPHS ATRIUM_PROJECT_DEPS_DIR=/opt/atrium-projects
WORKDIR /app/backend
COPY --from=python /opt/venv /opt/venv
COPY --from=python /opt/atrium-projects /opt/atrium-projects
COPY --from=python /app/project /app/project
COPY --from=python /src/backend /app/backend
COPY --from=python /src/agents /app/agents
COPY --from=frontend /src/frontend/dist /app/frontend/dist
# Production settings refuse to load without their secrets: collectstatic gets throwaway ones.
RUN ATRIUM_SECRET_KEY=build-only-collectstatic DATABASE_URL=postgres://x@localhost/x \
    ATRIUM_VAULT_KEYS=build-only:$(python -c 'import base64,os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())') \
    python manage.py collectstatic --no-input -v 0
# The code is root-owned and read-only to the app; it writes only to /tmp (beat's schedule) and the
# sandboxes' volume.
USER 10001:10001
EXPOSE 8000
# No curl in the image: the interpreter is the probe.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=5 \
    CMD ["python", "-c", "import sys,urllib.request as u; sys.exit(u.urlopen('http://127.0.0.1:8000/readyz', timeout=2).status != 200)"]
CMD ["uvicorn", "config.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--loop", "uvloop", "--http", "httptools", \
     "--no-access-log", "--timeout-graceful-shutdown", "5"]
