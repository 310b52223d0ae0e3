"""Tracked events end to end, and the API's "track event" service: sandbox, PostgreSQL, the real engine."""

from __future__ import annotations

import httpx
import pytest

from connectors.models import Outcome, RunMode, RunStatus, SyncRecord, SyncRun, Trigger
from connectors.services import event_forward
from mappings.transforms import EventRule
from sandbox.config import SandboxConfig
from sandbox.server import SandboxServer
from tests.sandbox_helpers import connection_for_sandbox, demo_mapping, drive

pytestmark = pytest.mark.django_db(transaction=True)

OUTCOMES = ("created", "updated", "unchanged", "skipped", "failed")
RULES = [
    EventRule(ac_event_name="trial_started", brevo_event_name="trial_started"),
    EventRule(ac_event_name="plan_upgraded", brevo_event_name="plan-upgraded"),
]


@pytest.fixture(scope="module")
def sandbox():
    with SandboxServer(SandboxConfig.fast(contacts=40, seed=3)) as server:
        yield server


def _run(connection, *, rules=RULES, **kwargs) -> SyncRun:
    return SyncRun.objects.create(
        tenant=connection.tenant,
        connection=connection,
        resources=["events"],
        mapping_snapshot=demo_mapping(events=rules).model_dump(mode="json"),
        **kwargs,
    )


def _stats(sandbox) -> dict:
    return httpx.get(f"{sandbox.base_url}/_sandbox/stats").json()


def _requests(stats: dict, prefix: str, suffix: str = "") -> int:
    return sum(
        v["count"]
        for k, v in stats["requests"].items()
        if k.split(" ", 1)[1].startswith(prefix) and k.endswith(suffix)
    )


def _mapped(sandbox) -> list[dict]:
    return [e for e in sandbox.brevo.events() if e["event_name"] in ("trial_started", "plan-upgraded")]


def test_tracked_events_sent_once_and_unmapped_ones_skipped(sandbox, redis_conn) -> None:
    connection = connection_for_sandbox(sandbox)
    events_before = len(_mapped(sandbox))
    before = _stats(sandbox)
    run = drive(_run(connection))
    after = _stats(sandbox)

    assert run.status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL), run.error
    counters = run.counters["events"]
    assert counters["read"] == sum(counters.get(k, 0) for k in OUTCOMES)
    assert counters["read"] == SyncRecord.objects.filter(run=run).count()
    created = SyncRecord.objects.filter(run=run, outcome=Outcome.CREATED)
    assert created.count() == len(_mapped(sandbox)) - events_before > 0
    assert {r.sent["event_name"] for r in created} <= {"trial_started", "plan-upgraded"}
    unmapped = SyncRecord.objects.filter(run=run, error_code="unmapped_event")
    assert unmapped.exists() and all(r.outcome == Outcome.SKIPPED for r in unmapped)
    assert "AC event '__pagevisit' is not mapped to a Brevo event" in set(
        unmapped.values_list("message", flat=True)
    )
    # Honest cost: one tracking-log request per contact with a usable email, nothing more per event.
    log_reads = _requests(after, "/api/3/contacts/", "trackingLogs") - _requests(
        before, "/api/3/contacts/", "trackingLogs"
    )
    assert 0 < log_reads <= sandbox.ac.counts()["contacts"]
    assert all(":" in r.source_id for r in SyncRecord.objects.filter(run=run))

    rerun = drive(_run(connection))
    again = rerun.counters["events"]
    assert again.get("created", 0) == 0
    assert again["unchanged"] == counters.get("created", 0) + _field_rejected(run)
    assert len(_mapped(sandbox)) - events_before == created.count(), "an occurrence was sent twice"

    incremental = drive(_run(connection, mode=RunMode.INCREMENTAL))
    assert incremental.counters.get("events", {}).get("created", 0) == 0
    assert len(_mapped(sandbox)) - events_before == created.count()


def _field_rejected(run: SyncRun) -> int:
    return SyncRecord.objects.filter(run=run, error_code="field_rejected").count()


def test_no_event_mapping_reads_nothing(sandbox, redis_conn) -> None:
    connection = connection_for_sandbox(sandbox)
    before = _stats(sandbox)
    run = drive(_run(connection, rules=[]))
    after = _stats(sandbox)
    assert run.status == RunStatus.SUCCEEDED
    assert _requests(after, "/api/3/") == _requests(before, "/api/3/")
    assert run.counters.get("events", {}).get("read", 0) == 0


def test_track_event_service_records_one_outcome(sandbox, redis_conn, monkeypatch) -> None:
    connection = connection_for_sandbox(sandbox)
    monkeypatch.setattr(
        "mappings.selectors.mapping_snapshot", lambda *args, **kwargs: demo_mapping(events=RULES)
    )

    sent = event_forward(
        connection=connection, event="trial_started", event_data="plan=pro", email="Li.Wei@Example.net"
    )
    unmapped = event_forward(
        connection=connection, event="made_up", event_data=None, email="li.wei@example.net"
    )
    bad_email = event_forward(
        connection=connection, event="trial_started", event_data={"plan": "pro"}, email="not-an-email"
    )

    assert (sent.outcome, sent.key, sent.trigger) == (Outcome.CREATED, "li.wei@example.net", Trigger.API)
    assert sent.run.mode == RunMode.SINGLE and sent.run.resources == ["events"]
    assert sent.run.status == RunStatus.SUCCEEDED
    stored = [
        e
        for e in sandbox.brevo.events()
        if e["event_name"] == "trial_started" and e["event_properties"].get("eventdata") == "plan=pro"
    ]
    assert stored, "the event did not reach Brevo"
    # Not in the event mapping: forwarded under its own name (the mapping only renames).
    assert unmapped.outcome == Outcome.CREATED
    assert any(e["event_name"] == "made_up" for e in sandbox.brevo.events())
    assert bad_email.outcome == Outcome.FAILED and bad_email.error_code == "invalid_email"
    assert bad_email.run.status == RunStatus.PARTIAL


def test_tiny_slices_resume_without_losing_or_repeating(sandbox, redis_conn, settings) -> None:
    connection = connection_for_sandbox(sandbox)
    whole = drive(_run(connection, dry_run=True)).counters["events"]
    settings.TAJO_SYNC_SLICE_RECORDS = 3
    run = drive(_run(connection))
    counters = run.counters["events"]
    assert counters["read"] == whole["read"]
    assert SyncRecord.objects.filter(run=run).values("source_id").distinct().count() == counters["read"]


def test_many_events_go_in_batches_and_refused_ones_fail_alone(redis_conn) -> None:
    from sandbox.activecampaign.generator.profile import GeneratorProfile
    from sandbox.brevo.values import Fail

    names = ("trial_started", "plan_upgraded", "webinar_attended", "cart_abandoned")
    rules = [EventRule(ac_event_name=name, brevo_event_name=name) for name in names]
    profile = GeneratorProfile.parse("events=20")
    with SandboxServer(SandboxConfig.fast(contacts=30, seed=4, profile=profile)) as server:
        simulator = server.brevo
        validate = simulator._validate_event

        def refuse_carts(body):  # a 207: these events of the batch refused, the others recorded
            if isinstance(body, dict) and body.get("event_name") == "cart_abandoned":
                raise Fail(400, "invalid_parameter", "event cart_abandoned is not accepted")
            return validate(body)

        simulator._validate_event = refuse_carts
        run = drive(_run(connection_for_sandbox(server), rules=rules))
        requests = _stats(server)["requests"]
        in_brevo = [e for e in simulator.events() if e["event_name"] in names]
    created = SyncRecord.objects.filter(run=run, outcome=Outcome.CREATED)
    refused = SyncRecord.objects.filter(run=run, outcome=Outcome.FAILED, error_code="brevo_invalid")
    assert created.count() > 100 and requests["POST /v3/events/batch"]["count"] >= 1
    assert requests.get("POST /v3/events", {}).get("count", 0) == 0
    assert len(in_brevo) == created.count()
    assert refused.exists() and {r.sent["event_name"] for r in refused} == {"cart_abandoned"}
    assert "cart_abandoned is not accepted" in refused.first().message
    assert run.status == RunStatus.PARTIAL
