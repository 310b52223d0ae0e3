"""The mapping set: validated rules saying how one connection maps AC data onto Brevo.

A `MappingSet` is built once per run from the mapping rows, checked rule by rule here (and
across rules by `mapping_problems`), and stored on the run as a snapshot.
"""

from __future__ import annotations

import re
from enum import StrEnum

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mappings.transforms.values import clean_text

_FROZEN = ConfigDict(frozen=True, extra="forbid")

# Brevo event names and property keys (reference §5.1).
EVENT_NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,255}")
_ATTRIBUTE_RE = re.compile(r"\w[\w-]*")
_STANDARD_SOURCE_RE = re.compile(r"[a-z][a-z0-9_]*")


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
    tag_names: dict[int, str] = Field(default_factory=dict)


class MappingSet(BaseModel):
    """Everything a sync needs to know about how one connection maps AC onto Brevo."""

    model_config = _FROZEN

    default_country: str | None = None  # ISO 3166 alpha-2, for phones without a country code
    # A Brevo multiple-choice attribute that gets the names of the contact's tags (segmentation).
    tags_attribute: str | None = None
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
