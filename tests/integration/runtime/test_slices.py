"""Slices keep their length: a full read-ahead and a slow Brevo still end on time, nothing read
is dropped or read twice, and the run's heartbeat beats while the slice works."""

from __future__ import annotations

import math
import threading
import time

import httpx
import pytest
from django.db import connections
from django.test import override_settings

from connectors.models import Outcome, RunStatus, SyncRecord, SyncRun
from connectors.sync import carry
from connectors.sync.engine import SLICE_GRACE, execute_slice
from sandbox.config import SandboxConfig
from sandbox.faults import FaultSpec
from sandbox.server import SandboxServer
from tests.sandbox_helpers import connection_for_sandbox, demo_mapping

pytestmark = pytest.mark.django_db(transaction=True)

CONTACTS = 1000
SLICE = 2.0
SLOW_SLICES = 3
BREVO_SECONDS = 1.5


def _contact_pages_read(sandbox) -> dict[str, int]:
    """Answers to `GET /api/3/contacts` by status (and `count`, all of them)."""
    stats = httpx.get(f"{sandbox.base_url}/_sandbox/stats", timeout=30).json()
    return next((v for k, v in stats["requests"].items() if k.endswith(" /api/3/contacts")), {})


def _contacts_run(connection) -> SyncRun:
    return SyncRun.objects.create(
        tenant=connection.tenant,
        connection=connection,
        resources=["contacts"],
        mapping_snapshot=demo_mapping().model_dump(mode="json"),
    )


class _Watch:
    """Reads the run's heartbeat from another database connection while a slice works."""

    def __init__(self, run_id: int) -> None:
        self.seen: list = []
        self._run_id = run_id
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> _Watch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        try:
            while not self._stop.wait(0.2):
                beat = SyncRun.objects.filter(pk=self._run_id).values_list("heartbeat_at", flat=True).first()
                if beat is not None and beat not in self.seen:
                    self.seen.append(beat)
        finally:
            connections.close_all()


@override_settings(TAJO_HEARTBEAT_SECONDS=1.0, TAJO_CHECKPOINT_SECONDS=600.0)
def test_a_full_read_ahead_and_a_slow_brevo_end_the_slice_on_time(redis_conn) -> None:
    # Brevo takes 1.5 s for every request: writing and reading back one slice's contacts takes
    # far longer than the slice (imports, read-back pages, list fixes).
    slow_brevo = SandboxConfig.fast(
        contacts=CONTACTS, seed=5, faults=FaultSpec.parse(f"slow=1.0:{BREVO_SECONDS}"), fault_scope="brevo"
    )
    with SandboxServer(slow_brevo) as sandbox:
        connection = connection_for_sandbox(sandbox)  # AC unpaced: the read-ahead fills at once
        run = _contacts_run(connection)
        lengths, parked = [], []
        with _Watch(run.pk) as watch:
            for _ in range(SLOW_SLICES):
                started = time.monotonic()
                assert execute_slice(run.pk, slice_seconds=SLICE) == "continue"
                lengths.append(time.monotonic() - started)
                state = SyncRun.objects.get(pk=run.pk).state["contacts"]
                parked.append((state.get("carry"), state.get("writes")))
                if len(lengths) == 1:
                    beats_in_first = len(watch.seen)
        # Setup (mapping, clients), the slice, its grace for settling what it wrote, and the one
        # Brevo request that may have started just before the grace ended.
        assert max(lengths) <= SLICE + SLICE_GRACE + BREVO_SECONDS + 2.0, f"slices took {lengths}"
        # Each slice stopped with contacts in hand (read and not mapped, mapped and not sent, or
        # sent and not yet confirmed): they were parked with the run, not dropped, and nothing
        # was reported written before Brevo confirmed it.
        assert all(pages or writes for pages, writes in parked), parked
        assert any(writes for _, writes in parked), parked
        assert not SyncRecord.objects.filter(run=run, message__contains="not verified").exists()
        # The heartbeat moved during the first slice (its start, a beat, its end), not only at its end.
        assert beats_in_first >= 2, watch.seen

        sandbox.sandbox.faults.spec = FaultSpec()  # Brevo fast again: finish the run
        while execute_slice(run.pk, slice_seconds=30) != "finished":
            pass
        run.refresh_from_db()
        assert run.status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL), run.error
        # Every contact page read once: parked contacts were never read again (plus the probe for
        # sideload support and the short last page that tells the account has ended).
        pages = math.ceil(run.state["contacts"]["total"] / 100)
        read = _contact_pages_read(sandbox)
        assert read.get("200", 0) <= pages + 2, read
        # Every contact has exactly one outcome, confirmed by Brevo's read-back.
        records = list(
            SyncRecord.objects.filter(run=run).values_list("source_id", "outcome", "key", "message")
        )
        ids = [source_id for source_id, *_ in records]
        assert len(ids) == len(set(ids)) >= CONTACTS
        assert not [r for r in records if "not verified" in r[3]]
        held = {c["email"].lower() for c in sandbox.sandbox.brevo.contacts()}
        written = {key for _, outcome, key, _ in records if outcome in (Outcome.CREATED, Outcome.UPDATED)}
        assert written and written <= held


@override_settings(TAJO_SLICE_MIN_SECONDS=1.5)
def test_a_slice_makes_room_when_another_tenants_job_waits(redis_conn) -> None:
    from connectors import queues

    with SandboxServer(SandboxConfig.fast(contacts=3000, seed=6)) as sandbox:
        connection = connection_for_sandbox(sandbox, ac_rate=3)  # 30 pages: about 10 s of reading
        run = _contacts_run(connection)
        waiting = queues.enqueue(
            "tests.integration.runtime.jobs_for_tests.note",
            "other",
            lane=queues.SHORT_QUEUE,
            tenant_id=999_999,
        )
        started = time.monotonic()
        assert execute_slice(run.pk, slice_seconds=30) == "continue"
        took = time.monotonic() - started
        # The minimum, a tick of the check, the grace; far from the 30 s deadline.
        assert took <= 1.5 + 1.0 + SLICE_GRACE + 2.0, f"the slice took {took:.1f} s"
        state = SyncRun.objects.get(pk=run.pk).state["contacts"]
        assert not state.get("done")
        assert queues.queue_for(queues.SHORT_QUEUE, 999_999).job_ids == [waiting.id]


@override_settings(TAJO_SYNC_SLICE_RECORDS=500, TAJO_CHECKPOINT_SECONDS=600.0)
def test_slices_cut_by_records_do_not_pile_up_parked_pages(redis_conn) -> None:
    with SandboxServer(SandboxConfig.fast(contacts=3000, seed=7)) as sandbox:
        connection = connection_for_sandbox(sandbox)  # AC unpaced: the read-ahead reads at once
        run = _contacts_run(connection)
        held_per_slice = []
        for _ in range(30):  # 3,000 contacts in slices of 500: a run that never ends fails here
            if (outcome := execute_slice(run.pk, slice_seconds=60)) == "finished":
                break
            assert outcome == "continue"
            ref = SyncRun.objects.get(pk=run.pk).state["contacts"].get("carry")
            units, pages = carry.take(run.pk, ref)
            held_per_slice.append(len(units) + sum(p.row_count for p in pages))
        # Each slice takes what the last one parked before it reads on, and reads at most one
        # page past its budget: what it parks stays about a page, however many slices there are
        # (it had grown by a page each slice).
        assert len(held_per_slice) >= 5, held_per_slice
        assert max(held_per_slice) <= 200, held_per_slice
        run.refresh_from_db()
        assert run.status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL), run.error
        read = _contact_pages_read(sandbox)
        assert read.get("200", 0) <= math.ceil(run.state["contacts"]["total"] / 100) + 2, read
        records = SyncRecord.objects.filter(run=run, resource="contacts")
        ids = list(records.values_list("source_id", flat=True))
        assert len(ids) == len(set(ids)) >= 3000
