"""`connectors.status(...)`: its numbers are the runs' counters, summed as stored in the database."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from connectors.models import RunStatus, SyncRun
from tests.factories import ConnectionFactory, SyncRunFactory

pytestmark = pytest.mark.django_db

STATUS = "/connectors/activecampaign/status"


def _expected(connection) -> dict[str, int]:
    """Recompute the documented numbers straight from the rows, independently of the API code."""
    sums = {"contacts": 0, "deals": 0, "events": 0}
    for run in SyncRun.objects.filter(connection=connection, dry_run=False):
        for resource in sums:
            values = run.counters.get(resource, {})
            sums[resource] += values.get("created", 0) + values.get("updated", 0)
    return {
        "contactsMigrated": sums["contacts"],
        "dealsSynced": sums["deals"],
        "eventsSynced": sums["events"],
    }


def test_empty_connection(world) -> None:
    body = world.viewer.get(STATUS).json()
    assert body == {
        "connector": "activecampaign",
        "connected": True,
        "lastSync": None,
        "contactsMigrated": 0,
        "dealsSynced": 0,
        "eventsSynced": 0,
        "currentRun": None,
    }


def test_numbers_agree_with_the_runs_in_the_database(world) -> None:
    now = timezone.now()
    make = lambda **kw: SyncRunFactory(tenant=world.tenant, connection=world.connection, **kw)  # noqa: E731
    make(
        status=RunStatus.SUCCEEDED,
        finished_at=now - timedelta(days=2),
        counters={
            "contacts": {"read": 120, "created": 100, "updated": 15, "unchanged": 5},
            "deals": {"read": 10, "created": 8, "failed": 2},
        },
    )
    last = make(
        status=RunStatus.PARTIAL,
        finished_at=now - timedelta(hours=1),
        mode="incremental",
        counters={"contacts": {"read": 9, "updated": 6, "failed": 3}, "events": {"read": 4, "created": 4}},
    )
    make(
        status=RunStatus.FAILED,
        finished_at=now - timedelta(minutes=5),
        counters={"contacts": {"read": 2, "created": 2}},
    )
    make(
        status=RunStatus.SUCCEEDED,
        dry_run=True,
        finished_at=now,
        counters={"contacts": {"read": 500, "created": 500}},
    )
    make(
        status=RunStatus.SUCCEEDED,
        mode="single",
        finished_at=now - timedelta(hours=3),
        counters={"events": {"read": 1, "created": 1}},
    )
    running = make(
        status=RunStatus.RUNNING,
        started_at=now,
        progress_done=40,
        progress_total=160,
        counters={"contacts": {"read": 40, "created": 30, "unchanged": 10}},
    )
    # Another connection of the same tenant counts for itself only.
    other = ConnectionFactory(tenant=world.tenant, name="second")
    SyncRunFactory(tenant=world.tenant, connection=other, counters={"contacts": {"created": 999}})

    body = world.viewer.get(STATUS).json()

    expected = _expected(world.connection)
    assert expected == {"contactsMigrated": 100 + 15 + 6 + 2 + 30, "dealsSynced": 8, "eventsSynced": 5}
    assert {k: body[k] for k in expected} == expected
    last_sync = datetime.fromisoformat(body["lastSync"].replace("Z", "+00:00"))
    assert abs(last_sync - last.finished_at) < timedelta(milliseconds=1)
    current = body["currentRun"]
    assert current["id"] == running.pk
    assert current["progress"] == {"done": 40, "total": 160, "percent": 25.0}
    assert current["status"] == "running"


def test_webhook_and_single_runs_are_not_the_current_run(world) -> None:
    SyncRunFactory(tenant=world.tenant, connection=world.connection, status=RunStatus.RUNNING, mode="webhook")
    assert world.viewer.get(STATUS).json()["currentRun"] is None


def test_disabled_connection_is_not_connected(world) -> None:
    world.connection.enabled = False
    world.connection.save()
    assert world.viewer.get(STATUS).json()["connected"] is False
