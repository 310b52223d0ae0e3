"""Processing jobs against the sandbox: exactly-once claims, failures with reasons, retention,
and an oversize body over real HTTP."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from django.test import override_settings
from django.utils import timezone

from connectors.models import RunMode, SyncRun
from connectors.webhooks import services
from connectors.webhooks.models import WebhookEvent, WebhookStatus
from sandbox.activecampaign.webhooks import form_body
from sandbox.config import SandboxConfig
from sandbox.server import SandboxServer
from tests.factories import WebhookEventFactory
from tests.sandbox_helpers import connection_for_sandbox

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def sandbox():
    with SandboxServer(SandboxConfig.fast(contacts=10, seed=9)) as server:
        yield server


@pytest.fixture
def discovered(sandbox, short_queue):
    from mappings.services import catalog_discover

    connection = connection_for_sandbox(sandbox)
    catalog_discover(connection=connection)
    return connection


def received(sandbox, connection, cid: int, event: str = "update") -> WebhookEvent:
    with sandbox.ac.lock:
        payload = sandbox.ac._event_payload(cid, "admin")
    receipt = services.webhook_receive(connection=connection, body=form_body(event, payload))
    assert receipt.status == WebhookStatus.RECEIVED
    return WebhookEvent.objects.get(pk=receipt.event_id)


_emails = iter(range(1_000_000))


def a_valid_contact(sandbox) -> int:
    email = f"proc-{next(_emails)}@example.org"
    response = httpx.post(f"{sandbox.base_url}/_sandbox/ac/contacts", json={"email": email})
    assert response.status_code == 201, response.text
    return int(response.json()["contact"]["id"])


def test_an_event_is_applied_once_however_often_its_job_runs(sandbox, discovered) -> None:
    event = received(sandbox, discovered, a_valid_contact(sandbox))
    assert services.webhook_event_process(event_id=event.pk) == WebhookStatus.PROCESSED
    runs = SyncRun.objects.filter(connection=discovered, mode=RunMode.WEBHOOK).count()
    assert services.webhook_event_process(event_id=event.pk) == "not claimed"
    assert SyncRun.objects.filter(connection=discovered, mode=RunMode.WEBHOOK).count() == runs
    event.refresh_from_db()
    assert event.attempts == 1
    assert event.outcomes[0] == {
        "resource": "contacts",
        "source_id": event.source_id,
        "outcome": "created",
        "message": "",
        "record": event.sync_record_id,
    }
    # Then forwarded to Brevo under the documentation's name for AC's `update`.
    assert [(o["resource"], o["source_id"], o["outcome"]) for o in event.outcomes[1:]] == [
        ("events", "contact_update", "created")
    ]
    assert "contact_update" in {e["event_name"] for e in sandbox.brevo.events()}


def test_a_failure_is_recorded_with_a_reason_and_can_be_retried(sandbox, discovered) -> None:
    event = received(sandbox, discovered, a_valid_contact(sandbox))
    account = discovered.ac_account
    good_key = account.api_key
    account.api_key = "sandbox-wrong-key-000000"
    account.save()
    assert services.webhook_event_process(event_id=event.pk) == WebhookStatus.FAILED
    event.refresh_from_db()
    assert event.status == WebhookStatus.FAILED
    assert event.error.startswith(f"contacts {event.source_id}: ")
    assert "sandbox-wrong-key-000000" not in event.error
    assert event.outcomes[0]["outcome"] == "failed"

    account.api_key = good_key
    account.save()
    services.webhook_event_reprocess(event=event)
    assert services.webhook_event_process(event_id=event.pk) == WebhookStatus.PROCESSED
    event.refresh_from_db()
    assert event.attempts == 2 and event.error == ""


def test_an_invalid_mapping_fails_the_event_with_the_engines_reason(sandbox, short_queue) -> None:
    connection = connection_for_sandbox(sandbox)  # never discovered: the mapping cannot be validated
    event = received(sandbox, connection, a_valid_contact(sandbox))
    assert services.webhook_event_process(event_id=event.pk) == WebhookStatus.FAILED
    event.refresh_from_db()
    assert "mapping is not valid" in event.error


def test_retention_purges_old_events_once_an_hour(short_queue) -> None:
    old = WebhookEventFactory(received_at=timezone.now() - timedelta(days=40))
    duplicate = WebhookEventFactory(
        tenant=old.tenant,
        connection=old.connection,
        duplicate_of=old,
        dedup_key=None,
        status=WebhookStatus.DUPLICATE,
    )
    fresh = WebhookEventFactory(received_at=timezone.now() - timedelta(days=2))
    with override_settings(TAJO_WEBHOOK_RETENTION_DAYS=30):
        assert services.webhook_events_purge_hourly() == 2  # the old one and its duplicate
        assert not WebhookEvent.objects.filter(pk__in=[old.pk, duplicate.pk]).exists()
        WebhookEventFactory(received_at=timezone.now() - timedelta(days=41))
        assert services.webhook_events_purge_hourly() == 0  # the gate holds for an hour
    assert WebhookEvent.objects.filter(pk=fresh.pk).exists()
    assert services.webhook_events_purge(older_than=timedelta(days=30)) == 1


def test_oversize_body_over_real_http(live_server, short_queue) -> None:
    from tests.factories import ConnectionFactory

    connection = ConnectionFactory()
    url = live_server.url + services.intake_path(connection)
    with httpx.Client(timeout=10) as client:
        big = client.post(
            url,
            content=b"type=update&x=" + b"a" * (300 * 1024),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert big.status_code == 413
        ok = client.post(
            url,
            content=b"type=update&contact%5Bid%5D=5",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert ok.status_code == 200 and ok.json()["status"] == "received"
