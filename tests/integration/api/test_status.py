"""`connectors.status(...)`: its numbers are the runs' counters, summed as stored in the database."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from connectors.models import ContactIdentity, RecordState, RunStatus
from tests.factories import ConnectionFactory, SyncRunFactory

pytestmark = pytest.mark.django_db

STATUS = "/connectors/activecampaign/status"


def _states(connection, resource: str, ids, **values) -> None:
    for source_id in ids:
        RecordState.objects.create(
            tenant=connection.tenant,
            connection=connection,
            resource=resource,
            source_id=str(source_id),
            **values,
        )


def _identity(connection, source_id, email: str, deal_id: str = "") -> None:
    ContactIdentity.objects.create(
        tenant=connection.tenant,
        connection=connection,
        source_id=str(source_id),
        email=email,
        deal_id=deal_id,
    )


def test_empty_connection(world) -> None:
    body = world.viewer.get(STATUS).json()
    assert body == {
        "connector": "activecampaign",
        "connected": False,  # never tested
        "lastSync": None,
        "contactsMigrated": 0,
        "dealsSynced": 0,
        "eventsSynced": 0,
        "currentRun": None,
    }


def test_connected_is_the_last_test_and_a_refused_key_since(world) -> None:
    world.connection.record_check(ok=True)
    assert world.viewer.get(STATUS).json()["connected"] is True
    world.connection.record_check(ok=False, message="refused during a sync: 403")
    assert world.viewer.get(STATUS).json()["connected"] is False
    world.connection.refresh_from_db()
    assert world.connection.last_check_message == "refused during a sync: 403"
    assert not world.connection.history.filter(history_date__gte=world.connection.last_check_at).exists()


def test_numbers_count_what_brevo_holds_not_writes(world) -> None:
    now = timezone.now()
    connection = world.connection
    make = lambda **kw: SyncRunFactory(tenant=world.tenant, connection=connection, **kw)  # noqa: E731
    # Counters say 100 + 15 contact writes; one contact was updated twice: writes are not contacts.
    make(
        status=RunStatus.SUCCEEDED,
        finished_at=now - timedelta(days=2),
        counters={
            "contacts": {"read": 120, "created": 100, "updated": 15, "unchanged": 5},
            "automations": {"read": 3, "created": 3},
        },
    )
    last = make(
        status=RunStatus.PARTIAL,
        finished_at=now - timedelta(hours=1),
        mode="incremental",
        counters={"contacts": {"read": 9, "updated": 6, "failed": 3}, "events": {"read": 4, "created": 4}},
    )
    make(status=RunStatus.FAILED, finished_at=now - timedelta(minutes=5), counters={"events": {"created": 1}})
    make(status=RunStatus.SUCCEEDED, dry_run=True, finished_at=now, counters={"events": {"created": 500}})
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
    # Brevo holds 7 of these AC contacts; two carry the same deal 501, one deal 502.
    _states(connection, "contacts", range(1, 8), content_hash="h")
    _states(connection, "contacts:merged", [99], content_hash="h")  # merged into another: not counted
    for source_id, deal in ((1, "501"), (2, "501"), (3, "502"), (4, "")):
        _identity(connection, source_id, f"c{source_id}@example.org", deal)
    _identity(connection, 50, "never-written@example.org", "777")  # read, never in Brevo
    # CRM deals: 502 again (as a CRM deal too) and 503; one without a Brevo id was never created.
    _states(connection, "deals", [502, 503], brevo_id="b1")
    _states(connection, "deals", [504])
    # Another connection of the same tenant counts for itself only.
    other = ConnectionFactory(tenant=world.tenant, name="second")
    SyncRunFactory(tenant=world.tenant, connection=other, counters={"events": {"created": 999}})
    _states(other, "contacts", range(1, 50))

    body = world.viewer.get(STATUS).json()

    assert {k: body[k] for k in ("contactsMigrated", "dealsSynced", "eventsSynced")} == {
        "contactsMigrated": 7,
        "dealsSynced": 3,  # 501, 502, 503
        "eventsSynced": 3 + 4 + 1 + 1,  # automation events included; the failed run's sent event too
    }
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
    world.connection.record_check(ok=True)
    world.connection.enabled = False
    world.connection.save()
    assert world.viewer.get(STATUS).json()["connected"] is False
