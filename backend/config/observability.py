"""Process-level observability wiring: logging in Celery's processes, and OpenTelemetry tracing.

Tracing is on only when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is
set; otherwise nothing is installed and the OpenTelemetry API calls in the code are no-ops. When on:

* the web process wraps the ASGI application in a server span per HTTP request;
* Celery's instrumentation makes a `publish` span where a task is sent (in the web process, inside the
  request's span) and carries the trace context in the message headers, and a `run` span around the
  task in the worker, continuing the same trace;
* the worker's graph runs get a LangChain callback (`atrium.runtime.engine.tracing`) that adds a span
  per model call and per tool call, under the task's span.

Spans go to the OTLP/HTTP exporter in batches; the standard `OTEL_*` variables (service name, headers,
sampler) apply.
"""

from __future__ import annotations

import logging
import logging.config
import os
import threading
from typing import Any

_lock = threading.Lock()
_state: dict[str, bool] = {}


def tracing_enabled() -> bool:
    return bool(
        os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def setup_tracing(service_name: str) -> bool:
    """Install the tracer provider and Celery's instrumentation once per process. Returns whether
    tracing is on."""
    if not tracing_enabled():
        return False
    with _lock:
        if _state.get("tracing"):
            return True
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.instrumentation.celery import CeleryInstrumentor
        from opentelemetry.sdk.resources import SERVICE_NAME, Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        name = os.environ.get("OTEL_SERVICE_NAME") or service_name
        provider = TracerProvider(resource=Resource.create({SERVICE_NAME: name}))
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        trace.set_tracer_provider(provider)
        CeleryInstrumentor().instrument(tracer_provider=provider)  # type: ignore[no-untyped-call]
        _state["tracing"] = True
        return True


def traced_asgi(app: Any) -> Any:
    """The ASGI application, wrapped in a server span per request when tracing is on."""
    if not setup_tracing("atrium-web"):
        return app
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    # Request and response headers are not recorded (they carry API keys and cookies).
    # No span per body chunk ("receive"/"send"): an event stream would make thousands.
    return OpenTelemetryMiddleware(
        app, excluded_urls="healthz,readyz,metrics", exclude_spans=["receive", "send"]
    )


def setup_celery(app: Any) -> None:
    """Celery's processes log with the project's configuration (ids, JSON, scrubbing), not Celery's
    own, and trace their tasks when tracing is on."""
    from celery import signals

    @signals.setup_logging.connect(weak=False)
    def _logging(**_: Any) -> None:
        from django.conf import settings

        logging.config.dictConfig(settings.LOGGING)

    @signals.worker_init.connect(weak=False)
    def _worker_init(**_: Any) -> None:
        setup_tracing("atrium-worker")

    @signals.worker_process_init.connect(weak=False)
    def _worker_process_init(**_: Any) -> None:
        setup_tracing("atrium-worker")

    @signals.beat_init.connect(weak=False)
    def _beat_init(**_: Any) -> None:
        setup_tracing("atrium-beat")

    @signals.task_prerun.connect(weak=False)
    def _bind_ids(task_id: str = "", task: Any = None, args: Any = None, **_: Any) -> None:
        from atrium.core.logs import bind_log_ids

        run_id = args[0] if getattr(task, "name", "") == "atrium.runtime.execute_run" and args else None
        _tokens[task_id] = bind_log_ids(run_id=run_id)

    @signals.task_postrun.connect(weak=False)
    def _reset_ids(task_id: str = "", **_: Any) -> None:
        from atrium.core.logs import reset_log_ids

        token = _tokens.pop(task_id, None)
        if token is not None:
            reset_log_ids(token)


_tokens: dict[str, Any] = {}
