"""Which transforms fit which source types and which Brevo attribute types. Pure.

A mapping is three things in a row: what AC gives (a source type: the AC field type, a score
number, a deal label, ...), how Tajo converts it (a `Transform`), and what Brevo stores (the
attribute type). `mappings.transforms.ATTRIBUTE_TRANSFORMS` owns the second half; this module
owns the first and picks sensible defaults, including the type of a Brevo attribute Tajo
creates for a mapping.
"""

from __future__ import annotations

import re

from mappings.transforms import ATTRIBUTE_TRANSFORMS, Transform

T = Transform

# What an AC value can become, by AC field type (reference §4.1; custom objects §12.1).
_TEXTUAL = frozenset({T.TEXT, T.NUMBER, T.DATE, T.DATETIME, T.BOOLEAN, T.PHONE})
SOURCE_TRANSFORMS: dict[str, frozenset[Transform]] = {
    "text": _TEXTUAL,
    "textarea": _TEXTUAL,
    "hidden": _TEXTUAL,
    "": _TEXTUAL,  # very old AC fields have no type
    "phone": frozenset({T.PHONE, T.TEXT}),
    "number": frozenset({T.NUMBER, T.TEXT}),
    "decimal": frozenset({T.NUMBER, T.TEXT}),
    "currency": frozenset({T.NUMBER, T.TEXT}),
    "date": frozenset({T.DATE, T.DATETIME, T.TEXT}),
    "datetime": frozenset({T.DATETIME, T.DATE, T.TEXT}),
    # Single choice; AC may still store it as "||A||", which the multi transforms read.
    "dropdown": frozenset({T.TEXT, T.NUMBER, T.BOOLEAN, T.MULTI, T.MULTI_JOINED}),
    "radio": frozenset({T.TEXT, T.NUMBER, T.BOOLEAN, T.MULTI, T.MULTI_JOINED}),
    # Multiple choice: "||a||b||" only makes sense split or joined.
    "listbox": frozenset({T.MULTI, T.MULTI_JOINED}),
    "checkbox": frozenset({T.MULTI, T.MULTI_JOINED, T.BOOLEAN}),
    "multiselect": frozenset({T.MULTI, T.MULTI_JOINED}),
    # Deal stage/owner/pipeline/status: a title (text) or the AC id (number).
    "label": frozenset({T.TEXT, T.NUMBER}),
}

DEFAULT_TRANSFORM: dict[str, Transform] = {
    "text": T.TEXT,
    "textarea": T.TEXT,
    "hidden": T.TEXT,
    "": T.TEXT,
    "phone": T.PHONE,
    "number": T.NUMBER,
    "decimal": T.NUMBER,
    "currency": T.NUMBER,
    "date": T.DATE,
    "datetime": T.DATETIME,
    "dropdown": T.TEXT,
    "radio": T.TEXT,
    "listbox": T.MULTI,
    "checkbox": T.MULTI,
    "multiselect": T.MULTI,
    "label": T.TEXT,
}

# The source type of standard contact columns and of the contact's primary deal.
STANDARD_SOURCE_TYPES: dict[str, str] = {
    "email": "text",
    "first_name": "text",
    "last_name": "text",
    "phone": "phone",
    "orgname": "text",
    "cdate": "datetime",
    "udate": "datetime",
    "deal.value": "number",
    "deal.currency": "text",
    "deal.stage": "label",
    "deal.pipeline": "label",
    "deal.owner": "label",
    "deal.status": "label",
}
SCORE_SOURCE_TYPE = "number"

# The Brevo attribute type Tajo creates for a mapping, by transform.
CREATE_TYPE: dict[Transform, str] = {
    T.TEXT: "text",
    T.NUMBER: "float",
    T.DATE: "date",
    T.DATETIME: "date",
    T.BOOLEAN: "boolean",
    T.PHONE: "text",
    T.MULTI: "multiple-choice",
    T.MULTI_JOINED: "text",
}

# Brevo reports category/calculated/global attributes without a usable `type`.
_READ_ONLY_CATEGORIES = frozenset({"calculated", "global"})

# New attribute names: Brevo publishes no rule; this is the safe subset (reference §3.3).
NEW_ATTRIBUTE_RE = re.compile(r"[A-Z][A-Z0-9_]{0,49}")
# Names Brevo accepts in payloads (existing attributes may contain '-', e.g. DOUBLE_OPT-IN).
ATTRIBUTE_RE = re.compile(r"[A-Z0-9_][A-Z0-9_-]{0,49}")
EVENT_NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,255}")


def source_type(ac_type: str | None) -> str:
    """An AC field type as a key of SOURCE_TRANSFORMS (unknown types read as text)."""
    kind = (ac_type or "").strip().lower()
    return kind if kind in SOURCE_TRANSFORMS else "text"


def brevo_type(data_type: str | None) -> str:
    """A catalog attribute type as a key of ATTRIBUTE_TRANSFORMS, or '' when it cannot be written."""
    kind = (data_type or "").strip().lower()
    kind = {"number": "float", "multiple_choice": "multiple-choice", "string": "text"}.get(kind, kind)
    return kind if kind in ATTRIBUTE_TRANSFORMS else ""


def writable_category(category: str | None) -> bool:
    return (category or "normal") not in _READ_ONLY_CATEGORIES


def attribute_accepts(attribute_type: str, transform: Transform) -> bool:
    return transform in ATTRIBUTE_TRANSFORMS.get(attribute_type, frozenset())


def default_transform(source: str, attribute_type: str | None = None) -> Transform:
    """The natural transform for `source`, bent to fit an existing attribute's type if needed."""
    natural = DEFAULT_TRANSFORM.get(source, T.TEXT)
    if not attribute_type or attribute_accepts(attribute_type, natural):
        return natural
    allowed = SOURCE_TRANSFORMS.get(source, SOURCE_TRANSFORMS["text"])
    for candidate in (T.NUMBER, T.DATE, T.DATETIME, T.BOOLEAN, T.MULTI, T.TEXT, T.MULTI_JOINED, T.PHONE):
        if candidate in allowed and attribute_accepts(attribute_type, candidate):
            return candidate
    return natural


def transform_labels(transforms: frozenset[Transform]) -> str:
    order = list(Transform)
    return ", ".join(t.value for t in sorted(transforms, key=order.index))
