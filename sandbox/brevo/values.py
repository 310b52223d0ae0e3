"""What every Brevo route group shares: the account's standard attributes, identifier rules,
size limits, the error that becomes a Brevo error body, and parsing of dates, phones and paging."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

import orjson
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE
from starlette.requests import Request
from starlette.responses import Response

STANDARD_ATTRIBUTES: tuple[dict[str, Any], ...] = (
    {"name": "EMAIL", "category": "normal", "type": "text"},
    {"name": "FIRSTNAME", "category": "normal", "type": "text"},
    {"name": "LASTNAME", "category": "normal", "type": "text"},
    {"name": "SMS", "category": "normal", "type": "text"},
    {"name": "LANDLINE_NUMBER", "category": "normal", "type": "text"},
    {"name": "WHATSAPP", "category": "normal", "type": "text"},
    {"name": "EXT_ID", "category": "normal", "type": "text"},
    {"name": "OPT_IN", "category": "normal", "type": "boolean"},
    {
        "name": "DOUBLE_OPT-IN",
        "category": "category",
        "type": "category",
        "enumeration": [{"value": 1, "label": "Yes"}, {"value": 2, "label": "No"}],
    },
)
# A 2026 category attribute with non-numeric options (reference §0): `value` 0, `valueStr` real.
LANGUAGE_ATTRIBUTE: dict[str, Any] = {
    "name": "LANGUAGE",
    "category": "category",
    "type": "category",
    "enumeration": [
        {"value": 0, "valueStr": "en", "label": "English"},
        {"value": 0, "valueStr": "fr", "label": "French"},
        {"value": 0, "valueStr": "de", "label": "German"},
    ],
}
REPORT_NAMES = (
    "invalid_emails",
    "duplicate_contact_id",
    "duplicate_ext_id",
    "duplicate_email_id",
    "duplicate_phone_id",
    "duplicate_whatsapp_id",
    "duplicate_landline_number_id",
)

ATTRIBUTE_CATEGORIES = ("normal", "transactional", "category", "calculated", "global")
TYPES_BY_CATEGORY = {
    "normal": {"text", "date", "float", "boolean", "multiple-choice", "user"},
    "transactional": {"id", "text", "date", "float"},
    "category": {"category"},
}
# Identifier attributes: stored value -> contact id indexes.
PHONE_ATTRS = ("SMS", "WHATSAPP", "LANDLINE_NUMBER")
INDEXED_ATTRS = ("EXT_ID", *PHONE_ATTRS)
DUP_NAME = {
    "EMAIL": "email",
    "SMS": "sms",
    "EXT_ID": "ext_id",
    "WHATSAPP": "whatsapp",
    "LANDLINE_NUMBER": "landline_number",
}
IMPORT_DUP_COUNTER = {
    "EXT_ID": "duplicate_ext_id",
    "SMS": "duplicate_phone_id",
    "WHATSAPP": "duplicate_whatsapp_id",
    "LANDLINE_NUMBER": "duplicate_landline_number_id",
}
IDENTIFIER_TYPES = {
    "email_id": "EMAIL",
    "contact_id": "ID",
    "ext_id": "EXT_ID",
    "phone_id": "SMS",
    "whatsapp_id": "WHATSAPP",
    "landline_number_id": "LANDLINE_NUMBER",
}
EVENT_IDENTIFIER_KEYS = ("email_id", "ext_id", "phone_id", "whatsapp_id", "landline_number_id", "contact_id")

_EMAIL_RE = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
EVENT_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
ATTRIBUTE_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,49}$")
DEAL_ID_RE = re.compile(r"^[0-9a-f]{24}$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}")
SMS_MESSAGE = "Invalid phone number, SMS phone number should be in format: 91xxxxxxxxxx or +91xxxxxxxxxx."

MAX_IMPORT_BYTES = 10 * 1024 * 1024
MAX_ORDER_BATCH_BYTES = 5 * 1024 * 1024
MAX_EVENT_PROPERTIES_BYTES = 50 * 1024
DROP = object()


class Fail(Exception):  # internal control flow: becomes an error response
    def __init__(self, status: int, code: str, message: str, metadata: dict | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.metadata = status, code, message, metadata


# ---------------------------------------------------------------- value helpers


class Text(str):
    """A handler's plain-text answer (CSV reports)."""


def v3_base(request: Request) -> str:
    """The URL of the API root this request came through, ending in '/' (for report links)."""
    path = request.url.path
    root = path[: path.index("/processes")] if "/processes" in path else path
    return str(request.url.replace(path=root.rstrip("/") + "/", query=""))


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def iso(ts: float) -> str:
    dt = datetime.fromtimestamp(ts, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_ts(value: str, name: str) -> float:
    try:
        dt = datetime.fromisoformat(value.strip())
    except (ValueError, AttributeError):
        raise Fail(
            400, "invalid_parameter", f"{name} is not a valid date-time (expected YYYY-MM-DDTHH:mm:ss.SSSZ)"
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def since_param(params: Mapping[str, str], name: str) -> float | None:
    return parse_ts(params[name], name) if params.get(name) else None


def valid_email(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= 254 and _EMAIL_RE.match(value) is not None


def normalise_phone(value: Any) -> str | None:
    """Digits with the country code, or None when Brevo would refuse the number."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    s = str(value).strip()
    if s.startswith("+"):
        digits = s[1:]
    elif s.startswith("00"):
        digits = s[2:]
    else:
        digits = s
    if not (digits.isascii() and digits.isdigit()) or not 6 <= len(digits) <= 19 or digits[0] == "0":
        return None
    if not any(int(digits[:k]) in COUNTRY_CODE_TO_REGION_CODE for k in (1, 2, 3)):
        return None
    return digits


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def qint(params: Mapping[str, str], name: str, default: int, maximum: int | None = None) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    value = as_int(raw)
    if value is None or value < 0:
        raise Fail(400, "invalid_parameter", f"{name} must be a non-negative integer")
    if maximum is not None and value > maximum:
        raise Fail(400, "out_of_range", f"{name} must be at most {maximum}")
    return value


def coerce(attr: dict, value: Any, *, from_text: bool) -> Any:
    """Value as Brevo would store it, or DROP when the type does not fit (dropped silently).

    `from_text` is for imports, where CSV cells (and many JSON rows) carry everything as text.
    """
    kind = attr.get("type") or attr["category"]
    if kind in ("text", "id", "user"):
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        return DROP
    if kind == "float":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        if from_text and isinstance(value, str):
            try:
                number = float(value.replace(",", "."))
            except ValueError:
                return DROP
            return int(number) if number.is_integer() else number
        return DROP
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if (
            from_text
            and isinstance(value, str)
            and value.strip().lower() in ("true", "false", "1", "0", "yes", "no")
        ):
            return value.strip().lower() in ("true", "1", "yes")
        return DROP
    if kind == "date":
        if isinstance(value, str) and _DATE_RE.match(value):
            try:
                return date.fromisoformat(value[:10]).isoformat()
            except ValueError:
                return DROP
        if from_text and isinstance(value, str):
            # Imports follow the account's dd-mm-yyyy preference (reference §3.3).
            for fmt in ("%d-%m-%Y", "%d/%m/%Y"):
                try:
                    return datetime.strptime(value.strip(), fmt).date().isoformat()
                except ValueError:
                    continue
        return DROP
    if kind == "category":
        # An option is stored as its real value: the number, or `valueStr` when not numeric.
        text = str(value).strip() if not isinstance(value, bool) else None
        number = as_int(value) if (from_text or not isinstance(value, str)) else None
        for e in attr.get("enumeration", []):
            real = e.get("valueStr") or e["value"]
            if e.get("valueStr") and text == e["valueStr"]:
                return real
            if not e.get("valueStr") and number is not None and number == e["value"]:
                return real
            if text is not None and text == e["label"]:
                return real
        return DROP
    if kind == "multiple-choice":
        if from_text and isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return DROP
        options = set(attr.get("multiCategoryOptions", []))
        return [v for v in value if v in options]
    return DROP  # calculated / global values are computed by Brevo, never written
