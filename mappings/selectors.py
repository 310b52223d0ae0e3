"""Reads of the mappings app: connections by reference, catalog indexes, mapping rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from connectors.models import Connection
from mappings.catalog import CatalogIndex, Entry
from mappings.models import MAPPING_MODELS, Catalog, CatalogItem, MappingRule
from mappings.validation import MappingChecker


def connection_by_ref(ref: str, *, queryset: QuerySet[Connection] | None = None) -> Connection:
    """A connection named `TENANT_SLUG/NAME` or by its numeric id.

    Raises Connection.DoesNotExist with a message that says what was looked for.
    """
    connections = (queryset if queryset is not None else Connection.objects.all()).select_related(
        "tenant", "ac_account", "brevo_account"
    )
    text = (ref or "").strip()
    if text.isdigit():
        found = connections.filter(pk=int(text)).first()
    elif "/" in text:
        slug, _, name = text.partition("/")
        found = connections.filter(tenant__slug=slug, name=name).first()
    else:
        raise Connection.DoesNotExist(
            f"'{text}' is not a connection: use TENANT_SLUG/NAME or the connection's id"
        )
    if found is None:
        raise Connection.DoesNotExist(f"no connection '{text}' (use TENANT_SLUG/NAME or the connection's id)")
    return found


def catalog_for(connection: Connection) -> Catalog | None:
    return Catalog.objects.filter(connection=connection).first()


def catalog_index_for(connection: Connection) -> CatalogIndex | None:
    """The connection's catalog as an index, or None when discovery never ran."""
    catalog = catalog_for(connection)
    if catalog is None or catalog.discovered_at is None:
        return None
    return catalog_index(catalog)


def catalog_index(catalog: Catalog) -> CatalogIndex:
    rows = CatalogItem.objects.filter(catalog=catalog).values_list(
        "side", "kind", "external_id", "label", "parent_id", "data_type", "extra", "missing_since"
    )
    entries = (
        Entry(side, kind, external_id, label, parent_id, data_type, extra or {}, missing_since)
        for side, kind, external_id, label, parent_id, data_type, extra, missing_since in rows.iterator()
    )
    return CatalogIndex(entries, discovered_at=catalog.discovered_at, errors=catalog.errors)


def mapping_rows(connection: Connection) -> list[MappingRule]:
    """Every mapping row of a connection, kinds in the admin's order, rows by id within a kind."""
    rows: list[MappingRule] = []
    for model in MAPPING_MODELS:
        rows.extend(model.objects.filter(connection=connection).order_by("id"))
    return rows


# Columns every mapping row has that say nothing about what it maps.
_HISTORY_SKIP = frozenset({"id", "tenant", "connection", "created_at", "updated_at"})
_ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}


@dataclass
class HistoryEntry:
    """One change to one mapping row: who, when, what, and each field before → after."""

    when: datetime
    who: str
    kind: str
    row: str
    action: str
    reason: str = ""
    changes: list[tuple[str, Any, Any]] = field(default_factory=list)


def mapping_history(*, connection: Connection, limit: int = 200) -> list[HistoryEntry]:
    """The latest changes to a connection's mapping rows, newest first, with before/after values."""
    records = []
    for model in MAPPING_MODELS:
        records.extend(
            model.history.filter(connection_id=connection.pk)
            .select_related("history_user")
            .order_by("-history_date", "-history_id")[:limit]
        )
    records.sort(key=lambda record: (record.history_date, record.history_id), reverse=True)
    # Rows in words with the catalog's names beside the ids, as the mapping lists show them.
    checker = MappingChecker(catalog_index_for(connection))
    entries = []
    for record in records[:limit]:
        model = record.instance_type
        tracked = [f for f in model._meta.concrete_fields if f.name not in _HISTORY_SKIP]
        changes: list[tuple[str, Any, Any]] = []
        if record.history_type == "~":
            previous = record.prev_record
            if previous is not None:
                delta = record.diff_against(previous, included_fields=[f.name for f in tracked])
                names = {f.name: str(f.verbose_name) for f in tracked}
                changes = [(names.get(c.field, c.field), c.old, c.new) for c in delta.changes]
        else:
            for model_field in tracked:
                value = getattr(record, model_field.attname)
                if value in (None, ""):
                    continue
                before, after = (value, None) if record.history_type == "-" else (None, value)
                changes.append((str(model_field.verbose_name), before, after))
        user = record.history_user
        entries.append(
            HistoryEntry(
                when=record.history_date,
                who=(user.get_username() if user is not None else "system"),
                kind=str(model._meta.verbose_name),
                row=checker.describe(record.instance),
                action=_ACTIONS.get(record.history_type, record.history_type),
                reason=record.history_change_reason or "",
                changes=changes,
            )
        )
    return entries
