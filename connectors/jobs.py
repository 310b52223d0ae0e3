"""RQ entry points. Thin: they take ids, load nothing themselves, and call the engine."""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


def run_slice(run_id: int) -> str:
    """One bounded slice of a sync run; the engine enqueues the next one."""
    from connectors.sync.engine import execute_slice, recover_stale_runs

    outcome = execute_slice(run_id)
    # Every slice also looks for runs whose worker died, so recovery needs no extra scheduler.
    recover_stale_runs()
    return outcome


def watchdog() -> list[int]:
    """Resume runs whose worker died; scheduled by `tajo_worker` and safe to run anywhere, any time."""
    from connectors.sync.engine import recover_stale_runs

    return recover_stale_runs()
