"""Tokens for Tajo's own HTTP API: one tenant each, a role, stored only as a hash."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from tenants.models import TenantOwned

TOKEN_PREFIX = "tajo_"
# How much of a token stays visible so people can tell their tokens apart (never enough to use one).
VISIBLE_CHARS = 8


class ApiTokenRole(models.TextChoices):
    OPERATOR = "operator", "Operator (read, connect, start, cancel, forward events)"
    VIEWER = "viewer", "Viewer (read only)"


def hash_token(raw: str) -> str:
    """Tokens carry 256 random bits, so a plain sha256 is enough (no slow hash needed)."""
    return hashlib.sha256(raw.encode()).hexdigest()


def new_token_value() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


class ApiToken(TenantOwned):
    """A bearer token for `/api/v1/`. The clear value is shown once, when it is created."""

    name = models.CharField(max_length=100, help_text="What uses this token, e.g. 'checkout service'.")
    role = models.CharField(max_length=20, choices=ApiTokenRole.choices, default=ApiTokenRole.VIEWER)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_prefix = models.CharField("token starts with", max_length=20, editable=False, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    expires_at = models.DateTimeField(
        "expires at",
        null=True,
        blank=True,
        help_text="Optional: the token stops working at this moment. Empty: until revoked.",
    )
    # Both tables were created when this model lived in the connectors app; they keep those names.
    history = HistoricalRecords(excluded_fields=["token_hash"], table_name="connectors_historicalapitoken")

    class Meta:
        db_table = "connectors_apitoken"
        verbose_name = "API token"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.token_prefix}…)"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired

    @property
    def can_write(self) -> bool:
        return self.role == ApiTokenRole.OPERATOR

    def issue(self) -> str:
        """Give the token a fresh secret value and return it; only its hash is kept."""
        raw = new_token_value()
        self.token_hash = hash_token(raw)
        self.token_prefix = raw[: len(TOKEN_PREFIX) + VISIBLE_CHARS]
        return raw
