"""Reads behind the API. Every query starts from the token's tenant, so nothing crosses tenants."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from django.db.models import F, IntegerField, QuerySet, Sum
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce

from connectors.exceptions import InvalidCursor, NotFound
from connectors.models import (
    ACTIVE_STATUSES,
    Connection,
    ContactIdentity,
    RecordState,
    RunMode,
    RunStatus,
    SyncRecord,
    SyncRun,
)

MAX_PAGE = 500
MAX_ID = 2**63 - 1


def connection_for(*, tenant_id: int, name: str) -> Connection:
    connection = (
        Connection.objects.select_related("ac_account", "brevo_account")
        .filter(tenant_id=tenant_id, name=name)
        .first()
    )
    if connection is None:
        raise NotFound(f"Connector '{name}'")
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
        raise NotFound(f"Run {run_id}")
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
        raise InvalidCursor("This cursor was not issued by Tajo; start without one.", field="cursor")
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
    """The documentation's status numbers, as true as Tajo can know them.

    * `connected`: the verdict of the last connection test, turned false by a 401/403 met
      during a run since; false when the connection is switched off or was never tested.
    * `contacts_migrated`: distinct AC contacts Brevo holds as of the last verification: those
      whose write Brevo confirmed (or that were found unchanged), each counted once however
      often it was written. Contacts merged into another with the same email are that one.
    * `deals_synced`: distinct AC deals carried to Brevo: as the attributes of a contact written
      with its primary deal's data, or as a Brevo CRM deal.
    * `events_synced`: every event sent to Brevo: tracked events and automation entries and
      completions, over all runs that were not dry runs (each event is sent once).
    `lastSync` is when the latest run that did not fail or get cancelled finished.
    """
    runs = SyncRun.objects.filter(connection=connection, dry_run=False)
    sums = runs.aggregate(
        events=_counter("events", "created"),
        automation_events=_counter("automations", "created"),
    )
    last = (
        runs.filter(status__in=[RunStatus.SUCCEEDED, RunStatus.PARTIAL], finished_at__isnull=False)
        .order_by(F("finished_at").desc())
        .values_list("finished_at", flat=True)
        .first()
    )
    contacts = RecordState.objects.filter(connection=connection, resource="contacts")
    as_attributes = (
        ContactIdentity.objects.filter(connection=connection, source_id__in=contacts.values("source_id"))
        .exclude(deal_id="")
        .values_list("deal_id", flat=True)
    )
    as_crm_deals = (
        RecordState.objects.filter(connection=connection, resource="deals")
        .exclude(brevo_id="")
        .values_list("source_id", flat=True)
    )
    return {
        "connected": bool(connection.enabled and connection.last_check_ok),
        "last_sync": last,
        "contacts_migrated": contacts.count(),
        "deals_synced": as_attributes.union(as_crm_deals).count(),
        "events_synced": sums["events"] + sums["automation_events"],
        "current_run": active_run(connection),
    }
