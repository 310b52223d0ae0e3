"""Reads for admin pages and commands: run summaries and failures grouped by reason."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Min
from django.urls import reverse

from connectors.models import Outcome, SyncRecord, SyncRun

OUTCOMES = ("created", "updated", "unchanged", "skipped", "failed")


def run_summary(*, run: SyncRun) -> dict[str, Any]:
    """Counters per resource and failures grouped by reason, with links to the matching records."""
    records_url = reverse("admin:connectors_syncrecord_changelist")
    rows = []
    for resource in run.resources or list(run.counters):
        counters = (run.counters or {}).get(resource, {})
        rows.append(
            {
                "resource": resource,
                "read": counters.get("read", 0),
                # Written, but with values Brevo does not hold (each named on the record).
                "with_warnings": counters.get("with_warnings", 0),
                "with_warnings_url": f"{records_url}?run={run.pk}&resource={resource}"
                "&error_code=with_warnings",
                "outcomes": [
                    {
                        "name": name,
                        "count": counters.get(name, 0),
                        "url": f"{records_url}?run={run.pk}&resource={resource}&outcome={name}",
                    }
                    for name in OUTCOMES
                ],
            }
        )
    groups = (
        SyncRecord.objects.filter(run=run, outcome__in=[Outcome.FAILED, Outcome.SKIPPED])
        .values("resource", "outcome", "error_code")
        .annotate(count=Count("id"), example=Min("message"))
        .order_by("-count")[:50]
    )
    failures = [
        {
            **group,
            "url": f"{records_url}?run={run.pk}&resource={group['resource']}"
            f"&outcome={group['outcome']}&error_code={group['error_code']}",
        }
        for group in groups
    ]
    warned = (
        SyncRecord.objects.filter(run=run, error_code="with_warnings")
        .values("resource", "outcome")
        .annotate(count=Count("id"), example=Min("message"))
        .order_by("-count")[:20]
    )
    warnings = [
        {
            **group,
            "url": f"{records_url}?run={run.pk}&resource={group['resource']}"
            f"&outcome={group['outcome']}&error_code=with_warnings",
        }
        for group in warned
    ]
    return {
        "resources": rows,
        "failures": failures,
        "warnings": warnings,
        "imports": list(run.brevo_imports or []),
        "records_url": f"{records_url}?run={run.pk}",
    }
