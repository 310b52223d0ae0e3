"""The watchdog thread every `tajo_worker` process runs beside its RQ worker.

Each second it moves due delayed jobs onto their queues (`connectors.queues.move_due_jobs`),
and every `TAJO_WATCHDOG_SECONDS` it runs `connectors.jobs.watchdog` (resume runs whose
worker died, start scheduled syncs). Short Redis keys with a TTL make one worker do each round
across all of them; a worker killed mid-round holds nothing longer than that TTL, so another
worker, or the same one restarted at once, takes over within seconds. RQ's own scheduler is not
used: its lock outlives a worker killed with SIGKILL, and a new worker only retries it at RQ's
ten-minute maintenance.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time

from django.conf import settings
from django.db import connections

logger = logging.getLogger(__name__)

MOVE_KEY = "tajo:watchdog:move"
ROUND_KEY = "tajo:watchdog:round"
MOVE_EVERY = 1.0


def _claim(conn, key: str, seconds: float) -> bool:
    """At most one claimant per `seconds` across all workers: the key simply expires."""
    return bool(conn.set(key, f"{os.getpid()}", nx=True, px=max(1, int(seconds * 1000))))


def watchdog_round(conn=None, *, force: bool = False) -> dict[str, int]:
    """What one tick does; returns what it did (`moved`, `recovered`) for logs and tests."""
    from connectors import jobs, queues

    conn = conn if conn is not None else queues.redis_connection()
    done = {"moved": 0, "recovered": 0}
    if force or _claim(conn, MOVE_KEY, MOVE_EVERY * 0.9):
        done["moved"] = queues.move_due_jobs(conn)
    if force or _claim(conn, ROUND_KEY, float(settings.TAJO_WATCHDOG_SECONDS) * 0.9):
        done["recovered"] = len(jobs.watchdog())
    return done


class WatchdogThread(threading.Thread):
    """Daemon thread: a tick a second, slightly jittered so workers started together spread out."""

    def __init__(self) -> None:
        super().__init__(name="tajo-watchdog", daemon=True)
        self._halt = threading.Event()  # not `_stop`: threading.Thread has a method of that name

    def stop(self) -> None:
        self._halt.set()

    def run(self) -> None:
        try:
            while not self._halt.wait(
                MOVE_EVERY * random.uniform(0.8, 1.0)
            ):  # jitter: workers started together spread out
                try:
                    watchdog_round()
                except Exception:  # Redis or the database away for a moment: the next tick retries
                    logger.warning("watchdog round failed", exc_info=True)
                    connections.close_all()
                    time.sleep(1)
        finally:
            connections.close_all()
