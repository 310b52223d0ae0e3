"""WebhookEvent: every ActiveCampaign webhook Tajo accepted, and what became of it."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from tenants.models import TenantOwned


class WebhookStatus(models.TextChoices):
    RECEIVED = "received", "Received"  # stored and queued
    PROCESSING = "processing", "Processing"
    PROCESSED = "processed", "Processed"
    DUPLICATE = "duplicate", "Duplicate"  # same body as an earlier event: answered, never processed
    IGNORED = "ignored", "Ignored"  # a known AC event this connection does not sync
    REJECTED = "rejected", "Rejected"  # malformed, oversize or unknown: the reason says which
    FAILED = "failed", "Failed"


class WebhookEvent(TenantOwned):
    """One delivery to a connection's intake URL.

    `dedup_key` is unique per connection, so a re-delivered or replayed body can never be
    processed twice: the second copy is stored as a duplicate pointing at the first, with no
    key of its own. Raw bodies are kept only when the connection's `log_webhooks` is on, with
    secret-looking values masked.
    """

    connection = models.ForeignKey(
        "connectors.Connection", on_delete=models.CASCADE, related_name="webhook_events"
    )
    received_at = models.DateTimeField(default=timezone.now)
    event_type = models.CharField("type", max_length=40, blank=True)
    source = models.CharField(
        max_length=20, blank=True, help_text="initiated_from: public, admin, api or system."
    )
    resource = models.CharField(max_length=30, blank=True)
    source_id = models.CharField(max_length=100, blank=True)
    key = models.CharField(max_length=320, blank=True, help_text="Email or other natural key.")
    occurred_at = models.DateTimeField(
        null=True, blank=True, help_text="date_time of the event in ActiveCampaign."
    )
    dedup_key = models.CharField(max_length=64, null=True, blank=True)
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="duplicates"
    )
    status = models.CharField(max_length=12, choices=WebhookStatus.choices, default=WebhookStatus.RECEIVED)
    error = models.TextField(blank=True)
    payload = models.JSONField(
        null=True, blank=True, help_text="The parsed fields (secret-looking values masked)."
    )
    raw_body = models.TextField(blank=True)
    body_bytes = models.PositiveIntegerField(default=0)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)
    # One entry per record the event was applied to (a deal event writes the contact's deal
    # attributes and, where configured, the CRM deal): resource, source_id, outcome, message.
    outcomes = models.JSONField(default=list, blank=True)
    sync_record = models.ForeignKey(
        "connectors.SyncRecord", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        # The table was created when this model lived in the connectors app; it keeps that name.
        db_table = "connectors_webhookevent"
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "dedup_key"], name="uniq_webhook_dedup"),
        ]
        indexes = [
            models.Index(fields=["connection", "-received_at"], name="webhook_conn_received"),
            models.Index(fields=["status", "received_at"], name="webhook_status_received"),
            models.Index(fields=["connection", "resource", "source_id"], name="webhook_conn_record"),
        ]

    def __str__(self) -> str:
        what = f"{self.event_type or 'webhook'}"
        return f"{what} {self.source_id}".strip() + f" ({self.status})"
