"""Query counts pinned on the sync's hot path: the recorder's flush and the engine's slice commit.

Both run once per slice (and per mid-slice checkpoint) whatever the slice holds, so their
statements must not grow with the number of records: a per-record INSERT or SELECT slipped
into either would turn a 5,000-record slice into 5,000 round trips inside one transaction.

Django's query log does not see PostgreSQL COPY (it goes through the driver's own cursor), so
COPY statements are counted separately by wrapping `copy_rows`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from connectors.models import RecordState, SyncRecord, SyncRun
from connectors.sync import recorder as recorder_module
from connectors.sync.engine import _commit
from connectors.sync.recorder import Recorder
from tests.factories import SyncRunFactory

pytestmark = pytest.mark.django_db

SMALL, LARGE = 3, 300

# Inside the test's transaction every `atomic()` is a savepoint: SAVEPOINT and RELEASE count.
# flush: the state upsert's SAVEPOINT, CREATE TEMP TABLE, TRUNCATE, INSERT ... ON CONFLICT,
# RELEASE; the records and the states each go in by one COPY.
FLUSH_QUERIES, FLUSH_COPIES = 5, 2
# commit: its own SAVEPOINT and RELEASE, the flush, SELECT ... FOR UPDATE of the run, UPDATE of it.
COMMIT_QUERIES = 2 + FLUSH_QUERIES + 2


@dataclass
class Statements:
    queries: int = 0
    copies: int = 0


@contextmanager
def counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[Statements]:
    seen = Statements()
    copy_rows = recorder_module.copy_rows

    def counting_copy(*args, **kwargs) -> None:
        seen.copies += 1
        copy_rows(*args, **kwargs)

    monkeypatch.setattr(recorder_module, "copy_rows", counting_copy)
    with CaptureQueriesContext(connection) as log:
        yield seen
    seen.queries = len(log.captured_queries)
    monkeypatch.setattr(recorder_module, "copy_rows", copy_rows)


@pytest.fixture
def run() -> SyncRun:
    return SyncRunFactory(status="running", resources=["contacts"])


def _filled(run: SyncRun, records: int) -> Recorder:
    recorder = Recorder(run, trigger="admin")
    for n in range(records):
        email = f"p{n}@example.org"
        recorder.record("contacts", n, "created", key=email, sent={"email": email})
        recorder.remember("contacts", n, content_hash=f"{n:032x}", brevo_id=str(n))
    return recorder


@pytest.mark.parametrize("records", [SMALL, LARGE])
def test_the_recorder_flush_costs_the_same_statements_for_any_number_of_records(
    run: SyncRun, records: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = _filled(run, records)
    with counted(monkeypatch) as seen:
        recorder.flush()
    assert (seen.queries, seen.copies) == (FLUSH_QUERIES, FLUSH_COPIES)
    assert SyncRecord.objects.filter(run=run).count() == records
    assert RecordState.objects.filter(connection_id=run.connection_id).count() == records


@pytest.mark.parametrize("imports", [1, 20])
def test_noting_brevo_imports_adds_a_fixed_cost_to_the_flush(
    run: SyncRun, imports: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = _filled(run, SMALL)
    recorder.note_imports({"process_id": pid, "status": "queued"} for pid in range(imports))
    with counted(monkeypatch) as seen:
        recorder.flush()
    # SAVEPOINT, SELECT ... FOR UPDATE of the run's imports, UPDATE, RELEASE.
    assert (seen.queries, seen.copies) == (FLUSH_QUERIES + 4, FLUSH_COPIES)
    run.refresh_from_db()
    assert len(run.brevo_imports) == imports


def test_a_flush_with_nothing_buffered_sends_nothing(run: SyncRun, monkeypatch: pytest.MonkeyPatch) -> None:
    with counted(monkeypatch) as seen:
        Recorder(run, trigger="admin").flush()
    assert (seen.queries, seen.copies) == (0, 0)


@pytest.mark.parametrize("records", [SMALL, LARGE])
def test_the_engine_slice_commit_costs_the_same_statements_for_any_number_of_records(
    run: SyncRun, records: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = SimpleNamespace(
        recorder=_filled(run, records),
        ac=None,
        brevo=None,
        counted_requests=(0, 0),
        deadline=time.monotonic() + 60,
    )
    with counted(monkeypatch) as seen:
        _commit(run, ctx, "contacts", {"cursor": records, "done": False}, total=LARGE)
    assert (seen.queries, seen.copies) == (COMMIT_QUERIES, FLUSH_COPIES)
    run.refresh_from_db()
    assert run.progress_done == records
    assert run.state["contacts"] == {"cursor": records, "done": False, "total": LARGE}
