"""Reads for pages and the API: run summaries, failure groups, connection status."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Max, Min, Sum
from django.urls import reverse

from connectors.models import Connection, Outcome, RunMode, RunStatus, SyncRecord, SyncRun

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
    return {"resources": rows, "failures": failures, "records_url": f"{records_url}?run={run.pk}"}


def connection_status(*, connection: Connection) -> dict[str, Any]:
    """The connector documentation's status shape, from the runs in the database."""
    finished = SyncRun.objects.filter(
        connection=connection, status__in=[RunStatus.SUCCEEDED, RunStatus.PARTIAL], dry_run=False
    )
    last = finished.aggregate(last=Max("finished_at"))["last"]
    written = SyncRecord.objects.filter(
        run__connection=connection, run__dry_run=False, outcome__in=[Outcome.CREATED, Outcome.UPDATED]
    )
    per_resource = dict(written.values_list("resource").annotate(n=Count("id")).values_list("resource", "n"))
    running = (
        SyncRun.objects.filter(connection=connection, status__in=[RunStatus.QUEUED, RunStatus.RUNNING])
        .exclude(mode__in=[RunMode.WEBHOOK, RunMode.SINGLE])
        .first()
    )
    return {
        "connected": connection.enabled and finished.exists(),
        "last_sync": last,
        "contacts_migrated": per_resource.get("contacts", 0),
        "deals_synced": per_resource.get("deals", 0),
        "events_synced": per_resource.get("events", 0) + per_resource.get("automations", 0),
        "running": None
        if running is None
        else {
            "run_id": running.pk,
            "status": running.status,
            "done": running.progress_done,
            "total": running.progress_total,
            "eta_seconds": running.eta_seconds,
        },
    }


def run_totals(*, runs) -> dict[str, int]:
    return runs.aggregate(n=Sum("progress_done"))
