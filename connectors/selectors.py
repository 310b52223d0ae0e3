"""Reads for admin pages and commands: run summaries and failures grouped by reason."""

from __future__ import annotations

from typing import Any

from django.db import connection as db_connection
from django.db.models import Count, Func, Min, TextField, Value
from django.urls import reverse

from connectors.models import NOT_CONFIGURED, Outcome, SyncRecord, SyncRun

# Every counter in the order people read them; `read` is the sum of the outcomes after it.
OUTCOMES = ("created", "updated", "unchanged", "merged", "skipped", "failed")
COUNTER_KEYS = ("read", *OUTCOMES)
# What a reason's text looks like once the record's own values are left out: quoted values,
# numbers (ids, phones, counts) and e-mail addresses. Records that differ only there are one
# group, so a group's example is an example of every record in it.
_VALUE_PATTERN = r"'[^']*'|[^\s@]+@[^\s@]+|\+?[0-9][0-9 ().-]*"


class _ReasonShape(Func):
    function = "REGEXP_REPLACE"
    output_field = TextField()

    def __init__(self, expression: Any) -> None:
        super().__init__(expression, Value(_VALUE_PATTERN), Value("…"), Value("g"))


def not_configured(*, run: SyncRun) -> dict[str, str]:
    """Resources of the run that the mapping deliberately does not write, with the reason."""
    notes = {}
    state = run.state if isinstance(run.state, dict) else {}
    for resource in run.resources or []:
        reason = (state.get(resource) or {}).get(NOT_CONFIGURED)
        if reason:
            notes[resource] = str(reason)
    return notes


def run_summary(*, run: SyncRun) -> dict[str, Any]:
    """Counters per resource, what is not configured, and failures and skips grouped by reason.

    Groups are (resource, outcome, reason code, the reason's text without the record's own
    values), largest first, each with an example of that group and a link to its records.
    """
    records_url = reverse("admin:connectors_syncrecord_changelist")
    notes = not_configured(run=run)
    rows = []
    for resource in run.resources or list(run.counters):
        counters = (run.counters or {}).get(resource, {})
        rows.append(
            {
                "resource": resource,
                "read": counters.get("read", 0),
                "not_configured": notes.get(resource, ""),
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
    records = SyncRecord.objects.filter(run=run, outcome__in=[Outcome.FAILED, Outcome.SKIPPED])
    if db_connection.vendor == "postgresql":
        records = records.annotate(shape=_ReasonShape("message"))
        keys = ("resource", "outcome", "error_code", "shape")
    else:
        keys = ("resource", "outcome", "error_code")
    groups = records.values(*keys).annotate(count=Count("id"), example=Min("message")).order_by("-count")[:50]
    failures = [
        {
            **{k: v for k, v in group.items() if k != "shape"},
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
        "not_configured": notes,
        "failures": failures,
        "warnings": warnings,
        "imports": list(run.brevo_imports or []),
        "records_url": f"{records_url}?run={run.pk}",
    }
