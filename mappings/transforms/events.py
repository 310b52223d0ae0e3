"""Events: a tracked AC event or an automation entry/completion -> a Brevo custom event."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson

from mappings.records import SourceEvent
from mappings.transforms.compiled import CompiledMapping
from mappings.transforms.contacts import normalize_email
from mappings.transforms.results import BrevoEventPayload, EventResult, FieldError
from mappings.transforms.rules import EVENT_NAME_RE
from mappings.transforms.values import MAX_SAFE_INTEGER, clean_text, iso_datetime, quote

# Brevo limits (reference §5.1, §10 item 13).
EVENT_PROPERTIES_MAX_BYTES = 50_000  # "50 KB"; the decimal reading is the safe one.
EVENT_PROPERTY_MAX_DEPTH = 10


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
