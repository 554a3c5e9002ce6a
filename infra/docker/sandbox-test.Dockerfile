# The backend image (BASE, built by `make image`) plus pytest and the agents' tests, to run the sandbox
# suite exactly where the chart and compose run sandboxes (infra/tests/test_sandbox_in_image.py). Not
# for deployment: the backend image itself has no tests and no test tools.
ARG BASE=atrium-backend:local

FROM python:3.11.14-slim-bookworm AS pytest
# The versions of uv.lock (pure Python, so the base's interpreter runs them).
RUN pip install --no-cache-dir --target /opt/pytest pytest==9.2.0 pytest-asyncio==1.5.0

FROM ${BASE}
COPY --from=pytest /opt/pytest /opt/pytest
COPY agents/tests /app/agents/tests
ENV PYTHONPATH=/opt/pytest
WORKDIR /app/agents
