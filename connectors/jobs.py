"""RQ entry points. Thin: they take ids and call the engine."""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


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
    """One round of the watchdog: resume runs whose worker died, start due incremental syncs.

    Every `tajo_worker` process runs it in a thread of its own (`connectors.watchdog`), so it
    runs wherever any worker runs; it can also be enqueued or called by hand.
    """
    from connectors.services import sync_runs_mark_lost, sync_runs_start_due
    from connectors.sync.engine import recover_stale_runs

    recovered = recover_stale_runs()
    sync_runs_mark_lost()
    sync_runs_start_due()
    return recovered
