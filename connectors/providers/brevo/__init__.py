"""Brevo API v3: HTTP client, error table and payload schemas."""

from connectors.providers.brevo.client import (
    ADVANCED_BUDGETS,
    DEFAULT_API_URL,
    GENERAL_BUDGETS,
    BrevoClient,
    brevo_limiters,
    bucket_for,
    split_import_rows,
)

__all__ = [
    "ADVANCED_BUDGETS",
    "DEFAULT_API_URL",
    "GENERAL_BUDGETS",
    "BrevoClient",
    "brevo_limiters",
    "bucket_for",
    "split_import_rows",
]
