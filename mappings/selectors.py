"""Reads of the mappings app: connections, catalog indexes, mapping rows, a sync's MappingSet."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from pydantic import ValidationError

from connectors.models import Connection
from mappings.catalog import AC, BREVO, CatalogIndex, Entry
from mappings.compat import brevo_type
from mappings.exceptions import MappingInvalid
from mappings.models import (
    MAPPING_MODELS,
    AutomationMapping,
    Catalog,
    CatalogItem,
    CustomFieldMapping,
    CustomObjectFieldMapping,
    EventMapping,
    ListMapping,
    MappingRule,
    OwnerMapping,
    ScoreMapping,
    StageMapping,
    StandardFieldMapping,
    StandardSource,
    TagMapping,
)
from mappings.transforms import (
    AutomationRule,
    EventRule,
    FieldRule,
    ListRule,
    MappingLabels,
    MappingSet,
    OwnerRule,
    StageRule,
    TagRule,
    Transform,
)
from mappings.validation import MappingChecker, Problem, parse_tag_value


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
    return discovered_index(catalog_for(connection))


def discovered_index(catalog: Catalog | None) -> CatalogIndex | None:
    """The catalog as an index, or None when there is none or discovery never ran."""
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


# ============================================================================ mappings as a sync reads them


def mapping_validate(*, connection: Connection, rules: Iterable[MappingRule] | None = None) -> list[Problem]:
    """Every problem of the connection's mappings (or of `rules`) against its stored catalog."""
    index = catalog_index_for(connection)
    rows = list(rules) if rules is not None else mapping_rows(connection)
    return MappingChecker(index).check_all(rows)


def events_without_mapping(connection: Connection, rows: Iterable[MappingRule] | None = None) -> str:
    """What to tell the operator when `sync.events` is on but no tracked event is mapped ('' otherwise)."""
    from connectors.webhooks.parsing import TAJO_EVENT_NAMES

    if not connection.sync_events:
        return ""
    webhook_names = set(TAJO_EVENT_NAMES) | set(TAJO_EVENT_NAMES.values())
    rows = mapping_rows(connection) if rows is None else rows
    if any(isinstance(row, EventMapping) and row.ac_event_name not in webhook_names for row in rows):
        return ""
    return (
        "sync.events is on but no tracked ActiveCampaign event is mapped (event_mapping), so the "
        "events resource reads nothing; webhook events are still forwarded to Brevo under the "
        "documentation's names (contact_add, deal_update, ...)"
    )


def _active(connection: Connection, rule: MappingRule) -> bool:
    """Whether a row takes part in a sync, given the connection's switches."""
    kind = rule.rule_kind
    if kind == "field":
        return connection.include_custom_fields
    if kind == "score":
        return connection.include_scores
    if kind == "tag":
        return connection.include_tags
    if kind == "list":
        return connection.include_list_memberships
    if kind == "custom_object":
        return connection.include_custom_fields and connection.sync_custom_objects
    return True


def mapping_snapshot(*, connection: Connection) -> MappingSet:
    """The validated MappingSet (with catalog labels) a sync of `connection` runs with.

    Raises MappingInvalid listing every blocking problem of the rows that take part in the sync
    (switched-off kinds, e.g. tags with "include tags" off, are left out and not checked).
    """
    index = catalog_index_for(connection)
    rows = [rule for rule in mapping_rows(connection) if _active(connection, rule)]
    problems = [problem for problem in MappingChecker(index).check_all(rows) if problem.blocking]
    if problems:
        raise MappingInvalid(str(connection), problems)
    assert index is not None  # check_all reports a missing catalog as a blocking problem
    try:
        return build_mapping_set(connection=connection, rows=rows, index=index)
    except (ValidationError, ValueError) as exc:
        problem = Problem(rule_kind="", row_id=None, field=None, code="invalid", message=str(exc))
        raise MappingInvalid(str(connection), [problem]) from exc


def attribute_type(index: CatalogIndex, name: str) -> str:
    """The Brevo type of attribute `name` in the catalog ("text" when the catalog does not know it)."""
    entry = index.get(BREVO, "attribute", name.upper())
    return brevo_type(entry.data_type) if entry is not None else "text"


def build_mapping_set(
    *, connection: Connection, rows: Iterable[MappingRule], index: CatalogIndex
) -> MappingSet:
    """Turn validated rows into the pure MappingSet (ids only, labels from the catalog)."""
    fields: list[FieldRule] = []
    lists: list[ListRule] = []
    tags: list[TagRule] = []
    stages: list[StageRule] = []
    owners: list[OwnerRule] = []
    automations: list[AutomationRule] = []
    events: list[EventRule] = []
    for rule in rows:
        if isinstance(rule, StandardFieldMapping):
            if rule.source == StandardSource.EMAIL and rule.attribute.upper() == "EMAIL":
                continue  # the email is the contact's identifier; it is always sent
            fields.append(_field_rule(index, rule, source=rule.source))
        elif isinstance(rule, CustomFieldMapping):
            field = index.get(AC, "field", str(rule.ac_field_id))
            fields.append(
                _field_rule(
                    index,
                    rule,
                    source="field",
                    ac_field_id=rule.ac_field_id,
                    source_type=field.data_type if field is not None else "",
                )
            )
        elif isinstance(rule, ScoreMapping):
            fields.append(_field_rule(index, rule, source="score", score_id=rule.ac_score_id))
        elif isinstance(rule, CustomObjectFieldMapping):
            fields.append(
                _field_rule(
                    index,
                    rule,
                    source="custom_object",
                    object_schema_id=rule.ac_schema_id,
                    object_field_id=rule.ac_field_key,
                )
            )
        elif isinstance(rule, ListMapping):
            lists.append(ListRule(ac_list_id=rule.ac_list_id, brevo_list_id=rule.brevo_list_id))
        elif isinstance(rule, TagMapping):
            tags.append(_tag_rule(index, rule))
        elif isinstance(rule, StageMapping):
            pipeline = rule.ac_pipeline_id
            if pipeline is None:
                stage = index.get(AC, "stage", rule.ac_stage_id)
                pipeline = int(stage.parent_id) if stage is not None and stage.parent_id.isdigit() else None
            stages.append(
                StageRule(
                    ac_pipeline_id=pipeline,
                    ac_stage_id=rule.ac_stage_id,
                    brevo_pipeline_id=rule.brevo_pipeline_id,
                    brevo_stage_id=rule.brevo_stage_id,
                )
            )
        elif isinstance(rule, OwnerMapping):
            owners.append(OwnerRule(ac_user_id=rule.ac_user_id, brevo_owner=rule.brevo_owner.strip()))
        elif isinstance(rule, AutomationMapping):
            automations.append(
                AutomationRule(
                    ac_automation_id=rule.ac_automation_id,
                    brevo_event_entered=rule.brevo_event_entered.strip(),
                    brevo_event_completed=rule.brevo_event_completed.strip() or None,
                )
            )
        elif isinstance(rule, EventMapping):
            events.append(
                EventRule(ac_event_name=rule.ac_event_name, brevo_event_name=rule.brevo_event_name.strip())
            )
    tags_attribute = connection.tags_attribute.strip().upper() if connection.include_tags else ""
    if tags_attribute and attribute_type(index, tags_attribute) != "multiple-choice":
        tags_attribute = ""  # not in Brevo (yet): writing it would be refused; discovery creates it
    if tags_attribute in {rule.attribute for rule in fields} | {rule.attribute for rule in tags}:
        tags_attribute = ""  # a mapping row fills it: the row the operator made wins
    return MappingSet(
        default_country=connection.default_phone_country or None,
        tags_attribute=tags_attribute or None,
        fields=tuple(fields),
        lists=tuple(lists),
        tags=tuple(tags),
        stages=tuple(stages),
        owners=tuple(owners),
        automations=tuple(automations),
        events=tuple(events),
        labels=mapping_labels(index),
    )


def _field_rule(index: CatalogIndex, rule: Any, **source: Any) -> FieldRule:
    return FieldRule(
        attribute=rule.attribute,
        transform=Transform(rule.transform),
        attribute_type=attribute_type(index, rule.attribute),
        **source,
    )


def _tag_rule(index: CatalogIndex, rule: TagMapping) -> TagRule:
    attribute = rule.attribute.strip().upper() or None
    value: bool | float | str = True
    absent: bool | float | str | None = None
    if attribute:
        kind = attribute_type(index, attribute)
        value = parse_tag_value(rule.value, kind)
        if rule.value_when_absent.strip():
            absent = parse_tag_value(rule.value_when_absent, kind)
    return TagRule(
        ac_tag_id=rule.ac_tag_id,
        brevo_list_id=rule.brevo_list_id or None,
        attribute=attribute,
        value=value,
        value_when_absent=absent,
        unlink_when_absent=rule.unlink_when_absent,
    )


def mapping_labels(index: CatalogIndex) -> MappingLabels:
    """Readable names of AC stages, pipelines, users and automations (ids as ints)."""

    def table(kind: str) -> dict[int, str]:
        return {
            int(entry.external_id): entry.label
            for entry in index.items(AC, kind, include_missing=True)
            if entry.external_id.isdigit() and entry.label
        }

    return MappingLabels(
        stage_titles=table("stage"),
        pipeline_titles=table("pipeline"),
        owner_names={
            int(entry.external_id): entry.label.split(" <", 1)[0]
            for entry in index.items(AC, "user", include_missing=True)
            if entry.external_id.isdigit() and entry.label
        },
        automation_names=table("automation"),
        tag_names=table("tag"),
    )
