"""Admin for accounts, connections, runs and records. Declarative: actions call one service and report.

The connection page is composed of mixins that cooperate through `super()` (URLs, inlines,
change-form context): the preview and floor pages, the webhooks line and page, and the mapping
inlines each come from the module that owns them; none of them patches this class.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from connectors.exceptions import DomainError, QueueUnavailable
from connectors.forms import ActiveCampaignAccountForm, BrevoAccountForm, ConnectionForm
from connectors.models import (
    ACTIVE_STATUSES,
    ActiveCampaignAccount,
    BrevoAccount,
    Connection,
    RunMode,
    SyncRecord,
    SyncRun,
    Trigger,
    failures_first,
)
from connectors.preview_admin import ConnectionPreviewMixin, preview_dry_run
from connectors.records_admin import (
    RUN_BULK_FIELDS,
    CappedCountPaginator,
    ResourceFilter,
    page_number,
    record_search,
)
from connectors.selectors import COUNTER_KEYS
from connectors.services import connection_save
from connectors.webhooks.admin import ConnectionWebhooksMixin
from mappings.admin import ConnectionMappingsMixin, discover_catalog
from tenants.admin import TenantScopedAdmin, WithoutAuditHistory, ensure_tenant_writable

# The admin is the whole product: no public site behind "View site" (it led to a 404).
admin.site.site_url = None


@admin.register(ActiveCampaignAccount)
class ActiveCampaignAccountAdmin(TenantScopedAdmin):
    form = ActiveCampaignAccountForm
    list_display = ["name", "tenant", "api_url", "plan", "requests_per_second", "masked_key"]
    list_filter = ["plan"]
    search_fields = ["name", "api_url"]
    ordering = ["name", "id"]  # a stable order, so pages neither repeat nor skip an account

    @admin.display(description="API key")
    def masked_key(self, obj: ActiveCampaignAccount) -> str:
        return obj.api_key_masked


@admin.register(BrevoAccount)
class BrevoAccountAdmin(TenantScopedAdmin):
    form = BrevoAccountForm
    list_display = ["name", "tenant", "api_url", "masked_key"]
    search_fields = ["name", "api_url"]
    ordering = ["name", "id"]

    @admin.display(description="API key")
    def masked_key(self, obj: BrevoAccount) -> str:
        return obj.api_key_masked


# ----------------------------------------------------------------------------- actions on connections


def _level(exc: DomainError) -> int:
    # A queue that is down is the deployment's failure; every other refusal is a rule the user can act on.
    return messages.ERROR if isinstance(exc, QueueUnavailable) else messages.WARNING


def _start(modeladmin, request, queryset, *, mode: str, dry_run: bool = False) -> None:
    from connectors.services import sync_run_start

    for connection in queryset:
        try:
            run = sync_run_start(
                connection=connection, mode=mode, dry_run=dry_run, trigger=Trigger.ADMIN, user=request.user
            )
        except DomainError as exc:  # a rule said no (or the queue is down): nothing was started
            modeladmin.message_user(request, f"{connection}: not started: {exc}", _level(exc))
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


# A test records its verdict on the connection (what `status.connected` says): a write.
@admin.action(description="Test connection", permissions=["change"])
def test_connection(modeladmin, request, queryset) -> None:
    from connectors.services import connection_test

    for connection in queryset:
        results = connection_test(connection=connection)
        level = messages.SUCCESS if all(r.ok for r in results) else messages.ERROR
        lines = format_html_join("", "<li>{}</li>", ((r.line(),) for r in results))
        modeladmin.message_user(request, format_html("{}:<ul>{}</ul>", connection, lines), level)


@admin.action(description="Replicate AC lists and tags as Brevo lists", permissions=["change"])
def replicate_structure(modeladmin, request, queryset) -> None:
    from connectors.exceptions import ApiError
    from mappings.rows import mapping_structure_replicate

    for connection in queryset:
        try:
            lines = mapping_structure_replicate(connection=connection, user=request.user, reason="admin")
        except (ValueError, ApiError) as exc:
            problem = exc.operator_message if isinstance(exc, ApiError) else str(exc)
            modeladmin.message_user(request, f"{connection}: {problem}", messages.ERROR)
            continue
        if not lines:
            modeladmin.message_user(request, f"{connection}: every AC list and tag is mapped already")
            continue
        items = format_html_join("", "<li>{}</li>", ((line,) for line in lines))
        modeladmin.message_user(request, format_html("{}:<ul>{}</ul>", connection, items), messages.SUCCESS)


@admin.register(Connection)
class ConnectionAdmin(
    ConnectionPreviewMixin, ConnectionWebhooksMixin, ConnectionMappingsMixin, TenantScopedAdmin
):
    form = ConnectionForm
    change_form_template = "admin/connectors/connection/change_form.html"
    actions = [
        test_connection,
        run_full,
        run_incremental,
        run_dry,
        preview_dry_run,
        discover_catalog,
        replicate_structure,
    ]
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
                    "tags_attribute",
                    "include_list_memberships",
                    "include_scores",
                    "deals_as_crm_objects",
                    "default_phone_country",
                    "incremental_every_minutes",
                    "brevo_sync_list_id",
                ]
            },
        ),
        (
            "Webhooks and logging",
            {"fields": ["webhook_panel", "webhook_ip_allowlist", "log_webhooks", "debug", "log_level"]},
        ),
    ]
    readonly_fields = ["webhook_panel"]  # from ConnectionWebhooksMixin

    def get_queryset(self, request: HttpRequest):
        # A connection's name shows its tenant's slug (page title, list, breadcrumbs).
        return super().get_queryset(request).select_related("tenant")

    def save_model(self, request: HttpRequest, obj: Connection, form: Any, change: bool) -> None:
        # The form has set the fields; the save itself is the service the API and YAML import use.
        ensure_tenant_writable(request, obj)
        connection_save(connection=obj, user=request.user, reason="admin form")

    def get_urls(self) -> list:
        # The list's actions as buttons on the connection page too: same services, same messages.
        from django.urls import path

        wrap = self.admin_site.admin_view
        return [
            path("<path:object_id>/test/", wrap(self.test_view), name="connectors_connection_test"),
            path("<path:object_id>/run/<str:kind>/", wrap(self.run_view), name="connectors_connection_run"),
            *super().get_urls(),
        ]

    def _button_target(self, request: HttpRequest, object_id: str, *, change: bool):
        from django.core.exceptions import PermissionDenied
        from django.http import Http404

        if request.method != "POST":
            raise PermissionDenied
        connection = self.get_object(request, object_id)
        if connection is None:
            raise Http404
        allowed = (
            self.has_change_permission(request, connection)
            if change
            else self.has_view_permission(request, connection)
        )
        if not allowed:
            raise PermissionDenied
        return self.get_queryset(request).filter(pk=connection.pk), connection

    def test_view(self, request: HttpRequest, object_id: str):
        from django.shortcuts import redirect

        queryset, connection = self._button_target(request, object_id, change=True)
        test_connection(self, request, queryset)
        return redirect("admin:connectors_connection_change", connection.pk)

    def run_view(self, request: HttpRequest, object_id: str, kind: str):
        from django.http import Http404
        from django.shortcuts import redirect

        modes = {
            "full": (RunMode.FULL, False),
            "incremental": (RunMode.INCREMENTAL, False),
            "dry": (RunMode.FULL, True),
        }
        if kind not in modes:
            raise Http404
        queryset, connection = self._button_target(request, object_id, change=True)
        mode, dry_run = modes[kind]
        _start(self, request, queryset, mode=mode, dry_run=dry_run)
        return redirect("admin:connectors_connection_change", connection.pk)


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

    for run in queryset:
        try:
            sync_run_cancel(run=run)
        except DomainError as exc:
            modeladmin.message_user(request, str(exc), _level(exc))
            continue
        modeladmin.message_user(request, f"Run #{run.pk}: cancel requested; it stops within one slice.")


@admin.action(description="Retry failed records", permissions=["cancel"])
def retry_failed(modeladmin, request, queryset) -> None:
    from connectors.services import sync_run_retry_failed

    for run in queryset:
        try:
            retry = sync_run_retry_failed(run=run, user=request.user)
        except DomainError as exc:
            modeladmin.message_user(request, f"Run #{run.pk}: retry not started: {exc}", _level(exc))
            continue
        modeladmin.message_user(request, f"Run #{retry.pk} retries the failed records of run #{run.pk}.")


RUN_LOG_SHOWN = 300  # debug-mode log lines on the run page (newest)


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyTenantAdmin):
    # Read first, so they fit at 1,280 px: what ran, how it ended, how long, what it did.
    list_display = [
        "run_number",
        "connection",
        "mode_line",
        "status_badge",
        "created",
        "duration",
        "totals_line",
    ]
    list_display_links = ["run_number"]
    list_filter = ["status", "mode", "trigger", "dry_run"]
    search_fields = ["=id", "connection__name", "connection__tenant__slug"]
    date_hierarchy = "created_at"
    actions = [cancel_runs, retry_failed]
    list_select_related = ["connection__tenant", "requested_by"]
    readonly_fields = [
        "connection",
        "mode",
        "resources",
        "dry_run_text",
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
        "dry_run",
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

    @admin.display(description="run", ordering="id")
    def run_number(self, run: SyncRun) -> str:
        return f"#{run.pk}"

    @admin.display(description="mode · trigger", ordering="mode")
    def mode_line(self, run: SyncRun) -> str:
        trigger = run.get_trigger_display()
        if run.requested_by_id:
            trigger = f"{trigger} ({run.requested_by})"
        return format_html(
            '{}<br><span class="tajo-quiet">{}</span>{}',
            run.get_mode_display(),
            trigger,
            format_html(' <span class="tajo-dry">dry run</span>') if run.dry_run else "",
        )

    @admin.display(description="created", ordering="created_at")
    def created(self, run: SyncRun) -> str:
        from django.utils import timezone

        return timezone.localtime(run.created_at).strftime("%b %-d, %H:%M")

    @admin.display(description="dry run")
    def dry_run_text(self, run: SyncRun) -> str:
        # A plain answer: the boolean icon showed "No" as a red cross that read like an error.
        return "Yes: read and mapped, nothing written to Brevo" if run.dry_run else "No"

    @admin.display(description="duration")
    def duration(self, run: SyncRun) -> str:
        seconds = run.duration_seconds
        if seconds is None:
            return "–"
        return f"{int(seconds // 60)}m {int(seconds % 60):02d}s" if seconds >= 60 else f"{seconds:.1f}s"

    @admin.display(description="records")
    def totals_line(self, run: SyncRun) -> str:
        if run.status in ACTIVE_STATUSES:
            return self.progress_bar(run)
        totals = run.totals()
        parts = [f"{totals.get(k, 0)} {k}" for k in (*COUNTER_KEYS, "with_warnings") if totals.get(k)]
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
            entries = list(run.log_entries.order_by("-pk")[: RUN_LOG_SHOWN + 1])
            extra["debug_log_more"] = len(entries) > RUN_LOG_SHOWN
            extra["debug_log"] = entries[:RUN_LOG_SHOWN][::-1]
        return super().change_view(request, object_id, form_url, extra_context=extra)


@admin.register(SyncRecord)
class SyncRecordAdmin(ReadOnlyTenantAdmin):
    # The reason is what an operator reads: it keeps the room (the trigger stays a filter).
    list_display = [
        "run_number",
        "resource",
        "record_ref",
        "outcome",
        "short_message",
    ]
    list_display_links = ["run_number"]
    list_filter = ["outcome", ResourceFilter, "trigger"]
    search_fields = ["=source_id", "key"]
    search_help_text = "An e-mail address, the start of one, or an ActiveCampaign id."
    list_select_related = ["run"]
    # Millions of rows: no full count, no per-choice facet counts, a count that stops early.
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
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

    def get_queryset(self, request: HttpRequest):
        # Each row shows its run by number, mode and status: the run's large JSON stays behind.
        return super().get_queryset(request).defer(*(f"run__{name}" for name in RUN_BULK_FIELDS))

    def get_paginator(self, request: HttpRequest, queryset, per_page, orphans=0, allow_empty_first_page=True):
        return CappedCountPaginator(
            queryset, per_page, orphans, allow_empty_first_page, page=page_number(request)
        )

    def get_search_results(self, request, queryset, search_term):
        return record_search(request=request, queryset=queryset, term=search_term), False

    @admin.display(description="run", ordering="run_id")
    def run_number(self, record: SyncRecord) -> str:
        return f"#{record.run_id}"

    @admin.display(description="record", ordering="key")
    def record_ref(self, record: SyncRecord) -> str:
        # Email (or key) and the ActiveCampaign id in one cell: the reason keeps the room.
        if record.key:
            return format_html('{}<br><span class="tajo-quiet">AC id {}</span>', record.key, record.source_id)
        return format_html('<span class="tajo-quiet">AC id {}</span>', record.source_id)

    def get_ordering(self, request: HttpRequest):
        # One run's records: failures first, then skips, then the rest (the run filter keeps the
        # sort to that run's rows and the `rec_run_failures_first` index serves it; the
        # unfiltered list keeps its index-friendly order).
        if (request.GET.get("run") or request.GET.get("run__id__exact")) and "o" not in request.GET:
            return [failures_first().asc(), "-pk"]
        return super().get_ordering(request)

    @admin.display(description="reason", ordering="error_code")
    def short_message(self, record: SyncRecord) -> str:
        message = (record.message[:140] + "…") if len(record.message) > 140 else record.message
        if record.error_code:
            return format_html('<span class="tajo-code">{}</span> {}', record.error_code, message)
        return message
