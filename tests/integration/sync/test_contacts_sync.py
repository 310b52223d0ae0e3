"""Contacts sync end to end: sandbox over real HTTP, PostgreSQL, the real engine."""

from __future__ import annotations

import httpx
import pytest

from connectors.models import Outcome, RecordState, RunMode, RunStatus, SyncRecord, SyncRun
from sandbox.config import SandboxConfig
from sandbox.server import SandboxServer
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
        counters.get(k, 0) for k in ("created", "updated", "unchanged", "skipped", "failed", "merged")
    )
    # The generator's case-variant duplicates are merged into their newest contact, not failed.
    assert counters.get("merged", 0) > 0
    assert not SyncRecord.objects.filter(run=run, error_code="duplicate_email").exists()
    assert counters["read"] == SyncRecord.objects.filter(run=run).count()
    assert counters.get("created", 0) > 200
    # The generator's mess shows up as records with reasons, never silently dropped.
    reasons = set(
        SyncRecord.objects.filter(run=run, outcome__in=[Outcome.FAILED, Outcome.SKIPPED]).values_list(
            "error_code", flat=True
        )
    )
    assert reasons, "the generated account contains bad rows; they must be recorded"
    # Partial means records failed; skipped rows (no email) and written-with-warnings do not.
    assert run.status == (RunStatus.PARTIAL if counters.get("failed") else RunStatus.SUCCEEDED)

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
    # Case-variant duplicates are merged: the Brevo contact of their address keeps their opt-outs too.
    written = set(
        SyncRecord.objects.filter(
            run=run, outcome__in=[Outcome.CREATED, Outcome.UPDATED, Outcome.UNCHANGED, Outcome.MERGED]
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


def _sent_by_contact(run: SyncRun) -> dict[str, tuple[str, object]]:
    """What each contact's record says was sent (created and updated both count as written)."""
    rows = SyncRecord.objects.filter(run=run).values_list("source_id", "outcome", "error_code", "sent")
    written = {Outcome.CREATED, Outcome.UPDATED}
    return {sid: ("written" if o in written else f"{o}:{code}", sent) for sid, o, code, sent in rows}


def _stripping_include(monkeypatch, *, only_request: int | None = None) -> None:
    """Make the AC server look like one that ignores `include` (on every contacts page, or one)."""
    from connectors.providers.activecampaign.client import ActiveCampaignClient

    original = ActiveCampaignClient._send
    seen = {"pages": 0}

    def request(self, method, path, *, params=None, **kwargs):
        if path == "/contacts" and params and "include" in params and params.get("limit") != 1:
            seen["pages"] += 1
            if only_request is None or seen["pages"] == only_request:
                params = {k: v for k, v in params.items() if k != "include"}
        elif path == "/contacts" and params and params.get("limit") == 1 and only_request is None:
            params = {k: v for k, v in params.items() if k != "include"}
        return original(self, method, path, params=params, **kwargs)

    monkeypatch.setattr(ActiveCampaignClient, "_send", request)


def test_a_server_ignoring_include_gets_the_same_contacts_through_staging(
    sandbox, redis_conn, monkeypatch
) -> None:
    sideloaded = drive(_new_run(connection_for_sandbox(sandbox)))
    assert sideloaded.state["contacts"]["sideload"] is True

    _stripping_include(monkeypatch)
    before = _stats(sandbox)
    staged = drive(_new_run(connection_for_sandbox(sandbox)))
    after = _stats(sandbox)
    assert staged.state["contacts"]["sideload"] is False
    # The associations came from the bulk listings instead.
    for listing in ("/api/3/fieldValues", "/api/3/contactTags", "/api/3/contactLists"):
        assert _requests(after, listing) > _requests(before, listing), listing
    assert _sent_by_contact(staged) == _sent_by_contact(sideloaded)


def test_a_page_without_its_sideloads_is_read_contact_by_contact(sandbox, redis_conn, monkeypatch) -> None:
    reference = drive(_new_run(connection_for_sandbox(sandbox)))
    _stripping_include(monkeypatch, only_request=2)
    before = _stats(sandbox)
    run = drive(_new_run(connection_for_sandbox(sandbox)))
    after = _stats(sandbox)
    # Page 2's hundred contacts were read one by one (plus their tags); the rest rode on pages.
    detail_reads = _requests(after, "/api/3/contacts/") - _requests(before, "/api/3/contacts/")
    assert 100 <= detail_reads <= 2 * 100
    assert _sent_by_contact(run) == _sent_by_contact(reference)


def test_tags_land_in_the_tags_attribute_for_segmentation(sandbox, redis_conn) -> None:
    from mappings.selectors import mapping_snapshot
    from mappings.services import catalog_discover

    connection = connection_for_sandbox(sandbox)
    assert connection.tags_attribute == "TAGS"  # a new connection's default
    catalog = catalog_discover(connection=connection)
    attribute = next(a for name, a in sandbox.brevo._attributes.items() if name == "TAGS")
    assert attribute["type"] == "multiple-choice" and "vip" in attribute["multiCategoryOptions"]
    assert "brevo.tags_attribute" not in (catalog.errors or {})

    run = SyncRun.objects.create(
        tenant=connection.tenant,
        connection=connection,
        resources=["contacts"],
        mapping_snapshot=mapping_snapshot(connection=connection).model_dump(mode="json"),
    )
    run = drive(run)
    assert run.status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL), run.error
    ac = sandbox.ac
    with ac.lock:
        tagged: dict[str, set[str]] = {}
        seen: set[str] = set()
        for cid in ac.contact_ids():
            email = ((ac.get_contact(cid) or {}).get("email") or "").strip().lower()
            if email in seen:
                tagged.pop(email, None)  # case-variant duplicates are merged: compare single ones only
                continue
            seen.add(email)
            tags = {ac.tags[r["tag"]]["tag"] for r in ac._children(cid, "contactTags") if r["tag"] in ac.tags}
            if email and tags:
                tagged[email] = tags
    brevo = {c["email"]: c["attributes"] for c in sandbox.brevo._contacts.values()}
    checked = [email for email in tagged if email in brevo]
    assert len(checked) > 20
    for email in checked:
        assert sorted(brevo[email].get("TAGS", [])) == sorted(tagged[email]), email
