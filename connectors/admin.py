"""Admin for accounts and connections. Declarative: actions call one service and report."""

from __future__ import annotations

from django.contrib import admin

from connectors.forms import ActiveCampaignAccountForm, BrevoAccountForm
from connectors.models import ActiveCampaignAccount, BrevoAccount, Connection
from tenants.admin import TenantScopedAdmin


@admin.register(ActiveCampaignAccount)
class ActiveCampaignAccountAdmin(TenantScopedAdmin):
    form = ActiveCampaignAccountForm
    list_display = ["name", "tenant", "api_url", "plan", "requests_per_second", "masked_key"]
    list_filter = ["plan"]
    search_fields = ["name", "api_url"]

    @admin.display(description="API key")
    def masked_key(self, obj: ActiveCampaignAccount) -> str:
        return obj.api_key_masked


@admin.register(BrevoAccount)
class BrevoAccountAdmin(TenantScopedAdmin):
    form = BrevoAccountForm
    list_display = ["name", "tenant", "api_url", "masked_key"]
    search_fields = ["name", "api_url"]

    @admin.display(description="API key")
    def masked_key(self, obj: BrevoAccount) -> str:
        return obj.api_key_masked


@admin.register(Connection)
class ConnectionAdmin(TenantScopedAdmin):
    list_display = ["__str__", "enabled", "ac_account", "brevo_account", "created_at"]
    list_filter = ["enabled"]
    search_fields = ["name", "tenant__slug"]
    autocomplete_fields = ["ac_account", "brevo_account"]
    fieldsets = [
        (None, {"fields": ["tenant", "name", "enabled", "ac_account", "brevo_account"]}),
        (
            "What syncs",
            {
                "fields": [
                    "sync_contacts", "sync_lists", "sync_deals", "sync_automations", "sync_events",
                    "sync_ecommerce", "sync_custom_objects",
                ]
            },
        ),
        (
            "Options",
            {
                "fields": [
                    "include_custom_fields", "include_tags", "include_list_memberships", "include_scores",
                    "deals_as_crm_objects", "default_phone_country", "incremental_every_minutes",
                ]
            },
        ),
        ("Webhooks and logging", {"fields": ["webhook_ip_allowlist", "log_webhooks", "debug", "log_level"]}),
    ]


from connectors import api_admin as _api_admin  # noqa: E402,F401  (API tokens)
from connectors.webhooks import admin as _webhooks_admin  # noqa: E402,F401  (webhook events + connection page)
