"""Custom object fields onto contact attributes, end to end: sandbox over HTTP, PostgreSQL, the engine."""

from __future__ import annotations

import httpx
import pytest

from connectors.models import Outcome, RunMode, RunStatus, SyncRecord, SyncRun
from mappings.transforms import FieldRule, Transform
from sandbox.config import SandboxConfig
from sandbox.server import SandboxServer
from tests.sandbox_helpers import connection_for_sandbox, demo_mapping, drive

pytestmark = pytest.mark.django_db(transaction=True)

OUTCOMES = ("created", "updated", "unchanged", "skipped", "failed")


@pytest.fixture(scope="module")
def sandbox():
    with SandboxServer(SandboxConfig.fast(contacts=60, seed=13)) as server:
        # Brevo drops values of attributes an account does not have: create the mapped ones.
        for name, kind in (("PLAN", "text"), ("SEATS", "float"), ("RENEWAL_DATE", "date")):
            response = httpx.post(
                f"{server.brevo_api_url}/contacts/attributes/normal/{name}",
                json={"type": kind},
                headers={"api-key": server.brevo_key},
            )
            assert response.status_code in (200, 201, 204), response.text
        yield server


def _mapping(schema_id: str):
    rules = [
        FieldRule(
            source="custom_object", object_schema_id=schema_id, object_field_id="plan", attribute="PLAN"
        ),
        FieldRule(
            source="custom_object",
            object_schema_id=schema_id,
            object_field_id="seats",
            attribute="SEATS",
            transform=Transform.NUMBER,
            attribute_type="float",
        ),
        FieldRule(
            source="custom_object",
            object_schema_id=schema_id,
            object_field_id="renewal_date",
            attribute="RENEWAL_DATE",
            transform=Transform.DATE,
            attribute_type="date",
        ),
    ]
    return demo_mapping(fields=rules, lists=[], tags=[])


def _run(connection, schema_id: str, **kwargs) -> SyncRun:
    return SyncRun.objects.create(
        tenant=connection.tenant,
        connection=connection,
        resources=["custom_objects"],
        mapping_snapshot=_mapping(schema_id).model_dump(mode="json"),
        **kwargs,
    )


def _get(sandbox, path: str, **params) -> dict:
    return httpx.get(
        f"{sandbox.ac_api_url}/api/3{path}", params=params, headers={"Api-Token": sandbox.ac_key}
    ).json()


def _stats(sandbox) -> dict:
    return httpx.get(f"{sandbox.base_url}/_sandbox/stats").json()


def _requests(stats: dict, prefix: str) -> int:
    return sum(v["count"] for k, v in stats["requests"].items() if k.split(" ", 1)[1].startswith(prefix))


def test_records_fill_their_contacts_attributes_newest_record_wins(sandbox, redis_conn) -> None:
    schema_id = _get(sandbox, "/customObjects/schemas")["schemas"][0]["id"]
    records = _get(sandbox, f"/customObjects/records/{schema_id}", limit=100)["records"]
    contacts = {
        c["id"]: c
        for c in _get(
            sandbox,
            "/contacts",
            **{"ids[]": [r["relationships"]["primary-contact"][0] for r in records], "limit": 100},
        )["contacts"]
    }
    older = next(r for r in records if "@" in contacts[r["relationships"]["primary-contact"][0]]["email"])
    owner = older["relationships"]["primary-contact"][0]
    newer, _ = sandbox.ac.upsert_record(
        schema_id,
        {
            "record": {
                "fields": [{"id": "plan", "value": "Newest plan"}, {"id": "seats", "value": 7}],
                "relationships": {"primary-contact": [owner]},
            }
        },
    )
    orphan, _ = sandbox.ac.upsert_record(
        schema_id,
        {
            "record": {
                "fields": [{"id": "plan", "value": "Nobody's"}],
                "relationships": {"primary-contact": [owner]},
            }
        },
    )
    with sandbox.ac.lock:
        orphan["relationships"] = {}

    connection = connection_for_sandbox(sandbox)
    before = _stats(sandbox)
    run = drive(_run(connection, schema_id))
    after = _stats(sandbox)

    assert run.status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL), run.error
    counters = run.counters["custom_objects"]
    assert counters["read"] == sum(counters.get(k, 0) for k in OUTCOMES)
    assert counters["read"] == SyncRecord.objects.filter(run=run).count() == len(records) + 2

    lost = SyncRecord.objects.get(run=run, source_id=f"{schema_id}:{older['id']}")
    assert (lost.outcome, lost.error_code) == (Outcome.SKIPPED, "older_record")
    assert newer["id"] in lost.message
    won = SyncRecord.objects.get(run=run, source_id=f"{schema_id}:{newer['id']}")
    assert won.outcome in (Outcome.CREATED, Outcome.UPDATED), won.message
    stored = sandbox.brevo.contact_by_email(contacts[owner]["email"])
    assert stored["attributes"]["PLAN"] == "Newest plan"
    assert stored["attributes"]["SEATS"] == 7
    nobody = SyncRecord.objects.get(run=run, source_id=f"{schema_id}:{orphan['id']}")
    assert (nobody.outcome, nobody.error_code) == (Outcome.SKIPPED, "no_contact")

    # Another record's values are on its own contact.
    other = next(
        r
        for r in records
        if r["id"] != older["id"] and "@" in contacts[r["relationships"]["primary-contact"][0]]["email"]
    )
    plan = next(f["value"] for f in other["fields"] if f["id"] == "plan")
    assert (
        sandbox.brevo.contact_by_email(contacts[other["relationships"]["primary-contact"][0]]["email"])[
            "attributes"
        ]["PLAN"]
        == plan
    )
    # Emails come from one batched contacts read per page of records.
    assert _requests(after, "/api/3/contacts") - _requests(before, "/api/3/contacts") <= 2

    rerun = drive(_run(connection, schema_id))
    again = rerun.counters["custom_objects"]
    assert again.get("created", 0) == 0 and again.get("updated", 0) == 0
    assert again["unchanged"] == counters.get("created", 0) + counters.get("updated", 0)

    # A record edited in AC: an incremental run writes only it; the loser stays the loser.
    sandbox.ac.upsert_record(
        schema_id,
        {
            "record": {
                "id": newer["id"],
                "fields": [{"id": "plan", "value": "Changed"}],
                "relationships": {"primary-contact": [owner]},
            }
        },
    )
    incremental = drive(_run(connection, schema_id, mode=RunMode.INCREMENTAL))
    assert incremental.counters["custom_objects"]["read"] <= 3
    assert (
        SyncRecord.objects.get(run=incremental, source_id=f"{schema_id}:{newer['id']}").outcome
        == Outcome.UPDATED
    )
    assert sandbox.brevo.contact_by_email(contacts[owner]["email"])["attributes"]["PLAN"] == "Changed"


def test_unknown_schema_fails_with_what_to_do(sandbox, redis_conn) -> None:
    connection = connection_for_sandbox(sandbox)
    run = drive(_run(connection, "00000000-0000-4000-8000-000000000000"))
    assert run.status == RunStatus.PARTIAL
    record = SyncRecord.objects.get(run=run)
    assert record.error_code == "schema_missing" and "remove its field mappings" in record.message
