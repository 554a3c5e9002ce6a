"""The Celery application shared by workers and beat."""

import os
from typing import Any

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = Celery("atrium")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _project_ttl_sweeps(sender: Celery, source: Any, **_: Any) -> None:
    """Beat sweeps TTLs as often as the project's langgraph.json says (`store.ttl` and
    `checkpointer.ttl` `sweep_interval_minutes`). Store items past their TTL are skipped by readers
    meanwhile; threads' own TTLs keep their one-minute sweep."""
    from atrium.assistants.graphs import project_ttls

    ttls = project_ttls()
    store_seconds = ttls.store_sweep_minutes * 60
    source.beat_schedule["store-ttl-sweep"] = {
        "task": "atrium.runtime.store_ttl_sweep",
        "schedule": store_seconds,
        "options": {"expires": store_seconds},
    }
    if ttls.checkpointer is not None:
        seconds = min(ttls.checkpointer.sweep_interval_minutes * 60, 60.0)
        source.beat_schedule["threads-expire"] = {
            "task": "atrium.runtime.threads_expire",
            "schedule": seconds,
            "options": {"expires": seconds},
        }


from config.observability import setup_celery  # noqa: E402

setup_celery(app)
