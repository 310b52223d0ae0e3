"""Tokens: who may call, what a viewer may do, and what a bad token gets (always 401, never data)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from connectors.api.models import ApiToken, hash_token
from connectors.models import SyncRecord, SyncRun
from tests.factories import SyncRecordFactory, SyncRunFactory

from .conftest import ApiClient, error_of

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Bearer not-a-tajo-token",
        "Bearer tajo_short",
        "Bearer tajo_" + "x" * 43,  # well formed, never issued
        "Token tajo_" + "x" * 43,
    ],
)
def test_missing_malformed_or_unknown_token_is_401(world, authorization) -> None:
    headers = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}
    response = Client().get("/api/v1/connectors/activecampaign/status", **headers)
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"activecampaign" not in response.content


def test_a_valid_token_reads_and_its_last_use_is_recorded(world) -> None:
    token = ApiToken.objects.get(tenant=world.tenant, role="operator")
    assert token.last_used_at is None
    response = world.operator.get("/connectors/activecampaign/status")
    assert response.status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert (timezone.now() - token.last_used_at).total_seconds() < 60


def test_tokens_are_stored_hashed_only(world) -> None:
    token = ApiToken.objects.get(tenant=world.tenant, role="operator")
    assert token.token_hash == hash_token(world.operator.token)
    assert world.operator.token not in str(ApiToken.objects.filter(pk=token.pk).values().first())
    assert world.operator.token.startswith(token.token_prefix)


def test_revoked_token_is_refused_and_starts_nothing(world) -> None:
    ApiToken.objects.filter(tenant=world.tenant, role="operator").update(revoked_at=timezone.now())
    response = world.operator.post("/connectors/activecampaign/sync", {"resources": ["contacts"]})
    assert response.status_code == 401
    assert "revoked" in error_of(response)["message"]
    assert not SyncRun.objects.exists()


def test_viewer_reads_everything(world) -> None:
    run = SyncRunFactory(tenant=world.tenant, connection=world.connection)
    SyncRecordFactory(tenant=world.tenant, run=run)
    for path in (
        "/connectors",
        "/connectors/activecampaign/status",
        "/runs",
        f"/runs/{run.pk}",
        f"/runs/{run.pk}/records",
    ):
        assert world.viewer.get(path).status_code == 200, path


def test_viewer_cannot_start_cancel_retry_connect_or_forward(world) -> None:
    active = SyncRunFactory(tenant=world.tenant, connection=world.connection, status="running")
    failed = SyncRunFactory(tenant=world.tenant, connection=world.connection, status="partial")
    SyncRecordFactory(tenant=world.tenant, run=failed, outcome="failed")
    before = (SyncRun.objects.count(), SyncRecord.objects.count())
    attempts = [
        ("/connectors/activecampaign/sync", {"resources": ["contacts"]}),
        ("/connectors/activecampaign/sync", {"no": "such field"}),  # refused before the body is read
        (f"/runs/{active.pk}/cancel", None),
        (f"/runs/{failed.pk}/retry", None),
        ("/connectors/activecampaign/connect", {"apiUrl": "https://x.api-us1.com", "apiKey": "k"}),
        ("/connectors/activecampaign/events", {"event": "purchase", "email": "a@example.org"}),
    ]
    for path, body in attempts:
        response = world.viewer.post(path, body)
        assert response.status_code == 403, path
        assert error_of(response)["code"] == "forbidden"
    assert (SyncRun.objects.count(), SyncRecord.objects.count()) == before
    active.refresh_from_db()
    assert active.status == "running" and not active.cancel_requested
    world.connection.ac_account.refresh_from_db()
    assert world.connection.ac_account.api_url != "https://x.api-us1.com"


def test_token_in_a_query_string_is_not_accepted(world) -> None:
    response = Client().get("/api/v1/runs", {"token": world.operator.token})
    assert response.status_code == 401


def test_operator_token_of_a_tenant_works_with_a_fresh_client(world) -> None:
    # No session or cookie is involved: the bearer token alone authenticates.
    response = ApiClient(Client(), world.operator.token).get("/runs")
    assert response.status_code == 200
