"""A worker killed mid-run: the run resumes from its checkpoint on another worker, losing nothing.

Real RQ worker processes on the test Redis and PostgreSQL; the sandbox over loopback HTTP.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection as db
from django.db.models import Q
from django.utils import timezone

from connectors.models import RunStatus, SyncRecord, SyncRun
from connectors.queues import enqueue_slice
from sandbox.config import SandboxConfig
from sandbox.server import SandboxServer
from tests.sandbox_helpers import connection_for_sandbox, demo_mapping

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[3]


def _worker(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "tajo_worker"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=open(os.environ.get("TAJO_WORKER_LOG", os.devnull), "a"),
    )


def _worker_env() -> dict[str, str]:
    db_settings = settings.DATABASES["default"]
    if db.vendor == "postgresql":
        url = f"postgres://{db_settings['USER']}@{db_settings['HOST']}:{db_settings['PORT']}/{db_settings['NAME']}"
    else:
        url = f"sqlite:///{db_settings['NAME']}"
    return {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": settings.REDIS_URL,
        "TAJO_SLICE_SECONDS": "1",
        "TAJO_RUN_STALE_SECONDS": "3",
        "TAJO_WATCHDOG_SECONDS": "1",
        "TAJO_SYNC_SLICE_RECORDS": "100",
    }


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.skipif(sys.platform != "linux", reason="process groups and SIGKILL")
def test_killed_worker_resumes_without_loss(redis_conn) -> None:
    if db.vendor != "postgresql":
        pytest.skip("worker processes share the test database only on PostgreSQL")
    with SandboxServer(SandboxConfig.fast(contacts=1200, seed=11)) as sandbox:
        # A paced account keeps the run going for several seconds, long enough to kill its worker.
        connection = connection_for_sandbox(sandbox, ac_rate=25)
        run = SyncRun.objects.create(
            tenant=connection.tenant,
            connection=connection,
            resources=["contacts"],
            mapping_snapshot=demo_mapping().model_dump(mode="json"),
        )
        enqueue_slice(run.pk)
        env = _worker_env()
        first = _worker(env)
        try:
            _wait(lambda: bool(SyncRun.objects.get(pk=run.pk).state.get("contacts")), 60, "the first slice")
            # The worker and its work horse, mid-slice: RQ gives the horse a process group of its own.
            horses = subprocess.run(
                ["pgrep", "-P", str(first.pid)], capture_output=True, text=True
            ).stdout.split()
            os.killpg(first.pid, signal.SIGKILL)
            for horse in horses:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(horse), signal.SIGKILL)
            first.wait(timeout=10)
            killed_time = timezone.now()
            killed = SyncRun.objects.get(pk=run.pk)
            killed_at = killed.progress_done
            second = _worker(env)  # restarted at once: the dead worker's locks are still in Redis
            try:
                # Resumed within the stale period, a watchdog round and the worker's start-up: no
                # wait for RQ's scheduler lock or its 10-minute maintenance.
                _wait(
                    lambda: SyncRun.objects.get(pk=run.pk).heartbeat_at > killed_time + timedelta(seconds=1),
                    30,
                    "the run to resume on the restarted worker",
                )
                _wait(
                    lambda: (
                        SyncRun.objects.get(pk=run.pk).status not in (RunStatus.QUEUED, RunStatus.RUNNING)
                    ),
                    180,
                    "the run to finish on the second worker",
                )
            finally:
                os.killpg(second.pid, signal.SIGTERM)
                second.wait(timeout=20)
        finally:
            if first.poll() is None:
                os.killpg(first.pid, signal.SIGKILL)

        run.refresh_from_db()
        assert run.status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL), run.error
        assert killed.status == RunStatus.RUNNING and killed_at < run.progress_done, (
            "killed after the run ended"
        )
        assert run.state.get("_recovered", 0) >= 1 or run.state.get("contacts", {}).get("done")

        # Nothing lost: every AC contact has an outcome.
        ac_ids = {str(c) for c in sandbox.ac.contact_ids()} if hasattr(sandbox.ac, "contact_ids") else None
        seen = set(SyncRecord.objects.filter(run=run).values_list("source_id", flat=True))
        if ac_ids is not None:
            assert ac_ids <= seen
        assert len(seen) >= 1200
        # Nothing sent twice with different content.
        sent = defaultdict(set)
        for source_id, body in SyncRecord.objects.filter(run=run).values_list("source_id", "sent"):
            if body is not None:
                sent[source_id].add(repr(sorted(body.items())) if isinstance(body, dict) else repr(body))
        assert all(len(bodies) == 1 for bodies in sent.values())
        # Contacts the killed slice had already imported come back as "updated" (same content).
        written = (
            SyncRecord.objects.filter(run=run)
            .filter(Q(outcome__in=["created", "updated"]) | Q(error_code="field_rejected"))
            .values("source_id")
            .distinct()
            .count()
        )
        # ...and rows Brevo refused on resume (e.g. an SMS already used) may exist from the killed import.
        sent_to_brevo = (
            SyncRecord.objects.filter(run=run)
            .exclude(outcome__in=["skipped", "unchanged"])
            .exclude(error_code__in=["invalid_email", "duplicate_email", "no_email"])
            .values("source_id")
            .distinct()
            .count()
        )
        rows = list(
            SyncRecord.objects.filter(run=run)
            .filter(Q(outcome__in=["created", "updated"]) | Q(error_code="field_rejected"))
            .values_list("source_id", "key", "outcome", "message")
        )
        keys = Counter(key.lower() for _, key, _, _ in rows)
        shared = [row for row in rows if keys[row[1].lower()] > 1]
        absent = [row for row in rows if sandbox.brevo.contact_by_email(row[1]) is None]
        assert written <= sandbox.brevo.counts().get("contacts") <= sent_to_brevo, (shared[:10], absent[:10])
