"""A valid token of tenant A reaching for tenant B's data: 404 everywhere, nothing of B in any answer."""

from __future__ import annotations

import pytest
from django.core import serializers

from connectors.models import Connection, SyncRecord, SyncRun
from tests.factories import ConnectionFactory, SyncRecordFactory, SyncRunFactory

from .conftest import error_of

pytestmark = pytest.mark.django_db

B_SECRET_EMAIL = "bravo-customer@secret.example"


@pytest.fixture
def b_objects(other):
    named = ConnectionFactory(tenant=other.tenant, name="bravo-only")
    run = SyncRunFactory(
        tenant=other.tenant,
        connection=other.connection,
        status="partial",
        counters={"contacts": {"read": 1, "failed": 1}},
    )
    SyncRecordFactory(tenant=other.tenant, run=run, key=B_SECRET_EMAIL, outcome="failed")
    active = SyncRunFactory(tenant=other.tenant, connection=named, status="running")
    return run, active


def _snapshot(tenant) -> str:
    rows = [
        *Connection.objects.filter(tenant=tenant),
        *SyncRun.objects.filter(tenant=tenant),
        *SyncRecord.objects.filter(tenant=tenant),
    ]
    return serializers.serialize("json", sorted(rows, key=lambda r: (type(r).__name__, r.pk)))


def _assert_nothing_of_b(response, other) -> None:
    # A 404 may repeat the name the caller typed in the path; that is no leak.
    body = response.content.decode().replace("'bravo-only'", "")
    for secret in (B_SECRET_EMAIL, other.tenant.name, "bravo-only", other.connection.ac_account.api_url):
        assert secret not in body, f"{secret!r} leaked at {response.request['PATH_INFO']}"


def test_reads_of_b_are_404_and_leak_nothing(world, other, b_objects) -> None:
    run, active = b_objects
    for path in (
        f"/runs/{run.pk}",
        f"/runs/{run.pk}/records",
        f"/runs/{active.pk}",
        "/connectors/bravo-only/status",
    ):
        for client in (world.operator, world.viewer):
            response = client.get(path)
            assert response.status_code == 404, path
            assert error_of(response)["code"] == "not_found"
            _assert_nothing_of_b(response, other)


def test_a_missing_and_a_foreign_run_answer_alike(world, other, b_objects) -> None:
    run, _ = b_objects
    foreign = world.operator.get(f"/runs/{run.pk}").json()
    missing = world.operator.get("/runs/99999999").json()
    assert foreign["error"]["code"] == missing["error"]["code"] == "not_found"
    assert foreign["error"]["message"].replace(str(run.pk), "N") == missing["error"]["message"].replace(
        "99999999", "N"
    )


def test_lists_show_only_a(world, other, b_objects) -> None:
    own = SyncRunFactory(tenant=world.tenant, connection=world.connection)
    runs = world.operator.get("/runs").json()["items"]
    assert [r["id"] for r in runs] == [own.pk]
    assert world.operator.get("/runs", {"connector": "bravo-only"}).json()["items"] == []
    connectors = world.operator.get("/connectors").json()
    assert [c["connector"] for c in connectors] == ["activecampaign"]
    for response in (world.operator.get("/runs"), world.operator.get("/connectors")):
        _assert_nothing_of_b(response, other)


def test_same_connector_name_means_the_callers_own(world, other, b_objects) -> None:
    # Both tenants have "activecampaign": each token sees its own, with its own numbers.
    SyncRunFactory(tenant=world.tenant, connection=world.connection, counters={"events": {"created": 3}})
    SyncRunFactory(tenant=other.tenant, connection=other.connection, counters={"events": {"created": 700}})
    assert world.operator.get("/connectors/activecampaign/status").json()["eventsSynced"] == 3
    assert other.operator.get("/connectors/activecampaign/status").json()["eventsSynced"] == 700


def test_writes_on_b_are_404_and_change_nothing(world, other, b_objects) -> None:
    run, active = b_objects
    before = _snapshot(other.tenant)
    attempts = [
        (f"/runs/{active.pk}/cancel", None),
        (f"/runs/{run.pk}/retry", None),
        ("/connectors/bravo-only/sync", {"resources": ["contacts"]}),
        ("/connectors/bravo-only/events", {"event": "purchase", "email": "a@example.org"}),
    ]
    for path, body in attempts:
        response = world.operator.post(path, body)
        assert response.status_code == 404, path
        _assert_nothing_of_b(response, other)
    assert _snapshot(other.tenant) == before


def test_connect_with_a_name_b_uses_creates_a_connection_of_a(world, other, b_objects, monkeypatch) -> None:
    monkeypatch.setattr("connectors.api.views.connection_test", lambda connection: [])
    before = _snapshot(other.tenant)
    response = world.operator.post(
        "/connectors/bravo-only/connect",
        {
            "apiUrl": "https://alpha.api-us1.com",
            "apiKey": "alpha-key-123456",
            "brevoApiKey": "xkeysib-alpha-1",
            "test": False,
        },
    )
    assert response.status_code == 201
    assert Connection.objects.get(tenant=world.tenant, name="bravo-only").ac_account.api_url == (
        "https://alpha.api-us1.com"
    )
    assert _snapshot(other.tenant) == before
