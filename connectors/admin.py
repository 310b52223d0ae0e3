"""Admin for accounts and connections. Declarative: actions call one service and report."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from connectors.forms import ActiveCampaignAccountForm, BrevoAccountForm
from connectors.models import (
    ACTIVE_STATUSES,
    ActiveCampaignAccount,
    BrevoAccount,
    Connection,
    Outcome,
    RunMode,
    SyncRecord,
    SyncRun,
    Trigger,
)
from tenants.admin import TenantScopedAdmin, WithoutAuditHistory


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
                    "sync_contacts",
                    "sync_lists",
                    "sync_deals",
                    "sync_automations",
                    "sync_events",
                    "sync_ecommerce",
                    "sync_custom_objects",
                ]
            },
        ),
        (
            "Options",
            {
                "fields": [
                    "include_custom_fields",
                    "include_tags",
                    "include_list_memberships",
                    "include_scores",
                    "deals_as_crm_objects",
                    "default_phone_country",
                    "incremental_every_minutes",
                    "brevo_sync_list_id",
                ]
            },
        ),
        ("Webhooks and logging", {"fields": ["webhook_ip_allowlist", "log_webhooks", "debug", "log_level"]}),
    ]


# ----------------------------------------------------------------------------- actions on connections


def _start(modeladmin, request, queryset, *, mode: str, dry_run: bool = False) -> None:
    from connectors.services import RunAlreadyActive, sync_run_start

    for connection in queryset:
        try:
            run = sync_run_start(
                connection=connection, mode=mode, dry_run=dry_run, trigger=Trigger.ADMIN, user=request.user
            )
        except RunAlreadyActive as exc:
            modeladmin.message_user(request, f"{connection}: {exc}", messages.WARNING)
            continue
        except Exception as exc:  # reported to the operator; nothing half-started
            modeladmin.message_user(request, f"{connection}: could not start: {exc}", messages.ERROR)
            continue
        url = reverse("admin:connectors_syncrun_change", args=[run.pk])
        modeladmin.message_user(
            request,
            format_html(
                '{}: <a href="{}">run #{}</a> queued ({}).', connection, url, run.pk, run.get_mode_display()
            ),
        )


@admin.action(description="Run now: full backfill", permissions=["change"])
def run_full(modeladmin, request, queryset) -> None:
    _start(modeladmin, request, queryset, mode=RunMode.FULL)


@admin.action(description="Run now: incremental", permissions=["change"])
def run_incremental(modeladmin, request, queryset) -> None:
    _start(modeladmin, request, queryset, mode=RunMode.INCREMENTAL)


@admin.action(description="Run now: dry run (nothing written to Brevo)", permissions=["change"])
def run_dry(modeladmin, request, queryset) -> None:
    _start(modeladmin, request, queryset, mode=RunMode.FULL, dry_run=True)


@admin.action(description="Test connection", permissions=["view"])
def test_connection(modeladmin, request, queryset) -> None:
    from connectors.services import connection_test

    for connection in queryset:
        results = connection_test(connection=connection)
        level = messages.SUCCESS if all(r.ok for r in results) else messages.ERROR
        lines = format_html_join("", "<li>{}</li>", ((r.line(),) for r in results))
        modeladmin.message_user(request, format_html("{}:<ul>{}</ul>", connection, lines), level)


ConnectionAdmin.actions = [test_connection, run_full, run_incremental, run_dry]


# ----------------------------------------------------------------------------- runs


class ReadOnlyTenantAdmin(WithoutAuditHistory, TenantScopedAdmin):
    """Runs and records are written by the engine only; people read them and act through actions."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.action(description="Cancel", permissions=["cancel"])
def cancel_runs(modeladmin, request, queryset) -> None:
    from connectors.services import sync_run_cancel

    for run in queryset.filter(status__in=ACTIVE_STATUSES):
        sync_run_cancel(run=run)
        modeladmin.message_user(request, f"Run #{run.pk}: cancel requested; it stops within one slice.")


@admin.action(description="Retry failed records", permissions=["cancel"])
def retry_failed(modeladmin, request, queryset) -> None:
    from connectors.services import RunAlreadyActive, sync_run_retry_failed

    for run in queryset:
        if not run.records.filter(outcome=Outcome.FAILED).exists():
            modeladmin.message_user(request, f"Run #{run.pk} has no failed records.", messages.WARNING)
            continue
        try:
            retry = sync_run_retry_failed(run=run, user=request.user)
        except RunAlreadyActive as exc:
            modeladmin.message_user(request, str(exc), messages.WARNING)
            continue
        modeladmin.message_user(request, f"Run #{retry.pk} retries the failed records of run #{run.pk}.")


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyTenantAdmin):
    list_display = [
        "__str__",
        "connection",
        "mode",
        "status_badge",
        "dry_run",
        "trigger",
        "requested_by",
        "created_at",
        "duration",
        "totals_line",
        "progress_bar",
    ]
    list_filter = ["status", "mode", "trigger", "dry_run"]
    search_fields = ["=id", "connection__name", "connection__tenant__slug"]
    date_hierarchy = "created_at"
    actions = [cancel_runs, retry_failed]
    list_select_related = ["connection__tenant", "requested_by"]
    readonly_fields = [
        "connection",
        "mode",
        "resources",
        "dry_run",
        "status",
        "trigger",
        "requested_by",
        "retry_of",
        "created_at",
        "started_at",
        "finished_at",
        "heartbeat_at",
        "error",
        "ac_requests",
        "brevo_requests",
        "eta_seconds",
    ]
    exclude = [
        "state",
        "mapping_snapshot",
        "counters",
        "idempotency_key",
        "job_id",
        "cancel_requested",
        "progress_done",
        "progress_total",
        "tenant",
    ]
    change_form_template = "admin/connectors/syncrun/change_form.html"

    def has_cancel_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return TenantScopedAdmin.has_change_permission(self, request, obj)

    @admin.display(description="status", ordering="status")
    def status_badge(self, run: SyncRun) -> str:
        return format_html(
            '<span class="tajo-status tajo-status-{}">{}</span>', run.status, run.get_status_display()
        )

    @admin.display(description="duration")
    def duration(self, run: SyncRun) -> str:
        seconds = run.duration_seconds
        if seconds is None:
            return "–"
        return f"{int(seconds // 60)}m {int(seconds % 60):02d}s" if seconds >= 60 else f"{seconds:.1f}s"

    @admin.display(description="records")
    def totals_line(self, run: SyncRun) -> str:
        totals = run.totals()
        parts = [
            f"{totals.get(k, 0)} {k}"
            for k in ("read", "created", "updated", "unchanged", "skipped", "failed", "with_warnings")
            if totals.get(k)
        ]
        return ", ".join(parts).replace("with_warnings", "with warnings") or "–"

    @admin.display(description="progress")
    def progress_bar(self, run: SyncRun) -> str:
        if run.status not in ACTIVE_STATUSES:
            return ""
        total = run.progress_total or 0
        if not total:
            return format_html('<progress class="tajo-progress"></progress> {}', run.progress_done)
        return format_html(
            '<progress class="tajo-progress" value="{}" max="{}"></progress> {}/{}',
            run.progress_done,
            total,
            run.progress_done,
            total,
        )

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        from connectors.selectors import run_summary

        run = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if run is not None:
            extra["summary"] = run_summary(run=run)
        return super().change_view(request, object_id, form_url, extra_context=extra)


@admin.register(SyncRecord)
class SyncRecordAdmin(ReadOnlyTenantAdmin):
    list_display = [
        "run",
        "resource",
        "source_id",
        "key",
        "outcome",
        "error_code",
        "short_message",
        "trigger",
    ]
    list_filter = ["outcome", "resource", "trigger"]
    search_fields = ["=source_id", "key"]
    list_select_related = ["run"]
    show_full_result_count = False
    readonly_fields = [
        "run",
        "resource",
        "source_id",
        "key",
        "outcome",
        "error_code",
        "message",
        "warnings",
        "sent",
        "trigger",
        "created_at",
    ]
    exclude = ["tenant"]

    def get_search_results(self, request, queryset, search_term):
        # "Email or AC id": exact id or a case-insensitive email match, both indexed per run.
        term = (search_term or "").strip()
        if not term:
            return queryset, False
        if term.isdigit():
            return queryset.filter(source_id=term), False
        return queryset.filter(key__iexact=term.lower()) | queryset.filter(
            key__istartswith=term.lower()
        ), False

    @admin.display(description="reason")
    def short_message(self, record: SyncRecord) -> str:
        return (record.message[:140] + "…") if len(record.message) > 140 else record.message


# Other parts of the connectors app register their admin pages on import.
from connectors import api_admin as _api_admin  # noqa: E402,F401  (API tokens)
from connectors import preview_admin as _preview_admin  # noqa: E402,F401  (dry-run preview page)
from connectors.webhooks import admin as _webhooks_admin  # noqa: E402,F401  (webhook events + connection page)
