"""Pure transforms from normalised ActiveCampaign records to Brevo payloads.

Flow: the engine builds a `MappingSet` (validated once, stored on the run as a snapshot),
calls `compile_mapping` once per run, then calls `transform_contact` / `transform_deal` /
`transform_order` / `transform_event` per record. The compiled form holds plain tuples of
closures, so the per-record path does no pydantic validation of the mapping and builds
payload dicts directly.

A transform never raises for bad record data: a bad value becomes a `FieldError` (that
attribute is dropped, the rest still syncs) and a record that cannot be sent at all gets a
`skip_reason` plus a machine `skip_code`. docs/consent.md lists the choices made here.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from enum import StrEnum
from functools import lru_cache, partial
from typing import Any

import orjson
import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mappings.consent import decide_lists
from mappings.records import (
    DealStatus,
    OrderState,
    SourceContact,
    SourceDeal,
    SourceEvent,
    SourceOrder,
    SourceOrderProduct,
)
from mappings.values import (
    MAX_SAFE_INTEGER,
    ValueRejected,
    ac_number_text,
    cents_to_major,
    clean_text,
    iso_datetime,
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
    utc_seconds,
)

_FROZEN = ConfigDict(frozen=True, extra="forbid")

# Brevo limits (reference §5.1, §10 item 13).
EVENT_NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,255}")
EVENT_PROPERTIES_MAX_BYTES = 50_000  # "50 KB"; the decimal reading is the safe one.
EVENT_PROPERTY_MAX_DEPTH = 10
DEAL_NAME_MAX_CHARS = 255
ORDER_META_MAX_CHARS = 255
ORDER_QUANTITY_MAX = 1_000_000_000
_ATTRIBUTE_RE = re.compile(r"\w[\w-]*")
_STANDARD_SOURCE_RE = re.compile(r"[a-z][a-z0-9_]*")

AttributeValue = str | float | int | bool | list[str]


class Transform(StrEnum):
    """How a raw AC value becomes a Brevo value."""

    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    DATETIME = "datetime"
    BOOLEAN = "boolean"
    PHONE = "phone"  # E.164 using the mapping set's default country
    MULTI = "multi"  # "||a||b||" -> ["a", "b"] for a multiple-choice attribute
    MULTI_JOINED = "multi_joined"  # "||a||b||" -> "a, b"


# Brevo contact attribute types a rule may fill, and the transforms each accepts.
ATTRIBUTE_TRANSFORMS: dict[str, frozenset[Transform]] = {
    "text": frozenset(Transform) - {Transform.MULTI},
    "float": frozenset({Transform.NUMBER}),
    "date": frozenset({Transform.DATE, Transform.DATETIME}),
    "boolean": frozenset({Transform.BOOLEAN}),
    "multiple-choice": frozenset({Transform.MULTI}),
    "category": frozenset({Transform.NUMBER}),
    "id": frozenset({Transform.TEXT, Transform.NUMBER}),
    "user": frozenset({Transform.TEXT}),
}
_ATTRIBUTE_TYPE_ALIASES = {
    "number": "float",
    "multiple_choice": "multiple-choice",
    "multi-choice": "multiple-choice",
    "multichoice": "multiple-choice",
    "string": "text",
}

CONTACT_COLUMNS = ("email", "first_name", "last_name", "phone", "udate")
DEAL_SOURCES = ("deal.value", "deal.stage", "deal.owner", "deal.pipeline", "deal.status", "deal.currency")
# Deal sources that are ids with a readable label: text gives the label, number the id.
_LABELLED_DEAL_SOURCES = frozenset({"deal.stage", "deal.owner", "deal.pipeline", "deal.status"})
_DEAL_STATUS_LABELS = {DealStatus.OPEN: "open", DealStatus.WON: "won", DealStatus.LOST: "lost"}

# AC Deep Data order state -> Brevo order status; abandoned carts are not orders.
ORDER_STATUS = {
    OrderState.PENDING: "pending",
    OrderState.COMPLETED: "completed",
    OrderState.RECOVERED: "completed",
    OrderState.WAITING: "pending",
}


# --------------------------------------------------------------------------- mapping set


def _attribute_name(value: str) -> str:
    name = value.strip().upper()
    if not _ATTRIBUTE_RE.fullmatch(name):
        raise ValueError(f"{value!r} is not a Brevo attribute name (letters, digits, _ and - only)")
    return name


class FieldRule(BaseModel):
    """One AC value -> one Brevo contact attribute.

    `source`: "field" (custom field `ac_field_id`), a contact column (`email`, `first_name`,
    `last_name`, `phone`, `udate`) or another standard column name (`orgname`, ...), "score"
    (`score_id`), a deal attribute of the contact's primary deal (`deal.value`, `deal.stage`,
    `deal.owner`, `deal.pipeline`, `deal.status`, `deal.currency`), or "custom_object"
    (`object_schema_id` + `object_field_id`).
    """

    model_config = _FROZEN

    source: str
    ac_field_id: int | None = None
    score_id: int | None = None
    object_schema_id: str | None = None
    object_field_id: str | None = None
    attribute: str
    transform: Transform = Transform.TEXT
    attribute_type: str = "text"
    # The AC field's type (reference §4.1: text, textarea, date, datetime, dropdown, listbox,
    # radio, checkbox, hidden, number; custom objects and deals add currency, multiselect...).
    # It says how AC writes the raw value, so the value is normalised by it before the
    # transform (see `_normalizer`). "" when unknown: the raw value goes to the transform as is.
    source_type: str = ""

    @field_validator("attribute")
    @classmethod
    def _upper_attribute(cls, value: str) -> str:
        return _attribute_name(value)

    @field_validator("source_type")
    @classmethod
    def _lower_source_type(cls, value: str) -> str:
        return value.strip().lower()

    @field_validator("attribute_type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        kind = value.strip().lower()
        kind = _ATTRIBUTE_TYPE_ALIASES.get(kind, kind)
        if kind not in ATTRIBUTE_TRANSFORMS:
            known = ", ".join(sorted(ATTRIBUTE_TRANSFORMS))
            raise ValueError(
                f"Brevo attribute type {value!r} cannot be written by a sync (use one of {known})"
            )
        return kind

    @model_validator(mode="after")
    def _consistent(self) -> FieldRule:
        source = self.source
        if source == "field" and self.ac_field_id is None:
            raise ValueError("source 'field' needs ac_field_id")
        if source == "score" and self.score_id is None:
            raise ValueError("source 'score' needs score_id")
        if source == "custom_object" and not (self.object_schema_id and self.object_field_id):
            raise ValueError("source 'custom_object' needs object_schema_id and object_field_id")
        if source.startswith("deal.") and source not in DEAL_SOURCES:
            raise ValueError(f"unknown deal source {source!r} (use one of {', '.join(DEAL_SOURCES)})")
        if (
            source not in ("field", "score", "custom_object")
            and not source.startswith("deal.")
            and not _STANDARD_SOURCE_RE.fullmatch(source)
        ):
            raise ValueError(f"unknown source {source!r}")
        if source in _LABELLED_DEAL_SOURCES and self.transform not in (Transform.TEXT, Transform.NUMBER):
            raise ValueError(f"{source} gives a title (transform text) or an id (transform number)")
        if self.transform not in ATTRIBUTE_TRANSFORMS[self.attribute_type]:
            hint = "; use multi_joined for a text attribute" if self.transform is Transform.MULTI else ""
            raise ValueError(
                f"transform {self.transform.value!r} cannot fill a {self.attribute_type} attribute "
                f"({self.attribute}){hint}"
            )
        return self

    def describe_source(self) -> str:
        """The AC side of the rule in words, for error messages."""
        if self.source == "field":
            return f"AC field {self.ac_field_id}"
        if self.source == "score":
            return f"AC score {self.score_id}"
        if self.source == "custom_object":
            return f"AC custom object {self.object_schema_id} field {self.object_field_id}"
        return f"AC {self.source}"


class ListRule(BaseModel):
    """Membership of an AC list -> membership of a Brevo list (see mappings.consent)."""

    model_config = _FROZEN

    ac_list_id: int
    brevo_list_id: int


class TagRule(BaseModel):
    """An AC tag -> a Brevo list and/or a contact attribute value."""

    model_config = _FROZEN

    ac_tag_id: int
    brevo_list_id: int | None = None
    attribute: str | None = None
    value: bool | float | str = True
    value_when_absent: bool | float | str | None = None
    # Unlink from brevo_list_id when the tag is gone. Off by default: a Brevo list may also
    # hold people who never had the tag.
    unlink_when_absent: bool = False

    @field_validator("attribute")
    @classmethod
    def _upper_attribute(cls, value: str | None) -> str | None:
        return None if value is None else _attribute_name(value)

    @field_validator("value", "value_when_absent")
    @classmethod
    def _clean_value(cls, value: bool | float | str | None) -> bool | float | str | None:
        # Typed into a form or a YAML file: control characters (NUL above all) never reach Brevo.
        return clean_text(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _has_target(self) -> TagRule:
        if self.brevo_list_id is None and self.attribute is None:
            raise ValueError(f"tag {self.ac_tag_id} needs a Brevo list or an attribute")
        return self


class StageRule(BaseModel):
    """An AC pipeline stage -> a Brevo pipeline stage (CRM ids are strings in Brevo)."""

    model_config = _FROZEN

    ac_pipeline_id: int | None = None
    ac_stage_id: int
    brevo_pipeline_id: str
    brevo_stage_id: str


class OwnerRule(BaseModel):
    """An AC user -> a Brevo deal owner (the Brevo user's id or login email)."""

    model_config = _FROZEN

    ac_user_id: int
    brevo_owner: str


def _event_name(value: str) -> str:
    if not EVENT_NAME_RE.fullmatch(value):
        raise ValueError(f"{value!r} is not a Brevo event name (1-255 letters, digits, _ or -)")
    return value


class AutomationRule(BaseModel):
    """Entering (and optionally completing) an AC automation -> Brevo custom events."""

    model_config = _FROZEN

    ac_automation_id: int
    brevo_event_entered: str
    brevo_event_completed: str | None = None

    @field_validator("brevo_event_entered", "brevo_event_completed")
    @classmethod
    def _valid_name(cls, value: str | None) -> str | None:
        return None if value is None else _event_name(value)


class EventRule(BaseModel):
    """A tracked AC event name -> a Brevo custom event name."""

    model_config = _FROZEN

    ac_event_name: str
    brevo_event_name: str

    @field_validator("brevo_event_name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        return _event_name(value)


class MappingLabels(BaseModel):
    """Readable names from the discovered catalog, so DEAL_STAGE can hold a title."""

    model_config = _FROZEN

    stage_titles: dict[int, str] = Field(default_factory=dict)
    pipeline_titles: dict[int, str] = Field(default_factory=dict)
    owner_names: dict[int, str] = Field(default_factory=dict)
    automation_names: dict[int, str] = Field(default_factory=dict)


class MappingSet(BaseModel):
    """Everything a sync needs to know about how one connection maps AC onto Brevo."""

    model_config = _FROZEN

    default_country: str | None = None  # ISO 3166 alpha-2, for phones without a country code
    fields: tuple[FieldRule, ...] = ()
    lists: tuple[ListRule, ...] = ()
    tags: tuple[TagRule, ...] = ()
    stages: tuple[StageRule, ...] = ()
    owners: tuple[OwnerRule, ...] = ()
    automations: tuple[AutomationRule, ...] = ()
    events: tuple[EventRule, ...] = ()
    labels: MappingLabels = MappingLabels()

    @field_validator("default_country")
    @classmethod
    def _known_country(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        code = value.strip().upper()
        if code not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"{value!r} is not an ISO 3166 two-letter country code")
        return code


class MappingError(ValueError):
    """The mapping set contradicts itself; `problems` lists every contradiction found."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def mapping_problems(mapping: MappingSet) -> list[str]:
    """Contradictions between rules that single-rule validation cannot see."""
    problems: list[str] = []
    targets: dict[str, str] = {}
    for rule in mapping.fields:
        if rule.attribute in targets:
            problems.append(
                f"attribute {rule.attribute} is filled by both {targets[rule.attribute]} "
                f"and {rule.describe_source()}"
            )
        targets.setdefault(rule.attribute, rule.describe_source())
    for tag in mapping.tags:
        if tag.attribute is not None and tag.attribute in targets:
            problems.append(
                f"attribute {tag.attribute} is filled by both tag {tag.ac_tag_id} and "
                f"{targets[tag.attribute]}"
            )
    stages: dict[int, StageRule] = {}
    for stage in mapping.stages:
        seen = stages.setdefault(stage.ac_stage_id, stage)
        if seen != stage:
            problems.append(f"AC stage {stage.ac_stage_id} is mapped to two different Brevo stages")
    owners: dict[int, str] = {}
    for owner in mapping.owners:
        if owners.setdefault(owner.ac_user_id, owner.brevo_owner) != owner.brevo_owner:
            problems.append(f"AC user {owner.ac_user_id} is mapped to two different Brevo owners")
    automations: dict[int, AutomationRule] = {}
    for automation in mapping.automations:
        if automations.setdefault(automation.ac_automation_id, automation) != automation:
            problems.append(f"AC automation {automation.ac_automation_id} is mapped twice")
    events: dict[str, str] = {}
    for event in mapping.events:
        if events.setdefault(event.ac_event_name, event.brevo_event_name) != event.brevo_event_name:
            problems.append(f"AC event {event.ac_event_name!r} is mapped to two different Brevo events")
    return problems


# --------------------------------------------------------------------------- compiled form

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


# --------------------------------------------------------------------------- results


class FieldError(BaseModel):
    """One value that was not sent; `field` names the Brevo side, `reason` says what to fix."""

    model_config = _FROZEN

    field: str
    reason: str
    source: str | None = None


class BrevoContactPayload(BaseModel):
    """A Brevo contact upsert. `email_blacklisted` None means: leave Brevo's flag as it is."""

    model_config = _FROZEN

    email: str
    attributes: dict[str, AttributeValue] = Field(default_factory=dict)
    list_ids: tuple[int, ...] = ()
    unlink_list_ids: tuple[int, ...] = ()
    email_blacklisted: bool | None = None

    def to_brevo(self) -> dict[str, Any]:
        """The body of a `PUT /contacts/{email}` / `POST /contacts/batch` item (reference §2.3)."""
        body: dict[str, Any] = {"email": self.email, "attributes": self.attributes}
        if self.list_ids:
            body["listIds"] = list(self.list_ids)
        if self.unlink_list_ids:
            body["unlinkListIds"] = list(self.unlink_list_ids)
        if self.email_blacklisted is not None:
            body["emailBlacklisted"] = self.email_blacklisted
        return body


class ContactResult(BaseModel):
    """Outcome of mapping one contact: a payload (maybe with field errors) or a skip reason.

    `skip_code`: "no_email" (nothing to match on in Brevo: record as skipped) or
    "invalid_email" (bad data an operator should fix: record as failed).
    """

    model_config = _FROZEN

    ac_id: int
    payload: BrevoContactPayload | None = None
    errors: tuple[FieldError, ...] = ()
    skip_reason: str | None = None
    skip_code: str | None = None
    blacklist_reason: str | None = None


class BrevoDealPayload(BaseModel):
    """A Brevo CRM deal; the engine turns `contact_email` into `linkedContactsIds`."""

    model_config = _FROZEN

    name: str
    attributes: dict[str, Any] = Field(default_factory=dict)
    contact_email: str | None = None

    def to_brevo(self) -> dict[str, Any]:
        """The body of `POST /crm/deals` / `PATCH /crm/deals/{id}` without linked ids (§6.1)."""
        return {"name": self.name, "attributes": self.attributes}


class DealResult(BaseModel):
    """Outcome of mapping one deal. `skip_code`: "no_stage", "unmapped_stage"."""

    model_config = _FROZEN

    ac_id: int
    payload: BrevoDealPayload | None = None
    errors: tuple[FieldError, ...] = ()
    skip_reason: str | None = None
    skip_code: str | None = None


class BrevoOrderProduct(BaseModel):
    model_config = _FROZEN

    product_id: str
    price: float
    quantity: float
    variant_id: str | None = None

    def to_brevo(self) -> dict[str, Any]:
        item: dict[str, Any] = {"productId": self.product_id, "price": self.price}
        if self.quantity.is_integer():
            item["quantity"] = int(self.quantity)
        else:
            item["quantityFloat"] = self.quantity
        if self.variant_id:
            item["variantId"] = self.variant_id
        return item


class BrevoOrderPayload(BaseModel):
    """A Brevo order for `POST /orders/status` or one item of `/orders/status/batch` (§7.3)."""

    model_config = _FROZEN

    id: str
    created_at: str
    updated_at: str
    status: str
    amount: float
    email: str
    products: tuple[BrevoOrderProduct, ...]
    store_id: str | None = None
    coupons: tuple[str, ...] = ()
    meta_info: dict[str, str | float | bool] = Field(default_factory=dict)

    def to_brevo(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "status": self.status,
            "amount": self.amount,
            "identifiers": {"email_id": self.email},
            "products": [product.to_brevo() for product in self.products],
        }
        if self.store_id:
            body["storeId"] = self.store_id
        if self.coupons:
            body["coupons"] = list(self.coupons)
        if self.meta_info:
            body["metaInfo"] = self.meta_info
        return body


class OrderResult(BaseModel):
    """Outcome of mapping one order. `skip_code`: "abandoned_cart", "unknown_state",
    "no_email", "invalid_email", "no_amount", "bad_amount", "no_date", "bad_date", "no_products"."""

    model_config = _FROZEN

    ac_id: int
    payload: BrevoOrderPayload | None = None
    errors: tuple[FieldError, ...] = ()
    skip_reason: str | None = None
    skip_code: str | None = None


class BrevoEventPayload(BaseModel):
    """A Brevo custom event for `POST /events` (reference §5.1)."""

    model_config = _FROZEN

    event_name: str
    email: str
    event_date: str | None = None
    event_properties: dict[str, Any] = Field(default_factory=dict)

    def to_brevo(self) -> dict[str, Any]:
        body: dict[str, Any] = {"event_name": self.event_name, "identifiers": {"email_id": self.email}}
        if self.event_date:
            body["event_date"] = self.event_date
        if self.event_properties:
            body["event_properties"] = self.event_properties
        return body


class EventResult(BaseModel):
    """Outcome of mapping one event. `skip_code`: "unmapped_event", "no_email", "invalid_email"."""

    model_config = _FROZEN

    payload: BrevoEventPayload | None = None
    errors: tuple[FieldError, ...] = ()
    skip_reason: str | None = None
    skip_code: str | None = None
    source_id: str | None = None


# Reasons a record is not sent that are nobody's mistake to fix (it simply has no place in
# Brevo); every other reason is a failure an operator should look at.
NOT_APPLICABLE_CODES = frozenset({"no_email", "unmapped_stage", "unmapped_event", "abandoned_cart"})


def not_sent_outcome(skip_code: str | None) -> str:
    """ "skipped" or "failed" for a result without payload: one rule for every resource."""
    return "skipped" if skip_code in NOT_APPLICABLE_CODES else "failed"


# --------------------------------------------------------------------------- hashing


def content_hash(payload: BaseModel | Mapping[str, Any]) -> str:
    """Stable digest of what would be sent: same content -> same hash, in any key order.

    Payload models hash their Brevo body (`to_brevo()`); list ids are already sorted there,
    and JSON object keys are sorted here. The version prefix lets a change of canonical form
    invalidate stored hashes deliberately rather than by accident.
    """
    body = payload.to_brevo() if hasattr(payload, "to_brevo") else payload
    if isinstance(body, BaseModel):
        body = body.model_dump(mode="json")
    data = orjson.dumps(body, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    return hashlib.blake2b(b"tajo-payload-v1\x00" + data, digest_size=16).hexdigest()


# --------------------------------------------------------------------------- contacts


# An unquoted ASCII local part ("dot-atom", RFC 5322) after lowercasing: the common case.
_LOCAL_PART_RE = re.compile(r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*")


def _check_email(email: str) -> None:
    validate_email(email, check_deliverability=False, allow_smtputf8=False, test_environment=True)


@lru_cache(maxsize=65_536)
def _domain_problem(domain: str) -> str | None:
    """Domains repeat across contacts (gmail.com, ...), so their costly IDNA check is cached."""
    try:
        _check_email("a@" + domain)
    except EmailNotValidError as exc:
        return str(exc)
    return None


def normalize_email(raw: str | None) -> tuple[str | None, str | None, str | None]:
    """(email, skip_code, reason): lowercased and trimmed, or why it cannot identify a contact."""
    if raw is None or not raw.strip():
        return None, "no_email", "no email address: contact cannot be matched in Brevo"
    email = raw.strip().lower()
    local, at, domain = email.rpartition("@")
    if at and len(local) <= 64 and len(email) <= 254 and _LOCAL_PART_RE.fullmatch(local):
        problem = _domain_problem(domain)
    else:
        try:
            _check_email(email)
            problem = None
        except EmailNotValidError as exc:
            problem = str(exc)
    if problem is not None:
        return None, "invalid_email", f"email {quote(raw)} is not a valid address: {problem}"
    return email, None, None


def transform_contact(contact: SourceContact, mapping: CompiledMapping) -> ContactResult:
    """Map one AC contact onto a Brevo contact upsert, or say why it cannot be sent."""
    email, skip_code, reason = normalize_email(contact.email)
    if email is None:
        return ContactResult.model_construct(
            ac_id=contact.ac_id,
            payload=None,
            errors=(),
            skip_reason=reason,
            skip_code=skip_code,
            blacklist_reason=None,
        )

    attributes: dict[str, Any] = {}
    errors: list[FieldError] = []
    for plan in mapping.fields:
        try:
            raw = plan.extract(contact)
            if raw is None:
                continue
            if plan.normalize is not None and isinstance(raw, str):
                raw, left_out = plan.normalize(raw)
                if left_out is not None:
                    errors.append(
                        FieldError.model_construct(
                            field=plan.attribute,
                            reason=f"{left_out} for attribute {plan.attribute}",
                            source=plan.source,
                        )
                    )
                if raw is None:
                    continue
            value = plan.convert(raw)
        except ValueRejected as exc:
            errors.append(
                FieldError.model_construct(
                    field=plan.attribute,
                    reason=f"{exc.reason} for attribute {plan.attribute}",
                    source=plan.source,
                )
            )
            continue
        if value is not None:
            attributes[plan.attribute] = value

    tags = contact.tags
    if mapping.tag_attributes:
        _apply_tag_attributes(mapping.tag_attributes, tags, attributes)

    tag_adds = [list_id for tag_id, list_id, _ in mapping.tag_lists if tag_id in tags]
    tag_removes = [list_id for tag_id, list_id, unlink in mapping.tag_lists if unlink and tag_id not in tags]
    decision = decide_lists(
        contact.lists,
        mapping.list_map,
        tag_adds=tag_adds,
        tag_removes=tag_removes,
        duplicates=contact.duplicate_lists,
    )

    payload = BrevoContactPayload.model_construct(
        email=email,
        attributes=attributes,
        list_ids=decision.list_ids,
        unlink_list_ids=decision.unlink_list_ids,
        email_blacklisted=decision.email_blacklisted,
    )
    return ContactResult.model_construct(
        ac_id=contact.ac_id,
        payload=payload,
        errors=tuple(errors),
        skip_reason=None,
        skip_code=None,
        blacklist_reason=decision.blacklist_reason,
    )


def consent_payload(contact: SourceContact, mapping: CompiledMapping) -> BrevoContactPayload | None:
    """Only the list changes and blocklist flag for a contact's merged list statuses.

    For an AC contact merged into a newer one with the same email that was written before:
    its values are not sent (the newer contact's are in Brevo), its opt-outs must be. Tags are
    left out: they are values of the newer contact. None when the email cannot be sent.
    """
    email, _code, _reason = normalize_email(contact.email)
    if email is None:
        return None
    decision = decide_lists(contact.lists, mapping.list_map, duplicates=contact.duplicate_lists)
    return BrevoContactPayload.model_construct(
        email=email,
        attributes={},
        list_ids=decision.list_ids,
        unlink_list_ids=decision.unlink_list_ids,
        email_blacklisted=decision.email_blacklisted,
    )


def _apply_tag_attributes(
    rules: tuple[tuple[int, str, object, object], ...], tags: frozenset[int], attributes: dict[str, Any]
) -> None:
    """Present tags set their value (first rule in order wins); absent-values fill the rest."""
    set_by_tag: set[str] = set()
    for tag_id, attribute, value, _absent in rules:
        if tag_id in tags and attribute not in set_by_tag:
            attributes[attribute] = value
            set_by_tag.add(attribute)
    for tag_id, attribute, _value, absent in rules:
        if absent is not None and tag_id not in tags and attribute not in set_by_tag:
            attributes.setdefault(attribute, absent)


# --------------------------------------------------------------------------- deals


def transform_deal(deal: SourceDeal, mapping: CompiledMapping) -> DealResult:
    """Map one AC deal onto a Brevo CRM deal (amount in major units, mapped stage and owner)."""
    errors: list[FieldError] = []
    if deal.stage_id is None:
        return DealResult(
            ac_id=deal.ac_id,
            skip_reason="deal has no stage, so it cannot be placed in a Brevo pipeline",
            skip_code="no_stage",
        )
    stage = mapping.stages.get(deal.stage_id)
    if stage is None or (
        stage.ac_pipeline_id is not None
        and deal.pipeline_id is not None
        and stage.ac_pipeline_id != deal.pipeline_id
    ):
        return DealResult(
            ac_id=deal.ac_id,
            skip_reason=f"{_describe_stage(deal, mapping.labels)} has no Brevo stage mapping: "
            "map it to a Brevo pipeline stage to sync this deal",
            skip_code="unmapped_stage",
        )
    attributes: dict[str, Any] = {"pipeline": stage.brevo_pipeline_id, "deal_stage": stage.brevo_stage_id}

    name = clean_text(deal.title or "").strip()
    if not name:
        name = f"ActiveCampaign deal {deal.ac_id}"
    elif len(name) > DEAL_NAME_MAX_CHARS:
        # Brevo needs a name, so an oversize title is cut (and said) rather than dropped.
        errors.append(
            FieldError(
                field="name",
                reason=f"deal title of {len(name)} characters was cut to {DEAL_NAME_MAX_CHARS}",
                source="AC deal title",
            )
        )
        name = name[: DEAL_NAME_MAX_CHARS - 1] + "…"

    if deal.value_cents is not None:
        if deal.value_cents < 0 or deal.value_cents > MAX_SAFE_INTEGER:
            errors.append(
                FieldError(
                    field="amount",
                    reason=f"deal value {quote(str(deal.value_cents))} cents is negative or too large",
                    source="AC deal value",
                )
            )
        else:
            attributes["amount"] = deal.value_cents / 100

    if deal.owner_id is not None:
        owner = mapping.owners.get(deal.owner_id)
        if owner is None:
            who = mapping.labels.owner_names.get(deal.owner_id)
            label = f"AC user {deal.owner_id}" + (f" ({who})" if who else "")
            errors.append(
                FieldError(
                    field="deal_owner",
                    reason=f"{label} has no Brevo owner mapping; the deal is sent without an owner",
                    source="AC deal owner",
                )
            )
        else:
            attributes["deal_owner"] = owner

    contact_email = None
    if deal.contact_email:
        contact_email, _code, reason = normalize_email(deal.contact_email)
        if contact_email is None:
            errors.append(
                FieldError(
                    field="linkedContactsIds",
                    reason=f"{reason}; the deal is sent without a linked contact",
                    source="AC deal contact",
                )
            )

    payload = BrevoDealPayload(name=name, attributes=attributes, contact_email=contact_email)
    return DealResult(ac_id=deal.ac_id, payload=payload, errors=tuple(errors))


def _describe_stage(deal: SourceDeal, labels: MappingLabels) -> str:
    text = f"stage {deal.stage_id}"
    if title := labels.stage_titles.get(deal.stage_id):
        text += f" {quote(title)}"
    if deal.pipeline_id is not None:
        text += f" of pipeline {deal.pipeline_id}"
        if title := labels.pipeline_titles.get(deal.pipeline_id):
            text += f" {quote(title)}"
    return text


# --------------------------------------------------------------------------- orders


def transform_order(order: SourceOrder, mapping: CompiledMapping) -> OrderResult:
    """Map one AC Deep Data order onto a Brevo order (money in major units, UTC dates)."""

    def skip(code: str, reason: str, errors: tuple[FieldError, ...] = ()) -> OrderResult:
        return OrderResult(ac_id=order.ac_id, errors=errors, skip_reason=reason, skip_code=code)

    state = OrderState.COMPLETED if order.state is None else order.state
    if state == OrderState.ABANDONED:
        return skip("abandoned_cart", "abandoned cart: not a purchase, so it is not sent as a Brevo order")
    status = ORDER_STATUS.get(state)
    if status is None:
        return skip("unknown_state", f"order state {order.state} is unknown to Tajo")
    email, code, reason = normalize_email(order.email)
    if email is None:
        return skip(code or "no_email", reason or "")
    if order.total_cents is None:
        return skip("no_amount", "order has no total amount")
    if not 0 <= order.total_cents <= MAX_SAFE_INTEGER:
        return skip(
            "bad_amount", f"order total {quote(str(order.total_cents))} cents is negative or too large"
        )
    created = order.created_at or order.updated_at
    if created is None:
        return skip("no_date", "order has no creation date")

    try:
        created_at = utc_seconds(created)
        updated_at = utc_seconds(order.updated_at or created)
    except ValueRejected as exc:
        return skip("bad_date", f"order {exc.reason}")

    errors: list[FieldError] = []
    products: list[BrevoOrderProduct] = []
    for index, line in enumerate(order.products):
        product, problem = _order_product(line)
        if product is None:
            errors.append(FieldError(field=f"products[{index}]", reason=problem, source="AC order product"))
        else:
            products.append(product)
    if not products:
        return skip(
            "no_products",
            "order has no products Brevo can accept (Brevo orders need at least one)",
            tuple(errors),
        )

    meta: dict[str, str | float | bool] = {"ac_order_id": str(order.ac_id)}
    for key, value in (("external_id", order.external_id), ("order_number", order.order_number)):
        if value and value.strip():
            meta[key] = clean_text(value.strip())[:ORDER_META_MAX_CHARS]
    if order.currency:
        meta["currency"] = order.currency.strip().upper()[:ORDER_META_MAX_CHARS]
    coupons = tuple(sorted({clean_text(c).strip() for c in order.discount_codes if c and c.strip()}))

    payload = BrevoOrderPayload(
        # AC's own order id: unique across store connections and stable, unlike the shop's id.
        id=f"ac-{order.ac_id}",
        created_at=created_at,
        updated_at=updated_at,
        status=status,
        amount=order.total_cents / 100,
        email=email,
        products=tuple(products),
        store_id=str(order.connection_id) if order.connection_id is not None else None,
        coupons=coupons,
        meta_info=meta,
    )
    return OrderResult(ac_id=order.ac_id, payload=payload, errors=tuple(errors))


def _order_product(line: SourceOrderProduct) -> tuple[BrevoOrderProduct | None, str]:
    product_id = (line.external_id or line.sku or "").strip()
    label = quote(line.name) if line.name else quote(product_id) if product_id else "without a name"
    if not product_id:
        return None, f"product {label} has neither an external id nor a SKU"
    if line.price_cents is None or not 0 <= line.price_cents <= MAX_SAFE_INTEGER:
        return None, f"product {label} has no valid price"
    # The comparison also refuses NaN and infinities; the cap keeps it a JSON-safe integer.
    if line.quantity is None or not 0 < line.quantity <= ORDER_QUANTITY_MAX:
        return None, f"product {label} has no positive quantity"
    variant = line.sku.strip() if line.external_id and line.sku and line.sku.strip() != product_id else None
    return BrevoOrderProduct(
        product_id=clean_text(product_id)[:ORDER_META_MAX_CHARS],
        price=line.price_cents / 100,
        quantity=float(line.quantity),
        variant_id=clean_text(variant)[:ORDER_META_MAX_CHARS] if variant else None,
    ), ""


# --------------------------------------------------------------------------- events


def transform_event(event: SourceEvent, mapping: CompiledMapping) -> EventResult:
    """Map a tracked AC event or an automation entry/completion onto a Brevo custom event."""
    name, reason = _event_target(event, mapping)
    if name is None:
        return EventResult(skip_reason=reason, skip_code="unmapped_event", source_id=event.source_id)
    email, code, reason = normalize_email(event.email)
    if email is None:
        return EventResult(skip_reason=reason, skip_code=code, source_id=event.source_id)

    errors: list[FieldError] = []
    raw: dict[str, object] = dict(event.properties)
    if event.kind == "tracked":
        if event.data:
            raw.setdefault("eventdata", event.data)
    elif event.automation_id is not None:
        raw.setdefault("automation_id", event.automation_id)
        if label := mapping.labels.automation_names.get(event.automation_id):
            raw.setdefault("automation_name", label)
    properties = _clean_properties(raw, "event_properties", errors, 0)
    size = len(orjson.dumps(properties))
    if size > EVENT_PROPERTIES_MAX_BYTES:
        errors.append(
            FieldError(
                field="event_properties",
                reason=f"event properties are {size} bytes, over Brevo's {EVENT_PROPERTIES_MAX_BYTES}; "
                "the event is sent without properties",
            )
        )
        properties = {}
    payload = BrevoEventPayload(
        event_name=name,
        email=email,
        event_date=iso_datetime(event.occurred_at) if event.occurred_at else None,
        event_properties=properties,
    )
    return EventResult(payload=payload, errors=tuple(errors), source_id=event.source_id)


def _event_target(event: SourceEvent, mapping: CompiledMapping) -> tuple[str | None, str]:
    if event.kind == "tracked":
        name = mapping.events.get(event.name or "")
        return name, f"AC event {quote(event.name or '')} is not mapped to a Brevo event"
    rule = mapping.automations.get(event.automation_id) if event.automation_id is not None else None
    if rule is None:
        return None, f"AC automation {event.automation_id} is not mapped to a Brevo event"
    if event.kind == "automation_completed":
        return rule.brevo_event_completed, f"completion of AC automation {event.automation_id} is not mapped"
    return rule.brevo_event_entered, ""


def _clean_properties(
    raw: Mapping[Any, object], path: str, errors: list[FieldError], depth: int
) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for key, value in raw.items():
        if not isinstance(key, str) or not EVENT_NAME_RE.fullmatch(key):
            errors.append(
                FieldError(
                    field=f"{path}.{quote(key)}",
                    reason="property name must be 1-255 letters, digits, _ or -; the property was not sent",
                )
            )
            continue
        ok, converted = _clean_property_value(value, f"{path}.{key}", errors, depth)
        if ok:
            clean[key] = converted
    return clean


def _clean_property_value(value: object, path: str, errors: list[FieldError], depth: int) -> tuple[bool, Any]:
    if value is None or isinstance(value, bool):
        return True, value
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            errors.append(FieldError(field=path, reason="property is a number too large to send"))
            return False, None
        return True, value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            errors.append(FieldError(field=path, reason="property is not a finite number; it was not sent"))
            return False, None
        return True, value
    if isinstance(value, str):
        return True, clean_text(value)
    if isinstance(value, datetime):
        return True, iso_datetime(value)
    if depth >= EVENT_PROPERTY_MAX_DEPTH:
        errors.append(
            FieldError(
                field=path,
                reason=f"property nests deeper than {EVENT_PROPERTY_MAX_DEPTH} levels; it was not sent",
            )
        )
        return False, None
    if isinstance(value, Mapping):
        return True, _clean_properties(value, path, errors, depth + 1)
    if isinstance(value, list | tuple):
        items = []
        for index, item in enumerate(value):
            ok, converted = _clean_property_value(item, f"{path}[{index}]", errors, depth + 1)
            if ok:
                items.append(converted)
        return True, items
    errors.append(FieldError(field=path, reason=f"property of type {type(value).__name__} cannot be sent"))
    return False, None
