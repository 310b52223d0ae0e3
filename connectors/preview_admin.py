"""The connection page's look before a run, as a mixin of the Connection admin: the dry-run
preview and the run's floor.

Adds two URLs (`<id>/preview/?n=20`, `<id>/floor/`), the "Sync floor" panel's figures to the
change form's context, and a preview action (listed by the composed admin in
`connectors/admin.py`). Both pages only read ActiveCampaign, so anyone who may view the
connection may open them, viewers included; another tenant's connection is a 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from connectors.models import Connection
from connectors.sync.cost import BUCKET_NAMES, describe_seconds
from connectors.sync.estimate import floor_estimate, floor_recalled, floor_remember
from connectors.sync.preview import DEFAULT_SAMPLE, MAX_SAMPLE, clamp_sample_size, preview_connection


def preview_url(connection: Connection, sample_size: int | None = None) -> str:
    url = reverse("admin:connectors_connection_preview", args=[connection.pk])
    return f"{url}?n={sample_size}" if sample_size else url


class ConnectionPreviewMixin:
    """Preview and floor pages of a connection; cooperates with the other mixins through `super()`."""

    def get_urls(self) -> list:
        wrap = self.admin_site.admin_view
        return [
            path("<path:object_id>/preview/", wrap(self.preview_view), name="connectors_connection_preview"),
            path("<path:object_id>/floor/", wrap(self.floor_view), name="connectors_connection_floor"),
            *super().get_urls(),
        ]

    def render_change_form(self, request: HttpRequest, context: dict, *args: Any, **kwargs: Any):
        # The panel shows the last stored floor only: estimating reads ActiveCampaign, which the
        # page must not wait for.
        obj = kwargs.get("obj")
        if obj is not None:
            stored = floor_recalled(obj)
            context["tajo_floor"] = floor_rows(stored) if stored else None
        return super().render_change_form(request, context, *args, **kwargs)

    def _readable(self, request: HttpRequest, object_id: str) -> Connection:
        connection = self.get_object(request, object_id)
        if connection is None or not self.has_view_permission(request, connection):
            raise Http404
        return connection

    def preview_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        connection = self._readable(request, object_id)
        size = clamp_sample_size(request.GET.get("n", DEFAULT_SAMPLE))
        preview = preview_connection(connection=connection, sample_size=size)
        context = {
            **self.admin_site.each_context(request),
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

    def floor_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        from connectors.exceptions import ApiError
        from mappings.exceptions import MappingInvalid

        connection = self._readable(request, object_id)
        problems: list[str] = []
        error = ""
        stored = None
        try:
            stored = floor_remember(connection, floor_estimate(connection))
        except MappingInvalid as exc:
            problems = [problem.text() for problem in exc.problems] or [str(exc)]
        except ApiError as exc:
            error = exc.operator_message
        context = {
            **self.admin_site.each_context(request),
            "opts": Connection._meta,
            "original": connection,
            "title": f"Sync floor of {connection}",
            "floor": floor_rows(stored) if stored else None,
            "problems": problems,
            "error": error,
            "back_url": reverse("admin:connectors_connection_change", args=[connection.pk]),
        }
        return TemplateResponse(request, "admin/connectors/connection/floor.html", context)


def floor_rows(stored: dict[str, Any]) -> dict[str, Any]:
    """A stored floor in the words and units the pages show."""
    rows = []
    for name, item in stored["resources"].items():
        buckets = [
            {
                "name": BUCKET_NAMES.get(bucket, bucket),
                "requests": requests,
                "time": describe_seconds(item["brevo_seconds_by_bucket"].get(bucket, 0.0)),
            }
            for bucket, requests in item["brevo_requests_by_bucket"].items()
        ]
        rows.append(
            {
                "resource": name,
                "ac_requests": item["ac_requests"],
                "ac_time": describe_seconds(item["ac_seconds"]),
                "buckets": buckets,
                "floor": describe_seconds(item["seconds"]),
                "bound_by": item["bound_by"],
            }
        )
    return {
        "rows": rows,
        "total": describe_seconds(stored["seconds"]),
        "totals": sorted(stored["totals"].items()),
        "unknown": sorted(stored["unknown"].items()),
        "ac_rate": stored["ac_rate"],
        "computed_at": stored.get("computed_at", ""),
    }


@admin.action(description="Preview (dry run): sample records and their Brevo payloads", permissions=["view"])
def preview_dry_run(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: Any) -> HttpResponse | None:
    connections = list(queryset[:2])
    if len(connections) != 1:
        modeladmin.message_user(request, "Select exactly one connection to preview.", messages.WARNING)
        return None
    return HttpResponseRedirect(preview_url(connections[0]))
