"""The compiled mapping: a `MappingSet` turned into lookup tables and closures.

`compile_mapping` runs once per run; the per-record transforms then read plain tuples and
dicts, so they do no pydantic validation of the mapping and build payload dicts directly.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from mappings.records import DealStatus, SourceContact
from mappings.transforms.rules import (
    CONTACT_COLUMNS,
    FieldRule,
    MappingError,
    MappingLabels,
    MappingSet,
    Transform,
    mapping_problems,
)
from mappings.transforms.values import (
    MAX_SAFE_INTEGER,
    ValueRejected,
    ac_number_text,
    cents_to_major,
    quote,
    single_choice,
    split_multi,
    to_boolean,
    to_date,
    to_datetime,
    to_joined,
    to_multi,
    to_number,
    to_phone,
    to_text,
)

_DEAL_STATUS_LABELS = {DealStatus.OPEN: "open", DealStatus.WON: "won", DealStatus.LOST: "lost"}

Extractor = Callable[[SourceContact], object]
Converter = Callable[[object], Any]


Normalizer = Callable[[str], tuple[str | None, str | None]]


class _FieldPlan:
    __slots__ = ("attribute", "convert", "extract", "normalize", "source")

    def __init__(
        self,
        attribute: str,
        extract: Extractor,
        convert: Converter,
        source: str,
        normalize: Normalizer | None = None,
    ) -> None:
        self.attribute = attribute
        self.extract = extract
        self.convert = convert
        self.source = source
        # AC text by the AC field's type -> (text for `convert`, what was left out or None).
        self.normalize = normalize


class CompiledMapping:
    """A `MappingSet` turned into lookup tables and closures for the per-record path."""

    __slots__ = (
        "automations",
        "default_country",
        "events",
        "fields",
        "labels",
        "list_map",
        "mapping",
        "owners",
        "stages",
        "tag_attributes",
        "tag_lists",
        "tags_attribute",
    )

    def __init__(self, mapping: MappingSet) -> None:
        self.mapping = mapping
        self.default_country = mapping.default_country
        self.labels = mapping.labels
        self.fields = tuple(_plan_field(rule, mapping) for rule in mapping.fields)
        list_map: dict[int, set[int]] = {}
        for rule in mapping.lists:
            list_map.setdefault(rule.ac_list_id, set()).add(rule.brevo_list_id)
        self.list_map = {ac: tuple(sorted(brevo)) for ac, brevo in list_map.items()}
        self.tag_lists = tuple(
            (t.ac_tag_id, t.brevo_list_id, t.unlink_when_absent) for t in mapping.tags if t.brevo_list_id
        )
        self.tag_attributes = tuple(
            (t.ac_tag_id, t.attribute, t.value, t.value_when_absent) for t in mapping.tags if t.attribute
        )
        self.tags_attribute = mapping.tags_attribute
        self.stages = {rule.ac_stage_id: rule for rule in mapping.stages}
        self.owners = {rule.ac_user_id: rule.brevo_owner for rule in mapping.owners}
        self.automations = {rule.ac_automation_id: rule for rule in mapping.automations}
        self.events = {rule.ac_event_name: rule.brevo_event_name for rule in mapping.events}


def compile_mapping(mapping: MappingSet) -> CompiledMapping:
    """Check cross-rule consistency and precompute everything the per-record path needs."""
    problems = mapping_problems(mapping)
    if problems:
        raise MappingError(problems)
    return CompiledMapping(mapping)


def _as_raw(value: object) -> str:
    """Non-string source values (scores, deal amounts, custom objects) as AC-style strings."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        return "||" + "||".join(_as_raw(item) for item in value) + "||"
    return str(value)


def _number_text(raw: str) -> str | None:
    number = to_number(raw)
    if number is None:
        return None
    return str(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)


def _integer(raw: str) -> int | None:
    number = to_number(raw)
    if number is None:
        return None
    if not number.is_integer():
        raise ValueRejected(f"value {quote(raw)} is not a whole number")
    if abs(number) > MAX_SAFE_INTEGER:
        raise ValueRejected(f"value {quote(raw)} is too large")
    return int(number)


def _boolean_text(raw: str) -> str | None:
    flag = to_boolean(raw)
    return None if flag is None else ("true" if flag else "false")


def _datetime_text(raw: str) -> str | None:
    moment = to_datetime(raw)
    return None if moment is None else moment.isoformat()


def _string_converter(transform: Transform, attribute_type: str, country: str | None) -> Callable[[str], Any]:
    if transform is Transform.NUMBER:
        if attribute_type in ("category",):
            return _integer
        return _number_text if attribute_type in ("text", "id") else to_number
    if transform is Transform.DATE:
        return to_date
    if transform is Transform.DATETIME:
        return to_date if attribute_type == "date" else _datetime_text
    if transform is Transform.BOOLEAN:
        return to_boolean if attribute_type == "boolean" else _boolean_text
    if transform is Transform.PHONE:
        return partial(to_phone, default_country=country)
    if transform is Transform.MULTI:
        return to_multi
    if transform is Transform.MULTI_JOINED:
        return to_joined
    return to_text


def _converter(rule: FieldRule, country: str | None) -> Converter:
    convert = _string_converter(rule.transform, rule.attribute_type, country)

    def run(value: object) -> Any:
        return convert(value if isinstance(value, str) else _as_raw(value))

    return run


def _plan_field(rule: FieldRule, mapping: MappingSet) -> _FieldPlan:
    return _FieldPlan(
        rule.attribute,
        _extractor(rule, mapping.labels),
        _converter(rule, mapping.default_country),
        rule.describe_source(),
        _normalizer(rule.source_type, rule.transform),
    )


# AC field types by how AC writes their values (reference §4.1, §4.2, §6.5, §16 item 1 and 3).
SINGLE_CHOICE_TYPES = frozenset({"dropdown", "radio"})
MULTI_CHOICE_TYPES = frozenset({"listbox", "checkbox", "multiselect"})
NUMBER_TYPES = frozenset({"number", "decimal", "currency"})
_MULTI_TRANSFORMS = frozenset({Transform.MULTI, Transform.MULTI_JOINED})


def _normalizer(source_type: str, transform: Transform) -> Normalizer | None:
    """How an AC value of `source_type` is read before `transform` converts it (None: as is).

    * dropdown/radio: `||Retail||` is one option, `Retail`; with several, the first is kept
      and the others are named (a FieldError: the contact is written, those options are not).
    * listbox/checkbox/multiselect into a text value: the options joined ("a, b"); the multi
      transforms and boolean read the markup themselves.
    * number/currency: thousands separators, decimal commas and currency marks are read
      (`values.ac_number_text`).
    * textarea: Windows line ends become "\n", so the same text hashes the same.
    Dates, datetimes (with or without offset, zero-dates), hidden and text fields need nothing
    beyond the transforms' own reading.
    """
    if source_type in SINGLE_CHOICE_TYPES and transform not in _MULTI_TRANSFORMS:
        return _one_option
    if source_type in MULTI_CHOICE_TYPES and transform is Transform.TEXT:
        return _joined_options
    if source_type in NUMBER_TYPES and transform is Transform.NUMBER:
        return partial(_number_field, currency=source_type == "currency")
    if source_type == "textarea" and transform is Transform.TEXT:
        return _textarea
    return None


def _one_option(raw: str) -> tuple[str | None, str | None]:
    kept, others = single_choice(raw)
    if not others:
        return kept, None
    left_out = ", ".join(quote(o) for o in others)
    return kept, (
        f"the single-choice AC field holds {len(others) + 1} options; {quote(kept)} was sent, "
        f"{left_out} not (one choice per contact)"
    )


def _joined_options(raw: str) -> tuple[str | None, str | None]:
    items = split_multi(raw)
    return (", ".join(items) if items else None), None


def _number_field(raw: str, *, currency: bool) -> tuple[str | None, str | None]:
    return ac_number_text(raw, currency=currency), None


def _textarea(raw: str) -> tuple[str | None, str | None]:
    return raw.replace("\r\n", "\n").replace("\r", "\n"), None


def _extractor(rule: FieldRule, labels: MappingLabels) -> Extractor:
    source = rule.source
    if source == "field":
        field_id = rule.ac_field_id
        return lambda contact: contact.field_values.get(field_id)
    if source == "score":
        score_id = rule.score_id
        return lambda contact: contact.scores.get(score_id)
    if source == "custom_object":
        schema, field = rule.object_schema_id, rule.object_field_id
        return lambda contact: contact.custom_objects.get(schema, {}).get(field)
    if source.startswith("deal."):
        return _deal_extractor(source, rule.transform is Transform.NUMBER, labels)
    if source in CONTACT_COLUMNS:
        return lambda contact: getattr(contact, source)
    return lambda contact: contact.standard.get(source)


def _deal_extractor(source: str, want_id: bool, labels: MappingLabels) -> Extractor:
    if source == "deal.value":
        return lambda c: (
            None if c.deal is None or c.deal.value_cents is None else cents_to_major(c.deal.value_cents)
        )
    if source == "deal.currency":
        return lambda c: None if c.deal is None or not c.deal.currency else c.deal.currency.upper()
    attribute, table, noun = {
        "deal.stage": ("stage_id", labels.stage_titles, "stage"),
        "deal.pipeline": ("pipeline_id", labels.pipeline_titles, "pipeline"),
        "deal.owner": ("owner_id", labels.owner_names, "owner"),
        "deal.status": ("status", _DEAL_STATUS_LABELS, "status"),
    }[source]

    def extract(contact: SourceContact) -> object:
        if contact.deal is None:
            return None
        ident = getattr(contact.deal, attribute)
        if ident is None or want_id:
            return ident
        label = table.get(ident)
        if label is None and noun == "status":
            raise ValueRejected(f"deal status {ident} is unknown (AC uses 0 open, 1 won, 2 lost)")
        if label is None:
            raise ValueRejected(
                f"deal {noun} {ident} has no name in the discovered catalog (run discovery again)"
            )
        return label

    return extract
