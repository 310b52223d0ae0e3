"""Admin for webhook events, and the connection's webhooks as a mixin of the Connection admin.

The Connection admin is composed in `connectors/admin.py`; `ConnectionWebhooksMixin` brings the
read-only "Webhooks" line of its form and the connection's webhooks page (one extra URL).
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import localize
from django.utils.html import format_html
from django.utils.timezone import template_localtime

from connectors.exceptions import ApiError
from connectors.models import Connection
from connectors.webhooks import services
from connectors.webhooks.models import WebhookEvent, WebhookStatus
from connectors.webhooks.parsing import REGISTRABLE_EVENTS, WEBHOOK_SOURCES
from tenants.admin import TenantScopedAdmin, scope_queryset


def public_base_url(request: HttpRequest) -> str:
    """Where ActiveCampaign reaches this deployment: TAJO_PUBLIC_URL if set, else this request's host."""
    return settings.TAJO_PUBLIC_URL or request.build_absolute_uri("/")


def masked_intake_path(connection: Connection) -> str:
    return services.intake_path(connection).rsplit("/", 1)[0] + "/****" + connection.webhook_secret[-4:]


# ----------------------------------------------------------------------------- webhook events


def outcome_text(event: WebhookEvent) -> str:
    """'contacts 2381: updated; deals 412: skipped (reason)' from the event's recorded outcomes."""
    parts = []
    for item in event.outcomes or []:
        text = f"{item.get('resource')} {item.get('source_id')}: {item.get('outcome')}"
        parts.append(f"{text} ({item['message']})" if item.get("message") else text)
    return "; ".join(parts)


@admin.register(WebhookEvent)
class WebhookEventAdmin(TenantScopedAdmin):
    list_display = ["received_at", "connection", "event_type", "record", "status", "outcome"]
    list_filter = ["status", "event_type", "resource"]
    search_fields = ["source_id", "key", "event_type"]
    list_select_related = ["connection__tenant"]
    date_hierarchy = "received_at"
    actions = ["reprocess"]
    change_form_template = "admin/webhooks/webhookevent/change_form.html"
    object_history_template = None  # events have no audit trail: Django's plain admin-log page
    fields = [
        "connection",
        "received_at",
        "event_type",
        "source",
        "resource",
        "source_id",
        "key",
        "occurred_at",
        "status",
        "error",
        "duplicate_link",
        "outcome",
        "attempts",
        "processed_at",
        "parsed_payload",
        "raw_body",
        "body_bytes",
        "remote_addr",
    ]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # events only come in through the intake

    def history_view(self, request: HttpRequest, object_id: str, extra_context: dict | None = None):
        return admin.ModelAdmin.history_view(self, request, object_id, extra_context)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # An event is a record of what arrived: never edited. Writers may still run actions.
        return obj is None and super().has_change_permission(request, obj)

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        # The connection page links here filtered by connection; get_queryset keeps it in-tenant.
        return lookup in ("connection__id__exact", "connection_id") or super().lookup_allowed(
            lookup, value, request
        )

    @admin.display(description="record", ordering="source_id")
    def record(self, obj: WebhookEvent) -> str:
        return f"{obj.resource} {obj.source_id}".strip() or "—"

    @admin.display(description="Brevo outcome")
    def outcome(self, obj: WebhookEvent) -> str:
        return outcome_text(obj) or "—"

    @admin.display(description="duplicate of")
    def duplicate_link(self, obj: WebhookEvent) -> str:
        if obj.duplicate_of_id is None:
            return "—"
        url = reverse("admin:webhooks_webhookevent_change", args=[obj.duplicate_of_id])
        return format_html('<a href="{}">event #{}</a>', url, obj.duplicate_of_id)

    @admin.display(description="parsed payload")
    def parsed_payload(self, obj: WebhookEvent) -> str:
        if not obj.payload:
            return "—"
        return format_html("<pre>{}</pre>", json.dumps(obj.payload, indent=2, ensure_ascii=False))

    @admin.action(
        description="Reprocess selected events (re-read from ActiveCampaign and write to Brevo)",
        permissions=["change"],
    )
    def reprocess(self, request: HttpRequest, queryset) -> None:
        done, refused = 0, []
        for event in scope_queryset(request, queryset, write=True).select_related("duplicate_of"):
            try:
                services.webhook_event_reprocess(event=event)
                done += 1
            except services.CannotReprocess as exc:
                refused.append(str(exc))
        if done:
            self.message_user(request, f"{done} event(s) queued for processing.", messages.SUCCESS)
        for reason in refused[:5]:
            self.message_user(request, reason, messages.WARNING)

    def get_urls(self):
        return [
            path(
                "<path:object_id>/reprocess/",
                self.admin_site.admin_view(self.reprocess_view),
                name="webhooks_webhookevent_reprocess",
            ),
            *super().get_urls(),
        ]

    def reprocess_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:webhooks_webhookevent_change", args=[object_id]))
        event = get_object_or_404(scope_queryset(request, WebhookEvent.objects.all()), pk=object_id)
        if not TenantScopedAdmin.has_change_permission(self, request, event):
            raise PermissionDenied
        try:
            event = services.webhook_event_reprocess(event=event)
            self.message_user(request, f"Event #{event.pk} queued for processing.", messages.SUCCESS)
        except services.CannotReprocess as exc:
            self.message_user(request, str(exc), messages.WARNING)
        return HttpResponseRedirect(reverse("admin:webhooks_webhookevent_change", args=[event.pk]))

    def render_change_form(
        self, request: HttpRequest, context: dict, *args: Any, **kwargs: Any
    ) -> HttpResponse:
        obj = kwargs.get("obj")
        context["can_reprocess"] = bool(
            obj is not None
            and obj.status != WebhookStatus.REJECTED
            and TenantScopedAdmin.has_change_permission(self, request, obj)
        )
        return super().render_change_form(request, context, *args, **kwargs)


# ----------------------------------------------------------------------------- the connection's webhooks


@admin.display(description="Webhooks")
def webhook_panel(model_admin: admin.ModelAdmin | None, obj: Connection | None) -> str:
    if obj is None or obj.pk is None:
        return "Save the connection first: its intake URL is created with it."
    page = reverse("admin:connectors_connection_webhooks", args=[obj.pk])
    events = reverse("admin:webhooks_webhookevent_changelist") + f"?connection__id__exact={obj.pk}"
    return format_html(
        '<code>{}</code><br><a href="{}">Intake URL, registration in ActiveCampaign, rotate secret</a> · '
        '<a href="{}">Received events</a>{}',
        masked_intake_path(obj),
        page,
        events,
        store_full_warning(obj),
    )


def store_full_warning(connection: Connection) -> str:
    """The operator's signal that webhook deliveries were not stored because the store was full."""
    if not connection.webhooks_full_since:
        return ""
    lost = connection.webhooks_not_stored
    return format_html(
        '<br><strong class="errornote">Webhook store full since {}: {} deliver{} not stored (the cap is {} '
        "events still to apply or failed, TAJO_WEBHOOK_STORED_MAX). ActiveCampaign does not send "
        "them again: run an incremental sync to carry their changes.</strong>",
        localize(template_localtime(connection.webhooks_full_since)),
        lost,
        "y" if lost == 1 else "ies",
        services.stored_cap(),
    )


def connection_webhooks_view(
    model_admin: admin.ModelAdmin, request: HttpRequest, object_id: str
) -> HttpResponse:
    connection = model_admin.get_object(request, object_id)
    if connection is None or not model_admin.has_view_permission(request, connection):
        raise Http404
    can_change = model_admin.has_change_permission(request, connection)
    here = reverse("admin:connectors_connection_webhooks", args=[connection.pk])
    base_url = public_base_url(request)
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied
        _handle_post(model_admin, request, connection, base_url)
        return HttpResponseRedirect(here)

    registered: list[Any] = []
    registry_error = ""
    try:
        registered = services.webhooks_registered(connection=connection)
    except ApiError as exc:
        registry_error = exc.operator_message
    current = services.intake_url(connection=connection, base_url=base_url)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": Connection._meta,
        "original": connection,
        "title": f"Webhooks of {connection}",
        "can_change": can_change,
        "intake_url": current if can_change else base_url.rstrip("/") + masked_intake_path(connection),
        "registered": [
            {
                "hook": hook,
                "current": hook.url == current,
                "events": ", ".join(hook.events),
                "sources": ", ".join(hook.sources),
            }
            for hook in registered
        ],
        "registry_error": registry_error,
        "store_full": store_full_warning(connection),
        "events": REGISTRABLE_EVENTS,
        "sources": WEBHOOK_SOURCES,
        "events_url": reverse("admin:webhooks_webhookevent_changelist")
        + f"?connection__id__exact={connection.pk}",
        "recent": [
            (event, outcome_text(event)) for event in WebhookEvent.objects.filter(connection=connection)[:20]
        ],
    }
    return TemplateResponse(request, "admin/connectors/connection/webhooks.html", context)


def _handle_post(
    model_admin: admin.ModelAdmin, request: HttpRequest, connection: Connection, base_url: str
) -> None:
    action = request.POST.get("action")
    try:
        if action == "register":
            list_id = int(request.POST.get("list_id") or 0)
            hook = services.webhooks_register(
                connection=connection,
                base_url=base_url,
                events=request.POST.getlist("events"),
                sources=request.POST.getlist("sources"),
                list_id=list_id,
            )
            model_admin.message_user(
                request, f"Registered webhook #{hook.id} in ActiveCampaign.", messages.SUCCESS
            )
        elif action == "unregister":
            ids = request.POST.getlist("webhook_id") or None
            count = services.webhooks_unregister(connection=connection, webhook_ids=ids)
            model_admin.message_user(
                request, f"Removed {count} webhook(s) from ActiveCampaign.", messages.SUCCESS
            )
        elif action == "rotate":
            _, moved = services.webhook_secret_rotate(connection=connection, base_url=base_url)
            note = f" {moved} registration(s) moved to the new URL." if moved else ""
            model_admin.message_user(
                request, "New secret: the old intake URL no longer accepts webhooks." + note, messages.SUCCESS
            )
        else:
            model_admin.message_user(request, "Unknown action.", messages.ERROR)
    except ValueError as exc:
        model_admin.message_user(request, f"Nothing changed: {exc}.", messages.ERROR)
    except ApiError as exc:
        model_admin.message_user(request, f"ActiveCampaign refused: {exc.operator_message}", messages.ERROR)


class ConnectionWebhooksMixin:
    """The connection's webhooks: its form line and its page; cooperates through `super()`."""

    webhook_panel = webhook_panel

    def get_urls(self) -> list:
        view = self.admin_site.admin_view(self.webhooks_view)
        return [
            path("<path:object_id>/webhooks/", view, name="connectors_connection_webhooks"),
            *super().get_urls(),
        ]

    def webhooks_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return connection_webhooks_view(self, request, object_id)
