"""Checks of mapping rows against the discovered catalog. Pure: rows and an index in, problems out.

Rows are the mapping models (saved or not) or anything with the same attributes, so the
admin's forms, the YAML importer and the pre-run check share one set of rules:

* an AC id that discovery never saw, or saw and later lost (drift);
* a Brevo attribute or list that does not exist (with what it would take to create it);
* a transform that does not fit the AC value or the Brevo attribute type;
* two sources onto one attribute, and other duplicates;
* Brevo's naming rules for attributes and events;
* a stage that does not belong to its pipeline (on either side).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from mappings.catalog import AC, BREVO, CatalogIndex, Entry
from mappings.compat import (
    ATTRIBUTE_RE,
    CREATE_TYPE,
    EVENT_NAME_RE,
    NEW_ATTRIBUTE_RE,
    SCORE_SOURCE_TYPE,
    SOURCE_TRANSFORMS,
    STANDARD_SOURCE_TYPES,
    attribute_accepts,
    brevo_type,
    source_type,
    transform_labels,
    writable_category,
)
from mappings.transforms import ATTRIBUTE_TRANSFORMS, Transform

ERROR = "error"
WARNING = "warning"

_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_OWNER_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,100}")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one row. `field` names the row's field to show it next to."""

    rule_kind: str
    row_id: int | None
    field: str | None
    code: str
    message: str
    row_label: str = ""
    severity: str = ERROR
    # What would fix it automatically, e.g. {"action": "create_attribute", "name": ..., "type": ...}.
    fix: dict[str, Any] | None = None

    def text(self) -> str:
        return f"{self.row_label}: {self.message}" if self.row_label else self.message

    @property
    def blocking(self) -> bool:
        return self.severity == ERROR


@dataclass
class _Row:
    """Problems found for one row, and its description for messages."""

    rule: Any
    label: str
    problems: list[Problem] = field(default_factory=list)

    def add(self, field_name: str | None, code: str, message: str, **kwargs: Any) -> None:
        self.problems.append(
            Problem(
                rule_kind=self.rule.rule_kind,
                row_id=getattr(self.rule, "pk", None),
                field=field_name,
                code=code,
                message=message,
                row_label=self.label,
                **kwargs,
            )
        )


def _transform(value: object) -> Transform | None:
    try:
        return Transform(str(value))
    except ValueError:
        return None


def _date(entry: Entry) -> str:
    return entry.missing_since.strftime("%Y-%m-%d %H:%M UTC") if entry.missing_since else ""


class MappingChecker:
    """Validates rows of one connection against its catalog index (None: never discovered)."""

    def __init__(self, index: CatalogIndex | None) -> None:
        self.index = index

    # ------------------------------------------------------------------ public

    def check_rule(self, rule: Any) -> list[Problem]:
        """Problems of one row on its own (no cross-row checks)."""
        row = _Row(rule, self.describe(rule))
        if self.index is None:
            row.add(None, "no_catalog", "no discovery yet: run discovery so this mapping can be checked")
            return row.problems
        getattr(self, f"_check_{rule.rule_kind}")(row)
        return row.problems

    def check_all(self, rules: Iterable[Any]) -> list[Problem]:
        """Every row's problems plus duplicates across rows (two sources onto one attribute, ...)."""
        rules = list(rules)
        if self.index is None:
            return [
                Problem(
                    rule_kind="",
                    row_id=None,
                    field=None,
                    code="no_catalog",
                    message="no discovery yet: run discovery so the mappings can be checked",
                )
            ]
        problems: list[Problem] = []
        for rule in rules:
            problems.extend(self.check_rule(rule))
        problems.extend(self.duplicates(rules))
        return problems

    def duplicates(self, rules: Iterable[Any]) -> list[Problem]:
        """Two sources onto one attribute; the same AC stage/user/automation/event mapped twice."""
        return [problem for _rule, _first, problem in self.duplicate_pairs(rules)]

    def duplicate_pairs(self, rules: Iterable[Any]) -> list[tuple[Any, Any, Problem]]:
        """(later row, earlier row it clashes with, problem of the later row) for every clash."""
        found: list[tuple[Any, Any, Problem]] = []
        seen: dict[tuple[str, str], Any] = {}
        for rule in rules:
            for key, field_name, what in self._identity(rule):
                first = seen.setdefault(key, rule)
                if first is rule:
                    continue
                row = _Row(rule, self.describe(rule))
                if key[0] == "attribute":
                    row.add(
                        field_name,
                        "duplicate_target",
                        f"attribute {key[1]} is already filled by {self.describe(first)}",
                    )
                else:
                    row.add(
                        field_name, "duplicate_source", f"{what} is already mapped by {self.describe(first)}"
                    )
                found.extend((rule, first, problem) for problem in row.problems)
        return found

    def describe(self, rule: Any) -> str:
        """The row in words, with catalog labels beside the ids."""
        kind = rule.rule_kind
        if kind == "standard":
            return f"{_standard_label(rule.source)} → {_upper(rule.attribute)}"
        if kind == "field":
            return f"{self._label(AC, 'field', rule.ac_field_id)} → {_upper(rule.attribute)}"
        if kind == "score":
            return f"{self._label(AC, 'score', rule.ac_score_id)} → {_upper(rule.attribute)}"
        if kind == "custom_object":
            return (
                f"{self._label(AC, 'custom_object', rule.ac_schema_id)} "
                f"{self._label(AC, 'custom_object_field', rule.ac_field_key, rule.ac_schema_id)} "
                f"→ {_upper(rule.attribute)}"
            )
        if kind == "list":
            return self._list_pair(rule)
        if kind == "tag":
            targets = []
            if rule.brevo_list_id:
                targets.append(f"Brevo {self._label(BREVO, 'list', rule.brevo_list_id)}")
            if rule.attribute:
                targets.append(f"attribute {_upper(rule.attribute)}")
            return f"AC {self._label(AC, 'tag', rule.ac_tag_id)} → {' and '.join(targets) or 'nothing'}"
        if kind == "stage":
            return (
                f"AC {self._label(AC, 'stage', rule.ac_stage_id)} → "
                f"Brevo {self._label(BREVO, 'stage', rule.brevo_stage_id, rule.brevo_pipeline_id)}"
            )
        if kind == "owner":
            return f"AC {self._label(AC, 'user', rule.ac_user_id)} → {rule.brevo_owner}"
        if kind == "automation":
            return f"AC {self._label(AC, 'automation', rule.ac_automation_id)} → {rule.brevo_event_entered}"
        if kind == "event":
            return f"AC event {rule.ac_event_name!r} → {rule.brevo_event_name}"
        return str(rule)

    def summary(self, rule: Any) -> str:
        """`describe` plus the types on both sides and the transform, for the admin's Checks column."""
        text = self.describe(rule)
        attribute = _upper(getattr(rule, "attribute", ""))
        if not attribute or rule.rule_kind == "tag" or self.index is None:
            return text
        source = self._source_type_of(rule)
        entry = self.index.get(BREVO, "attribute", attribute)
        target = entry.data_type if entry is not None else "?"
        return f"{text} · {source} → {target} via {rule.transform}"

    def _source_type_of(self, rule: Any) -> str:
        kind = rule.rule_kind
        if kind == "standard":
            return STANDARD_SOURCE_TYPES.get(rule.source, "text")
        if kind == "score":
            return SCORE_SOURCE_TYPE
        entry = None
        if kind == "field":
            entry = self.index.get(AC, "field", rule.ac_field_id)
        elif kind == "custom_object":
            entry = self.index.get(AC, "custom_object_field", rule.ac_field_key, rule.ac_schema_id)
        return (entry.data_type or "text") if entry is not None else "?"

    def attribute_fix(self, rule: Any) -> dict[str, Any] | None:
        """How to create the attribute a row needs: name, Brevo type and options (multi-choice)."""
        name = _upper(getattr(rule, "attribute", ""))
        if not name or not NEW_ATTRIBUTE_RE.fullmatch(name):
            return None
        if rule.rule_kind == "tag":
            kind = _value_type(rule.value)
            return {"action": "create_attribute", "name": name, "type": kind}
        transform = _transform(rule.transform) or Transform.TEXT
        kind = CREATE_TYPE[transform]
        fix: dict[str, Any] = {"action": "create_attribute", "name": name, "type": kind}
        if kind == "multiple-choice":
            options = self._source_options(rule)
            if not options:
                # Brevo needs at least one option to create a multiple-choice attribute.
                return None
            fix["options"] = options
        return fix

    # ------------------------------------------------------------------ per kind

    def _check_standard(self, row: _Row) -> None:
        rule = row.rule
        source = rule.source
        if source not in STANDARD_SOURCE_TYPES:
            row.add("source", "unknown_source", f"'{source}' is not a standard ActiveCampaign field")
            return
        self._check_attribute(row, STANDARD_SOURCE_TYPES[source], _standard_label(source))

    def _check_field(self, row: _Row) -> None:
        entry = self._ac(row, "field", row.rule.ac_field_id, "ac_field_id")
        if entry is None:
            return
        self._check_attribute(
            row, source_type(entry.data_type), f"{entry.describe()} ({entry.data_type or 'text'})"
        )

    def _check_score(self, row: _Row) -> None:
        entry = self._ac(row, "score", row.rule.ac_score_id, "ac_score_id")
        if entry is None:
            return
        if (entry.extra.get("reltype") or "contact") != "contact":
            row.add(
                "ac_score_id",
                "deal_score",
                f"{entry.describe()} scores deals, not contacts, so it cannot fill a contact attribute",
            )
            return
        self._check_attribute(row, SCORE_SOURCE_TYPE, entry.describe())

    def _check_custom_object(self, row: _Row) -> None:
        rule = row.rule
        schema = self._ac(row, "custom_object", rule.ac_schema_id, "ac_schema_id")
        if schema is None:
            return
        entry = self._ac(
            row, "custom_object_field", rule.ac_field_key, "ac_field_key", parent=rule.ac_schema_id
        )
        if entry is None:
            return
        self._check_attribute(
            row, source_type(entry.data_type), f"{entry.describe()} ({entry.data_type or 'text'})"
        )

    def _check_list(self, row: _Row) -> None:
        self._ac(row, "list", row.rule.ac_list_id, "ac_list_id")
        self._brevo_list(row, row.rule.brevo_list_id)

    def _check_tag(self, row: _Row) -> None:
        rule = row.rule
        self._ac(row, "tag", rule.ac_tag_id, "ac_tag_id")
        if not rule.brevo_list_id and not rule.attribute:
            row.add("brevo_list_id", "no_target", "choose a Brevo list, an attribute, or both")
            return
        if rule.brevo_list_id:
            self._brevo_list(row, rule.brevo_list_id)
        if rule.attribute:
            entry = self._attribute_entry(row)
            if entry is not None:
                kind = brevo_type(entry.data_type)
                for field_name, raw in (("value", rule.value), ("value_when_absent", rule.value_when_absent)):
                    if field_name == "value_when_absent" and not raw:
                        continue
                    problem = tag_value_problem(raw, kind)
                    if problem:
                        row.add(field_name, "bad_value", problem)
        if rule.unlink_when_absent and not rule.brevo_list_id:
            row.add("unlink_when_absent", "no_target", "removing from a list needs a Brevo list")

    def _check_stage(self, row: _Row) -> None:
        rule = row.rule
        stage = self._ac(row, "stage", rule.ac_stage_id, "ac_stage_id")
        if rule.ac_pipeline_id:
            pipeline = self._ac(row, "pipeline", rule.ac_pipeline_id, "ac_pipeline_id")
            if stage is not None and pipeline is not None and stage.parent_id != str(rule.ac_pipeline_id):
                owner = self.index.get(AC, "pipeline", stage.parent_id) if stage.parent_id else None
                belongs = owner.describe() if owner else f"pipeline {stage.parent_id or '?'}"
                row.add(
                    "ac_stage_id",
                    "stage_pipeline",
                    f"AC {stage.describe()} belongs to {belongs}, not to {pipeline.describe()}",
                )
        brevo_pipeline = self._brevo(row, "pipeline", rule.brevo_pipeline_id, "brevo_pipeline_id")
        if not rule.brevo_stage_id:
            row.add("brevo_stage_id", "required", "choose a Brevo stage")
            return
        in_pipeline = self.index.get(BREVO, "stage", rule.brevo_stage_id, rule.brevo_pipeline_id)
        if in_pipeline is None:
            anywhere = self.index.get(BREVO, "stage", rule.brevo_stage_id)
            if anywhere is not None and brevo_pipeline is not None:
                owner = self.index.get(BREVO, "pipeline", anywhere.parent_id)
                row.add(
                    "brevo_stage_id",
                    "stage_pipeline",
                    f"Brevo {anywhere.describe()} belongs to "
                    f"{owner.describe() if owner else 'pipeline ' + anywhere.parent_id}, "
                    f"not to {brevo_pipeline.describe()}",
                )
            elif brevo_pipeline is not None:
                row.add("brevo_stage_id", "unknown_brevo_id", f"Brevo has no stage {rule.brevo_stage_id}")
        elif not in_pipeline.present:
            row.add(
                "brevo_stage_id",
                "drift",
                f"Brevo {in_pipeline.describe()} was deleted since {_date(in_pipeline)} (found by discovery)",
            )

    def _check_owner(self, row: _Row) -> None:
        rule = row.rule
        self._ac(row, "user", rule.ac_user_id, "ac_user_id")
        owner = (rule.brevo_owner or "").strip()
        if not owner:
            row.add("brevo_owner", "required", "enter the Brevo user's login email or user id")
        elif "@" in owner and not _EMAIL_RE.fullmatch(owner):
            row.add("brevo_owner", "bad_name", f"'{owner}' is not an email address")
        elif "@" not in owner and not _OWNER_ID_RE.fullmatch(owner):
            row.add("brevo_owner", "bad_name", f"'{owner}' is neither an email address nor a Brevo user id")

    def _check_automation(self, row: _Row) -> None:
        rule = row.rule
        self._ac(row, "automation", rule.ac_automation_id, "ac_automation_id")
        _event_name(row, "brevo_event_entered", rule.brevo_event_entered, required=True)
        _event_name(row, "brevo_event_completed", rule.brevo_event_completed, required=False)

    def _check_event(self, row: _Row) -> None:
        rule = row.rule
        if not (rule.ac_event_name or "").strip():
            row.add("ac_event_name", "required", "choose an ActiveCampaign event")
        elif not _webhook_event(rule.ac_event_name):
            # A webhook event name (contact_add, subscribe, ...) renames the forwarded webhook
            # event; it is not a tracked event, so discovery does not list it.
            self._ac(row, "event", rule.ac_event_name, "ac_event_name")
        _event_name(row, "brevo_event_name", rule.brevo_event_name, required=True)

    # ------------------------------------------------------------------ helpers

    def _label(self, side: str, kind: str, ident: object, parent: object | None = None) -> str:
        entry = (
            self.index.get(side, kind, ident, parent)
            if self.index is not None and ident not in (None, "")
            else None
        )
        if entry is None:
            from mappings.catalog import KIND_NOUNS

            return f"{KIND_NOUNS.get(kind, kind)} {ident}"
        return entry.describe()

    def _list_pair(self, rule: Any) -> str:
        ac_list = self._label(AC, "list", rule.ac_list_id)
        return f"AC {ac_list} → Brevo {self._label(BREVO, 'list', rule.brevo_list_id)}"

    def _ac(
        self, row: _Row, kind: str, ident: object, field_name: str, parent: object | None = None
    ) -> Entry | None:
        from mappings.catalog import KIND_NOUNS

        noun = KIND_NOUNS.get(kind, kind)
        if ident in (None, ""):
            row.add(field_name, "required", f"choose an ActiveCampaign {noun}")
            return None
        entry = self.index.get(AC, kind, ident, parent)
        if entry is None:
            failed = self.index.errors.get(f"ac.{kind}")
            hint = (
                f" (discovery could not read them: {failed})"
                if failed
                else " (run discovery again if it is new)"
            )
            row.add(field_name, "unknown_ac_id", f"ActiveCampaign has no {noun} {ident}{hint}")
            return None
        if not entry.present:
            row.add(
                field_name,
                "drift",
                f"AC {entry.describe()} was deleted in ActiveCampaign (missing since {_date(entry)})",
            )
            return None
        return entry

    def _brevo(self, row: _Row, kind: str, ident: object, field_name: str) -> Entry | None:
        from mappings.catalog import KIND_NOUNS

        noun = KIND_NOUNS.get(kind, kind)
        if ident in (None, ""):
            row.add(field_name, "required", f"choose a Brevo {noun}")
            return None
        entry = self.index.get(BREVO, kind, ident)
        if entry is None:
            row.add(field_name, "unknown_brevo_id", f"Brevo has no {noun} {ident}")
            return None
        if not entry.present:
            row.add(
                field_name, "drift", f"Brevo {entry.describe()} was deleted (missing since {_date(entry)})"
            )
            return None
        return entry

    def _brevo_list(self, row: _Row, list_id: object) -> Entry | None:
        return self._brevo(row, "list", list_id, "brevo_list_id")

    def _attribute_entry(self, row: _Row) -> Entry | None:
        """The Brevo attribute a row names, or None after reporting why it cannot be used."""
        rule = row.rule
        name = _upper(rule.attribute)
        if not name:
            row.add("attribute", "required", "enter a Brevo attribute")
            return None
        entry = self.index.get(BREVO, "attribute", name)
        fix = self.attribute_fix(rule)
        if entry is None:
            if not NEW_ATTRIBUTE_RE.fullmatch(name):
                rule_text = (
                    "Brevo attribute names are capital letters, digits and _, start with a letter "
                    "and have at most 50 characters"
                )
                if not ATTRIBUTE_RE.fullmatch(name):
                    row.add(
                        "attribute", "bad_name", f"'{name}' is not a valid Brevo attribute name: {rule_text}"
                    )
                else:
                    row.add(
                        "attribute",
                        "bad_name",
                        f"Brevo has no attribute {name}, and new names must follow: {rule_text}",
                    )
                return None
            kind = f" (it can be created as {fix['type']})" if fix else ""
            row.add("attribute", "missing_attribute", f"Brevo has no attribute {name}{kind}", fix=fix)
            return None
        if not entry.present:
            row.add(
                "attribute",
                "drift",
                f"Brevo attribute {name} was deleted (missing since {_date(entry)})",
                fix=fix,
            )
            return None
        category = entry.extra.get("category")
        if not writable_category(category):
            row.add(
                "attribute",
                "read_only_attribute",
                f"Brevo attribute {name} is {category} and cannot be written",
            )
            return None
        if not brevo_type(entry.data_type):
            row.add(
                "attribute",
                "type_mismatch",
                f"Brevo attribute {name} has type '{entry.data_type or category}', which a sync cannot fill",
            )
            return None
        return entry

    def _check_attribute(self, row: _Row, source: str, source_text: str) -> None:
        rule = row.rule
        transform = _transform(rule.transform)
        if transform is None:
            row.add("transform", "bad_transform", f"'{rule.transform}' is not a transform")
            return
        allowed = SOURCE_TRANSFORMS.get(source, SOURCE_TRANSFORMS["text"])
        if transform not in allowed:
            row.add(
                "transform",
                "type_mismatch",
                f"{source_text} cannot be converted with '{transform.value}' "
                f"(use {transform_labels(allowed)})",
            )
        entry = self._attribute_entry(row)
        if entry is None:
            return
        kind = brevo_type(entry.data_type)
        if not attribute_accepts(kind, transform):
            fits = ATTRIBUTE_TRANSFORMS[kind] & allowed
            hint = f"use {transform_labels(fits)}" if fits else "map it onto an attribute of another type"
            row.add(
                "attribute",
                "type_mismatch",
                f"Brevo attribute {entry.external_id} is {kind}; transform '{transform.value}' "
                f"does not fill a {kind} attribute ({hint})",
            )
            return
        if kind == "multiple-choice":
            options = set(entry.extra.get("options") or [])
            missing = [opt for opt in self._source_options(rule) if opt not in options]
            if options and missing:
                row.add(
                    "attribute",
                    "missing_options",
                    f"Brevo attribute {entry.external_id} lacks the options {', '.join(missing[:10])}; "
                    "values with them may be dropped by Brevo",
                    severity=WARNING,
                )

    def _source_options(self, rule: Any) -> list[str]:
        if self.index is None:
            return []
        entry = None
        if rule.rule_kind == "field":
            entry = self.index.get(AC, "field", rule.ac_field_id)
        elif rule.rule_kind == "custom_object":
            entry = self.index.get(AC, "custom_object_field", rule.ac_field_key, rule.ac_schema_id)
        if entry is None:
            return []
        return [str(option) for option in entry.extra.get("options") or [] if str(option).strip()]

    def _identity(self, rule: Any) -> list[tuple[tuple[str, str], str, str]]:
        kind = rule.rule_kind
        keys: list[tuple[tuple[str, str], str, str]] = []
        attribute = rule.target_attribute() if hasattr(rule, "target_attribute") else None
        if attribute:
            keys.append((("attribute", _upper(attribute)), "attribute", ""))
        if kind == "stage":
            keys.append(
                (("stage", str(rule.ac_stage_id)), "ac_stage_id", self._label(AC, "stage", rule.ac_stage_id))
            )
        elif kind == "owner":
            keys.append(
                (("owner", str(rule.ac_user_id)), "ac_user_id", self._label(AC, "user", rule.ac_user_id))
            )
        elif kind == "automation":
            keys.append(
                (
                    ("automation", str(rule.ac_automation_id)),
                    "ac_automation_id",
                    self._label(AC, "automation", rule.ac_automation_id),
                )
            )
        elif kind == "event":
            keys.append((("event", rule.ac_event_name), "ac_event_name", f"AC event {rule.ac_event_name!r}"))
        elif kind == "list":
            keys.append(
                (
                    ("list", f"{rule.ac_list_id}>{rule.brevo_list_id}"),
                    "brevo_list_id",
                    self._list_pair(rule),
                )
            )
        return keys


def _webhook_event(name: str) -> bool:
    from connectors.webhooks.parsing import TAJO_EVENT_NAMES

    text = name.strip()
    return text in TAJO_EVENT_NAMES or text in TAJO_EVENT_NAMES.values()


def _upper(value: object) -> str:
    return str(value or "").strip().upper()


def _standard_label(source: str) -> str:
    from mappings.models import StandardSource

    try:
        return f"AC {StandardSource(source).label}"
    except ValueError:
        return f"AC {source}"


def _event_name(row: _Row, field_name: str, value: str | None, *, required: bool) -> None:
    name = (value or "").strip()
    if not name:
        if required:
            row.add(field_name, "required", "enter a Brevo event name")
        return
    if not EVENT_NAME_RE.fullmatch(name):
        row.add(
            field_name,
            "bad_name",
            f"'{name}' is not a valid Brevo event name (1-255 letters, digits, _ or -, no spaces)",
        )


def _value_type(raw: object) -> str:
    """The Brevo type a tag value suggests when Tajo creates the attribute."""
    text = str(raw if raw is not None else "").strip().lower()
    if text in ("true", "false", "yes", "no"):
        return "boolean"
    try:
        float(text)
    except ValueError:
        return "text"
    return "float"


def parse_tag_value(raw: object, attribute_type: str) -> bool | float | str:
    """A tag value (stored as text) as the attribute's type; raises ValueError with a reason."""
    if isinstance(raw, bool | int | float) and not isinstance(raw, str):
        text = "true" if raw is True else "false" if raw is False else repr(raw)
    else:
        text = str(raw if raw is not None else "").strip()
    if attribute_type == "boolean":
        lowered = text.lower()
        if lowered in ("true", "yes", "1", "on"):
            return True
        if lowered in ("false", "no", "0", "off"):
            return False
        raise ValueError(f"'{text}' is not true or false (the attribute is boolean)")
    if attribute_type in ("float", "category"):
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"'{text}' is not a number (the attribute is {attribute_type})") from None
        if attribute_type == "category":
            if not number.is_integer():
                raise ValueError(
                    f"'{text}' is not a whole number (category attributes take the option value)"
                )
            return int(number)
        return number
    if attribute_type == "date":
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError(f"'{text}' is not a date YYYY-MM-DD (the attribute is a date)")
        return text
    if attribute_type == "multiple-choice":
        raise ValueError("a tag cannot set a multiple-choice attribute; use a text or boolean attribute")
    if not text:
        raise ValueError("enter a value")
    return text


def tag_value_problem(raw: object, attribute_type: str) -> str | None:
    try:
        parse_tag_value(raw, attribute_type)
    except ValueError as exc:
        return str(exc)
    return None
