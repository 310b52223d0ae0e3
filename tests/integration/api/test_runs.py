"""Runs and their records: counters, filters, cursor pages; cancel and retry."""

from __future__ import annotations

import pytest

from connectors.models import Outcome, RunMode, RunStatus, SyncRun
from tests.factories import SyncRecordFactory, SyncRunFactory

from .conftest import error_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def finished(world):
    run = SyncRunFactory(
        tenant=world.tenant,
        connection=world.connection,
        status=RunStatus.PARTIAL,
        resources=["contacts", "deals"],
        counters={
            "contacts": {"read": 5, "created": 2, "updated": 1, "failed": 2},
            "deals": {"read": 1, "skipped": 1},
        },
        progress_done=6,
        progress_total=8,
    )
    outcomes = ["created", "failed", "created", "updated", "failed"]
    for i, outcome in enumerate(outcomes):
        SyncRecordFactory(
            tenant=world.tenant, run=run, resource="contacts", source_id=str(i), outcome=outcome
        )
    SyncRecordFactory(tenant=world.tenant, run=run, resource="deals", source_id="d1", outcome="skipped")
    return run


def test_run_detail_has_status_progress_and_counters(world, finished) -> None:
    body = world.viewer.get(f"/runs/{finished.pk}").json()
    assert body["id"] == finished.pk
    assert body["status"] == "partial"
    assert body["counters"]["contacts"] == {"read": 5, "created": 2, "updated": 1, "failed": 2}
    assert body["totals"] == {"read": 6, "created": 2, "updated": 1, "failed": 2, "skipped": 1}
    assert body["progress"] == {"done": 6, "total": 8, "percent": 75.0}
    assert body["resources"] == ["contacts", "deals"]
    assert body["notConfigured"] == {}


def test_run_detail_says_what_is_not_configured_as_the_run_page_does(world) -> None:
    reason = "deal values ride on the contact's attributes"
    run = SyncRunFactory(
        tenant=world.tenant,
        connection=world.connection,
        status=RunStatus.SUCCEEDED,
        resources=["contacts", "deals"],
        counters={"contacts": {"read": 3, "created": 2, "merged": 1}},
        state={"contacts": {"done": True}, "deals": {"done": True, "not_configured": reason}},
    )
    body = world.viewer.get(f"/runs/{run.pk}").json()
    assert body["notConfigured"] == {"deals": reason}
    assert body["totals"] == {"read": 3, "created": 2, "merged": 1}
    assert world.viewer.get(f"/runs/{run.pk}/records", {"outcome": "merged"}).status_code == 200


def test_unknown_run_is_404(world) -> None:
    response = world.viewer.get("/runs/987654")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_runs_list_is_newest_first_filtered_and_paged(world, finished) -> None:
    later = [SyncRunFactory(tenant=world.tenant, connection=world.connection) for _ in range(3)]
    page = world.viewer.get("/runs", {"limit": 2}).json()
    assert [r["id"] for r in page["items"]] == [later[2].pk, later[1].pk]
    rest = world.viewer.get("/runs", {"limit": 2, "cursor": page["nextCursor"]}).json()
    assert [r["id"] for r in rest["items"]] == [later[0].pk, finished.pk]
    assert rest["nextCursor"] is None
    partial = world.viewer.get("/runs", {"status": "partial"}).json()["items"]
    assert [r["id"] for r in partial] == [finished.pk]
    assert world.viewer.get("/runs", {"connector": "other"}).json()["items"] == []


def test_records_filtered_by_outcome_and_resource(world, finished) -> None:
    failed = world.viewer.get(f"/runs/{finished.pk}/records", {"outcome": "failed"}).json()["items"]
    assert [r["sourceId"] for r in failed] == ["1", "4"]
    assert all(r["outcome"] == "failed" and r["runId"] == finished.pk for r in failed)
    assert set(failed[0]) >= {"id", "resource", "sourceId", "key", "outcome", "errorCode", "message", "sent"}
    deals = world.viewer.get(f"/runs/{finished.pk}/records", {"resource": "deals"}).json()["items"]
    assert [r["sourceId"] for r in deals] == ["d1"]
    none = world.viewer.get(f"/runs/{finished.pk}/records", {"resource": "deals", "outcome": "failed"}).json()
    assert none == {"items": [], "nextCursor": None}


def test_records_cursor_walks_every_record_once(world, finished) -> None:
    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = world.viewer.get(f"/runs/{finished.pk}/records", params).json()
        seen += [r["sourceId"] for r in page["items"]]
        cursor = page["nextCursor"]
        if not cursor:
            break
    assert seen == ["0", "1", "2", "3", "4", "d1"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"cursor": "bm90LWEtY3Vyc29y"}, "cursor"),
        ({"cursor": "!!"}, "cursor"),
        ({"limit": 0}, "limit"),
        ({"limit": 100000}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"outcome": "exploded"}, "outcome"),
    ],
)
def test_bad_query_is_400_naming_the_parameter(world, finished, params, field) -> None:
    response = world.viewer.get(f"/runs/{finished.pk}/records", params)
    assert response.status_code == 400
    assert error_of(response)["field"] == field


def test_cancel_a_queued_run(world) -> None:
    run = SyncRunFactory(tenant=world.tenant, connection=world.connection, status=RunStatus.QUEUED)
    response = world.operator.post(f"/runs/{run.pk}/cancel")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED and run.cancel_requested


def test_cancel_a_running_run_asks_it_to_stop(world) -> None:
    run = SyncRunFactory(tenant=world.tenant, connection=world.connection, status=RunStatus.RUNNING)
    body = world.operator.post(f"/runs/{run.pk}/cancel").json()
    assert body["cancelRequested"] is True and body["status"] == "running"
    run.refresh_from_db()
    assert run.cancel_requested


def test_cancel_twice_is_fine_but_a_finished_run_is_409(world, finished) -> None:
    run = SyncRunFactory(tenant=world.tenant, connection=world.connection, status=RunStatus.QUEUED)
    assert world.operator.post(f"/runs/{run.pk}/cancel").status_code == 200
    assert world.operator.post(f"/runs/{run.pk}/cancel").status_code == 200
    response = world.operator.post(f"/runs/{finished.pk}/cancel")
    assert response.status_code == 409
    assert error_of(response)["code"] == "run_not_active"
    finished.refresh_from_db()
    assert finished.status == RunStatus.PARTIAL and not finished.cancel_requested


def test_retry_starts_a_run_of_the_failed_records(world, finished) -> None:
    response = world.operator.post(f"/runs/{finished.pk}/retry")
    assert response.status_code == 202, response.content
    body = response.json()
    retry = SyncRun.objects.get(pk=body["id"])
    assert (retry.mode, retry.retry_of_id, retry.trigger) == (RunMode.RETRY, finished.pk, "api")
    assert body["retryOf"] == finished.pk and body["mode"] == "retry"
    assert response["Location"] == f"/api/v1/runs/{retry.pk}"


def test_retry_without_failures_is_422(world) -> None:
    clean = SyncRunFactory(tenant=world.tenant, connection=world.connection, status=RunStatus.SUCCEEDED)
    SyncRecordFactory(tenant=world.tenant, run=clean, outcome=Outcome.CREATED)
    response = world.operator.post(f"/runs/{clean.pk}/retry")
    assert response.status_code == 422
    assert error_of(response)["code"] == "nothing_to_retry"
    assert SyncRun.objects.count() == 1


def test_retry_while_a_run_is_active_is_409(world, finished) -> None:
    SyncRunFactory(tenant=world.tenant, connection=world.connection, status=RunStatus.RUNNING)
    response = world.operator.post(f"/runs/{finished.pk}/retry")
    assert response.status_code == 409
    assert error_of(response)["code"] == "run_in_progress"
    assert SyncRun.objects.count() == 2


def test_retry_of_a_running_run_is_409(world) -> None:
    running = SyncRunFactory(tenant=world.tenant, connection=world.connection, status=RunStatus.RUNNING)
    SyncRecordFactory(tenant=world.tenant, run=running, outcome=Outcome.FAILED)
    response = world.operator.post(f"/runs/{running.pk}/retry")
    assert response.status_code == 409
    assert SyncRun.objects.count() == 1
