"""Brevo custom events: one, a batch, and the listing (reference §5)."""

from __future__ import annotations

import time
from typing import Any

import orjson
from starlette.requests import Request

from sandbox.brevo.state import BrevoState
from sandbox.brevo.values import (
    EVENT_IDENTIFIER_KEYS,
    EVENT_NAME_RE,
    INDEXED_ATTRS,
    MAX_EVENT_PROPERTIES_BYTES,
    Fail,
    as_int,
    iso,
    normalise_phone,
    parse_ts,
    qint,
    valid_email,
)


class EventRoutes(BrevoState):
    """`/events` and `/events/batch`."""

    # ------------------------------------------------------------ events

    def _validate_event(self, body: Any) -> dict:
        if not isinstance(body, dict):
            raise Fail(400, "bad_request", "Event must be a JSON object")
        name = body.get("event_name")
        if not name:
            raise Fail(400, "missing_parameter", "event_name is mandatory")
        if not isinstance(name, str) or not EVENT_NAME_RE.match(name):
            raise Fail(
                400,
                "invalid_parameter",
                "event_name is limited to 255 characters, alphanumerical characters and - _ only",
            )
        identifiers = body.get("identifiers")
        if not isinstance(identifiers, dict) or not any(
            identifiers.get(k) not in (None, "") for k in EVENT_IDENTIFIER_KEYS
        ):
            raise Fail(
                400,
                "missing_parameter",
                f"identifiers must contain at least one of: {', '.join(EVENT_IDENTIFIER_KEYS)}",
            )
        if identifiers.get("email_id") not in (None, "") and not valid_email(identifiers["email_id"]):
            raise Fail(400, "invalid_parameter", "identifiers.email_id is not a valid email address")
        if "contact_id" in identifiers and (
            as_int(identifiers["contact_id"]) is None or isinstance(identifiers["contact_id"], str)
        ):
            raise Fail(400, "invalid_parameter", "identifiers.contact_id must be an integer")
        for key in ("phone_id", "whatsapp_id", "landline_number_id"):
            if identifiers.get(key) not in (None, "") and normalise_phone(identifiers[key]) is None:
                raise Fail(400, "invalid_parameter", f"identifiers.{key} is not a valid phone number")
        event_date = body.get("event_date")
        if event_date is not None:
            if not isinstance(event_date, str):
                raise Fail(400, "invalid_parameter", "event_date must be an ISO 8601 string")
            parse_ts(event_date, "event_date")
        props = body.get("event_properties")
        if props is not None:
            if not isinstance(props, dict):
                raise Fail(400, "invalid_parameter", "event_properties must be an object")
            self._check_property_keys(props, "event_properties")
            if len(orjson.dumps(props)) > MAX_EVENT_PROPERTIES_BYTES:
                raise Fail(400, "invalid_parameter", "event_properties is limited to 50KB")
        contact_props = body.get("contact_properties")
        if contact_props is not None and (
            not isinstance(contact_props, dict)
            or not all(isinstance(v, str | int | float | bool) or v is None for v in contact_props.values())
        ):
            raise Fail(
                400,
                "invalid_parameter",
                "contact_properties must be an object of string, number or boolean values",
            )
        return {
            "name": name,
            "identifiers": identifiers,
            "event_date": event_date,
            "event_properties": props or {},
            "contact_properties": contact_props or {},
        }

    def _check_property_keys(self, value: Any, where: str) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                if not isinstance(key, str) or not EVENT_NAME_RE.match(key):
                    raise Fail(
                        400,
                        "invalid_parameter",
                        f"{where}: keys are limited to 255 characters, "
                        f"alphanumerical characters and - _ only (got {str(key)[:40]!r})",
                    )
                self._check_property_keys(inner, where)
        elif isinstance(value, list):
            for inner in value:
                self._check_property_keys(inner, where)

    def _record_event(self, event: dict) -> None:
        identifiers = event["identifiers"]
        cid = None
        if identifiers.get("contact_id") is not None:
            cid = self._find("ID", identifiers["contact_id"])
            if cid is None:
                raise Fail(404, "document_not_found", "Contact does not exist")
        for key, kind in (
            ("email_id", "EMAIL"),
            ("ext_id", "EXT_ID"),
            ("phone_id", "SMS"),
            ("whatsapp_id", "WHATSAPP"),
            ("landline_number_id", "LANDLINE_NUMBER"),
        ):
            if cid is None and identifiers.get(key) not in (None, ""):
                cid = self._find(kind, identifiers[key])
        now = time.time()
        attrs = self._prepare_attributes(event["contact_properties"], from_text=False, drop_unknown=True)
        if cid is None:
            if not self.events_create_contacts:
                raise Fail(404, "document_not_found", "Contact does not exist")
            ids = {}
            if identifiers.get("email_id"):
                ids["EMAIL"] = identifiers["email_id"].strip().lower()
            if identifiers.get("ext_id"):
                ids["EXT_ID"] = str(identifiers["ext_id"])
            for key, kind in (
                ("phone_id", "SMS"),
                ("whatsapp_id", "WHATSAPP"),
                ("landline_number_id", "LANDLINE_NUMBER"),
            ):
                if identifiers.get(key):
                    ids[kind] = normalise_phone(identifiers[key])
            c = self._new_contact(now)
            self._apply(c, ids, {}, erase_empty=False, now=now)
            cid = c["id"]
        c = self._contacts[cid]
        if attrs:
            self._apply(
                c,
                {},
                {k: v for k, v in attrs.items() if k not in INDEXED_ATTRS and k != "EMAIL"},
                erase_empty=False,
                now=now,
            )
        self._events.append(
            {
                "contact_id": cid,
                "email": c["email"],
                "event_name": event["name"],
                "event_date": event["event_date"] or iso(now),
                "identifiers": dict(identifiers),
                "event_properties": event["event_properties"],
                "contact_properties": event["contact_properties"],
                "received_at": iso(now),
            }
        )

    def _create_event(self, request: Request, body: Any) -> tuple[int, Any]:
        self._record_event(self._validate_event(body))
        return 204, None

    def _create_events_batch(self, request: Request, body: Any) -> tuple[int, Any]:
        items = body.get("events") if isinstance(body, dict) else body
        if not isinstance(items, list) or not items:
            raise Fail(400, "invalid_parameter", "Send a non-empty array of events")
        errors: dict[str, list[int]] = {}
        ok = 0
        for index, item in enumerate(items):
            try:
                self._record_event(self._validate_event(item))
                ok += 1
            except Fail as fail:
                errors.setdefault(fail.message, []).append(index)
        if not errors:
            return 202, {"message": "Batch accepted for processing", "count": ok}
        return 207, {
            "status": "partial_success" if ok else "failed",
            "total_events": len(items),
            "successful_events": ok,
            "failed_events": len(items) - ok,
            "errors": [{"eventIndex": idx, "message": msg} for msg, idx in errors.items()],
        }

    def _list_events(self, request: Request, body: Any) -> tuple[int, Any]:
        params = request.query_params
        limit = qint(params, "limit", 100, 10000)
        offset = qint(params, "offset", 0)
        contact_ids = {int(x) for x in params.getlist("contact_id") if x.isdigit()}
        names = set(params.getlist("event_name"))
        rows = [
            e
            for e in reversed(self._events)
            if (not contact_ids or e["contact_id"] in contact_ids) and (not names or e["event_name"] in names)
        ]
        return 200, {
            "events": [
                {
                    "contact_id": e["contact_id"],
                    "event_date": e["event_date"],
                    "event_name": e["event_name"],
                    "source": "api",
                    "event_properties": e["event_properties"],
                    "contact_properties": e["contact_properties"],
                }
                for e in rows[offset : offset + limit]
            ],
            "count": len(rows),
        }
