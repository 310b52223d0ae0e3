"""Reads for the webhook intake and the admin."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from django.db.models.signals import post_delete, post_save

from connectors.models import ActiveCampaignAccount, BrevoAccount, Connection
from connectors.providers.http.masking import register_secret
from connectors.webhooks.models import WebhookEvent
from connectors.webhooks.security import secret_matches

# Only what the intake needs: the hot path loads one narrow row per request.
_INTAKE_FIELDS = (
    "id",
    "tenant_id",
    "enabled",
    "webhook_secret",
    "ac_account_id",
    "brevo_account_id",
    "webhook_ip_allowlist",
    "log_webhooks",
    "sync_contacts",
    "sync_deals",
    "sync_automations",
)

# Connections the intake has looked up, for a couple of seconds: a burst of deliveries (or a
# flood of guesses at one id) costs one query. Saving or deleting a connection evicts it here at
# once; other processes see a change (a rotated secret, a new allow-list) within CACHE_SECONDS.
CACHE_SECONDS = 2.0
CACHE_SIZE = 2048  # bounded: guessing many ids cannot grow memory
_cache: OrderedDict[int, tuple[float, Connection | None]] = OrderedDict()
_cache_lock = threading.Lock()


def _load(connection_id: int) -> Connection | None:
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(connection_id)
        if hit is not None and now - hit[0] < CACHE_SECONDS:
            return hit[1]
    connection = Connection.objects.only(*_INTAKE_FIELDS).filter(pk=connection_id).order_by().first()
    if connection is not None:
        register_secret(connection.webhook_secret)  # the secret is in the URL: keep it out of every log line
        _register_account_keys(connection)
    with _cache_lock:
        _cache[connection_id] = (now, connection)
        _cache.move_to_end(connection_id)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return connection


def _register_account_keys(connection: Connection) -> None:
    """The connection's own API keys are masked in what the intake stores and logs, from the first
    delivery a process sees: masking must not wait for this process to have built a client."""
    owners = ((ActiveCampaignAccount, connection.ac_account_id), (BrevoAccount, connection.brevo_account_id))
    for model, pk in owners:
        for key in model.objects.filter(pk=pk).values_list("api_key", flat=True):
            register_secret(key)


def intake_cache_evict(connection_id: int | None = None) -> None:
    with _cache_lock:
        if connection_id is None:
            _cache.clear()
        else:
            _cache.pop(connection_id, None)


def _evict(sender: type, instance: Connection, **kwargs: object) -> None:
    intake_cache_evict(instance.pk)


post_save.connect(_evict, sender=Connection, dispatch_uid="webhooks_intake_cache_save")
post_delete.connect(_evict, sender=Connection, dispatch_uid="webhooks_intake_cache_delete")


def connection_for_intake(*, connection_id: int, secret: str) -> Connection | None:
    """The connection whose intake URL this is, or None (unknown id and wrong secret alike)."""
    connection = _load(connection_id)
    expected = connection.webhook_secret if connection is not None else None
    if not secret_matches(secret, expected):
        return None
    return connection


def original_event(*, connection_id: int, dedup_key: str) -> WebhookEvent | None:
    return WebhookEvent.objects.filter(connection_id=connection_id, dedup_key=dedup_key).only("id").first()
