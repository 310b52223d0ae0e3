"""Starting runs: 202 with the run, idempotency, 409 while one runs, and bad input that starts nothing."""

from __future__ import annotations

import json

import pytest

from connectors.models import RunStatus, SyncRun
from tests.factories import SyncRunFactory

from .conftest import error_of

pytestmark = pytest.mark.django_db

SYNC = "/connectors/activecampaign/sync"


def test_sync_answers_202_with_the_run(world, django_capture_on_commit_callbacks, monkeypatch) -> None:
    enqueued = []
    monkeypatch.setattr("connectors.services.enqueue_slice", lambda run_id, **kw: enqueued.append(run_id))
    with django_capture_on_commit_callbacks(execute=True):
        response = world.operator.post(
            SYNC, {"type": "incremental", "resources": ["contacts", "lists"], "dryRun": True}
        )
    assert response.status_code == 202, response.content
    body = response.json()
    run = SyncRun.objects.get()
    assert body["id"] == run.pk
    assert response["Location"] == f"/api/v1/runs/{run.pk}"
    assert (run.mode, run.resources, run.dry_run, run.trigger) == (
        "incremental",
        ["lists", "contacts"],
        True,
        "api",
    )
    assert body["status"] == "queued" and body["dryRun"] is True and body["connector"] == "activecampaign"
    assert enqueued == [run.pk], "the run's first slice is enqueued once the request commits"


def test_documentation_example_with_options(world) -> None:
    world.connection.include_tags = False
    world.connection.include_scores = True
    world.connection.save()
    response = world.operator.post(
        SYNC,
        {
            "type": "full",
            "resources": ["contacts", "deals", "events"],
            "options": {
                "includeTags": True,
                "includeCustomFields": True,
                "includeScores": False,
                "includeListMemberships": True,
            },
        },
    )
    assert response.status_code == 202, response.content
    world.connection.refresh_from_db()
    assert world.connection.include_tags is True
    assert world.connection.include_scores is False
    assert SyncRun.objects.get().resources == ["contacts", "deals", "events"]


def test_idempotency_key_returns_the_same_run(world) -> None:
    headers = {"Idempotency-Key": "a6f0c1d2-retry-1"}
    first = world.operator.post(SYNC, {"resources": ["contacts"]}, headers=headers)
    second = world.operator.post(SYNC, {"resources": ["contacts"]}, headers=headers)
    assert first.status_code == second.status_code == 202
    assert first.json()["id"] == second.json()["id"]
    assert SyncRun.objects.count() == 1
    assert SyncRun.objects.get().idempotency_key == "a6f0c1d2-retry-1"


def test_idempotency_key_still_answers_after_the_run_finished(world) -> None:
    headers = {"Idempotency-Key": "k-finished"}
    run_id = world.operator.post(SYNC, {"resources": ["contacts"]}, headers=headers).json()["id"]
    SyncRun.objects.filter(pk=run_id).update(status=RunStatus.SUCCEEDED)
    again = world.operator.post(SYNC, {"resources": ["contacts"]}, headers=headers)
    assert again.status_code == 202 and again.json()["id"] == run_id
    assert again.json()["status"] == "succeeded"
    assert SyncRun.objects.count() == 1


def test_idempotency_key_reused_for_another_request_is_422(world) -> None:
    headers = {"Idempotency-Key": "same-key"}
    world.operator.post(SYNC, {"resources": ["contacts"]}, headers=headers)
    response = world.operator.post(SYNC, {"resources": ["deals"]}, headers=headers)
    assert response.status_code == 422
    error = error_of(response)
    assert (error["code"], error["field"]) == ("idempotency_key_reused", "Idempotency-Key")
    assert SyncRun.objects.count() == 1


def test_a_second_run_while_one_is_active_is_409(world) -> None:
    active = SyncRunFactory(tenant=world.tenant, connection=world.connection, status="running")
    response = world.operator.post(SYNC, {"resources": ["contacts"]})
    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "run_in_progress" and str(active.pk) in error["message"]
    assert SyncRun.objects.count() == 1


def test_disabled_connection_is_422(world) -> None:
    world.connection.enabled = False
    world.connection.save()
    response = world.operator.post(SYNC, {"resources": ["contacts"]})
    assert response.status_code == 422
    assert error_of(response)["code"] == "connection_disabled"
    assert not SyncRun.objects.exists()


def test_unknown_connector_is_404(world) -> None:
    response = world.operator.post("/connectors/nope/sync", {"resources": ["contacts"]})
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"resources": ["contacts", "unicorns"]}, "unknown_resource", "resources[1]"),
        ({"resources": "contacts"}, "invalid_field", "resources"),
        ({"type": "sometimes"}, "invalid_field", "type"),
        ({"dryRun": "yes"}, "invalid_field", "dryRun"),
        ({"dryRun": 1}, "invalid_field", "dryRun"),
        ({"dry_run": True}, "unknown_field", "dry_run"),
        ({"resources": ["contacts"], "priority": "high"}, "unknown_field", "priority"),
        ({"options": {"includeTags": "true"}}, "invalid_field", "options.includeTags"),
        ({"options": {"includeEverything": True}}, "unknown_field", "options.includeEverything"),
        ([], "invalid_body", None),
        ("full", "invalid_body", None),
        (None, "invalid_body", None),
    ],
)
def test_bad_input_is_400_naming_the_field_and_starts_nothing(world, body, code, field) -> None:
    response = world.operator.post(SYNC, raw=json.dumps(body))
    assert response.status_code == 400, response.content
    error = error_of(response)
    assert (error["code"], error["field"]) == (code, field)
    assert not SyncRun.objects.exists()


def test_empty_body_is_400(world) -> None:
    response = world.operator.post(SYNC, raw="")
    assert response.status_code == 400
    assert error_of(response) == {
        "code": "invalid_body",
        "message": "The request needs a JSON object as its body.",
        "field": None,
    }
    assert not SyncRun.objects.exists()


@pytest.mark.parametrize("raw", ["{", "{'type': 'full'}", '{"type": "full",}', "\x00", "nul\u0000l", "[1, 2"])
def test_malformed_json_is_400(world, raw) -> None:
    response = world.operator.post(SYNC, raw=raw)
    assert response.status_code == 400
    assert error_of(response)["code"] in ("malformed_json", "invalid_body")
    assert not SyncRun.objects.exists()


def test_huge_body_is_413_and_never_read(world, settings) -> None:
    settings.TAJO_API_MAX_BODY_BYTES = 1024
    body = {"resources": ["contacts"], "options": {"includeTags": True}, "padding": "x" * 5000}
    response = world.operator.post(SYNC, body)
    assert response.status_code == 413
    assert error_of(response)["code"] == "body_too_large"
    assert not SyncRun.objects.exists()


def test_default_body_limit_refuses_megabytes(world) -> None:
    response = world.operator.post(SYNC, raw='{"resources": [' + '"contacts",' * 300_000 + '"contacts"]}')
    assert response.status_code == 413
    assert not SyncRun.objects.exists()


@pytest.mark.parametrize("key", ["has space", "x" * 201, "naïve"])
def test_bad_idempotency_key_is_400(world, key) -> None:
    response = world.operator.post(SYNC, {"resources": ["contacts"]}, headers={"Idempotency-Key": key})
    assert response.status_code == 400
    assert error_of(response)["field"] == "Idempotency-Key"
    assert not SyncRun.objects.exists()
