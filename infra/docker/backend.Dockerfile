# One image for web, worker and beat (the command picks the role). Multi-stage: the web app is built
# with Node, the Python environment with uv from the lock file; the runtime stage is slim and non-root.

FROM node:20-bookworm-slim AS frontend
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
RUN npm run build

FROM python:3.11-slim-bookworm AS python
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PROJECT_ENVIRONMENT=/opt/venv
RUN pip install --no-cache-dir uv==0.13.8
WORKDIR /src
COPY pyproject.toml uv.lock ./
COPY backend/pyproject.toml backend/pyproject.toml
COPY agents/pyproject.toml agents/pyproject.toml
RUN mkdir -p backend/atrium backend/config agents/src/atrium_agents \
    && uv sync --frozen --no-dev --no-install-workspace
COPY backend/ backend/
COPY agents/ agents/
RUN uv sync --frozen --no-dev

FROM python:3.11-slim-bookworm AS runtime
RUN groupadd --system atrium && useradd --system --gid atrium --home /app atrium \
    && apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 DJANGO_SETTINGS_MODULE=config.settings.production \
    ATRIUM_FRONTEND_DIST=/app/frontend/dist ATRIUM_GRAPHS=/app/agents/langgraph.json
WORKDIR /app/backend
COPY --from=python /opt/venv /opt/venv
COPY --from=python /src/backend /app/backend
COPY --from=python /src/agents /app/agents
COPY --from=frontend /src/frontend/dist /app/frontend/dist
RUN ATRIUM_SECRET_KEY=build-only-collectstatic DATABASE_URL=postgres://x@localhost/x \
    python manage.py collectstatic --no-input -v 0
USER atrium
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=5 CMD curl -fsS http://127.0.0.1:8000/agent/ok || exit 1
CMD ["uvicorn", "config.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--loop", "uvloop", "--http", "httptools", \
     "--timeout-graceful-shutdown", "5"]
