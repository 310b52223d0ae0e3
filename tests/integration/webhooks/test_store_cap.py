"""Stored webhook events are bounded per connection, parseable ones too, and a full store is said."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from connectors.models import Connection
from connectors.webhooks import services
from connectors.webhooks.admin import webhook_panel
from connectors.webhooks.models import WebhookEvent, WebhookStatus
from tests.factories import ConnectionFactory
from tests.integration.webhooks.conftest import FORM, intake, sample

pytestmark = pytest.mark.django_db(transaction=True)

CAP = 20


def _update(contact_id: int) -> bytes:
    return sample("update").replace(b"contact%5Bid%5D=2381", f"contact%5Bid%5D={contact_id}".encode())


def _post(client: Client, connection, body: bytes):
    return client.generic("POST", intake(connection), body, content_type=FORM)


@override_settings(TAJO_WEBHOOK_STORED_MAX=CAP)
def test_finished_events_make_room_and_waiting_ones_are_never_dropped(connection, short_queue) -> None:
    client = Client()
    for i in range(CAP):
        assert _post(client, connection, _update(1000 + i)).status_code == 200
    # All 20 are still waiting to be applied: the 21st is answered 503, not stored, and said.
    refused = _post(client, connection, _update(5000))
    assert refused.status_code == 503
    assert "TAJO_WEBHOOK_STORED_MAX" in refused.json()["error"]
    assert WebhookEvent.objects.filter(connection=connection).count() == CAP
    connection.refresh_from_db()
    assert connection.webhooks_not_stored == 1 and connection.webhooks_full_since is not None
    panel = webhook_panel(None, connection)
    assert "1 delivery not stored" in panel and f"{CAP} events" in panel

    # Once some are processed they are the ones that make room; the store stays at the cap.
    oldest = list(
        WebhookEvent.objects.filter(connection=connection).order_by("pk").values_list("pk", flat=True)
    )
    WebhookEvent.objects.filter(pk__in=oldest[:5]).update(status=WebhookStatus.PROCESSED)
    for i in range(3):
        assert _post(client, connection, _update(6000 + i)).status_code == 200
    stored = WebhookEvent.objects.filter(connection=connection)
    assert stored.count() <= CAP
    assert not stored.filter(pk__in=oldest[:3]).exists()  # the oldest finished went first
    assert stored.filter(status=WebhookStatus.RECEIVED).count() == CAP - 5 + 3  # none waiting was dropped
    connection.refresh_from_db()
    assert connection.webhooks_full_since is None  # stored again: no longer full
    assert connection.webhooks_not_stored == 1  # the count of what was lost stays


@override_settings(TAJO_WEBHOOK_STORED_MAX=CAP)
def test_each_connection_has_its_own_cap(connection, short_queue) -> None:
    client = Client()
    other = ConnectionFactory(tenant=connection.tenant, name="second")
    for i in range(CAP):
        _post(client, connection, _update(1000 + i))
    assert _post(client, connection, _update(9999)).status_code == 503
    assert _post(client, other, _update(9999)).status_code == 200
    assert Connection.objects.get(pk=other.pk).webhooks_not_stored == 0


@override_settings(TAJO_WEBHOOK_STORED_MAX=CAP)
def test_the_count_survives_a_lost_redis_counter(connection, short_queue) -> None:
    client = Client()
    for i in range(CAP):
        _post(client, connection, _update(1000 + i))
    services._queue().connection.delete(f"tajo:webhooks:stored:{connection.pk}")
    assert _post(client, connection, _update(7777)).status_code == 503  # counted again from the table
