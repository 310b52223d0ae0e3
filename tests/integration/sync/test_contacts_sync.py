"""Contacts sync end to end: sandbox over real HTTP, PostgreSQL, the real engine."""

from __future__ import annotations

import httpx
import pytest

from connectors.models import Outcome, RecordState, RunMode, RunStatus, SyncRecord, SyncRun
from connectors.sandbox.config import SandboxConfig
from connectors.sandbox.server import SandboxServer
from tests.sandbox_helpers import connection_for_sandbox, demo_mapping, drive

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def sandbox():
    with SandboxServer(SandboxConfig.fast(contacts=300, seed=7)) as server:
        yield server


def _stats(sandbox) -> dict:
    return httpx.get(f"{sandbox.base_url}/_sandbox/stats").json()


def _requests(stats: dict, prefix: str) -> int:
    return sum(v["count"] for k, v in stats["requests"].items() if k.split(" ", 1)[1].startswith(prefix))


def _new_run(connection, **kwargs) -> SyncRun:
    return SyncRun.objects.create(
        tenant=connection.tenant,
        connection=connection,
        resources=["contacts"],
        mapping_snapshot=demo_mapping().model_dump(mode="json"),
        **kwargs,
    )


def test_full_backfill_then_idempotent_rerun(sandbox, redis_conn) -> None:
    connection = connection_for_sandbox(sandbox)
    run = drive(_new_run(connection))
    assert run.status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL), run.error
    counters = run.counters["contacts"]
    assert counters["read"] == sum(
        counters.get(k, 0) for k in ("created", "updated", "unchanged", "skipped", "failed")
    )
    assert counters["read"] == SyncRecord.objects.filter(run=run).count()
    assert counters.get("created", 0) > 200
    # The generator's mess shows up as records with reasons, never silently dropped.
    reasons = set(
        SyncRecord.objects.filter(run=run, outcome__in=[Outcome.FAILED, Outcome.SKIPPED]).values_list(
            "error_code", flat=True
        )
    )
    assert reasons, "the generated account contains bad rows; they must be recorded"
    assert run.status == RunStatus.PARTIAL

    created = SyncRecord.objects.filter(run=run, outcome=Outcome.CREATED).first()
    stored = httpx.get(f"{sandbox.base_url}/_sandbox/brevo/contacts", params={"email": created.key})
    assert stored.status_code == 200, created.key
    assert stored.json()["email"].lower() == created.key

    before = _stats(sandbox)
    rerun = drive(_new_run(connection))
    after = _stats(sandbox)
    again = rerun.counters["contacts"]
    assert again.get("created", 0) == 0 and again.get("updated", 0) == 0
    written = counters.get("created", 0) + counters.get("updated", 0) + _field_rejected(run)
    assert again["unchanged"] == written
    rejected_by_brevo = SyncRecord.objects.filter(
        run=run, outcome=Outcome.FAILED, error_code__startswith="duplicate_p"
    ).count()
    # Only what Brevo refused last time is tried again (a single batch call for all of them).
    assert (
        _requests(after, "/v3/contacts") - _requests(before, "/v3/contacts")
        <= (1 if rejected_by_brevo else 0) + rejected_by_brevo
    )


def _field_rejected(run: SyncRun) -> int:
    # Records written without a rejected value count as failed but are remembered (unchanged next time).
    return SyncRecord.objects.filter(run=run, error_code="field_rejected").count()


def test_consent_unsubscribed_never_added(sandbox, redis_conn) -> None:
    connection = connection_for_sandbox(sandbox)
    run = drive(_new_run(connection))
    # Case-variant duplicates fail as duplicate_email: the Brevo contact speaks for the other one.
    written = set(
        SyncRecord.objects.filter(
            run=run, outcome__in=[Outcome.CREATED, Outcome.UPDATED, Outcome.UNCHANGED]
        ).values_list("source_id", flat=True)
    )
    ac = httpx.get(
        f"{sandbox.ac_api_url}/api/3/contactLists",
        params={"filters[status]": 2, "limit": 100},
        headers={"Api-Token": sandbox.ac_key},
    ).json()["contactLists"]
    mapped = {1: 50, 2: 51, 3: 52}
    checked = 0
    for row in ac:
        if int(row["list"]) not in mapped or str(row["contact"]) not in written:
            continue
        contact = httpx.get(
            f"{sandbox.ac_api_url}/api/3/contacts/{row['contact']}", headers={"Api-Token": sandbox.ac_key}
        ).json()["contact"]
        if not contact.get("email"):
            continue
        stored = httpx.get(
            f"{sandbox.base_url}/_sandbox/brevo/contacts", params={"email": contact["email"].lower()}
        )
        if stored.status_code != 200:
            continue
        assert mapped[int(row["list"])] not in stored.json().get("listIds", []), contact["email"]
        checked += 1
    assert checked > 0


def test_dry_run_writes_nothing(sandbox, redis_conn) -> None:
    connection = connection_for_sandbox(sandbox)
    before = _stats(sandbox)
    run = drive(_new_run(connection, dry_run=True))
    after = _stats(sandbox)
    assert run.status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL)
    assert _requests(after, "/v3/contacts") == _requests(before, "/v3/contacts")
    assert SyncRecord.objects.filter(run=run, message__startswith="would ").exists()
    assert not RecordState.objects.filter(connection=connection).exists()


def test_incremental_reads_only_changes(sandbox, redis_conn) -> None:
    connection = connection_for_sandbox(sandbox)
    drive(_new_run(connection))
    before = _stats(sandbox)
    run = drive(_new_run(connection, mode=RunMode.INCREMENTAL))
    after = _stats(sandbox)
    assert run.status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL), run.error
    full_reads = run.counters.get("contacts", {}).get("read", 0)
    assert full_reads < 50, "an incremental run with nothing changed re-read the account"
    assert _requests(after, "/api/3/") - _requests(before, "/api/3/") < 30
