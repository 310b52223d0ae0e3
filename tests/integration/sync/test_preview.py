"""Dry-run preview: sandbox over real HTTP, PostgreSQL, the demo configuration imported from YAML."""

from __future__ import annotations

import httpx
import orjson
import pytest
from django.test import Client
from django.urls import reverse

from connectors.models import Outcome, RecordState, SyncRecord, Trigger
from connectors.sync.engine import sync_single
from connectors.sync.preview import MAX_SAMPLE, clamp_sample_size, preview_connection
from sandbox.config import SandboxConfig
from sandbox.server import SandboxServer
from tests.factories import MembershipFactory
from tests.preview_helpers import import_demo_connection
from tests.sandbox_helpers import connection_for_sandbox

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def sandbox():
    with SandboxServer(SandboxConfig.fast(contacts=80, seed=5)) as server:
        yield server


@pytest.fixture
def connection(sandbox, redis_conn):
    return import_demo_connection(sandbox, tenant_slug="preview-acme", crm_deals=True)


def _stats(sandbox) -> dict:
    return httpx.get(f"{sandbox.base_url}/_sandbox/stats").json()["requests"]


def _count(stats: dict, prefix: str) -> int:
    return sum(v["count"] for k, v in stats.items() if k.split(" ", 1)[1].startswith(prefix))


def _ac(sandbox, path: str, **params) -> dict:
    response = httpx.get(
        f"{sandbox.ac_api_url}/api/3{path}", params=params, headers={"Api-Token": sandbox.ac_key}
    )
    response.raise_for_status()
    return response.json()


def _has(sandbox, kind: str, target: str, ac_id: int) -> bool:
    """Ask ActiveCampaign itself whether a contact shows a coverage target."""
    if kind == "tag":
        tags = {int(t["tag"]) for t in _ac(sandbox, f"/contacts/{ac_id}/contactTags")["contactTags"]}
        names = {int(t["id"]): t["tag"] for t in _ac(sandbox, "/tags", limit=100)["tags"]}
        return any(names.get(tag) and target == f"has tag {names[tag]}" for tag in tags)
    if kind == "list":
        lists = {int(row["id"]): row["name"] for row in _ac(sandbox, "/lists", limit=100)["lists"]}
        words = {"0": "unconfirmed", "1": "subscribed", "2": "unsubscribed", "3": "bounced"}
        rows = _ac(sandbox, f"/contacts/{ac_id}/contactLists")["contactLists"]
        return any(target == f"on list {lists[int(r['list'])]} ({words.get(r['status'])})" for r in rows)
    stages = {int(s["id"]): s["title"] for s in _ac(sandbox, "/dealStages", limit=100)["dealStages"]}
    deals = _ac(sandbox, f"/contacts/{ac_id}")["deals"]
    return any(target.startswith(f"deal in stage {stages[int(d['stage'])]} ") for d in deals)


def test_sample_covers_every_mapped_list_tag_and_stage(sandbox, connection) -> None:
    preview = preview_connection(connection=connection, sample_size=20)
    assert preview.ok, (preview.problems, preview.error)
    assert 0 < len(preview.records) <= 20
    assert len({r.ac_id for r in preview.records}) == len(preview.records)

    targets = {item.target: item for item in preview.coverage}
    # One subscribed contact per mapped list, each mapped tag, each mapped stage: all exist in the sandbox.
    for wanted in (
        "on list Main List (subscribed)",
        "on list Newsletter (subscribed)",
        "on list Customers (subscribed)",
        "has tag vip",
        "has tag churn-risk",
        "deal in stage Qualified (Sales)",
        "deal in stage Proposal (Sales)",
        "deal in stage Negotiation (Renewals)",
    ):
        assert targets[wanted].ac_ids, f"nothing in the sample shows {wanted!r}"
    for item in preview.coverage:
        for ac_id in item.ac_ids:
            assert _has(sandbox, item.kind, item.target, ac_id), (item.target, ac_id)
        if not item.ac_ids and item.kind == "list" and item.note == "no contact in ActiveCampaign has it":
            list_name, status = item.target.removeprefix("on list ").rsplit(" (", 1)
            list_id = next(
                int(row["id"])
                for row in _ac(sandbox, "/lists", limit=100)["lists"]
                if row["name"] == list_name
            )
            code = {"subscribed": 1, "unsubscribed": 2, "bounced": 3, "unconfirmed": 0}[status.rstrip(")")]
            assert _ac(sandbox, "/contacts", listid=list_id, status=code, limit=1)["contacts"] == []

    reasons = [reason for record in preview.records for reason in record.picked_because]
    assert "on list Main List (subscribed)" in reasons
    assert "has tag vip" in reasons
    assert "deal in stage Proposal (Sales)" in reasons

    sent = [r for r in preview.records if r.payload is not None]
    assert sent and all(r.verdict.startswith("would create") for r in sent)
    first = sent[0]
    assert first.payload["email"] == first.email.strip().lower()
    assert any(i.source == 'AC field 3 "Plan tier"' and i.attribute == "PLAN_TIER" for i in first.inputs)
    # Consent reasons name the AC side of each Brevo list change.
    changes = [(c.action, reason) for r in sent for c in r.list_changes for reason in c.reasons]
    assert ("add", "subscribed on AC list Main List") in changes
    assert any(
        action == "unlink" and reason.startswith("unsubscribed on AC list") for action, reason in changes
    )

    # CRM deals are on for this connection: the sampled contacts' deals as Brevo deal bodies.
    with_payload = [d for d in preview.deals if d.payload is not None]
    assert with_payload, preview.deals
    assert {"pipeline", "deal_stage"} <= set(with_payload[0].payload["attributes"])
    assert any(d.verdict == "would skip" and "Renewed" in d.skip_reason for d in preview.deals) or all(
        d.stage != "Renewed" for d in preview.deals
    )


def test_nothing_reaches_brevo(sandbox, connection) -> None:
    before = _stats(sandbox)
    preview = preview_connection(connection=connection, sample_size=8)
    after = _stats(sandbox)
    assert preview.ok and preview.records
    assert _count(after, "/v3") == _count(before, "/v3"), "the preview sent a request to Brevo"
    assert _count(after, "/api/3") - _count(before, "/api/3") == preview.ac_requests > 0
    assert not RecordState.objects.filter(connection=connection).exists()
    assert not SyncRecord.objects.filter(run__connection=connection).exists()


def test_payload_is_what_the_sync_sends(sandbox, connection) -> None:
    preview = preview_connection(connection=connection, sample_size=MAX_SAMPLE)
    assert preview.ok
    written = [r for r in preview.records if r.payload is not None and r.verdict == "would create"][:3]
    # A duplicate email is only a duplicate among contacts written together, so not one by one.
    refused = [r for r in preview.records if r.skip_code in ("no_email", "invalid_email")][:2]
    assert written and refused, "the generated account has good and bad contacts"

    for item in written + refused:
        record = sync_single(
            connection=connection, resource="contacts", source_id=str(item.ac_id), trigger=Trigger.API
        )
        assert record is not None and record.source_id == str(item.ac_id)
        if item.payload is not None:
            assert record.outcome == Outcome.CREATED, record.message
            assert record.sent == orjson.loads(orjson.dumps(item.payload))
        else:
            assert record.outcome in (Outcome.SKIPPED, Outcome.FAILED)
            assert record.error_code == item.skip_code
            assert record.message == item.skip_reason

    again = {r.ac_id: r for r in preview_connection(connection=connection, sample_size=MAX_SAMPLE).records}
    remembered = set(
        RecordState.objects.filter(connection=connection, resource="contacts").values_list(
            "source_id", flat=True
        )
    )
    assert remembered, "the single-record syncs left no RecordState"
    for item in written:
        assert str(item.ac_id) in remembered
        assert again[item.ac_id].verdict.startswith("unchanged"), again[item.ac_id].verdict


def test_invalid_mapping_lists_problems_and_reads_nothing(sandbox, redis_conn) -> None:
    bare = connection_for_sandbox(sandbox)  # no catalog discovered: the mapping cannot be validated
    before = _stats(sandbox)
    preview = preview_connection(connection=bare, sample_size=5)
    assert not preview.ok and preview.problems
    assert preview.records == [] and preview.ac_requests == 0
    assert _count(_stats(sandbox), "/api/3") == _count(before, "/api/3")


def test_sample_size_is_bounded() -> None:
    assert clamp_sample_size("0") == 1
    assert clamp_sample_size("1000") == MAX_SAMPLE
    assert clamp_sample_size("seven") == 20
    assert clamp_sample_size(" 7 ") == 7


def _client_for(member) -> Client:
    client = Client()
    client.force_login(member.user)
    return client


def test_admin_page_is_scoped_to_the_tenant(sandbox, connection) -> None:
    url = reverse("admin:connectors_connection_preview", args=[connection.pk])
    viewer = MembershipFactory(tenant=connection.tenant, role="viewer")
    response = _client_for(viewer).get(url, {"n": "0"})
    assert response.status_code == 200
    assert response.context["sample_size"] == 1
    body = response.content.decode()
    assert "Nothing was written to Brevo" in body
    record = response.context["preview"].records[0]
    assert f"#{record.ac_id}" in body and "tajo-payload" in body

    change = _client_for(viewer).get(reverse("admin:connectors_connection_change", args=[connection.pk]))
    assert url in change.content.decode(), "the connection page has no preview button"

    outsider = MembershipFactory(role="owner")
    assert _client_for(outsider).get(url).status_code == 404
    assert _client_for(outsider).get(url.replace(f"/{connection.pk}/", "/999999/")).status_code == 404


def test_action_opens_the_preview(sandbox, connection) -> None:
    operator = MembershipFactory(tenant=connection.tenant, role="operator")
    response = _client_for(operator).post(
        reverse("admin:connectors_connection_changelist"),
        {"action": "preview_dry_run", "_selected_action": [connection.pk]},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:connectors_connection_preview", args=[connection.pk])


def test_page_shows_mapping_problems(sandbox, redis_conn) -> None:
    member = MembershipFactory(role="operator")
    bare = connection_for_sandbox(sandbox, tenant=member.tenant)
    response = _client_for(member).get(reverse("admin:connectors_connection_preview", args=[bare.pk]))
    assert response.status_code == 200
    assert 'id="tajo-preview-problems"' in response.content.decode()
    assert response.context["preview"].problems
