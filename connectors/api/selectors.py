"""Reads behind the API. Every query starts from the token's tenant, so nothing crosses tenants."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from django.db.models import F, IntegerField, QuerySet, Sum
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce

from connectors.api.errors import ApiProblem, not_found
from connectors.models import ACTIVE_STATUSES, Connection, RunMode, RunStatus, SyncRecord, SyncRun

MAX_PAGE = 500
MAX_ID = 2**63 - 1


def connection_for(*, tenant_id: int, name: str) -> Connection:
    connection = (
        Connection.objects.select_related("ac_account", "brevo_account")
        .filter(tenant_id=tenant_id, name=name)
        .first()
    )
    if connection is None:
        raise not_found(f"Connector '{name}'")
    return connection


def connections_for(*, tenant_id: int) -> QuerySet[Connection]:
    return (
        Connection.objects.select_related("ac_account", "brevo_account")
        .filter(tenant_id=tenant_id)
        .order_by("name")
    )


def run_for(*, tenant_id: int, run_id: int) -> SyncRun:
    run = SyncRun.objects.select_related("connection").filter(tenant_id=tenant_id, pk=run_id).first()
    if run is None:
        raise not_found(f"Run {run_id}")
    return run


# ----------------------------------------------------------------------------- cursors


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    """Opaque to callers; a cursor that was not issued by Tajo is a 400 naming the parameter."""
    if not cursor:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, number = text.partition(":")
        value = int(number)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        value, prefix = -1, ""
    if prefix != "id" or not 0 < value <= MAX_ID:
        raise ApiProblem(
            400, "invalid_cursor", "This cursor was not issued by Tajo; start without one.", field="cursor"
        )
    return value


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next_cursor: str | None


def _page(qs: QuerySet, *, limit: int, cursor: str | None, newest_first: bool) -> Page:
    after = decode_cursor(cursor)
    if after is not None:
        qs = qs.filter(pk__lt=after) if newest_first else qs.filter(pk__gt=after)
    qs = qs.order_by("-pk" if newest_first else "pk")
    rows = list(qs[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, encode_cursor(rows[-1].pk) if more and rows else None)


def runs_page(
    *, tenant_id: int, connector: str | None, status: str | None, limit: int, cursor: str | None
) -> Page:
    qs = SyncRun.objects.select_related("connection").filter(tenant_id=tenant_id)
    if connector:
        qs = qs.filter(connection__name=connector)
    if status:
        qs = qs.filter(status=status)
    return _page(qs, limit=limit, cursor=cursor, newest_first=True)


def records_page(
    *, run: SyncRun, outcome: str | None, resource: str | None, limit: int, cursor: str | None
) -> Page:
    # tenant_id is repeated although the run already belongs to the tenant: belt and braces.
    qs = SyncRecord.objects.filter(run=run, tenant_id=run.tenant_id)
    if outcome:
        qs = qs.filter(outcome=outcome)
    if resource:
        qs = qs.filter(resource=resource)
    return _page(qs, limit=limit, cursor=cursor, newest_first=False)


# ----------------------------------------------------------------------------- status


def _counter(resource: str, outcome: str) -> Coalesce:
    return Coalesce(Sum(Cast(KT(f"counters__{resource}__{outcome}"), IntegerField())), 0)


def active_run(connection: Connection) -> SyncRun | None:
    return (
        SyncRun.objects.select_related("connection")
        .filter(connection=connection, status__in=ACTIVE_STATUSES)
        .exclude(mode__in=[RunMode.WEBHOOK, RunMode.SINGLE])
        .order_by("-pk")
        .first()
    )


def connection_status(*, connection: Connection) -> dict[str, Any]:
    """The documentation's status numbers, summed from the runs' counters in one query.

    Records written to Brevo count: created + updated, over every run that was not a dry run
    (a running run counts what it has written so far). Dry runs write nothing and count nothing.
    `lastSync` is when the latest run that did not fail or get cancelled finished.
    """
    runs = SyncRun.objects.filter(connection=connection, dry_run=False)
    sums = runs.aggregate(
        contacts_created=_counter("contacts", "created"),
        contacts_updated=_counter("contacts", "updated"),
        deals_created=_counter("deals", "created"),
        deals_updated=_counter("deals", "updated"),
        events_created=_counter("events", "created"),
        events_updated=_counter("events", "updated"),
    )
    last = (
        runs.filter(status__in=[RunStatus.SUCCEEDED, RunStatus.PARTIAL], finished_at__isnull=False)
        .order_by(F("finished_at").desc())
        .values_list("finished_at", flat=True)
        .first()
    )
    return {
        "connected": connection.enabled,
        "last_sync": last,
        "contacts_migrated": sums["contacts_created"] + sums["contacts_updated"],
        "deals_synced": sums["deals_created"] + sums["deals_updated"],
        "events_synced": sums["events_created"] + sums["events_updated"],
        "current_run": active_run(connection),
    }
