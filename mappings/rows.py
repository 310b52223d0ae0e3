"""Writing a connection's mapping rows in bulk: replicating AC's lists and tags, replacing sections.

The YAML import replaces a section's rows with `mapping_rows_sync`; the admin, the API and the
YAML `"*": same` replicate AC's list structure and tag segments with the helpers here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from connectors.models import Connection
from mappings.catalog import AC, BREVO, CatalogIndex, Entry
from mappings.models import (
    AutomationMapping,
    CustomFieldMapping,
    CustomObjectFieldMapping,
    EventMapping,
    ListMapping,
    MappingRule,
    OwnerMapping,
    ScoreMapping,
    StageMapping,
    StandardFieldMapping,
    TagMapping,
)
from mappings.selectors import catalog_index_for
from mappings.services import catalog_item_add

# Creating a Brevo list spends Brevo's hourly budget for "other" endpoints (about 100 an hour),
# so a replication that would create more than this many lists is refused.
REPLICATE_MAX = 50
REPLICATE_FOLDER = "ActiveCampaign"  # where new lists go when the Brevo account has no folder


def replication_items(
    index: CatalogIndex, kind: str, *, skip: Callable[[Entry], bool] = lambda entry: False
) -> tuple[dict[int, str], int]:
    """The AC lists (or tags) to replicate as Brevo lists of the same name, and how many Brevo lacks.

    Returns ({AC id: name}, number of names with no Brevo list yet). Tags are AC's segments:
    each becomes a Brevo list of its name, to segment on in Brevo.
    """
    items = [e for e in index.items(AC, kind) if e.external_id.isdigit() and not skip(e)]
    existing = {e.label.strip().lower() for e in index.items(BREVO, "list")}
    missing = {e.label.strip().lower() for e in items if e.label.strip().lower() not in existing}
    return {int(e.external_id): e.label.strip() for e in items}, len(missing)


def brevo_list_folder(index: CatalogIndex) -> int | None:
    """The Brevo folder new lists go to: the account's first folder (None: there is none yet)."""
    folders = [e for e in index.items(BREVO, "folder") if e.external_id.isdigit()]
    return min((int(e.external_id) for e in folders), default=None)


def mapping_structure_replicate(
    *, connection: Connection, kinds: Iterable[str] = ("list", "tag"), user: Any = None, reason: str = ""
) -> list[str]:
    """Map every AC list and tag not mapped yet onto the Brevo list of its name, creating missing lists.

    Works from the connection's catalog (discover first); replicates the structure as it is
    now (a list added later needs another replication). Returns one line per new mapping.
    Raises ValueError, with what to do, when there is no catalog or too many lists to create.
    """
    from connectors.clients import brevo_client_for

    index = catalog_index_for(connection)
    if index is None:
        raise ValueError("discover the connection's catalog first: replication maps what discovery found")
    mapped = {
        "list": set(ListMapping.objects.filter(connection=connection).values_list("ac_list_id", flat=True)),
        "tag": set(
            TagMapping.objects.filter(connection=connection, brevo_list_id__isnull=False).values_list(
                "ac_tag_id", flat=True
            )
        ),
    }
    wanted: list[tuple[str, int, str]] = []
    to_create = 0
    for kind in kinds:
        items, missing = replication_items(
            index, kind, skip=lambda e, k=kind: int(e.external_id) in mapped[k]
        )
        wanted.extend((kind, ac_id, name) for ac_id, name in items.items())
        to_create += missing
    if to_create > REPLICATE_MAX:
        raise ValueError(
            f"replicating would create {to_create} Brevo lists (at most {REPLICATE_MAX}: each costs a "
            "request of Brevo's hourly budget); map the lists and tags you need by name instead"
        )
    lists = {e.label.strip().lower(): int(e.external_id) for e in index.items(BREVO, "list")}
    lines: list[str] = []
    created: set[str] = set()
    with brevo_client_for(connection) as brevo:
        folder = brevo_list_folder(index)
        for kind, ac_id, name in wanted:
            key = name.lower()
            if key not in lists:
                if folder is None:
                    folder = brevo.create_folder(REPLICATE_FOLDER)
                    catalog_item_add(
                        connection=connection,
                        entry=Entry(BREVO, "folder", str(folder), label=REPLICATE_FOLDER),
                    )
                lists[key] = brevo.create_list(name, folder)
                created.add(key)
                catalog_item_add(
                    connection=connection,
                    entry=Entry(BREVO, "list", str(lists[key]), label=name, extra={"folder_id": folder}),
                )
            row: MappingRule = (
                ListMapping(ac_list_id=ac_id, brevo_list_id=lists[key])
                if kind == "list"
                else TagMapping(ac_tag_id=ac_id, brevo_list_id=lists[key], value="true")
            )
            row.tenant_id = connection.tenant_id
            row.connection = connection
            _audit(row, reason or "replicated from ActiveCampaign", user).save()
            what = "created" if key in created else "existing"
            lines.append(f"AC {kind} '{name}' → Brevo list '{name}' (#{lists[key]}, {what})")
    return lines


# ----------------------------------------------------------------------------- replacing rows
# Columns that identify a row (same key: update in place, keeping its history).
NATURAL_KEYS: dict[type[MappingRule], tuple[str, ...]] = {
    StandardFieldMapping: ("source", "attribute"),
    CustomFieldMapping: ("ac_field_id", "attribute"),
    ScoreMapping: ("ac_score_id", "attribute"),
    CustomObjectFieldMapping: ("ac_schema_id", "ac_field_key", "attribute"),
    ListMapping: ("ac_list_id", "brevo_list_id"),
    TagMapping: ("ac_tag_id", "brevo_list_id", "attribute"),
    StageMapping: ("ac_stage_id",),
    OwnerMapping: ("ac_user_id",),
    AutomationMapping: ("ac_automation_id",),
    EventMapping: ("ac_event_name",),
}
VALUE_FIELDS: dict[type[MappingRule], tuple[str, ...]] = {
    StandardFieldMapping: ("transform",),
    CustomFieldMapping: ("transform",),
    ScoreMapping: ("transform",),
    CustomObjectFieldMapping: ("transform",),
    ListMapping: (),
    TagMapping: ("value", "value_when_absent", "unlink_when_absent"),
    StageMapping: ("ac_pipeline_id", "brevo_pipeline_id", "brevo_stage_id"),
    OwnerMapping: ("brevo_owner",),
    AutomationMapping: ("brevo_event_entered", "brevo_event_completed"),
    EventMapping: ("brevo_event_name",),
}


@dataclass
class RowCounts:
    """What `mapping_rows_sync` did."""

    created: int = 0
    updated: int = 0
    deleted: int = 0


def mapping_rows_sync(
    *,
    model: type[MappingRule],
    connection: Connection,
    wanted: list[MappingRule],
    reason: str,
    user: Any = None,
    delete_others: bool = True,
) -> RowCounts:
    """Make the connection's rows of `model` equal `wanted`, keeping rows (and history) that match.

    A wanted row with the natural key of an existing one updates it in place; the others are
    created; with `delete_others`, existing rows no wanted row matches are deleted.
    """
    counts = RowCounts()
    key_fields = NATURAL_KEYS[model]
    value_fields = VALUE_FIELDS[model]
    existing: dict[tuple, MappingRule] = {}
    for row in model.objects.filter(connection=connection).order_by("id"):
        existing.setdefault(_row_key(row, key_fields), row)
    keep: set[int] = set()
    for row in wanted:
        current = existing.get(_row_key(row, key_fields))
        if current is not None and current.pk not in keep:
            keep.add(current.pk)
            changed = [name for name in value_fields if getattr(current, name) != getattr(row, name)]
            if changed:
                for name in changed:
                    setattr(current, name, getattr(row, name))
                _audit(current, reason, user).save()
                counts.updated += 1
            continue
        row.tenant = connection.tenant
        row.connection = connection
        _audit(row, reason, user).save()
        keep.add(row.pk)
        counts.created += 1
    if delete_others:
        for row in model.objects.filter(connection=connection).exclude(pk__in=keep):
            _audit(row, reason, user).delete()
            counts.deleted += 1
    return counts


def _audit(row: MappingRule, reason: str, user: Any) -> MappingRule:
    row._change_reason = reason
    if user is not None:
        row._history_user = user
    return row


def _row_key(row: MappingRule, fields: tuple[str, ...]) -> tuple:
    values = []
    for name in fields:
        value = getattr(row, name)
        values.append(value.strip().upper() if name == "attribute" and isinstance(value, str) else value)
    return tuple(values)
