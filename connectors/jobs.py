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
    """Every minute or so: resume runs whose worker died, and start scheduled incremental syncs.

    It reschedules itself while there is anything to watch (active runs or scheduled
    connections); `tajo_worker` starts it again whenever a worker starts.
    """
    from connectors.models import ACTIVE_STATUSES, Connection, SyncRun
    from connectors.services import schedule_watchdog, sync_runs_mark_lost, sync_runs_start_due
    from connectors.sync.engine import recover_stale_runs

    recovered = recover_stale_runs()
    sync_runs_mark_lost()
    sync_runs_start_due()
    busy = SyncRun.objects.filter(status__in=ACTIVE_STATUSES).exists()
    if busy or Connection.objects.filter(enabled=True, incremental_every_minutes__gt=0).exists():
        schedule_watchdog(replace=True)
    return recovered
