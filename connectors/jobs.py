"""RQ entry points. Thin: they take ids and call the engine."""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)

WATCHDOG_JOB_ID = "tajo-watchdog"


def run_slice(run_id: int) -> str:
    """One bounded slice of a sync run; the engine enqueues the next one."""
    from connectors.sync.engine import execute_slice

    return execute_slice(run_id)


def slice_failed(job, connection, exc_type, exc_value, traceback) -> None:
    """RQ failure callback of a slice job.

    An abandoned job (its worker died: RQ's started-job registry noticed) resumes the run from
    its checkpoint; any other crash fails the run with a message instead of leaving it hanging.
    """
    from rq.exceptions import AbandonedJobError

    from connectors.sync.engine import fail_run, resume_run

    run_id = int(job.args[0])
    if exc_type is AbandonedJobError or isinstance(exc_value, AbandonedJobError):
        resume_run(run_id, reason="its worker stopped (abandoned job)")
    else:
        fail_run(run_id, f"internal error in a sync slice ({exc_type.__name__}); see the worker log")


def watchdog() -> list[int]:
    """Resume runs whose worker died (stale heartbeat); reschedules itself while runs are active."""
    from connectors.models import ACTIVE_STATUSES, SyncRun
    from connectors.services import schedule_watchdog
    from connectors.sync.engine import recover_stale_runs

    recovered = recover_stale_runs()
    if SyncRun.objects.filter(status__in=ACTIVE_STATUSES).exists():
        schedule_watchdog(replace=True)
    return recovered
