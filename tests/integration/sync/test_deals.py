"""Deals end to end: sandbox over real HTTP, PostgreSQL, Redis-shared limiters, the real engine."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest
from django.utils import timezone

from connectors.models import Outcome, RecordState, RunMode, RunStatus, SyncRecord, SyncRun
from connectors.providers.brevo.client import GENERAL_BUDGETS
from connectors.selectors import not_configured
from connectors.sync import deals as deals_module
from connectors.sync.engine import execute_slice, sync_single
from mappings.transforms import OwnerRule, StageRule
from sandbox.config import SandboxConfig
from sandbox.server import SandboxServer
from tests.sandbox_helpers import connection_for_sandbox, demo_mapping, drive

pytestmark = pytest.mark.django_db(transaction=True)

OUTCOMES = ("created", "updated", "unchanged", "skipped", "failed")


@pytest.fixture(scope="module")
def sandbox():
    with SandboxServer(SandboxConfig.fast(contacts=60, seed=11)) as server:
        yield server


@pytest.fixture
def crm_budget(monkeypatch):
    """Lift the client's CRM pacing (100/h) so a test can write dozens of deals; tests narrow it again."""

    def set_other(per_hour: float) -> None:
        monkeypatch.setitem(GENERAL_BUDGETS, "other", (None, per_hour))

    set_other(100_000)
    return set_other


def _stats(sandbox) -> dict:
    return httpx.get(f"{sandbox.base_url}/_sandbox/stats").json()


def _requests(stats: dict, prefix: str) -> int:
    return sum(v["count"] for k, v in stats["requests"].items() if k.split(" ", 1)[1].startswith(prefix))


def _mapping(sandbox):
    pipeline = sandbox.brevo.pipelines()[0]
    stages = [s["id"] for s in pipeline["stages"]]
    # AC stage 6 ("Renewed") stays unmapped on purpose; AC user 4 has no Brevo owner.
    rules = [
        StageRule(
            ac_pipeline_id=1, ac_stage_id=1, brevo_pipeline_id=pipeline["pipeline"], brevo_stage_id=stages[1]
        ),
        StageRule(
            ac_pipeline_id=1, ac_stage_id=2, brevo_pipeline_id=pipeline["pipeline"], brevo_stage_id=stages[2]
        ),
        StageRule(
            ac_pipeline_id=1, ac_stage_id=3, brevo_pipeline_id=pipeline["pipeline"], brevo_stage_id=stages[4]
        ),
        StageRule(
            ac_pipeline_id=2, ac_stage_id=4, brevo_pipeline_id=pipeline["pipeline"], brevo_stage_id=stages[0]
        ),
        StageRule(
            ac_pipeline_id=2, ac_stage_id=5, brevo_pipeline_id=pipeline["pipeline"], brevo_stage_id=stages[3]
        ),
    ]
    owners = [
        OwnerRule(ac_user_id=2, brevo_owner="jae.kim@sandbox.example.com"),
        OwnerRule(ac_user_id=3, brevo_owner="marta.rossi@sandbox.example.com"),
    ]
    return demo_mapping(stages=rules, owners=owners)


def _run(connection, sandbox, resources, **kwargs) -> SyncRun:
    return SyncRun.objects.create(
        tenant=connection.tenant,
        connection=connection,
        resources=resources,
        mapping_snapshot=_mapping(sandbox).model_dump(mode="json"),
        **kwargs,
    )


def _add_up(run: SyncRun, resource: str = "deals") -> dict[str, int]:
    counters = run.counters[resource]
    assert counters["read"] == sum(counters.get(k, 0) for k in OUTCOMES), counters
    assert counters["read"] == SyncRecord.objects.filter(run=run, resource=resource).count()
    return counters


def _deal_without_contact(sandbox) -> int:
    """A deal held by an AC account only (AC allows it; the sandbox API does not create one)."""
    st = sandbox.ac
    with st.lock:
        row = st.create_deal(
            {"deal": {"title": "Account-only deal", "contact": "1", "group": "1", "stage": "1"}}
        )
        row["contact"] = None
        row["account"] = "44"
    return int(row["id"])


def test_crm_off_is_one_note_for_the_run_and_reads_nothing(sandbox, redis_conn) -> None:
    connection = connection_for_sandbox(sandbox)
    _deal_without_contact(sandbox)
    before = _stats(sandbox)
    run = drive(_run(connection, sandbox, ["deals"]))
    after = _stats(sandbox)

    # Deal data rides on contact attributes by the connection's choice: not a skip per deal, and
    # not a partial run.
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert not SyncRecord.objects.filter(run=run).exists()
    assert not_configured(run=run) == {"deals": deals_module.CRM_OFF}
    assert _requests(after, "/v3/") == _requests(before, "/v3/"), "CRM off must not touch Brevo"
    assert _requests(after, "/api/3/deals") == _requests(before, "/api/3/deals")


def test_crm_deals_created_once_linked_then_unchanged_then_updated(sandbox, redis_conn, crm_budget) -> None:
    connection = connection_for_sandbox(sandbox, deals_as_crm_objects=True)
    drive(_run(connection, sandbox, ["contacts"]))
    deals_before = len(sandbox.brevo.deals())

    run = drive(_run(connection, sandbox, ["deals"]))
    counters = _add_up(run)
    assert run.status == RunStatus.PARTIAL  # unmapped owner, orphan deal, contacts without email
    states = RecordState.objects.filter(connection=connection, resource="deals").exclude(brevo_id="")
    brevo_ids = list(states.values_list("brevo_id", flat=True))
    assert len(brevo_ids) == len(set(brevo_ids)) > 10
    assert len(sandbox.brevo.deals()) - deals_before == len(brevo_ids)
    created = SyncRecord.objects.filter(run=run, outcome=Outcome.CREATED)
    assert created.exists()
    assert counters.get("skipped", 0) >= 1  # AC stage 6 is not mapped
    assert SyncRecord.objects.filter(run=run, error_code="unmapped_stage", outcome=Outcome.SKIPPED).exists()
    # A deal written with an unmapped owner is in Brevo but its record says what was left out.
    partial = SyncRecord.objects.filter(run=run, error_code="field_rejected").first()
    assert partial is not None and "deal_owner" in partial.message

    # The Brevo deal links the Brevo contact of the AC deal's contact.
    record = created.exclude(key="").first()
    state = RecordState.objects.get(connection=connection, resource="deals", source_id=record.source_id)
    deal = next(d for d in sandbox.brevo.deals() if d["id"] == state.brevo_id)
    contact = sandbox.brevo.contact_by_email(record.key)
    assert deal["linkedContactsIds"] == [contact["id"]]
    assert deal["attributes"]["pipeline"] == sandbox.brevo.pipelines()[0]["pipeline"]

    crm_before = _requests(_stats(sandbox), "/v3/crm")
    rerun = drive(_run(connection, sandbox, ["deals"]))
    again = _add_up(rerun)
    assert again.get("created", 0) == 0 and again.get("updated", 0) == 0
    assert again["unchanged"] == len(brevo_ids)
    assert _requests(_stats(sandbox), "/v3/crm") == crm_before, "an unchanged re-run wrote CRM deals"
    assert len(sandbox.brevo.deals()) - deals_before == len(brevo_ids)

    # A change in AC updates the same Brevo deal in place (incremental run, PATCH, no new deal).
    changed_id = int(state.source_id)
    sandbox.ac.update_deal(changed_id, {"deal": {"title": "Renamed in ActiveCampaign", "value": 123400}})
    incremental = drive(_run(connection, sandbox, ["deals"], mode=RunMode.INCREMENTAL))
    assert incremental.status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL), incremental.error
    updated = SyncRecord.objects.get(run=incremental, source_id=str(changed_id))
    assert updated.outcome == Outcome.UPDATED or updated.message.startswith("updated, but"), updated.message
    deal = next(d for d in sandbox.brevo.deals() if d["id"] == state.brevo_id)
    assert deal["attributes"]["deal_name"] == "Renamed in ActiveCampaign"
    assert deal["attributes"]["amount"] == 1234.0
    assert len(sandbox.brevo.deals()) - deals_before == len(brevo_ids)
    assert incremental.counters["deals"]["read"] < counters["read"], "incremental re-read every deal"


def test_crm_budget_ends_the_slice_with_an_eta_and_never_duplicates(sandbox, redis_conn, crm_budget) -> None:
    connection = connection_for_sandbox(sandbox, deals_as_crm_objects=True, brevo_budget="general")
    drive(_run(connection, sandbox, ["contacts"]))
    crm_budget(3)  # three CRM requests an hour: the fourth cannot happen within a slice
    run = _run(connection, sandbox, ["deals"])
    deals_before = len(sandbox.brevo.deals())

    started = time.monotonic()
    assert execute_slice(run.pk, slice_seconds=5) == "continue"
    assert time.monotonic() - started < 5, "a slice slept for the CRM budget"
    run.refresh_from_db()
    assert len(sandbox.brevo.deals()) - deals_before == 3
    assert run.eta_seconds and run.eta_seconds > 1200  # 1,200 s is the wait for the next of 3 slots an hour
    assert run.heartbeat_at > timezone.now() + timezone.timedelta(seconds=600), "the watchdog would resume it"
    assert run.state["deals"]["done"] is False

    # The next slice while the budget is still spent writes nothing and does not spin.
    assert execute_slice(run.pk, slice_seconds=5) == "continue"
    assert len(sandbox.brevo.deals()) - deals_before == 3

    crm_budget(100_000)  # an hour later, as far as this test is concerned
    run = drive(run)
    assert run.status == RunStatus.PARTIAL, run.error
    assert run.eta_seconds == 0
    counters = _add_up(run)
    brevo_ids = list(
        RecordState.objects.filter(connection=connection, resource="deals")
        .exclude(brevo_id="")
        .values_list("brevo_id", flat=True)
    )
    assert len(brevo_ids) == len(set(brevo_ids))
    assert len(sandbox.brevo.deals()) - deals_before == len(brevo_ids)
    assert counters["read"] == SyncRecord.objects.filter(run=run).values("source_id").distinct().count()


def _stage_one_deal_with_contact(sandbox) -> int:
    deals = httpx.get(
        f"{sandbox.ac_api_url}/api/3/deals",
        params={"filters[stage]": 1},
        headers={"Api-Token": sandbox.ac_key},
    ).json()["deals"]
    return next(int(d["id"]) for d in deals if d.get("contact"))


def test_interrupted_create_is_found_in_brevo_not_created_twice(sandbox, redis_conn, crm_budget) -> None:
    connection = connection_for_sandbox(sandbox, deals_as_crm_objects=True)
    deal_id = _stage_one_deal_with_contact(sandbox)
    sandbox.ac.update_deal(deal_id, {"deal": {"title": f"Interrupted {uuid.uuid4().hex}", "owner": "2"}})
    drive(_run(connection, sandbox, ["contacts"]))
    drive(_run(connection, sandbox, ["deals"]))
    state = RecordState.objects.get(connection=connection, resource="deals", source_id=str(deal_id))
    brevo_id = state.brevo_id
    assert brevo_id
    # As if the worker died after Brevo created the deal and before Tajo stored its id.
    state.content_hash, state.brevo_id = "sending:" + state.content_hash, ""
    state.save()
    deals_before = len(sandbox.brevo.deals())

    run = drive(_run(connection, sandbox, ["deals"]))
    record = SyncRecord.objects.get(run=run, source_id=str(deal_id))
    assert record.outcome == Outcome.CREATED
    assert "not created twice" in record.message
    assert len(sandbox.brevo.deals()) == deals_before
    state.refresh_from_db()
    assert state.brevo_id == brevo_id and not state.content_hash.startswith("sending:")


def test_webhook_sync_of_one_deal(sandbox, redis_conn, crm_budget, monkeypatch) -> None:
    connection = connection_for_sandbox(sandbox, deals_as_crm_objects=True)
    drive(_run(connection, sandbox, ["contacts"]))
    deal_id = _stage_one_deal_with_contact(sandbox)
    # The mapping rows of the mappings app are not part of this test: the snapshot is given.
    monkeypatch.setattr("mappings.selectors.mapping_snapshot", lambda *args, **kwargs: _mapping(sandbox))

    record = sync_single(connection=connection, resource="deals", source_id=str(deal_id))
    again = sync_single(connection=connection, resource="deals", source_id=str(deal_id))
    missing = sync_single(connection=connection, resource="deals", source_id="99999999")

    assert record is not None and record.outcome in (Outcome.CREATED, Outcome.FAILED), record.message
    assert record.run.mode == RunMode.WEBHOOK
    assert RecordState.objects.get(connection=connection, resource="deals", source_id=str(deal_id)).brevo_id
    assert again.outcome == Outcome.UNCHANGED
    assert missing.outcome == Outcome.FAILED and "no longer exists" in missing.message


def test_tiny_slices_resume_mid_page_without_losing_or_repeating_a_deal(
    sandbox, redis_conn, crm_budget, settings
) -> None:
    settings.TAJO_SYNC_SLICE_RECORDS = 4
    connection = connection_for_sandbox(sandbox, deals_as_crm_objects=True)
    drive(_run(connection, sandbox, ["contacts"]))
    deals_before = len(sandbox.brevo.deals())
    run = drive(_run(connection, sandbox, ["deals"]))
    counters = _add_up(run)
    assert counters["read"] == sandbox.ac.counts()["deals"]
    assert SyncRecord.objects.filter(run=run).values("source_id").distinct().count() == counters["read"]
    written = RecordState.objects.filter(connection=connection, resource="deals").exclude(brevo_id="").count()
    assert len(sandbox.brevo.deals()) - deals_before == written


def test_dry_run_then_contacts_missing_then_retry_of_failed_deals(redis_conn, crm_budget) -> None:
    # Its own sandbox: Brevo must not know the contacts yet.
    with SandboxServer(SandboxConfig.fast(contacts=30, seed=17)) as own:
        connection = connection_for_sandbox(own, deals_as_crm_objects=True)
        dry = drive(_run(connection, own, ["deals"], dry_run=True))
        assert _requests(_stats(own), "/v3/") == 0, "a dry run wrote to Brevo"
        assert SyncRecord.objects.filter(run=dry, message__startswith="would create").exists()
        assert not RecordState.objects.filter(connection=connection).exists()

        # Deals before their contacts: those whose contact Brevo does not know fail with what to do.
        first = drive(_run(connection, own, ["deals"]))
        missing = SyncRecord.objects.filter(run=first, error_code="contact_not_in_brevo")
        assert missing.count() > 0
        assert all("sync contacts first" in r.message for r in missing)
        assert not RecordState.objects.filter(
            connection=connection, resource="deals", source_id__in=missing.values("source_id")
        ).exists()

        drive(_run(connection, own, ["contacts"]))
        retry = drive(_run(connection, own, ["deals"], mode=RunMode.RETRY, retry_of=first))
        assert retry.status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL), retry.error
        failed = set(
            SyncRecord.objects.filter(run=first, outcome=Outcome.FAILED).values_list("source_id", flat=True)
        )
        assert set(SyncRecord.objects.filter(run=retry).values_list("source_id", flat=True)) == failed
        still = SyncRecord.objects.filter(run=retry, error_code="contact_not_in_brevo").count()
        assert still < missing.count()
        resolved = set(missing.values_list("source_id", flat=True)) - set(
            SyncRecord.objects.filter(run=retry, error_code="contact_not_in_brevo").values_list(
                "source_id", flat=True
            )
        )
        written = RecordState.objects.filter(connection=connection, resource="deals", source_id__in=resolved)
        assert written.exclude(brevo_id="").count() == len(resolved) > 0
