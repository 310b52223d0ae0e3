"""Exporting connections as configuration files that import back to the same ids."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import yaml

from connectors.models import (
    BREVO_DEFAULT_API_URL,
    Connection,
)
from mappings.catalog import AC, BREVO, CatalogIndex
from mappings.compat import (
    SCORE_SOURCE_TYPE,
    STANDARD_SOURCE_TYPES,
    brevo_type,
    default_transform,
    source_type,
)
from mappings.exceptions import ConfigError
from mappings.models import (
    AutomationMapping,
    CustomFieldMapping,
    CustomObjectFieldMapping,
    EventMapping,
    ListMapping,
    OwnerMapping,
    ScoreMapping,
    StageMapping,
    StandardFieldMapping,
    TagMapping,
)
from mappings.selectors import catalog_index_for
from mappings.validation import parse_tag_value
from tajo_config.keys import (
    DEFAULT_NAME,
    EXPORT_STANDARD_KEY,
    FIELD_VALUES_DISPLAY,
    OPTION_FIELDS,
    SECTION_MODELS_ORDER,
    SYNC_FIELDS,
)
from tenants.models import Tenant


def config_export(*, tenant: Tenant, connection_name: str | None = None) -> str:
    """The tenant's connections as YAML documents (one per connection), keys never included."""
    connections = (
        Connection.objects.filter(tenant=tenant)
        .select_related("ac_account", "brevo_account")
        .order_by("name")
    )
    if connection_name:
        connections = connections.filter(name=connection_name)
    documents = [_export_connection(connection) for connection in connections]
    if not documents:
        what = f"connection '{connection_name}'" if connection_name else "connections"
        raise ConfigError([f"tenant '{tenant.slug}' has no {what}"])
    return "---\n".join(
        yaml.safe_dump(document, sort_keys=False, allow_unicode=True, default_flow_style=False, width=110)
        for document in documents
    )


def _env_name(prefix: str, connection: Connection) -> str:
    if connection.name == DEFAULT_NAME:
        return prefix
    return f"{prefix}_{re.sub(r'[^A-Z0-9]+', '_', connection.name.upper()).strip('_')}"


def _export_connection(connection: Connection) -> dict:
    index = catalog_index_for(connection) or CatalogIndex([])
    labels = _Labeller(index)
    ac_account = connection.ac_account
    ac: dict[str, Any] = {
        "enabled": connection.enabled,
        "name": connection.name,
        "api_url": ac_account.api_url,
        "api_key": "${" + _env_name("AC_API_KEY", connection) + "}",
        "plan": ac_account.plan,
        "sync": {
            **{key: getattr(connection, model_field) for key, model_field in SYNC_FIELDS.items()},
            "options": {
                **{key: getattr(connection, model_field) for key, model_field in OPTION_FIELDS.items()},
                "defaultPhoneCountry": connection.default_phone_country,
                "tagsAttribute": connection.tags_attribute or False,
            },
        },
    }
    rows = {
        model: list(model.objects.filter(connection=connection).order_by("id"))
        for model in SECTION_MODELS_ORDER
    }
    ac["list_mapping"] = _group(
        (labels.ac_key("list", row.ac_list_id), row.brevo_list_id)
        for row in sorted(rows[ListMapping], key=lambda r: (r.ac_list_id, r.brevo_list_id))
    )
    ac["field_mapping"] = labels.field_mapping(rows[StandardFieldMapping], rows[CustomFieldMapping])
    ac["tag_mapping"] = _group(
        (labels.ac_key("tag", row.ac_tag_id), labels.tag_value(row))
        for row in sorted(rows[TagMapping], key=lambda r: (r.ac_tag_id, r.pk))
    )
    ac["stage_mapping"] = {
        labels.stage_key(row.ac_stage_id): labels.brevo_stage(row)
        for row in sorted(rows[StageMapping], key=lambda r: (r.ac_pipeline_id or 0, r.ac_stage_id))
    }
    ac["owner_mapping"] = {
        labels.ac_key("user", row.ac_user_id, keys=("email",)): row.brevo_owner
        for row in sorted(rows[OwnerMapping], key=lambda r: r.ac_user_id)
    }
    ac["automation_mapping"] = {
        labels.ac_key("automation", row.ac_automation_id): (
            {"entered": row.brevo_event_entered, "completed": row.brevo_event_completed}
            if row.brevo_event_completed
            else row.brevo_event_entered
        )
        for row in sorted(rows[AutomationMapping], key=lambda r: r.ac_automation_id)
    }
    ac["event_mapping"] = {
        row.ac_event_name: row.brevo_event_name
        for row in sorted(rows[EventMapping], key=lambda r: r.ac_event_name)
    }
    ac["score_mapping"] = _group(
        (labels.ac_key("score", row.ac_score_id), labels.attribute_value(row, SCORE_SOURCE_TYPE))
        for row in sorted(rows[ScoreMapping], key=lambda r: (r.ac_score_id, r.attribute))
    )
    ac["custom_object_mapping"] = _group(
        (labels.object_key(row), labels.attribute_value(row, labels.object_source(row)))
        for row in sorted(
            rows[CustomObjectFieldMapping], key=lambda r: (r.ac_schema_id, r.ac_field_key, r.attribute)
        )
    )
    ac["debug"] = connection.debug
    ac["log_level"] = connection.log_level
    ac["log_webhooks"] = connection.log_webhooks
    brevo: dict[str, Any] = {"api_key": "${" + _env_name("BREVO_API_KEY", connection) + "}"}
    if connection.brevo_account.api_url.rstrip("/") != BREVO_DEFAULT_API_URL:
        brevo["api_url"] = connection.brevo_account.api_url
    return {"connectors": {"activecampaign": ac, "brevo": brevo}}


def _group(pairs: Iterable[tuple[Any, Any]]) -> dict:
    """Pairs as a mapping; a key given twice gets a list of values."""
    result: dict[Any, Any] = {}
    for key, value in pairs:
        if key in result:
            current = result[key]
            result[key] = [*current, value] if isinstance(current, list) else [current, value]
        else:
            result[key] = value
    return result


class _Labeller:
    """Readable keys for export that import resolves back to the same ids (else the id)."""

    def __init__(self, index: CatalogIndex) -> None:
        self.index = index

    def _unique(self, kind: str, ident: object, candidate: str, keys: tuple[str, ...] = ()) -> bool:
        if not candidate or candidate.strip() != candidate or candidate.isdigit():
            return False
        found = self.index.find(AC, kind, candidate, keys=keys)
        return len(found) == 1 and found[0].external_id == str(ident)

    def ac_key(self, kind: str, ident: object, *, keys: tuple[str, ...] = ()) -> Any:
        entry = self.index.get(AC, kind, ident)
        if entry is not None and entry.present:
            for key in keys:
                value = str(entry.extra.get(key) or "")
                if self._unique(kind, ident, value, keys):
                    return value
            if self._unique(kind, ident, entry.label, keys):
                return entry.label
        return int(ident) if str(ident).isdigit() else ident

    def field_key(self, field_id: int) -> Any:
        """`fieldValues.<perstag>` (the documentation's spelling) when it finds this field again."""
        entry = self.index.get(AC, "field", field_id)
        if entry is not None and entry.present:
            for candidate in (str(entry.extra.get("perstag") or "").lower(), entry.label):
                if candidate and self._unique("field", field_id, candidate, ("perstag",)):
                    return FIELD_VALUES_DISPLAY + candidate
        return f"{FIELD_VALUES_DISPLAY}{field_id}"

    def attribute_value(self, row: Any, source: str) -> Any:
        entry = self.index.get(BREVO, "attribute", row.attribute)
        existing = brevo_type(entry.data_type) if entry is not None and entry.present else None
        if default_transform(source, existing).value == row.transform:
            return row.attribute
        return {"attribute": row.attribute, "transform": row.transform}

    def field_mapping(self, standard: list[StandardFieldMapping], custom: list[CustomFieldMapping]) -> dict:
        order = list(EXPORT_STANDARD_KEY)
        pairs = [
            (EXPORT_STANDARD_KEY[row.source], self.attribute_value(row, STANDARD_SOURCE_TYPES[row.source]))
            for row in sorted(
                standard, key=lambda r: (order.index(r.source) if r.source in order else 99, r.pk)
            )
            if not row.source.startswith("deal.")
        ]
        for row in sorted(custom, key=lambda r: (r.ac_field_id, r.pk)):
            entry = self.index.get(AC, "field", row.ac_field_id)
            source = source_type(entry.data_type) if entry is not None else "text"
            pairs.append((self.field_key(row.ac_field_id), self.attribute_value(row, source)))
        pairs.extend(
            (EXPORT_STANDARD_KEY[row.source], self.attribute_value(row, STANDARD_SOURCE_TYPES[row.source]))
            for row in sorted(
                standard, key=lambda r: (order.index(r.source) if r.source in order else 99, r.pk)
            )
            if row.source.startswith("deal.")
        )
        return _group(pairs)

    def tag_value(self, row: TagMapping) -> Any:
        if not row.attribute and not row.unlink_when_absent:
            return row.brevo_list_id
        value: dict[str, Any] = {}
        if row.brevo_list_id:
            value["list"] = row.brevo_list_id
        if row.attribute:
            value["attribute"] = row.attribute
            entry = self.index.get(BREVO, "attribute", row.attribute)
            kind = brevo_type(entry.data_type) if entry is not None else "text"
            value["value"] = _typed(row.value, kind)
            if row.value_when_absent:
                value["value_when_absent"] = _typed(row.value_when_absent, kind)
        if row.unlink_when_absent:
            value["unlink_when_absent"] = True
        return value

    def stage_key(self, stage_id: int) -> Any:
        entry = self.index.get(AC, "stage", stage_id)
        pipeline = self.index.get(AC, "pipeline", entry.parent_id) if entry is not None else None
        if entry is not None and pipeline is not None and "/" not in entry.label and entry.present:
            key = f"{pipeline.label}/{entry.label}"
            if self._unique("pipeline", pipeline.external_id, pipeline.label):
                siblings = [
                    e
                    for e in self.index.children(AC, "stage", pipeline.external_id)
                    if e.label.strip().lower() == entry.label.strip().lower()
                ]
                if len(siblings) == 1:
                    return key
        return stage_id

    def brevo_stage(self, row: StageMapping) -> dict:
        pipeline = self.index.get(BREVO, "pipeline", row.brevo_pipeline_id)
        stage = self.index.get(BREVO, "stage", row.brevo_stage_id, row.brevo_pipeline_id)
        pipelines = self.index.items(BREVO, "pipeline")
        pipeline_name = row.brevo_pipeline_id
        if (
            pipeline is not None
            and sum(1 for p in pipelines if p.label.lower() == pipeline.label.lower()) == 1
        ):
            pipeline_name = pipeline.label
        stage_name = row.brevo_stage_id
        if stage is not None:
            siblings = self.index.children(BREVO, "stage", row.brevo_pipeline_id)
            if sum(1 for s in siblings if s.label.lower() == stage.label.lower()) == 1:
                stage_name = stage.label
        return {"pipeline": pipeline_name, "stage": stage_name}

    def object_key(self, row: CustomObjectFieldMapping) -> str:
        schema = self.index.get(AC, "custom_object", row.ac_schema_id)
        slug = str(schema.extra.get("slug") or "") if schema is not None else ""
        head = (
            slug
            if slug and "/" not in slug and self._unique("custom_object", row.ac_schema_id, slug, ("slug",))
            else row.ac_schema_id
        )
        return f"{head}/{row.ac_field_key}"

    def object_source(self, row: CustomObjectFieldMapping) -> str:
        entry = self.index.get(AC, "custom_object_field", row.ac_field_key, row.ac_schema_id)
        return source_type(entry.data_type) if entry is not None else "text"


def _typed(raw: str, kind: str) -> Any:
    try:
        return parse_tag_value(raw, kind)
    except ValueError:
        return raw
