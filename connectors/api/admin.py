"""Admin for API tokens: created here, shown once, revoked here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from connectors.api.models import ApiToken
from connectors.api.services import api_token_issue, api_token_revoke
from tenants.admin import TenantScopedAdmin, ensure_tenant_writable, scope_queryset


@admin.register(ApiToken)
class ApiTokenAdmin(TenantScopedAdmin):
    list_display = ["name", "tenant", "role", "token_prefix", "created_at", "last_used_at", "is_active"]
    list_filter = ["role", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "token_prefix"]
    fields = [
        "tenant",
        "name",
        "role",
        "expires_at",
        "token_prefix",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    readonly_fields = ["token_prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    @admin.display(boolean=True, description="active")
    def is_active(self, obj: ApiToken) -> bool:
        return obj.is_active

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.revoked_at is not None:
            readonly += ["name", "role", "expires_at"]  # a revoked token stays as it was revoked
        return readonly

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        ensure_tenant_writable(request, obj)
        raw = api_token_issue(token=obj, user=request.user)
        # The only time the value exists outside the caller's hands: it is not stored, only its hash.
        # Messages live in the server-side session (settings.MESSAGE_STORAGE), never in a cookie.
        self.message_user(
            request,
            f"API token “{obj.name}” created. Copy it now, it will not be shown again: {raw}",
            messages.WARNING,
        )

    @admin.action(description="Revoke selected API tokens", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        # Only tokens of tenants this user may change, even when the list also shows read-only tenants.
        revoked = sum(
            api_token_revoke(token=token) for token in scope_queryset(request, queryset, write=True)
        )
        self.message_user(
            request, f"{revoked} API token(s) revoked; they stop working at once.", messages.SUCCESS
        )
