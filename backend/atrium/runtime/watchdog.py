"""Recovery inside every worker process: the lease sweeper and the queue reconciler on a thread of their own.

They used to be beat tasks on the `default` queue, so when every worker slot was busy (or the CPU
saturated) a sweep waited behind runs and a dead worker's runs took well over the lease to resume.
Here each worker process sweeps on its own thread, off the task slots and the broker: any live worker
notices a dead one's expired leases within about one sweep interval, whatever its queues are doing.
Both services are idempotent guarded UPDATEs, so any number of workers may run them at once; the
intervals are jittered so several workers spread their sweeps rather than sweep in step.
"""

from __future__ import annotations

import logging
import random
import threading
import time

from django.conf import settings
from django.db import close_old_connections, connection

from atrium.runtime.services import lifecycle

logger = logging.getLogger(__name__)

_thread: threading.Thread | None = None
_stop = threading.Event()
_lock = threading.Lock()


def _jittered(seconds: float) -> float:
    return seconds * random.uniform(0.75, 1.25)  # noqa: S311 (jitter, not a secret)


def _loop() -> None:
    next_reconcile = time.monotonic() + _jittered(settings.ATRIUM_RUN_RECONCILE_SECONDS)
    while not _stop.wait(_jittered(settings.ATRIUM_RUN_SWEEP_SECONDS)):
        try:
            close_old_connections()
            lifecycle.sweep()
            if time.monotonic() >= next_reconcile:
                next_reconcile = time.monotonic() + _jittered(settings.ATRIUM_RUN_RECONCILE_SECONDS)
                lifecycle.requeue()
        except Exception:  # Postgres or Redis away: try again at the next interval
            logger.warning("run recovery sweep failed; retrying", exc_info=True)
        finally:
            connection.close()  # back to the pool (or closed): a broken one is never reused


def watchdog_start() -> None:
    """Start this process's recovery thread (once)."""
    global _thread
    with _lock:
        if _thread is None or not _thread.is_alive():
            _stop.clear()
            _thread = threading.Thread(target=_loop, name="atrium-run-watchdog", daemon=True)
            _thread.start()


def watchdog_stop() -> None:
    _stop.set()
