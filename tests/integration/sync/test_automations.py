"""Automation entries and completions end to end: sandbox over real HTTP, PostgreSQL, the real engine."""

from __future__ import annotations

import httpx
import pytest

from connectors.models import Outcome, RecordState, RunMode, RunStatus, SyncRecord, SyncRun
from connectors.selectors import not_configured
from connectors.sync.engine import sync_single
from mappings.transforms import AutomationRule, MappingLabels
from sandbox.config import SandboxConfig
from sandbox.server import SandboxServer
from tests.sandbox_helpers import connection_for_sandbox, demo_mapping, drive

pytestmark = pytest.mark.django_db(transaction=True)

OUTCOMES = ("created", "updated", "unchanged", "merged", "skipped", "failed")
MAPPED = {1: ("welcome_entered", "welcome_completed"), 2: ("onboarding_entered", None)}


@pytest.fixture(scope="module")
def sandbox():
    with SandboxServer(SandboxConfig.fast(contacts=60, seed=5)) as server:
        yield server


def _mapping():
    rules = [
        AutomationRule(ac_automation_id=a, brevo_event_entered=e, brevo_event_completed=c)
        for a, (e, c) in MAPPED.items()
    ]
    return demo_mapping(
        automations=rules, labels=MappingLabels(automation_names={1: "Welcome series", 3: "Win-back"})
    )


def _run(connection, **kwargs) -> SyncRun:
    return SyncRun.objects.create(
        tenant=connection.tenant,
        connection=connection,
        resources=["automations"],
        mapping_snapshot=_mapping().model_dump(mode="json"),
        **kwargs,
    )


def _stats(sandbox) -> dict:
    return httpx.get(f"{sandbox.base_url}/_sandbox/stats").json()


def _requests(stats: dict, prefix: str) -> int:
    return sum(v["count"] for k, v in stats["requests"].items() if k.split(" ", 1)[1].startswith(prefix))


def _enrolments(sandbox) -> list[dict]:
    body = httpx.get(
        f"{sandbox.ac_api_url}/api/3/contactAutomations",
        params={"limit": 100},
        headers={"Api-Token": sandbox.ac_key},
    ).json()
    assert int(body["meta"]["total"]) <= 100
    return body["contactAutomations"]


def _mapped_events(sandbox) -> list[dict]:
    names = {n for pair in MAPPED.values() for n in pair if n}
    return [e for e in sandbox.brevo.events() if e["event_name"] in names]


def test_entries_and_completions_become_events_once(sandbox, redis_conn) -> None:
    connection = connection_for_sandbox(sandbox)
    enrolments = _enrolments(sandbox)
    events_before = len(_mapped_events(sandbox))
    before = _stats(sandbox)
    run = drive(_run(connection))
    after = _stats(sandbox)

    assert run.status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL), run.error
    counters = run.counters["automations"]
    assert counters["read"] == sum(counters.get(k, 0) for k in OUTCOMES)
    assert counters["read"] == SyncRecord.objects.filter(run=run).count()

    # Automations left unmapped are said once for the run, with their enrolment counts, not as a
    # skipped record per enrolment (which made a correct run look partial).
    unmapped = [e for e in enrolments if int(e["automation"]) not in MAPPED]
    assert len(unmapped) > 0
    assert not SyncRecord.objects.filter(run=run, error_code="unmapped_automation").exists()
    note = not_configured(run=run)["automations"]
    wins = sum(1 for e in unmapped if int(e["automation"]) == 3)
    assert f"AC automation 3 (Win-back): {wins} enrolment" in note
    assert sum(run.state["automations"]["unmapped"].values()) == len(unmapped)

    entered = [e for e in enrolments if int(e["automation"]) in MAPPED]
    completed = [e for e in entered if int(e["automation"]) == 1 and int(e["completed"]) == 1]
    created = SyncRecord.objects.filter(run=run, outcome=Outcome.CREATED)
    sent = len(_mapped_events(sandbox)) - events_before
    assert sent == created.count() > 0
    assert {r.source_id for r in SyncRecord.objects.filter(run=run, source_id__endswith=":completed")} == {
        f"{e['id']}:completed" for e in completed
    }
    assert SyncRecord.objects.filter(run=run, source_id__endswith=":entered").count() == len(entered)
    event = next(e for e in sandbox.brevo.events() if e["event_name"] == "welcome_entered")
    assert event["event_properties"]["automation_id"] == 1
    assert event["event_properties"]["automation_name"] == "Welcome series"

    # Emails come in batches: one contacts request per page of enrolments, not one per enrolment.
    ac_contact_reads = _requests(after, "/api/3/contacts") - _requests(before, "/api/3/contacts")
    assert ac_contact_reads <= 2, ac_contact_reads

    rerun = drive(_run(connection))
    again = rerun.counters["automations"]
    assert again.get("created", 0) == 0
    assert again["unchanged"] == counters.get("created", 0) + _field_rejected(run)
    assert len(_mapped_events(sandbox)) - events_before == sent, "an enrolment produced a second event"

    incremental = drive(_run(connection, mode=RunMode.INCREMENTAL))
    assert incremental.status == RunStatus.SUCCEEDED, incremental.error
    assert incremental.counters.get("automations", {}).get("read", 0) < counters["read"]
    assert len(_mapped_events(sandbox)) - events_before == sent


def _field_rejected(run: SyncRun) -> int:
    return SyncRecord.objects.filter(run=run, error_code="field_rejected").count()


def test_interrupted_send_is_reported_not_repeated(sandbox, redis_conn) -> None:
    connection = connection_for_sandbox(sandbox)
    target = next(e for e in _enrolments(sandbox) if int(e["automation"]) == 2)
    source_id = f"{target['id']}:entered"
    RecordState.objects.create(
        tenant=connection.tenant,
        connection=connection,
        resource="automations",
        source_id=source_id,
        content_hash="sending:abc",
    )
    events_before = len(sandbox.brevo.events())
    run = drive(_run(connection))
    record = SyncRecord.objects.get(run=run, source_id=source_id)
    assert (record.outcome, record.error_code) == (Outcome.SKIPPED, "interrupted")
    assert "not sent again" in record.message
    created = SyncRecord.objects.filter(run=run, outcome=Outcome.CREATED).count()
    assert len(sandbox.brevo.events()) - events_before == created


def test_webhook_enrolment_is_sent_once(sandbox, redis_conn, monkeypatch) -> None:
    connection = connection_for_sandbox(sandbox)
    monkeypatch.setattr("mappings.selectors.mapping_snapshot", lambda *args, **kwargs: _mapping())
    target = next(e for e in _enrolments(sandbox) if int(e["automation"]) == 1)
    source_id = f"{target['contact']}:1"

    first = sync_single(connection=connection, resource="automations", source_id=source_id)
    events = len(sandbox.brevo.events())
    second = sync_single(connection=connection, resource="automations", source_id=source_id)
    unknown = sync_single(connection=connection, resource="automations", source_id=f"{target['contact']}:4")

    assert first.outcome == Outcome.CREATED, first.message
    assert second.outcome == Outcome.UNCHANGED
    assert len(sandbox.brevo.events()) == events
    assert unknown.outcome in (Outcome.SKIPPED,)


def test_tiny_slices_resume_mid_page(sandbox, redis_conn, settings) -> None:
    settings.TAJO_SYNC_SLICE_RECORDS = 5
    connection = connection_for_sandbox(sandbox)
    whole = drive(_run(connection, dry_run=True)).counters["automations"]
    run = drive(_run(connection))
    counters = run.counters["automations"]
    assert counters["read"] == whole["read"]
    assert SyncRecord.objects.filter(run=run).values("source_id").distinct().count() == counters["read"]
    assert counters.get("created", 0) == whole.get("created", 0)
