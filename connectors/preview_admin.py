"""The dry-run preview page, attached to the Connection admin (which `connectors/admin.py` owns).

Adds one URL (`<id>/preview/?n=20`), a "Preview (dry run)" button on the connection page and
an action. The page only reads ActiveCampaign, so anyone who may view the connection may open
it, viewers included; another tenant's connection is a 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from connectors.admin import ConnectionAdmin
from connectors.models import Connection
from connectors.sync.preview import DEFAULT_SAMPLE, MAX_SAMPLE, clamp_sample_size, preview_connection

BASE_TEMPLATE = "admin/connectors/connection/change_form.html"
TOOLS_TEMPLATE = "admin/connectors/connection/change_form_preview.html"


def preview_url(connection: Connection, sample_size: int | None = None) -> str:
    url = reverse("admin:connectors_connection_preview", args=[connection.pk])
    return f"{url}?n={sample_size}" if sample_size else url


def connection_preview_view(
    model_admin: ConnectionAdmin, request: HttpRequest, object_id: str
) -> HttpResponse:
    connection = model_admin.get_object(request, object_id)
    if connection is None or not model_admin.has_view_permission(request, connection):
        raise Http404
    size = clamp_sample_size(request.GET.get("n", DEFAULT_SAMPLE))
    preview = preview_connection(connection=connection, sample_size=size)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": Connection._meta,
        "original": connection,
        "title": f"Preview (dry run) of {connection}",
        "preview": preview,
        "sample_size": size,
        "max_sample": MAX_SAMPLE,
        "back_url": reverse("admin:connectors_connection_change", args=[connection.pk]),
        "covered": sum(1 for item in preview.coverage if item.ac_ids),
    }
    return TemplateResponse(request, "admin/connectors/connection/preview.html", context)


@admin.action(description="Preview (dry run): sample records and their Brevo payloads", permissions=["view"])
def preview_dry_run(modeladmin: ConnectionAdmin, request: HttpRequest, queryset: Any) -> HttpResponse | None:
    connections = list(queryset[:2])
    if len(connections) != 1:
        modeladmin.message_user(request, "Select exactly one connection to preview.", messages.WARNING)
        return None
    return HttpResponseRedirect(preview_url(connections[0]))


def _attach_to_connection_admin() -> None:
    """Add the preview page, its button and its action without replacing ConnectionAdmin."""
    if getattr(ConnectionAdmin, "_preview_attached", False):
        return
    ConnectionAdmin._preview_attached = True

    if preview_dry_run not in (ConnectionAdmin.actions or ()):
        ConnectionAdmin.actions = [*(ConnectionAdmin.actions or ()), preview_dry_run]

    # The button lives in a template that extends whichever change form was in use before, so
    # other parts can chain their own buttons the same way.
    base = ConnectionAdmin.change_form_template or BASE_TEMPLATE
    ConnectionAdmin.change_form_template = TOOLS_TEMPLATE
    original_render = ConnectionAdmin.render_change_form

    def render_change_form(
        self: ConnectionAdmin, request: HttpRequest, context: dict, *args: Any, **kwargs: Any
    ):
        context["tajo_preview_base"] = base
        return original_render(self, request, context, *args, **kwargs)

    ConnectionAdmin.render_change_form = render_change_form

    original_get_urls = ConnectionAdmin.get_urls

    def get_urls(self: ConnectionAdmin) -> list:
        view = self.admin_site.admin_view(
            lambda request, object_id: connection_preview_view(self, request, object_id)
        )
        return [
            path("<path:object_id>/preview/", view, name="connectors_connection_preview"),
            *original_get_urls(self),
        ]

    ConnectionAdmin.get_urls = get_urls


_attach_to_connection_admin()
