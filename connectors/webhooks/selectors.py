"""Reads for the webhook intake and the admin."""

from __future__ import annotations

from connectors.models import Connection
from connectors.webhook_models import WebhookEvent
from connectors.webhooks.security import secret_matches

# Only what the intake needs: the hot path loads one narrow row per request.
_INTAKE_FIELDS = (
    "id",
    "tenant_id",
    "enabled",
    "webhook_secret",
    "webhook_ip_allowlist",
    "log_webhooks",
    "sync_contacts",
    "sync_deals",
    "sync_automations",
)


def connection_for_intake(*, connection_id: int, secret: str) -> Connection | None:
    """The connection whose intake URL this is, or None (unknown id and wrong secret alike)."""
    connection = Connection.objects.only(*_INTAKE_FIELDS).filter(pk=connection_id).first()
    expected = connection.webhook_secret if connection is not None else None
    if not secret_matches(secret, expected):
        return None
    return connection


def original_event(*, connection_id: int, dedup_key: str) -> WebhookEvent | None:
    return WebhookEvent.objects.filter(connection_id=connection_id, dedup_key=dedup_key).only("id").first()
