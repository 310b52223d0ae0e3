"""Bulk association reads parked per run, then joined to each page of contacts.

Field values, tags, list memberships and deals are read from AC's bulk list endpoints (100 rows
a request) instead of one request per contact. Their rows arrive in no useful order, so they
are written to StagedRow and read back per contact id range: memory stays flat however large
the account is, and a killed worker resumes from the stored offsets.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from django.db import connection as db_connection
from django.db import transaction

from connectors.models import StagedRow
from connectors.sync.recorder import copy_rows
from mappings.records import DealSummary

FIELD, TAG, LIST, DEAL = "f", "t", "l", "d"


@dataclass
class Associations:
    field_values: dict[int, str | None] = field(default_factory=dict)
    tags: set[int] = field(default_factory=set)
    lists: dict[int, int] = field(default_factory=dict)
    deals: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class StageSource:
    """One bulk endpoint to stage: `key` names it in the run's state."""

    key: str
    kind: str
    field_id: int | None = None
    keep_fields: frozenset[int] | None = None  # with an unfiltered field-value listing


def stage_sources(
    *, field_ids: Iterable[int], tags: bool, lists: bool, deals: bool, all_fields: bool = False
) -> list[StageSource]:
    """The bulk reads a backfill needs. `all_fields`: read every field value in one listing (and
    keep the mapped ones) instead of one filtered listing per mapped field."""
    wanted = sorted(set(field_ids))
    if all_fields and wanted:
        sources = [StageSource("fieldValues", FIELD, None, frozenset(wanted))]
    else:
        sources = [StageSource(f"field:{fid}", FIELD, fid) for fid in wanted]
    if tags:
        sources.append(StageSource("contactTags", TAG))
    if lists:
        sources.append(StageSource("contactLists", LIST))
    if deals:
        sources.append(StageSource("deals", DEAL))
    return sources


def _rows_for(source: StageSource, page: Any) -> Iterator[tuple[str, int, int, str | None]]:
    if source.kind == FIELD:
        keep = source.keep_fields
        for fv in page.items:
            if keep is None or fv.field_id in keep:
                yield FIELD, fv.contact_id, fv.field_id, fv.value
    elif source.kind == TAG:
        for ct in page.items:
            yield TAG, ct.contact_id, ct.tag_id, None
    elif source.kind == LIST:
        for cl in page.items:
            yield LIST, cl.contact_id, cl.list_id, str(cl.status)
    else:
        for deal in page.items:
            if deal.contact_id and not deal.is_disabled:
                yield DEAL, deal.contact_id, deal.id, orjson.dumps(deal_blob(deal)).decode()


def deal_blob(deal: Any) -> dict[str, Any]:
    return {
        "id": deal.id,
        "value_cents": deal.value_cents,
        "currency": deal.currency,
        "stage_id": deal.stage_id,
        "pipeline_id": deal.pipeline_id,
        "owner_id": deal.owner_id,
        "status": deal.status,
        "mdate": deal.mdate.isoformat() if deal.mdate else None,
    }


def pages_for(
    ac: Any, source: StageSource, offset: int, updated_after: datetime | None = None
) -> Iterator[Any]:
    if source.kind == FIELD:
        return ac.iter_field_value_pages(field_id=source.field_id, offset=offset)
    if source.kind == TAG:
        return ac.iter_contact_tag_pages(offset=offset)
    if source.kind == LIST:
        return ac.iter_contact_list_pages(offset=offset)
    return ac.iter_deal_pages(offset=offset)


def write_rows(run_id: int, rows: list[tuple[str, int, int, str | None]]) -> None:
    """Insert staged rows fast: COPY on PostgreSQL, executemany elsewhere."""
    if not rows:
        return
    table = StagedRow._meta.db_table
    with transaction.atomic():
        if db_connection.vendor == "postgresql":
            copy_rows(
                table,
                ("run_id", "kind", "contact_id", "key", "value"),
                ((run_id, kind, contact_id, key, value) for kind, contact_id, key, value in rows),
            )
        else:
            with db_connection.cursor() as cursor:
                cursor.executemany(
                    f"INSERT INTO {table} (run_id, kind, contact_id, key, value) VALUES (%s, %s, %s, %s, %s)",  # noqa: S608
                    [(run_id, k, c, key, v) for k, c, key, v in rows],
                )


def stage_page(run_id: int, source: StageSource, page: Any) -> int:
    rows = list(_rows_for(source, page))
    write_rows(run_id, rows)
    return len(rows)


def load_associations(run_id: int, contact_ids: list[int]) -> dict[int, Associations]:
    """Everything staged for this contact id range, grouped per contact (one query)."""
    found: dict[int, Associations] = defaultdict(Associations)
    if not contact_ids:
        return found
    wanted = set(contact_ids)
    rows = StagedRow.objects.filter(
        run_id=run_id,
        kind__in=(FIELD, TAG, LIST, DEAL),
        contact_id__gte=min(contact_ids),
        contact_id__lte=max(contact_ids),
    ).values_list("kind", "contact_id", "key", "value")
    for kind, contact_id, key, value in rows.iterator(chunk_size=5000):
        if contact_id not in wanted:
            continue
        assoc = found[contact_id]
        if kind == FIELD:
            assoc.field_values[key] = value
        elif kind == TAG:
            assoc.tags.add(key)
        elif kind == LIST:
            assoc.lists[key] = int(value or 0)
        elif kind == DEAL:
            assoc.deals.append(orjson.loads(value))
    return found


def primary_deal(deals: list[dict[str, Any]]) -> DealSummary | None:
    """The deal that speaks for the contact: the most recently changed open deal, else the latest."""
    if not deals:
        return None
    open_deals = [d for d in deals if int(d.get("status") or 0) == 0]
    pool = open_deals or deals
    best = max(pool, key=lambda d: (d.get("mdate") or "", d.get("id") or 0))
    return DealSummary(
        ac_id=best.get("id"),
        value_cents=best.get("value_cents"),
        currency=best.get("currency") or None,
        stage_id=best.get("stage_id"),
        pipeline_id=best.get("pipeline_id"),
        owner_id=best.get("owner_id"),
        status=best.get("status"),
    )


def clear(run_id: int) -> None:
    StagedRow.objects.filter(run_id=run_id).delete()
