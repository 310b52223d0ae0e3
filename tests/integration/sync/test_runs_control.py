"""Starting, refusing, cancelling and retrying runs; the CLI's output and exit codes."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from connectors.models import Outcome, RunMode, RunStatus, SyncRecord, SyncRun
from connectors.services import RunAlreadyActive, sync_run_cancel, sync_run_retry_failed, sync_run_start
from connectors.sync.engine import execute_slice
from connectors.sync.registry import UnknownResource
from sandbox.config import SandboxConfig
from sandbox.server import SandboxServer
from tests.sandbox_helpers import connection_for_sandbox, demo_mapping, drive

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def sandbox():
    with SandboxServer(SandboxConfig.fast(contacts=150, seed=5)) as server:
        yield server


@pytest.fixture
def snapshot(monkeypatch):
    monkeypatch.setattr("mappings.selectors.mapping_snapshot", lambda *, connection: demo_mapping())


def test_two_runs_of_one_connection_never_at_once(sandbox, redis_conn, snapshot) -> None:
    connection = connection_for_sandbox(sandbox)
    first = sync_run_start(connection=connection, resources=["contacts"])
    with pytest.raises(RunAlreadyActive) as refused:
        sync_run_start(connection=connection, mode=RunMode.INCREMENTAL)
    assert refused.value.run == first
    with pytest.raises(UnknownResource, match="unknown resource 'contactz'"):
        sync_run_start(connection=connection_for_sandbox(sandbox), resources=["contactz"])


def test_cancel_stops_within_one_slice(sandbox, redis_conn, snapshot, settings) -> None:
    settings.TAJO_SYNC_SLICE_RECORDS = 20
    connection = connection_for_sandbox(sandbox)
    run = sync_run_start(connection=connection, resources=["contacts"])
    assert execute_slice(run.pk, slice_seconds=30) == "continue"
    sync_run_cancel(run=run)
    assert execute_slice(run.pk, slice_seconds=30) == "finished"
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    assert run.progress_done < 150


def test_cancel_before_start_needs_no_worker(sandbox, redis_conn) -> None:
    run = sync_run_start(connection=connection_for_sandbox(sandbox), resources=["contacts"])
    assert sync_run_cancel(run=run).status == RunStatus.CANCELLED


def test_retry_failed_resends_only_failed_records(sandbox, redis_conn, snapshot) -> None:
    connection = connection_for_sandbox(sandbox)
    # The sandbox's account writes cleanly; a Brevo import that fails makes its rows fail.
    sandbox.brevo.import_failure = "failed"
    first = drive(sync_run_start(connection=connection, resources=["contacts"]))
    sandbox.brevo.import_failure = None
    failed = set(
        SyncRecord.objects.filter(run=first, outcome=Outcome.FAILED).values_list("source_id", flat=True)
    )
    assert failed
    retry = drive(sync_run_retry_failed(run=first))
    assert retry.mode == RunMode.RETRY and retry.retry_of_id == first.pk
    retried = set(SyncRecord.objects.filter(run=retry).values_list("source_id", flat=True))
    assert retried == failed


def test_tajo_sync_inline_prints_summary_and_exit_status(redis_conn, snapshot, capsys) -> None:
    # A Brevo of its own: the module's shared one already holds the contacts earlier tests wrote,
    # and the read-back would rightly find them there although this run's imports fail.
    with SandboxServer(SandboxConfig.fast(contacts=150, seed=5)) as sandbox:
        connection = connection_for_sandbox(sandbox)
        sandbox.brevo.import_failure = "failed"  # every row fails: a partial run, exit status 0
        call_command(
            "tajo_sync", f"{connection.tenant.slug}/{connection.name}", "--resources", "contacts", "--inline"
        )
    out = capsys.readouterr().out
    assert "queued" in out and "partial:" in out and "failed contacts [" in out
    run = SyncRun.objects.get(connection=connection)
    assert run.status == RunStatus.PARTIAL  # partial is exit status 0: no CommandError raised

    with pytest.raises(CommandError, match="--resources: unknown resource"):
        call_command("tajo_sync", f"{connection.tenant.slug}/{connection.name}", "--resources", "nope")
    with pytest.raises(CommandError, match="no connection 'nobody/x'"):
        call_command("tajo_sync", "nobody/x")


def test_inline_slices_leave_no_job_waiting(sandbox, redis_conn, snapshot, settings, monkeypatch) -> None:
    """Each inline slice runs with no queued job of its own run waiting (one would count as
    another tenant's work and cut every slice to the fairness minimum), and none is left after."""
    from connectors import queues
    from connectors.sync import engine

    settings.TAJO_SYNC_SLICE_RECORDS = 50
    seen: list[int] = []
    execute = engine.execute_slice

    def watched(run_id: int, **kwargs):
        seen.append(queues.jobs_waiting())
        return execute(run_id, **kwargs)

    monkeypatch.setattr(engine, "execute_slice", watched)
    run = sync_run_start(connection=connection_for_sandbox(sandbox), resources=["contacts"])
    assert queues.jobs_waiting() == 1  # the first slice, queued by the start

    engine.run_inline(run.pk)

    run.refresh_from_db()
    assert run.status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL)
    assert len(seen) >= 2 and set(seen) == {0}, seen
    assert queues.jobs_waiting() == 0


def test_tajo_test_connection_checklist(sandbox, redis_conn, capsys) -> None:
    connection = connection_for_sandbox(sandbox)
    call_command("tajo_test_connection", str(connection.pk))
    out = capsys.readouterr().out
    for line in (
        "✓ API connection",
        "✓ Contacts readable",
        "✓ Deals readable",
        "✓ Automations accessible",
        "✓ Brevo account reachable",
        "✓ Brevo contacts writable",
    ):
        assert line in out, out
    connection.ac_account.api_key = "wrong-key-000000000000"
    connection.ac_account.save()
    with pytest.raises(CommandError) as failed:
        call_command("tajo_test_connection", str(connection.pk))
    assert failed.value.returncode == 1
    out = capsys.readouterr().out
    assert "✗ API connection" in out and "wrong-key" not in out
