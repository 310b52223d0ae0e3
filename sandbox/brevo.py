"""In-memory simulator of the parts of the Brevo API v3 that Tajo writes to.

It follows `reference/brevo-api-v3.md` (its §11 checklist) rather than what is convenient:
401 bodies, the four rate-limit buckets with `x-sib-ratelimit-*` headers, 201/204/400
semantics of contact writes, the all-or-nothing batch update, asynchronous imports that
move through `queued -> in_process -> completed`, list add/remove reports, events, CRM
deals, orders and the account.

By default it follows the contract as it is since the 2026 changes (reference §0);
`legacy=True` brings back the older behaviour for tests written against it:

* `POST /contacts/batch` (deprecated, effective 2026-10-30) answers as a removed endpoint:
  404 naming its replacement. Legacy: the batch update described below.
* Processes: `info.import` fields are URLs of CSV reports the sandbox serves itself
  (`/v3/processes/{id}/reports/{name}`) or null; no `error`, `created_at`, `completed_at`; a
  running import says `processing`. Legacy: counters, `in_process`, the dates.
  `import_failure="failed"` or `"cancelled"` makes imports end so without writing a row.
* Category attributes carry `{value, valueStr, label}` (`value` 0 for a non-numeric option);
  the seeded LANGUAGE attribute has non-numeric options. Contacts carry `whatsappBlacklisted`.
* `POST /orders/status/batch` answers `batch_id` (brevo-python 5.1.0); legacy `batchId`.

Choices where the reference leaves room (each is a constructor knob):

* `unknown_attributes="ignore"`: attributes that do not exist in the account are ignored on
  create/update/batch, as imports are documented to do; `"reject"` answers 400
  `invalid_parameter` instead. Values of the wrong type for a known attribute are always
  dropped silently with a 2xx (§10 quirk 5).
* `batch_unknown="all_or_nothing"`: `POST /contacts/batch` answers 404 "No contact found
  for indexes …" when any item is unknown and updates nothing (what integrators observe);
  `"partial"` gives the older documented 207 `{successIds, failureIds}`.
* `update_duplicate_code="duplicate_parameter"`: code of the 400 when PUT moves an email/SMS
  onto one already used (Brevo switched it to `invalid_parameter` in 2026).
* Imports: rows with an invalid email, or with no identifier at all, count as
  `invalid_emails`; a second row with the same email/EXT_ID/SMS in one body, or an
  identifier already held by a different contact, is counted in the matching
  `duplicate_*` counter and that value is not applied. Invalid phone values in an import
  are dropped from the row. Unknown attributes are ignored.
* Events for an identifier that matches no contact create the contact
  (`events_create_contacts=True`).
* Stored emails are lowercased; SMS/WHATSAPP/LANDLINE_NUMBER are stored as digits with the
  country code and no `+` (as in the OpenAPI examples).
* List/folder subscriber counters are always 0 (Brevo is zeroing them, §4).
* A raw `+` in a path identifier decodes to a space, as on Brevo (§10 quirk 3).

Thread-safety: every handler runs under one re-entrant lock, so tests may read the state
from another thread while uvicorn serves requests.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import itertools
import math
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import unquote_plus

import orjson
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

BUCKETS = ("contacts", "events", "orders", "other")

# General-tier budgets (reference §1.4): bucket -> (per second, per hour).
GENERAL_LIMITS: dict[str, tuple[float | None, float | None]] = {
    "contacts": (10.0, 36_000.0),
    "events": (10.0, 36_000.0),
    "orders": (5.0, 18_000.0),
    "other": (None, 100.0),
}

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
_TYPES_BY_CATEGORY = {
    "normal": {"text", "date", "float", "boolean", "multiple-choice", "user"},
    "transactional": {"id", "text", "date", "float"},
    "category": {"category"},
}
# Identifier attributes: stored value -> contact id indexes.
_PHONE_ATTRS = ("SMS", "WHATSAPP", "LANDLINE_NUMBER")
_INDEXED_ATTRS = ("EXT_ID", *_PHONE_ATTRS)
_DUP_NAME = {
    "EMAIL": "email",
    "SMS": "sms",
    "EXT_ID": "ext_id",
    "WHATSAPP": "whatsapp",
    "LANDLINE_NUMBER": "landline_number",
}
_IMPORT_DUP_COUNTER = {
    "EXT_ID": "duplicate_ext_id",
    "SMS": "duplicate_phone_id",
    "WHATSAPP": "duplicate_whatsapp_id",
    "LANDLINE_NUMBER": "duplicate_landline_number_id",
}
_IDENTIFIER_TYPES = {
    "email_id": "EMAIL",
    "contact_id": "ID",
    "ext_id": "EXT_ID",
    "phone_id": "SMS",
    "whatsapp_id": "WHATSAPP",
    "landline_number_id": "LANDLINE_NUMBER",
}
_EVENT_IDENTIFIER_KEYS = ("email_id", "ext_id", "phone_id", "whatsapp_id", "landline_number_id", "contact_id")

_EMAIL_RE = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
_EVENT_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
_ATTRIBUTE_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,49}$")
_DEAL_ID_RE = re.compile(r"^[0-9a-f]{24}$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_SMS_MESSAGE = "Invalid phone number, SMS phone number should be in format: 91xxxxxxxxxx or +91xxxxxxxxxx."

MAX_IMPORT_BYTES = 10 * 1024 * 1024
MAX_ORDER_BATCH_BYTES = 5 * 1024 * 1024
MAX_EVENT_PROPERTIES_BYTES = 50 * 1024
_DROP = object()


@dataclass(frozen=True)
class BrevoLimits:
    """Per-bucket budgets: (requests per second, requests per hour); None = no cap."""

    contacts: tuple[float | None, float | None] = (None, None)
    events: tuple[float | None, float | None] = (None, None)
    orders: tuple[float | None, float | None] = (None, None)
    other: tuple[float | None, float | None] = (None, None)

    @classmethod
    def general(cls) -> BrevoLimits:
        return cls(**GENERAL_LIMITS)

    def as_dict(self) -> dict[str, tuple[float | None, float | None]]:
        return {"contacts": self.contacts, "events": self.events, "orders": self.orders, "other": self.other}


class _Fail(Exception):  # internal control flow: becomes an error response
    def __init__(self, status: int, code: str, message: str, metadata: dict | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.metadata = status, code, message, metadata


def _limit_pair(value: Any) -> tuple[float | None, float | None]:
    """(per_second, per_hour) from a tuple, a {"per_second", "per_hour"} dict, an object with those
    attributes (the sandbox config's BucketLimit) or None."""
    if value is None:
        return None, None
    if isinstance(value, Mapping):
        return value.get("per_second"), value.get("per_hour")
    if hasattr(value, "per_second"):
        return value.per_second, getattr(value, "per_hour", None)
    per_second, per_hour = value
    return per_second, per_hour


def bucket_for(method: str, template: str) -> str:
    """Which rate-limit bucket a route belongs to (reference §1.4)."""
    if template == "/contacts" or template.startswith("/contacts/"):
        return "contacts"
    if method == "POST" and template == "/events":
        return "events"
    if method == "POST" and template == "/orders/status":
        return "orders"
    return "other"


# ---------------------------------------------------------------- rate limiting


class _Window:
    __slots__ = ("length", "limit", "start", "used")

    def __init__(self, limit: int, length: float) -> None:
        self.limit, self.length, self.start, self.used = limit, length, -math.inf, 0


class _BucketLimiter:
    """Fixed windows per bucket; every window must have room (per-second and per-hour caps both apply)."""

    def __init__(self, per_second: float | None, per_hour: float | None, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._windows: list[_Window] = []
        if per_second:
            # Fractional rates (0.5/s) become one request per 1/rate seconds.
            self._windows.append(
                _Window(round(per_second), 1.0) if per_second >= 1 else _Window(1, 1.0 / per_second)
            )
        if per_hour:
            self._windows.append(_Window(max(1, int(per_hour)), 3600.0))

    def hit(self) -> tuple[bool, dict[str, str]]:
        now = self._clock()
        for w in self._windows:
            if now >= w.start + w.length:
                w.start, w.used = now, 0
        full = [w for w in self._windows if w.used >= w.limit]
        if full:
            w = max(full, key=lambda x: x.start + x.length)
            return False, self._headers(w, now, remaining=0)
        for w in self._windows:
            w.used += 1
        w = min(self._windows, key=lambda x: (x.limit - x.used, x.length))
        return True, self._headers(w, now, remaining=w.limit - w.used)

    @staticmethod
    def _headers(w: _Window, now: float, *, remaining: int) -> dict[str, str]:
        reset = max(1, math.ceil(w.start + w.length - now))
        return {
            "x-sib-ratelimit-limit": str(w.limit),
            "x-sib-ratelimit-remaining": str(remaining),
            "x-sib-ratelimit-reset": str(reset),
        }


# ---------------------------------------------------------------- value helpers


class _Text(str):
    """A handler's plain-text answer (CSV reports)."""


def _v3_base(request: Request) -> str:
    """The URL of the API root this request came through, ending in '/' (for report links)."""
    path = request.url.path
    root = path[: path.index("/processes")] if "/processes" in path else path
    return str(request.url.replace(path=root.rstrip("/") + "/", query=""))


class _JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def _iso(ts: float) -> str:
    dt = datetime.fromtimestamp(ts, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def _parse_ts(value: str, name: str) -> float:
    try:
        dt = datetime.fromisoformat(value.strip())
    except (ValueError, AttributeError):
        raise _Fail(
            400, "invalid_parameter", f"{name} is not a valid date-time (expected YYYY-MM-DDTHH:mm:ss.SSSZ)"
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def _since(params: Mapping[str, str], name: str) -> float | None:
    return _parse_ts(params[name], name) if params.get(name) else None


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


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _qint(params: Mapping[str, str], name: str, default: int, maximum: int | None = None) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    value = _as_int(raw)
    if value is None or value < 0:
        raise _Fail(400, "invalid_parameter", f"{name} must be a non-negative integer")
    if maximum is not None and value > maximum:
        raise _Fail(400, "out_of_range", f"{name} must be at most {maximum}")
    return value


def _coerce(attr: dict, value: Any, *, from_text: bool) -> Any:
    """Value as Brevo would store it, or _DROP when the type does not fit (dropped silently).

    `from_text` is for imports, where CSV cells (and many JSON rows) carry everything as text.
    """
    kind = attr.get("type") or attr["category"]
    if kind in ("text", "id", "user"):
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        return _DROP
    if kind == "float":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        if from_text and isinstance(value, str):
            try:
                number = float(value.replace(",", "."))
            except ValueError:
                return _DROP
            return int(number) if number.is_integer() else number
        return _DROP
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if (
            from_text
            and isinstance(value, str)
            and value.strip().lower() in ("true", "false", "1", "0", "yes", "no")
        ):
            return value.strip().lower() in ("true", "1", "yes")
        return _DROP
    if kind == "date":
        if isinstance(value, str) and _DATE_RE.match(value):
            try:
                return date.fromisoformat(value[:10]).isoformat()
            except ValueError:
                return _DROP
        if from_text and isinstance(value, str):
            # Imports follow the account's dd-mm-yyyy preference (reference §3.3).
            for fmt in ("%d-%m-%Y", "%d/%m/%Y"):
                try:
                    return datetime.strptime(value.strip(), fmt).date().isoformat()
                except ValueError:
                    continue
        return _DROP
    if kind == "category":
        # An option is stored as its real value: the number, or `valueStr` when not numeric.
        text = str(value).strip() if not isinstance(value, bool) else None
        number = _as_int(value) if (from_text or not isinstance(value, str)) else None
        for e in attr.get("enumeration", []):
            real = e.get("valueStr") or e["value"]
            if e.get("valueStr") and text == e["valueStr"]:
                return real
            if not e.get("valueStr") and number is not None and number == e["value"]:
                return real
            if text is not None and text == e["label"]:
                return real
        return _DROP
    if kind == "multiple-choice":
        if from_text and isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return _DROP
        options = set(attr.get("multiCategoryOptions", []))
        return [v for v in value if v in options]
    return _DROP  # calculated / global values are computed by Brevo, never written


# ---------------------------------------------------------------- the simulator


@dataclass
class _Process:
    id: int
    name: str
    created: float  # wall clock
    started: float  # monotonic
    queued_for: float
    duration: float
    apply: Callable[[], dict] | None = None
    info: dict | None = None
    completed: float | None = None
    notify_url: str | None = None
    error: str | None = None
    extra: dict = field(default_factory=dict)
    status: str = "completed"  # what a finished process ends as


class BrevoSimulator:
    """State and routes of a fake Brevo account; mount `routes()` at `/v3`."""

    def __init__(
        self,
        *,
        api_key: str,
        limits: Mapping[str, Any] | BrevoLimits | None = None,
        seed_default: bool = True,
        unknown_attributes: str = "ignore",
        batch_unknown: str = "all_or_nothing",
        update_duplicate_code: str = "duplicate_parameter",
        events_create_contacts: bool = True,
        ecommerce_enabled: bool = True,
        import_queued_seconds: float = 0.02,
        import_seconds: float = 0.1,
        call_notify_url: bool = False,
        account: Mapping[str, Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
        legacy: bool = False,
        import_failure: str | None = None,
    ) -> None:
        if unknown_attributes not in ("ignore", "reject"):
            raise ValueError("unknown_attributes must be 'ignore' or 'reject'")
        if batch_unknown not in ("all_or_nothing", "partial"):
            raise ValueError("batch_unknown must be 'all_or_nothing' or 'partial'")
        if import_failure not in (None, "failed", "cancelled"):
            raise ValueError("import_failure must be None, 'failed' or 'cancelled'")
        self._api_key = api_key
        self._clock = clock
        self.legacy = legacy
        self.import_failure = import_failure
        self._lock = threading.RLock()
        self.unknown_attributes = unknown_attributes
        self.batch_unknown = batch_unknown
        self.update_duplicate_code = update_duplicate_code
        self.events_create_contacts = events_create_contacts
        self.ecommerce_enabled = ecommerce_enabled
        self.import_queued_seconds = import_queued_seconds
        self.import_seconds = import_seconds
        self.call_notify_url = call_notify_url
        self.ip_blocked = False  # True: every call answers the "unrecognised IP address" 401
        self.set_limits(limits)

        self._contacts: dict[int, dict] = {}
        self._by_email: dict[str, int] = {}
        self._by_attr: dict[str, dict[str, int]] = {name: {} for name in _INDEXED_ATTRS}
        self._next_contact = 1
        self._attributes: dict[str, dict] = {a["name"]: dict(a) for a in STANDARD_ATTRIBUTES}
        if not legacy:
            self._attributes[LANGUAGE_ATTRIBUTE["name"]] = dict(LANGUAGE_ATTRIBUTE)
        self._folders: dict[int, dict] = {}
        self._lists: dict[int, dict] = {}
        self._next_folder, self._next_list = 1, 1
        self._processes: dict[int, _Process] = {}
        self._pending: list[_Process] = []
        self._next_process = 1
        self._events: list[dict] = []
        self._pipelines: list[dict] = []
        self._deals: dict[str, dict] = {}
        self._next_deal = 1
        self._orders: dict[str, dict] = {}
        self._order_batches: list[dict] = []
        self._next_batch = 1
        self._deal_attributes = self._default_deal_attributes()
        self._account = self._default_account()
        if account:
            self._account.update(account)
        if seed_default:
            self._seed()

    # ------------------------------------------------------------ configuration and read-back

    def set_limits(self, limits: Mapping[str, Any] | BrevoLimits | None) -> None:
        """Replace the rate-limit budgets (fresh windows).

        `limits` maps a bucket to (per_second, per_hour), to {"per_second", "per_hour"}, to an
        object with those attributes, or to None (no cap); absent buckets are unlimited.
        """
        if isinstance(limits, BrevoLimits):
            limits = limits.as_dict()
        unknown = set(limits or {}) - set(BUCKETS)
        if unknown:
            raise ValueError(f"unknown Brevo rate-limit bucket(s): {', '.join(sorted(unknown))}")
        with self._lock:
            self._limiters: dict[str, _BucketLimiter | None] = {}
            for bucket in BUCKETS:
                per_second, per_hour = _limit_pair((limits or {}).get(bucket))
                self._limiters[bucket] = (
                    _BucketLimiter(per_second, per_hour, self._clock) if per_second or per_hour else None
                )

    def counts(self) -> dict[str, int]:
        with self._lock:
            self._advance()
            return {
                "contacts": len(self._contacts),
                "lists": len(self._lists),
                "folders": len(self._folders),
                "attributes": len(self._attributes),
                "events": len(self._events),
                "pipelines": len(self._pipelines),
                "deals": len(self._deals),
                "orders": len(self._orders),
                "order_batches": len(self._order_batches),
                "processes": len(self._processes),
            }

    def contact_by_email(self, email: str) -> dict | None:
        with self._lock:
            self._advance()
            cid = self._by_email.get(email.strip().lower())
            return self._contact_json(self._contacts[cid]) if cid else None

    def contact(self, contact_id: int) -> dict | None:
        with self._lock:
            self._advance()
            c = self._contacts.get(contact_id)
            return self._contact_json(c) if c else None

    def contacts(self) -> list[dict]:
        with self._lock:
            self._advance()
            return [self._contact_json(c) for c in self._contacts.values()]

    def events_for(self, email: str) -> list[dict]:
        with self._lock:
            cid = self._by_email.get(email.strip().lower())
            return [dict(e) for e in self._events if cid is not None and e["contact_id"] == cid]

    def events(self) -> list[dict]:
        with self._lock:
            return [dict(e) for e in self._events]

    def deals(self) -> list[dict]:
        with self._lock:
            return [self._deal_json(d) for d in self._deals.values()]

    def orders(self) -> list[dict]:
        with self._lock:
            return [dict(o) for o in self._orders.values()]

    def lists(self) -> list[dict]:
        with self._lock:
            return [self._list_json(li) for li in self._lists.values()]

    def list_members(self, list_id: int) -> set[int]:
        with self._lock:
            self._advance()
            return {cid for cid, c in self._contacts.items() if list_id in c["listIds"]}

    def attributes(self) -> list[dict]:
        with self._lock:
            return [dict(a) for a in self._attributes.values()]

    def pipelines(self) -> list[dict]:
        with self._lock:
            return [dict(p) for p in self._pipelines]

    def process(self, process_id: int) -> dict | None:
        with self._lock:
            self._advance()
            p = self._processes.get(process_id)
            return self._process_json(p) if p else None

    # ------------------------------------------------------------ routes

    def routes(self) -> list[BaseRoute]:
        """Starlette routes relative to `/v3` (more specific paths first)."""
        table: list[tuple[str, str, Callable]] = [
            ("GET", "/account", self._get_account),
            ("GET", "/contacts", self._list_contacts),
            ("POST", "/contacts", self._create_contact),
            ("POST", "/contacts/batch", self._batch_update),
            ("POST", "/contacts/import", self._import),
            ("GET", "/contacts/attributes", self._list_attributes),
            ("POST", "/contacts/attributes/{category}/{name}", self._create_attribute),
            ("PUT", "/contacts/attributes/{category}/{name}", self._update_attribute),
            ("DELETE", "/contacts/attributes/{category}/{name}", self._delete_attribute),
            ("GET", "/contacts/folders", self._list_folders),
            ("POST", "/contacts/folders", self._create_folder),
            ("GET", "/contacts/folders/{folder_id}", self._get_folder),
            ("DELETE", "/contacts/folders/{folder_id}", self._delete_folder),
            ("GET", "/contacts/folders/{folder_id}/lists", self._folder_lists),
            ("GET", "/contacts/lists", self._list_lists),
            ("POST", "/contacts/lists", self._create_list),
            ("GET", "/contacts/lists/{list_id}", self._get_list),
            ("DELETE", "/contacts/lists/{list_id}", self._delete_list),
            ("GET", "/contacts/lists/{list_id}/contacts", self._list_contacts_of_list),
            ("POST", "/contacts/lists/{list_id}/contacts/add", self._list_add),
            ("POST", "/contacts/lists/{list_id}/contacts/remove", self._list_remove),
            ("GET", "/contacts/{identifier}", self._get_contact),
            ("PUT", "/contacts/{identifier}", self._update_contact),
            ("DELETE", "/contacts/{identifier}", self._delete_contact),
            ("GET", "/processes", self._list_processes),
            ("GET", "/processes/{process_id}", self._get_process),
            ("GET", "/processes/{process_id}/reports/{name}", self._process_report),
            ("POST", "/events", self._create_event),
            ("POST", "/events/batch", self._create_events_batch),
            ("GET", "/events", self._list_events),
            ("GET", "/crm/pipeline/details/all", self._pipelines_all),
            ("GET", "/crm/pipeline/details", self._pipeline_default),
            ("GET", "/crm/pipeline/details/{pipeline_id}", self._pipeline_one),
            ("GET", "/crm/attributes/deals", self._get_deal_attributes),
            ("GET", "/crm/deals", self._list_deals),
            ("POST", "/crm/deals", self._create_deal),
            ("PATCH", "/crm/deals/link-unlink/{deal_id}", self._link_unlink_deal),
            ("GET", "/crm/deals/{deal_id}", self._get_deal),
            ("PATCH", "/crm/deals/{deal_id}", self._update_deal),
            ("DELETE", "/crm/deals/{deal_id}", self._delete_deal),
            ("POST", "/ecommerce/activate", self._activate_ecommerce),
            ("POST", "/orders/status", self._create_order),
            ("POST", "/orders/status/batch", self._create_order_batch),
            ("GET", "/orders", self._list_orders),
        ]
        # Starlette routes are per path: group the methods of one template together.
        by_path: dict[str, dict[str, Callable]] = {}
        for method, path, handler in table:
            by_path.setdefault(path, {})[method] = handler
        return [
            Route(path, self._endpoint(path, handlers), methods=list(handlers))
            for path, handlers in by_path.items()
        ]

    def _endpoint(self, template: str, handlers: dict[str, Callable]) -> Callable:
        async def endpoint(request: Request) -> Response:
            handler = handlers[request.method if request.method != "HEAD" else "GET"]
            denied = self._authenticate(request)
            if denied is not None:
                return denied
            bucket = bucket_for(request.method, template)
            headers: dict[str, str] = {}
            limiter = self._limiters.get(bucket)
            if limiter is not None:
                with self._lock:
                    allowed, headers = limiter.hit()
                if not allowed:
                    return _JSON(
                        {"code": "too_many_requests", "message": "The expected rate limit is exceeded."},
                        status_code=429,
                        headers=headers,
                    )
            raw = await request.body() if request.method in ("POST", "PUT", "PATCH") else b""

            def work() -> tuple[int, Any]:
                body = self._decode(raw, template)
                with self._lock:
                    self._advance()
                    return handler(request, body)

            try:
                # Off the event loop: a 500-contact batch takes tens of milliseconds, and the loop
                # must meanwhile take ActiveCampaign requests as they arrive (AC and Brevo are two
                # servers; a request held back here would reach AC's rate window late).
                status, payload = await run_in_threadpool(work)
            except _Fail as fail:
                error = {"code": fail.code, "message": fail.message}
                if fail.metadata:
                    error["metadata"] = fail.metadata
                return _JSON(error, status_code=fail.status, headers=headers)
            if payload is None:
                return Response(status_code=status, headers=headers)
            if isinstance(payload, _Text):
                return Response(str(payload), status_code=status, headers=headers, media_type="text/csv")
            return _JSON(payload, status_code=status, headers=headers)

        return endpoint

    def _authenticate(self, request: Request) -> Response | None:
        key = request.headers.get("api-key")
        if not key:
            return _JSON(
                {"message": "authentication not found in headers", "code": "unauthorized"}, status_code=401
            )
        if key != self._api_key:
            return _JSON({"code": "unauthorized", "message": "Key not found"}, status_code=401)
        if self.ip_blocked:
            return _JSON(
                {
                    "code": "unauthorized",
                    "message": (
                        "We have detected you are using an unrecognised IP address 127.0.0.1. "
                        "If you performed this action make sure to add the new IP address in this link: "
                        "https://app.brevo.com/security/authorised_ips"
                    ),
                },
                status_code=401,
            )
        return None

    @staticmethod
    def _decode(raw: bytes, template: str) -> Any:
        if not raw:
            return None
        if template == "/contacts/import" and len(raw) > MAX_IMPORT_BYTES:
            raise _Fail(
                400, "invalid_parameter", "Request body exceeds the maximum size of 10MB; use fileUrl"
            )
        if template == "/orders/status/batch" and len(raw) > MAX_ORDER_BATCH_BYTES:
            raise _Fail(400, "invalid_parameter", "Request body exceeds the maximum size of 5MB")
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise _Fail(400, "bad_request", "Input must be a valid JSON") from None

    # ------------------------------------------------------------ seed data

    def _seed(self) -> None:
        self._folders[1] = {"id": 1, "name": "Your First Folder"}
        self._next_folder = 2
        for list_id, name in ((50, "Main List"), (51, "Newsletter"), (52, "Customers")):
            self._lists[list_id] = {"id": list_id, "name": name, "folderId": 1, "created": time.time()}
        self._next_list = 53
        pipeline_id = hashlib.sha256(b"pipeline-sales").hexdigest()[:24]
        stages = [
            {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"brevo-sandbox/stage/{name}")), "name": name}
            for name in ("New", "Qualified", "Proposal", "Negotiation", "Won", "Lost")
        ]
        self._pipelines.append({"pipeline": pipeline_id, "pipeline_name": "Sales pipeline", "stages": stages})

    @staticmethod
    def _default_account() -> dict[str, Any]:
        return {
            "organization_id": "65f0c0ffee0000000000abcd",
            "user_id": 1000001,
            "enterprise": False,
            "email": "owner@sandbox.example.com",
            "firstName": "Sandbox",
            "lastName": "Owner",
            "companyName": "Tajo Sandbox",
            "address": {"street": "1 Main St", "city": "Dublin", "zipCode": "D01", "country": "Ireland"},
            "dateTimePreferences": {
                "timezone": "Europe/Dublin",
                "timeFormat": "24",
                "dateFormat": "dd-mm-yyyy",
            },
            "plan": [
                {"type": "free", "creditsType": "sendLimit", "credits": 300},
                {"type": "sms", "creditsType": "sendLimit", "credits": 0},
            ],
            "planVerticals": [
                {"planCategory": "Marketing", "planType": "free", "name": "Free", "status": "active"}
            ],
            "marketingAutomation": {"enabled": True, "key": "sandboxmakey0001"},
            "relay": {
                "enabled": True,
                "data": {
                    "userName": "owner@sandbox.example.com",
                    "relay": "smtp-relay.brevo.com",
                    "port": 587,
                },
            },
        }

    @staticmethod
    def _default_deal_attributes() -> list[dict]:
        def attr(name: str, label: str, kind: str, *, required: bool = False, readonly: bool = False) -> dict:
            return {
                "internalName": name,
                "label": label,
                "attributeTypeName": kind,
                "isRequired": required,
                "isValueReadonly": readonly,
                "attributeOptions": [],
            }

        return [
            attr("deal_name", "Deal name", "text", required=True),
            attr("deal_owner", "Deal owner", "user"),
            attr("deal_stage", "Deal stage", "stage"),
            attr("pipeline", "Pipeline", "pipeline"),
            attr("amount", "Amount", "number"),
            attr("close_date", "Close date", "date"),
            attr("deal_description", "Description", "text"),
            attr("created_at", "Created at", "date", readonly=True),
            attr("last_updated_date", "Last updated date", "date", readonly=True),
            attr("stage_updated_at", "Stage updated at", "date", readonly=True),
            attr("number_of_contacts", "Number of contacts", "number", readonly=True),
            attr("number_of_activities", "Number of activities", "number", readonly=True),
            attr("last_activity_date", "Last activity date", "date", readonly=True),
            attr("next_activity_date", "Next activity date", "date", readonly=True),
        ]

    # ------------------------------------------------------------ account

    def _get_account(self, request: Request, body: Any) -> tuple[int, Any]:
        return 200, self._account

    # ------------------------------------------------------------ contacts: internals

    def _contact_json(self, c: dict, *, statistics: bool = False) -> dict:
        out: dict[str, Any] = {"id": c["id"]}
        if c["email"]:
            out["email"] = c["email"]
        out.update(
            emailBlacklisted=c["emailBlacklisted"],
            smsBlacklisted=c["smsBlacklisted"],
            **({} if self.legacy else {"whatsappBlacklisted": c.get("whatsappBlacklisted", False)}),
            createdAt=_iso(c["created"]),
            modifiedAt=_iso(c["modified"]),
            listIds=sorted(c["listIds"]),
            attributes=dict(c["attributes"]),
        )
        if c["listUnsubscribed"]:
            out["listUnsubscribed"] = sorted(c["listUnsubscribed"])
        if statistics:
            out["statistics"] = {
                "messagesSent": [],
                "hardBounces": [],
                "softBounces": [],
                "complaints": [],
                "unsubscriptions": {"userUnsubscription": [], "adminUnsubscription": []},
                "opened": [],
                "clicked": [],
                "transacAttributes": [],
                "delivered": [],
            }
        return out

    def _find(self, kind: str, value: Any) -> int | None:
        """Contact id for an identifier of `kind` (EMAIL, ID, EXT_ID, SMS, WHATSAPP, LANDLINE_NUMBER)."""
        if kind == "EMAIL":
            return self._by_email.get(str(value).strip().lower()) if value is not None else None
        if kind == "ID":
            cid = _as_int(value)
            return cid if cid in self._contacts else None
        if kind in _PHONE_ATTRS:
            digits = normalise_phone(value)
            return self._by_attr[kind].get(digits) if digits else None
        return self._by_attr[kind].get(str(value))

    def _resolve_path_identifier(self, request: Request, *, allow_sms: bool) -> int:
        raw_path = request.scope.get("raw_path")
        if raw_path:
            # Decode the raw segment ourselves: like Brevo, an unencoded '+' means a space.
            segment = raw_path.split(b"?", 1)[0].rstrip(b"/").rsplit(b"/", 1)[-1]
            identifier = unquote_plus(segment.decode("ascii", "replace"))
        else:
            identifier = request.path_params["identifier"]
        id_type = request.query_params.get("identifierType")
        if id_type:
            kind = _IDENTIFIER_TYPES.get(id_type)
            if kind is None:
                raise _Fail(
                    400, "invalid_parameter", f"identifierType must be one of: {', '.join(_IDENTIFIER_TYPES)}"
                )
            cid = self._find(kind, identifier)
        elif "@" in identifier:
            cid = self._find("EMAIL", identifier)
        elif identifier.isdigit():
            cid = self._find("ID", identifier)
            if cid is None and allow_sms:
                cid = self._find("SMS", identifier)
        elif allow_sms and normalise_phone(identifier):
            cid = self._find("SMS", identifier)
        else:
            raise _Fail(
                400,
                "invalid_parameter",
                "Invalid identifier: pass an email, a contact id or an identifierType",
            )
        if cid is None:
            raise _Fail(404, "document_not_found", "Contact does not exist")
        return cid

    def _check_lists(self, list_ids: Any, name: str = "listIds") -> list[int]:
        if list_ids is None:
            return []
        if not isinstance(list_ids, list) or any(_as_int(x) is None or isinstance(x, str) for x in list_ids):
            raise _Fail(400, "invalid_parameter", f"{name} must be an array of integers")
        missing = [x for x in list_ids if x not in self._lists]
        if missing:
            raise _Fail(
                400,
                "invalid_parameter",
                f"{name} contains unknown list id(s): {', '.join(map(str, missing))}",
            )
        return list(list_ids)

    def _prepare_attributes(self, attributes: Any, *, from_text: bool, drop_unknown: bool) -> dict[str, Any]:
        """Known attributes coerced to their type; `None`/"" kept as erase markers."""
        if attributes is None:
            return {}
        if not isinstance(attributes, dict):
            raise _Fail(400, "invalid_parameter", "attributes must be an object")
        out: dict[str, Any] = {}
        unknown = []
        for raw_name, value in attributes.items():
            name = str(raw_name).upper()
            attr = self._attributes.get(name)
            if attr is None:
                unknown.append(name)
                continue
            if value is None or value == "":
                out[name] = None
                continue
            if name in _PHONE_ATTRS or name in ("EXT_ID", "EMAIL"):
                out[name] = value  # identifiers are validated by the caller
                continue
            coerced = _coerce(attr, value, from_text=from_text)
            if coerced is not _DROP:
                out[name] = coerced
        if unknown and not drop_unknown and self.unknown_attributes == "reject":
            raise _Fail(
                400,
                "invalid_parameter",
                f"Attribute(s) not found in the account: {', '.join(sorted(unknown))}",
            )
        return out

    def _identifiers_from(self, email: Any, ext_id: Any, attrs: dict[str, Any]) -> dict[str, str]:
        """Validated identifiers of a create/update body: {EMAIL|SMS|EXT_ID|...: normalised value}."""
        ids: dict[str, str] = {}
        if email is not None and email != "":
            if not valid_email(email):
                raise _Fail(400, "invalid_parameter", "Invalid email address")
            ids["EMAIL"] = email.strip().lower()
        if ext_id is not None and ext_id != "":
            ids["EXT_ID"] = str(ext_id)
        for name, message in (
            ("SMS", _SMS_MESSAGE),
            ("WHATSAPP", "Invalid WhatsApp number"),
            ("LANDLINE_NUMBER", "Invalid landline number"),
        ):
            value = attrs.get(name)
            if value is None:
                continue
            digits = normalise_phone(value)
            if digits is None:
                raise _Fail(400, "invalid_parameter", message)
            ids[name] = digits
        return ids

    def _conflicts(self, ids: Mapping[str, str], owner: int | None) -> list[str]:
        """Identifier names already used by a contact other than `owner`."""
        return [
            _DUP_NAME[k]
            for k, v in ids.items()
            if (cid := self._find_normalised(k, v)) is not None and cid != owner
        ]

    def _find_normalised(self, kind: str, value: str) -> int | None:
        return self._by_email.get(value) if kind == "EMAIL" else self._by_attr[kind].get(value)

    def _new_contact(self, now: float) -> dict:
        cid = self._next_contact
        self._next_contact += 1
        c = {
            "id": cid,
            "email": None,
            "emailBlacklisted": False,
            "smsBlacklisted": False,
            "created": now,
            "modified": now,
            "listIds": set(),
            "listUnsubscribed": set(),
            "attributes": {},
        }
        self._contacts[cid] = c
        return c

    def _set_identifier(self, c: dict, kind: str, value: str | None) -> None:
        if kind == "EMAIL":
            if c["email"]:
                self._by_email.pop(c["email"], None)
            c["email"] = value
            if value:
                self._by_email[value] = c["id"]
            return
        old = c["attributes"].get(kind)
        if old is not None:
            self._by_attr[kind].pop(old, None)
        if value:
            c["attributes"][kind] = value
            self._by_attr[kind][value] = c["id"]
        else:
            c["attributes"].pop(kind, None)

    def _apply(
        self,
        c: dict,
        ids: Mapping[str, str | None],
        attrs: Mapping[str, Any],
        *,
        erase_empty: bool,
        now: float,
    ) -> None:
        for kind, value in ids.items():
            self._set_identifier(c, kind, value)
        for name, value in attrs.items():
            if name in _INDEXED_ATTRS or name == "EMAIL":
                continue
            if value is None:
                if erase_empty:
                    c["attributes"].pop(name, None)
            else:
                c["attributes"][name] = value
        c["modified"] = now

    def _apply_common(self, c: dict, body: Mapping[str, Any]) -> None:
        if isinstance(body.get("emailBlacklisted"), bool):
            c["emailBlacklisted"] = body["emailBlacklisted"]
        if isinstance(body.get("smsBlacklisted"), bool):
            c["smsBlacklisted"] = body["smsBlacklisted"]

    # ------------------------------------------------------------ contacts: routes

    def _create_contact(self, request: Request, body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict):
            raise _Fail(400, "bad_request", "Request body must be a JSON object")
        attrs = self._prepare_attributes(body.get("attributes"), from_text=False, drop_unknown=False)
        email = body.get("email", attrs.get("EMAIL"))
        ids = self._identifiers_from(email, body.get("ext_id", attrs.get("EXT_ID")), attrs)
        if not ids:
            raise _Fail(
                400, "missing_parameter", "An email or SMS phone number is mandatory to create a new contact."
            )
        list_ids = self._check_lists(body.get("listIds"))
        matches = {k: cid for k, v in ids.items() if (cid := self._find_normalised(k, v)) is not None}
        now = time.time()
        if matches and not body.get("updateEnabled"):
            dups = [_DUP_NAME[k] for k in matches]
            if "email" in dups:
                message = "Unable to create contact, email is already associated with another Contact"
            elif "sms" in dups:
                message = (
                    "SMS phone number is already associated with another contact. Please enter "
                    "unique SMS phone number."
                )
            else:
                message = f"Unable to create contact, {dups[0]} is already associated with another Contact"
            raise _Fail(400, "duplicate_parameter", message, {"duplicate_identifiers": dups})
        if matches:
            # Upsert: the contact matched by the strongest identifier is the one updated.
            owner = next(matches[k] for k in ("EMAIL", "EXT_ID", *_PHONE_ATTRS) if k in matches)
            conflicts = self._conflicts(ids, owner)
            if conflicts:
                raise _Fail(
                    400,
                    "duplicate_parameter",
                    f"Unable to update contact, {conflicts[0]} is already associated with another Contact",
                    {"duplicate_identifiers": conflicts},
                )
            c = self._contacts[owner]
            self._apply(c, ids, attrs, erase_empty=False, now=now)
            self._apply_common(c, body)
            c["listIds"].update(list_ids)
            return 204, None
        c = self._new_contact(now)
        self._apply(c, ids, attrs, erase_empty=False, now=now)
        self._apply_common(c, body)
        c["listIds"].update(list_ids)
        return 201, {"id": c["id"]}

    def _update_fields(self, c: dict, body: Mapping[str, Any]) -> Callable[[], None]:
        """Validate an update body against contact `c`; return the closure that applies it."""
        attrs = self._prepare_attributes(body.get("attributes"), from_text=False, drop_unknown=False)
        new_ids: dict[str, str | None] = {}
        if "EMAIL" in attrs:
            if attrs["EMAIL"] is None:
                new_ids["EMAIL"] = None
            elif not valid_email(attrs["EMAIL"]):
                raise _Fail(400, "invalid_parameter", "Invalid email address")
            else:
                new_ids["EMAIL"] = attrs["EMAIL"].strip().lower()
        ext_id = body.get("ext_id", attrs.get("EXT_ID"))
        if ext_id is not None or "EXT_ID" in attrs:
            new_ids["EXT_ID"] = str(ext_id) if ext_id not in (None, "") else None
        phone_ids = self._identifiers_from(
            None, None, {k: v for k, v in attrs.items() if k in _PHONE_ATTRS and v is not None}
        )
        new_ids.update(phone_ids)
        for name in _PHONE_ATTRS:
            if name in attrs and attrs[name] is None:
                new_ids[name] = None
        conflicts = self._conflicts({k: v for k, v in new_ids.items() if v}, c["id"])
        if conflicts:
            what = conflicts[0]
            raise _Fail(
                400,
                self.update_duplicate_code,
                f"Unable to update contact, {what} is already associated with another Contact",
                {"duplicate_identifiers": conflicts},
            )
        remaining = {"EMAIL": c["email"], **{k: c["attributes"].get(k) for k in _INDEXED_ATTRS}}
        remaining.update(new_ids)
        if not any(remaining.values()):
            raise _Fail(400, "invalid_parameter", "A contact must keep at least one identifier")
        add = self._check_lists(body.get("listIds"))
        remove = self._check_lists(body.get("unlinkListIds"), "unlinkListIds")

        def apply() -> None:
            now = time.time()
            if "EMAIL" in new_ids and c["emailBlacklisted"] and new_ids["EMAIL"] != c["email"]:
                c["emailBlacklisted"] = False  # a new address re-subscribes (reference §2.3)
            self._apply(c, new_ids, attrs, erase_empty=True, now=now)
            self._apply_common(c, body)
            c["listIds"].update(add)
            c["listIds"].difference_update(remove)

        return apply

    def _update_contact(self, request: Request, body: Any) -> tuple[int, Any]:
        cid = self._resolve_path_identifier(request, allow_sms=False)
        if not isinstance(body, dict):
            raise _Fail(400, "bad_request", "Request body must be a JSON object")
        self._update_fields(self._contacts[cid], body)()
        return 204, None

    def _get_contact(self, request: Request, body: Any) -> tuple[int, Any]:
        cid = self._resolve_path_identifier(request, allow_sms=True)
        params = request.query_params
        if bool(params.get("startDate")) != bool(params.get("endDate")):
            raise _Fail(400, "invalid_parameter", "startDate and endDate must be passed together")
        return 200, self._contact_json(self._contacts[cid], statistics=True)

    def _delete_contact(self, request: Request, body: Any) -> tuple[int, Any]:
        cid = self._resolve_path_identifier(request, allow_sms=False)
        c = self._contacts.pop(cid)
        if c["email"]:
            self._by_email.pop(c["email"], None)
        for name in _INDEXED_ATTRS:
            if c["attributes"].get(name):
                self._by_attr[name].pop(c["attributes"][name], None)
        return 204, None

    def _list_contacts(self, request: Request, body: Any) -> tuple[int, Any]:
        params = request.query_params
        limit = _qint(params, "limit", 50, 1000)
        offset = _qint(params, "offset", 0)
        sort = params.get("sort", "desc")
        if sort not in ("asc", "desc"):
            raise _Fail(400, "invalid_parameter", "sort must be asc or desc")
        modified_since = _since(params, "modifiedSince")
        created_since = _since(params, "createdSince")
        list_filter = {int(x) for x in params.getlist("listIds") if x.isdigit()}
        # The dict keeps creation (= id) order.
        if modified_since is None and created_since is None and not list_filter:
            # Unfiltered paging must not cost a scan of the whole account per page.
            ordered = self._contacts.values() if sort == "asc" else reversed(self._contacts.values())
            page = list(itertools.islice(ordered, offset, offset + limit))
            return 200, {"contacts": [self._contact_json(c) for c in page], "count": len(self._contacts)}
        rows = [
            c
            for c in self._contacts.values()
            if (modified_since is None or c["modified"] >= modified_since)
            and (created_since is None or c["created"] >= created_since)
            and (not list_filter or c["listIds"] & list_filter)
        ]
        if sort == "desc":
            rows.reverse()
        page = rows[offset : offset + limit]
        return 200, {"contacts": [self._contact_json(c) for c in page], "count": len(rows)}

    def _batch_update(self, request: Request, body: Any) -> tuple[int, Any]:
        if not self.legacy:
            raise _Fail(
                404,
                "document_not_found",
                "POST /contacts/batch was removed on 2026-10-30; use POST /v3/contacts/import",
            )
        items = body.get("contacts") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            raise _Fail(400, "missing_parameter", "contacts is mandatory and must be a non-empty array")
        targets: list[int | None] = []
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                raise _Fail(400, "invalid_parameter", f"contacts[{index}] must be an object")
            given = [k for k in ("email", "id", "sms") if item.get(k) not in (None, "")]
            if len(given) != 1:
                raise _Fail(
                    400, "invalid_parameter", f"contacts[{index}]: pass exactly one of email, id or sms"
                )
            key = given[0]
            if key == "email" and not valid_email(item["email"]):
                raise _Fail(400, "invalid_parameter", f"contacts[{index}]: Invalid email address")
            targets.append(self._find({"email": "EMAIL", "id": "ID", "sms": "SMS"}[key], item[key]))
        missing = [i for i, cid in enumerate(targets) if cid is None]
        if missing and self.batch_unknown == "all_or_nothing":
            raise _Fail(
                404, "document_not_found", f"No contact found for indexes {','.join(map(str, missing))}"
            )
        appliers = []
        for index, (item, cid) in enumerate(zip(items, targets, strict=True)):
            if cid is None:
                continue
            try:
                appliers.append((cid, self._update_fields(self._contacts[cid], item)))
            except _Fail as fail:
                raise _Fail(
                    fail.status, fail.code, f"contacts[{index}]: {fail.message}", fail.metadata
                ) from None
        for _cid, apply in appliers:
            apply()
        if missing:
            return 207, {"successIds": [cid for cid, _ in appliers], "failureIds": missing}
        return 204, None

    # ------------------------------------------------------------ imports and processes

    def _import(self, request: Request, body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict):
            raise _Fail(400, "bad_request", "Request body must be a JSON object")
        json_body, file_body, file_url = body.get("jsonBody"), body.get("fileBody"), body.get("fileUrl")
        if sum(x is not None for x in (json_body, file_body, file_url)) != 1:
            raise _Fail(400, "missing_parameter", "Exactly one of jsonBody, fileBody or fileUrl is required")
        if file_url is not None:
            raise _Fail(
                400,
                "invalid_parameter",
                "fileUrl cannot be fetched by the sandbox; send jsonBody or fileBody",
            )
        if json_body is not None and not isinstance(json_body, list):
            raise _Fail(400, "invalid_parameter", "jsonBody must be an array")
        if file_body is not None and not isinstance(file_body, str):
            raise _Fail(400, "invalid_parameter", "fileBody must be a string")
        new_list = body.get("newList")
        list_ids = body.get("listIds")
        if not list_ids and not new_list:
            raise _Fail(400, "missing_parameter", "listIds or newList is mandatory")
        list_ids = self._check_lists(list_ids or [])
        if new_list:
            if not isinstance(new_list, dict) or not new_list.get("listName"):
                raise _Fail(400, "invalid_parameter", "newList.listName is mandatory")
            folder_id = new_list.get("folderId", 1)
            if folder_id not in self._folders:
                raise _Fail(404, "document_not_found", "Folder does not exist")
            list_ids.append(self._add_list(str(new_list["listName"]), folder_id))
        options = {
            "update_existing": body.get("updateExistingContacts", True) is not False,
            "erase_empty": bool(body.get("emptyContactsAttributes", False)),
            "email_blacklist": bool(body.get("emailBlacklist", False)),
            "sms_blacklist": bool(body.get("smsBlacklist", False)),
            "list_ids": list_ids,
        }
        rows = json_body if json_body is not None else self._csv_rows(file_body)
        process = self._new_process("IMPORTUSER", notify_url=body.get("notifyUrl"))
        process.apply = lambda: self._run_import(rows, **options)
        if self.import_failure:
            process.extra["failure"] = self.import_failure
        self._schedule(process)
        return 202, {"processId": process.id}

    @staticmethod
    def _csv_rows(text: str) -> list[dict]:
        reader = csv.reader(io.StringIO(text), delimiter=";")
        header = next(reader, None)
        if not header:
            raise _Fail(400, "invalid_parameter", "fileBody must start with a header line")
        names = [h.strip().upper() for h in header]
        rows = []
        for cells in reader:
            if not any(cells):
                continue
            attrs = dict(zip(names, cells, strict=False))
            rows.append({"email": attrs.pop("EMAIL", None), "attributes": attrs})
        return rows

    def _run_import(
        self,
        rows: Iterable[Any],
        *,
        update_existing: bool,
        erase_empty: bool,
        email_blacklist: bool,
        sms_blacklist: bool,
        list_ids: list[int],
    ) -> dict:
        info = {
            "invalid_emails": 0,
            "duplicate_contact_id": 0,
            "duplicate_ext_id": 0,
            "duplicate_email_id": None,
            "duplicate_phone_id": 0,
            "duplicate_whatsapp_id": 0,
            "duplicate_landline_number_id": 0,
        }
        duplicate_emails: list[str] = []
        # Rows behind each CSV report of the 2026 shape: report name -> [(identifier, reason)].
        reports: dict[str, list[tuple[str, str]]] = {name: [] for name in REPORT_NAMES}
        seen: dict[str, set[str]] = {k: set() for k in ("EMAIL", *_INDEXED_ATTRS)}
        now = time.time()
        for row in rows:
            if not isinstance(row, dict):
                info["invalid_emails"] += 1
                continue
            try:
                attrs = self._prepare_attributes(row.get("attributes"), from_text=True, drop_unknown=True)
            except _Fail:
                info["invalid_emails"] += 1
                continue
            email = row.get("email") or attrs.get("EMAIL")
            ids: dict[str, str] = {}
            if email:
                if not valid_email(email):
                    info["invalid_emails"] += 1
                    reports["invalid_emails"].append((str(email), "invalid email address"))
                    continue
                ids["EMAIL"] = email.strip().lower()
            if attrs.get("EXT_ID") is not None:
                ids["EXT_ID"] = str(attrs["EXT_ID"])
            for name in _PHONE_ATTRS:
                if attrs.get(name) is not None:
                    digits = normalise_phone(attrs[name])
                    if digits:
                        ids[name] = digits
            if not ids:
                info["invalid_emails"] += 1
                reports["invalid_emails"].append(("", "no identifier"))
                continue
            if "EMAIL" in ids and ids["EMAIL"] in seen["EMAIL"]:
                duplicate_emails.append(ids["EMAIL"])
                reports["duplicate_email_id"].append((ids["EMAIL"], "twice in this import"))
                continue
            for kind in _INDEXED_ATTRS:
                if kind in ids and ids[kind] in seen[kind]:
                    info[_IMPORT_DUP_COUNTER[kind]] += 1
                    reports[_IMPORT_DUP_COUNTER[kind]].append((ids[kind], "twice in this import"))
                    del ids[kind]
            if not ids:
                continue
            for kind, value in ids.items():
                seen[kind].add(value)
            primary = next(k for k in ("EMAIL", "EXT_ID", *_PHONE_ATTRS) if k in ids)
            owner = self._find_normalised(primary, ids[primary])
            for kind in list(ids):
                holder = self._find_normalised(kind, ids[kind])
                if kind != primary and holder is not None and holder != owner:
                    info[_IMPORT_DUP_COUNTER[kind]] += 1
                    reports[_IMPORT_DUP_COUNTER[kind]].append((ids[kind], "held by another contact"))
                    del ids[kind]
            if owner is not None and not update_existing:
                continue
            c = self._contacts[owner] if owner is not None else self._new_contact(now)
            self._apply(c, ids, attrs, erase_empty=erase_empty and owner is not None, now=now)
            if email_blacklist:
                c["emailBlacklisted"] = True
            if sms_blacklist:
                c["smsBlacklisted"] = True
            c["listIds"].update(list_ids)
        if duplicate_emails:
            info["duplicate_email_id"] = "https://sandbox.brevo.invalid/imports/duplicate_emails.csv"
        return {"import": info, "_duplicate_emails": duplicate_emails, "_reports": reports}

    def _new_process(self, name: str, *, notify_url: str | None = None) -> _Process:
        process = _Process(
            id=self._next_process,
            name=name,
            created=time.time(),
            started=self._clock(),
            queued_for=self.import_queued_seconds,
            duration=self.import_seconds,
            notify_url=notify_url,
        )
        self._next_process += 1
        self._processes[process.id] = process
        self._pending.append(process)
        return process

    def _schedule(self, process: _Process) -> None:
        # Completion happens on the next request after the deadline, or on this timer if none comes.
        timer = threading.Timer(process.duration + 0.001, self._advance_locked)
        timer.daemon = True
        timer.start()

    def _advance_locked(self) -> None:
        with self._lock:
            self._advance()

    def _advance(self) -> None:
        if not self._pending:
            return
        now = self._clock()
        due = [p for p in self._pending if now - p.started >= p.duration]
        if not due:
            return
        self._pending = [p for p in self._pending if p not in due]
        for process in due:
            if process.completed is None:
                if process.name == "IMPORTUSER" and process.extra.get("failure"):
                    process.status = process.extra["failure"]
                    process.apply = None
                result = process.apply() if process.apply else {}
                process.extra["duplicate_emails"] = result.pop("_duplicate_emails", [])
                process.extra["reports"] = result.pop("_reports", {})
                process.info = result or None
                process.completed = time.time()
                process.apply = None
                if process.notify_url and self.call_notify_url:
                    self._notify(process)

    def _notify(self, process: _Process) -> None:
        from connectors.providers.http.client import (
            build_client,  # only needed when notify calls are switched on
        )

        payload = {"processId": process.id, "status": "completed", "info": process.info}
        url = process.notify_url

        def post() -> None:
            # Brevo does not retry either, as far as documented; the sandbox may call loopback.
            with (
                contextlib.suppress(Exception),
                build_client(base_url=url, headers={}, timeout=5.0, allow_private=True) as client,
            ):
                client.post(url, json=payload)  # absolute: exactly the URL given

        threading.Thread(target=post, daemon=True).start()

    def _process_status(self, p: _Process) -> str:
        if p.completed is not None:
            return p.status
        if self._clock() - p.started < p.queued_for:
            return "queued"
        return "in_process" if self.legacy else "processing"

    def _process_json(self, p: _Process, base_url: str = "") -> dict:
        out: dict[str, Any] = {"id": p.id, "status": self._process_status(p), "name": p.name}
        if self.legacy:
            out["created_at"] = _iso(p.created)
            if p.completed is not None:
                out["completed_at"] = _iso(p.completed)
            if p.error:
                out["error"] = p.error
        if p.completed is not None and p.info:
            if self.legacy or "import" not in p.info:
                out["info"] = p.info
            else:
                # 2026 shape: each field the URL of a CSV report, or null when it would be empty.
                reports = p.extra.get("reports") or {}
                out["info"] = {
                    "import": {
                        name: (f"{base_url}processes/{p.id}/reports/{name}" if reports.get(name) else None)
                        for name in REPORT_NAMES
                    }
                }
        return out

    def _process_report(self, request: Request, body: Any) -> tuple[int, Any]:
        pid = _as_int(request.path_params["process_id"])
        process = self._processes.get(pid) if pid is not None else None
        name = request.path_params["name"]
        if process is None or process.completed is None or name not in REPORT_NAMES:
            raise _Fail(404, "document_not_found", "Report does not exist")
        rows = (process.extra.get("reports") or {}).get(name) or []
        text = "identifier;reason\n" + "".join(f"{value};{reason}\n" for value, reason in rows)
        return 200, _Text(text)

    def _get_process(self, request: Request, body: Any) -> tuple[int, Any]:
        pid = _as_int(request.path_params["process_id"])
        if pid is None:
            raise _Fail(400, "invalid_parameter", "processId is invalid")
        process = self._processes.get(pid)
        if process is None:
            raise _Fail(404, "document_not_found", "Process does not exist")
        return 200, self._process_json(process, _v3_base(request))

    def _list_processes(self, request: Request, body: Any) -> tuple[int, Any]:
        limit = _qint(request.query_params, "limit", 10, 50)
        offset = _qint(request.query_params, "offset", 0)
        rows = list(self._processes.values())
        if request.query_params.get("sort", "desc") == "desc":
            rows.reverse()
        return 200, {
            "processes": [self._process_json(p, _v3_base(request)) for p in rows[offset : offset + limit]],
            "count": len(rows),
        }

    # ------------------------------------------------------------ attributes

    def _list_attributes(self, request: Request, body: Any) -> tuple[int, Any]:
        out = []
        for a in self._attributes.values():
            a = dict(a)
            if a.get("enumeration"):
                a["enumeration"] = [
                    {k: v for k, v in e.items() if k != "valueStr"}
                    if self.legacy
                    else {
                        "value": e["value"],
                        "valueStr": e.get("valueStr") or str(e["value"]),
                        "label": e["label"],
                    }
                    for e in a["enumeration"]
                ]
            out.append(a)
        return 200, {"attributes": out}

    def _attribute_path(self, request: Request) -> tuple[str, str]:
        category, name = request.path_params["category"], request.path_params["name"]
        if category not in ATTRIBUTE_CATEGORIES:
            raise _Fail(
                400,
                "invalid_parameter",
                f"attributeCategory must be one of: {', '.join(ATTRIBUTE_CATEGORIES)}",
            )
        return category, name.upper()

    def _create_attribute(self, request: Request, body: Any) -> tuple[int, Any]:
        category, name = self._attribute_path(request)
        body = body or {}
        if not _ATTRIBUTE_NAME_RE.match(name):
            raise _Fail(
                400,
                "invalid_parameter",
                "Attribute name must start with a letter and contain only "
                "letters, digits, '_' or '-' (max 50 characters)",
            )
        if name in self._attributes:
            raise _Fail(400, "duplicate_parameter", "Attribute name must be unique")
        attr: dict[str, Any] = {"name": name, "category": category}
        kind = body.get("type")
        if category in ("calculated", "global"):
            if not isinstance(body.get("value"), str) or not body["value"]:
                raise _Fail(
                    400, "missing_parameter", "value is mandatory for calculated and global attributes"
                )
            attr["calculatedValue"] = body["value"]
        elif category == "category":
            enumeration = body.get("enumeration")
            if kind not in (None, "category"):
                raise _Fail(400, "invalid_parameter", "type must be category for category attributes")
            if (
                not isinstance(enumeration, list)
                or not enumeration
                or not all(
                    isinstance(e, dict)
                    and (_as_int(e.get("value")) is not None or isinstance(e.get("valueStr"), str))
                    and isinstance(e.get("label"), str)
                    and 0 < len(e["label"]) <= 200
                    for e in enumeration
                )
            ):
                raise _Fail(
                    400,
                    "invalid_parameter",
                    "enumeration must be a non-empty array of "
                    "{value: int or valueStr: string, label: string (max 200 characters)}",
                )
            attr["type"] = "category"
            attr["enumeration"] = [
                {"value": int(e["value"]), "label": e["label"]}
                if _as_int(e.get("value")) is not None and not e.get("valueStr")
                else {
                    "value": _as_int(e.get("valueStr")) or 0,
                    "valueStr": str(e["valueStr"]),
                    "label": e["label"],
                }
                for e in enumeration
            ]
        else:
            kind = kind or "text"
            if kind not in _TYPES_BY_CATEGORY[category]:
                raise _Fail(
                    400,
                    "invalid_parameter",
                    f"type must be one of: {', '.join(sorted(_TYPES_BY_CATEGORY[category]))}",
                )
            if kind == "id" and any(a.get("type") == "id" for a in self._attributes.values()):
                raise _Fail(
                    400, "invalid_parameter", "Only one transactional attribute of type id is allowed"
                )
            attr["type"] = kind
            if kind == "multiple-choice":
                options = body.get("multiCategoryOptions")
                if (
                    not isinstance(options, list)
                    or not options
                    or not all(isinstance(o, str) and 0 < len(o) <= 200 for o in options)
                ):
                    raise _Fail(
                        400,
                        "invalid_parameter",
                        "multiCategoryOptions must be a non-empty array of strings (max 200 characters)",
                    )
                attr["multiCategoryOptions"] = list(dict.fromkeys(options))
        self._attributes[name] = attr
        return 201, None

    def _update_attribute(self, request: Request, body: Any) -> tuple[int, Any]:
        category, name = self._attribute_path(request)
        attr = self._attributes.get(name)
        if attr is None or attr["category"] != category:
            raise _Fail(404, "document_not_found", "Attribute does not exist")
        body = body or {}
        if "multiCategoryOptions" in body and attr.get("type") == "multiple-choice":
            attr["multiCategoryOptions"] = list(
                dict.fromkeys(attr["multiCategoryOptions"] + list(body["multiCategoryOptions"]))
            )
        if "enumeration" in body and category == "category":
            attr["enumeration"] = [
                {"value": int(e["value"]), "label": e["label"]} for e in body["enumeration"]
            ]
        if "value" in body and category in ("calculated", "global"):
            attr["calculatedValue"] = body["value"]
        return 204, None

    def _delete_attribute(self, request: Request, body: Any) -> tuple[int, Any]:
        category, name = self._attribute_path(request)
        attr = self._attributes.get(name)
        if attr is None or attr["category"] != category:
            raise _Fail(404, "document_not_found", "Attribute does not exist")
        del self._attributes[name]
        return 204, None

    # ------------------------------------------------------------ folders and lists

    def _folder_json(self, f: dict) -> dict:
        return {
            "id": f["id"],
            "name": f["name"],
            "totalBlacklisted": 0,
            "totalSubscribers": 0,
            "uniqueSubscribers": 0,
        }

    def _list_json(self, li: dict) -> dict:
        return {
            "id": li["id"],
            "name": li["name"],
            "totalBlacklisted": 0,
            "totalSubscribers": 0,
            "uniqueSubscribers": 0,
            "folderId": li["folderId"],
        }

    @staticmethod
    def _page(request: Request, rows: list, *, default: int, maximum: int) -> list:
        limit = _qint(request.query_params, "limit", default, maximum)
        offset = _qint(request.query_params, "offset", 0)
        if request.query_params.get("sort", "desc") == "desc":
            rows = list(reversed(rows))
        return rows[offset : offset + limit]

    def _id_param(self, request: Request, name: str, table: Mapping[int, Any], what: str) -> int:
        value = _as_int(request.path_params[name])
        if value is None:
            raise _Fail(400, "invalid_parameter", f"{name} must be an integer")
        if value not in table:
            raise _Fail(404, "document_not_found", f"{what} ID does not exist")
        return value

    def _list_folders(self, request: Request, body: Any) -> tuple[int, Any]:
        rows = list(self._folders.values())
        page = self._page(request, rows, default=10, maximum=50)
        return 200, {"folders": [self._folder_json(f) for f in page], "count": len(rows)}

    def _create_folder(self, request: Request, body: Any) -> tuple[int, Any]:
        name = (body or {}).get("name")
        if not isinstance(name, str) or not name.strip():
            raise _Fail(400, "missing_parameter", "name is mandatory")
        fid = self._next_folder
        self._next_folder += 1
        self._folders[fid] = {"id": fid, "name": name}
        return 201, {"id": fid}

    def _get_folder(self, request: Request, body: Any) -> tuple[int, Any]:
        fid = self._id_param(request, "folder_id", self._folders, "Folder")
        return 200, self._folder_json(self._folders[fid])

    def _delete_folder(self, request: Request, body: Any) -> tuple[int, Any]:
        fid = self._id_param(request, "folder_id", self._folders, "Folder")
        del self._folders[fid]
        for lid in [lid for lid, li in self._lists.items() if li["folderId"] == fid]:
            self._drop_list(lid)
        return 204, None

    def _folder_lists(self, request: Request, body: Any) -> tuple[int, Any]:
        fid = self._id_param(request, "folder_id", self._folders, "Folder")
        rows = [li for li in self._lists.values() if li["folderId"] == fid]
        page = self._page(request, rows, default=10, maximum=50)
        return 200, {"lists": [self._list_json(li) for li in page], "count": len(rows)}

    def _list_lists(self, request: Request, body: Any) -> tuple[int, Any]:
        rows = list(self._lists.values())
        page = self._page(request, rows, default=10, maximum=50)
        return 200, {"lists": [self._list_json(li) for li in page], "count": len(rows)}

    def _add_list(self, name: str, folder_id: int) -> int:
        lid = self._next_list
        self._next_list += 1
        self._lists[lid] = {"id": lid, "name": name, "folderId": folder_id, "created": time.time()}
        return lid

    def _create_list(self, request: Request, body: Any) -> tuple[int, Any]:
        body = body or {}
        name, folder_id = body.get("name"), body.get("folderId")
        if not isinstance(name, str) or not name.strip() or folder_id is None:
            raise _Fail(400, "missing_parameter", "name and folderId are mandatory")
        if _as_int(folder_id) is None or isinstance(folder_id, str):
            raise _Fail(400, "invalid_parameter", "folderId must be an integer")
        if folder_id not in self._folders:
            raise _Fail(404, "document_not_found", "Folder ID does not exist")
        return 201, {"id": self._add_list(name, folder_id)}

    def _get_list(self, request: Request, body: Any) -> tuple[int, Any]:
        lid = self._id_param(request, "list_id", self._lists, "List")
        li = self._lists[lid]
        return 200, {
            **self._list_json(li),
            "createdAt": _iso(li["created"]),
            "campaignStats": [],
            "dynamicList": False,
        }

    def _drop_list(self, lid: int) -> None:
        del self._lists[lid]
        for c in self._contacts.values():
            c["listIds"].discard(lid)

    def _delete_list(self, request: Request, body: Any) -> tuple[int, Any]:
        self._drop_list(self._id_param(request, "list_id", self._lists, "List"))
        return 204, None

    def _list_contacts_of_list(self, request: Request, body: Any) -> tuple[int, Any]:
        lid = self._id_param(request, "list_id", self._lists, "List")
        params = request.query_params
        limit = _qint(params, "limit", 50, 500)
        offset = _qint(params, "offset", 0)
        since = _since(params, "modifiedSince")
        rows = [
            c
            for c in self._contacts.values()
            if lid in c["listIds"] and (since is None or c["modified"] >= since)
        ]
        if params.get("sort", "desc") == "desc":
            rows.reverse()
        return 200, {
            "contacts": [self._contact_json(c) for c in rows[offset : offset + limit]],
            "count": len(rows),
        }

    def _membership_targets(self, body: Any) -> tuple[str, list]:
        if not isinstance(body, dict):
            raise _Fail(400, "bad_request", "Request body must be a JSON object")
        given = [k for k in ("emails", "ids", "extIds") if k in body]
        if len(given) != 1:
            raise _Fail(400, "invalid_parameter", "Pass exactly one of emails, ids or extIds")
        key = given[0]
        values = body[key]
        if not isinstance(values, list) or not values:
            raise _Fail(400, "invalid_parameter", f"{key} must be a non-empty array")
        if len(values) > 150:
            raise _Fail(
                400,
                "invalid_parameter",
                f"You can pass a maximum of 150 {key} per request; use /contacts/import for more",
            )
        return key, values

    def _membership(self, key: str, values: list) -> list[tuple[Any, int | None]]:
        kind = {"emails": "EMAIL", "ids": "ID", "extIds": "EXT_ID"}[key]
        return [(v, self._find(kind, v)) for v in values]

    def _list_add(self, request: Request, body: Any) -> tuple[int, Any]:
        lid = self._id_param(request, "list_id", self._lists, "List")
        key, values = self._membership_targets(body)
        success, failure = [], []
        now = time.time()
        for value, cid in self._membership(key, values):
            c = self._contacts.get(cid) if cid is not None else None
            if c is None or lid in c["listIds"]:
                failure.append(value)
                continue
            c["listIds"].add(lid)
            c["modified"] = now
            success.append(value)
        return 201, {"contacts": {"success": success, "failure": failure}}

    def _list_remove(self, request: Request, body: Any) -> tuple[int, Any]:
        lid = self._id_param(request, "list_id", self._lists, "List")
        now = time.time()
        if isinstance(body, dict) and body.get("all") is True:
            members = [c for c in self._contacts.values() if lid in c["listIds"]]
            for c in members:
                c["listIds"].discard(lid)
                c["modified"] = now
            process = self._new_process("REMOVE_CONTACTS_FROM_LIST")
            self._schedule(process)
            return 201, {"contacts": {"total": len(members), "processId": process.id}}
        key, values = self._membership_targets(body)
        success, failure = [], []
        for value, cid in self._membership(key, values):
            c = self._contacts.get(cid) if cid is not None else None
            if c is None or lid not in c["listIds"]:
                failure.append(value)
                continue
            c["listIds"].discard(lid)
            c["modified"] = now
            success.append(value)
        return 201, {"contacts": {"success": success, "failure": failure}}

    # ------------------------------------------------------------ events

    def _validate_event(self, body: Any) -> dict:
        if not isinstance(body, dict):
            raise _Fail(400, "bad_request", "Event must be a JSON object")
        name = body.get("event_name")
        if not name:
            raise _Fail(400, "missing_parameter", "event_name is mandatory")
        if not isinstance(name, str) or not _EVENT_NAME_RE.match(name):
            raise _Fail(
                400,
                "invalid_parameter",
                "event_name is limited to 255 characters, alphanumerical characters and - _ only",
            )
        identifiers = body.get("identifiers")
        if not isinstance(identifiers, dict) or not any(
            identifiers.get(k) not in (None, "") for k in _EVENT_IDENTIFIER_KEYS
        ):
            raise _Fail(
                400,
                "missing_parameter",
                f"identifiers must contain at least one of: {', '.join(_EVENT_IDENTIFIER_KEYS)}",
            )
        if identifiers.get("email_id") not in (None, "") and not valid_email(identifiers["email_id"]):
            raise _Fail(400, "invalid_parameter", "identifiers.email_id is not a valid email address")
        if "contact_id" in identifiers and (
            _as_int(identifiers["contact_id"]) is None or isinstance(identifiers["contact_id"], str)
        ):
            raise _Fail(400, "invalid_parameter", "identifiers.contact_id must be an integer")
        for key in ("phone_id", "whatsapp_id", "landline_number_id"):
            if identifiers.get(key) not in (None, "") and normalise_phone(identifiers[key]) is None:
                raise _Fail(400, "invalid_parameter", f"identifiers.{key} is not a valid phone number")
        event_date = body.get("event_date")
        if event_date is not None:
            if not isinstance(event_date, str):
                raise _Fail(400, "invalid_parameter", "event_date must be an ISO 8601 string")
            _parse_ts(event_date, "event_date")
        props = body.get("event_properties")
        if props is not None:
            if not isinstance(props, dict):
                raise _Fail(400, "invalid_parameter", "event_properties must be an object")
            self._check_property_keys(props, "event_properties")
            if len(orjson.dumps(props)) > MAX_EVENT_PROPERTIES_BYTES:
                raise _Fail(400, "invalid_parameter", "event_properties is limited to 50KB")
        contact_props = body.get("contact_properties")
        if contact_props is not None and (
            not isinstance(contact_props, dict)
            or not all(isinstance(v, str | int | float | bool) or v is None for v in contact_props.values())
        ):
            raise _Fail(
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
                if not isinstance(key, str) or not _EVENT_NAME_RE.match(key):
                    raise _Fail(
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
                raise _Fail(404, "document_not_found", "Contact does not exist")
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
                raise _Fail(404, "document_not_found", "Contact does not exist")
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
                {k: v for k, v in attrs.items() if k not in _INDEXED_ATTRS and k != "EMAIL"},
                erase_empty=False,
                now=now,
            )
        self._events.append(
            {
                "contact_id": cid,
                "email": c["email"],
                "event_name": event["name"],
                "event_date": event["event_date"] or _iso(now),
                "identifiers": dict(identifiers),
                "event_properties": event["event_properties"],
                "contact_properties": event["contact_properties"],
                "received_at": _iso(now),
            }
        )

    def _create_event(self, request: Request, body: Any) -> tuple[int, Any]:
        self._record_event(self._validate_event(body))
        return 204, None

    def _create_events_batch(self, request: Request, body: Any) -> tuple[int, Any]:
        items = body.get("events") if isinstance(body, dict) else body
        if not isinstance(items, list) or not items:
            raise _Fail(400, "invalid_parameter", "Send a non-empty array of events")
        errors: dict[str, list[int]] = {}
        ok = 0
        for index, item in enumerate(items):
            try:
                self._record_event(self._validate_event(item))
                ok += 1
            except _Fail as fail:
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
        limit = _qint(params, "limit", 100, 10000)
        offset = _qint(params, "offset", 0)
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

    # ------------------------------------------------------------ CRM

    def _pipelines_all(self, request: Request, body: Any) -> tuple[int, Any]:
        if not self._pipelines:
            # The spec documents a 400 "Pipeline not found" for this route (an account without CRM).
            raise _Fail(400, "invalid_parameter", "Pipeline not found")
        return 200, self._pipelines

    def _pipeline_default(self, request: Request, body: Any) -> tuple[int, Any]:
        if not self._pipelines:
            raise _Fail(400, "invalid_parameter", "Pipeline not found")
        return 200, self._pipelines[0]

    def _pipeline_one(self, request: Request, body: Any) -> tuple[int, Any]:
        pid = request.path_params["pipeline_id"]
        found = [p for p in self._pipelines if p["pipeline"] == pid]
        if not found:
            raise _Fail(400, "invalid_parameter", "Pipeline not found")
        return 200, found

    def _get_deal_attributes(self, request: Request, body: Any) -> tuple[int, Any]:
        return 200, self._deal_attributes

    def _deal_json(self, d: dict) -> dict:
        return {
            "id": d["id"],
            "attributes": dict(d["attributes"]),
            "linkedContactsIds": list(d["linkedContactsIds"]),
            "linkedCompaniesIds": list(d["linkedCompaniesIds"]),
        }

    def _deal_from_path(self, request: Request) -> dict:
        deal_id = request.path_params["deal_id"]
        if not _DEAL_ID_RE.match(deal_id):
            raise _Fail(400, "invalid_parameter", "Route attribute id is not valid.")
        deal = self._deals.get(deal_id)
        if deal is None:
            raise _Fail(404, "document_not_found", "Document not found")
        return deal

    def _check_contact_ids(self, ids: Any, name: str) -> list[int]:
        if ids is None:
            return []
        if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            raise _Fail(400, "invalid_parameter", f"{name} must be an array of integers")
        missing = [i for i in ids if i not in self._contacts]
        if missing:
            raise _Fail(
                400, "invalid_parameter", f"{name}: contact(s) not found: {', '.join(map(str, missing))}"
            )
        return list(dict.fromkeys(ids))

    @staticmethod
    def _check_company_ids(ids: Any, name: str) -> list[str]:
        if ids is None:
            return []
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise _Fail(400, "invalid_parameter", f"{name} must be an array of strings")
        return list(dict.fromkeys(ids))

    def _check_deal_attributes(self, attributes: Any, current: Mapping[str, Any]) -> dict[str, Any]:
        if attributes is None:
            return {}
        if not isinstance(attributes, dict):
            raise _Fail(400, "invalid_parameter", "attributes must be an object")
        known = {a["internalName"]: a for a in self._deal_attributes}
        for key, value in attributes.items():
            attr = known.get(key)
            if attr is None:
                raise _Fail(400, "invalid_parameter", f"Deal attribute {key} does not exist")
            if attr["isValueReadonly"]:
                raise _Fail(400, "invalid_parameter", f"Deal attribute {key} is read-only")
            if (
                attr["attributeTypeName"] == "number"
                and value is not None
                and (isinstance(value, bool) or not isinstance(value, int | float))
            ):
                raise _Fail(400, "invalid_parameter", f"Deal attribute {key} must be a number")
        pipeline_id = attributes.get("pipeline", current.get("pipeline"))
        stage_id = attributes.get("deal_stage", current.get("deal_stage"))
        pipeline = next((p for p in self._pipelines if p["pipeline"] == pipeline_id), None)
        if "pipeline" in attributes and pipeline is None:
            raise _Fail(400, "invalid_parameter", "Pipeline not found")
        if "deal_stage" in attributes and stage_id is not None:
            pipelines = [pipeline] if pipeline else self._pipelines
            if not any(s["id"] == stage_id for p in pipelines for s in p["stages"]):
                raise _Fail(400, "invalid_parameter", "Deal stage not found in the pipeline")
        return dict(attributes)

    def _create_deal(self, request: Request, body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict):
            raise _Fail(400, "bad_request", "Not valid data.")
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise _Fail(400, "missing_parameter", "name is mandatory")
        attrs = self._check_deal_attributes(body.get("attributes"), {})
        contacts = self._check_contact_ids(body.get("linkedContactsIds"), "linkedContactsIds")
        companies = self._check_company_ids(body.get("linkedCompaniesIds"), "linkedCompaniesIds")
        if self._pipelines and "pipeline" not in attrs:
            # Without a pipeline the deal lands in the stage's pipeline, else the default's first stage.
            stage = attrs.get("deal_stage")
            owner = next(
                (p for p in self._pipelines if any(s["id"] == stage for s in p["stages"])), self._pipelines[0]
            )
            attrs["pipeline"] = owner["pipeline"]
            attrs.setdefault("deal_stage", owner["stages"][0]["id"])
        elif "pipeline" in attrs and "deal_stage" not in attrs:
            pipeline = next(p for p in self._pipelines if p["pipeline"] == attrs["pipeline"])
            attrs["deal_stage"] = pipeline["stages"][0]["id"]
        deal_id = hashlib.sha256(f"deal-{self._next_deal}".encode()).hexdigest()[:24]
        self._next_deal += 1
        now = _iso(time.time())
        attrs.update(
            deal_name=name,
            created_at=now,
            last_updated_date=now,
            stage_updated_at=now,
            number_of_contacts=len(contacts),
            number_of_activities=0,
            last_activity_date=None,
            next_activity_date=None,
        )
        self._deals[deal_id] = {
            "id": deal_id,
            "attributes": attrs,
            "linkedContactsIds": contacts,
            "linkedCompaniesIds": companies,
            "created": time.time(),
        }
        return 201, {"id": deal_id}

    def _touch_deal(self, deal: dict, *, stage_before: Any) -> None:
        now = _iso(time.time())
        deal["attributes"]["last_updated_date"] = now
        if deal["attributes"].get("deal_stage") != stage_before:
            deal["attributes"]["stage_updated_at"] = now
        deal["attributes"]["number_of_contacts"] = len(deal["linkedContactsIds"])

    def _update_deal(self, request: Request, body: Any) -> tuple[int, Any]:
        deal = self._deal_from_path(request)
        if not isinstance(body, dict):
            raise _Fail(400, "bad_request", "Not valid data.")
        attrs = self._check_deal_attributes(body.get("attributes"), deal["attributes"])
        contacts = (
            self._check_contact_ids(body["linkedContactsIds"], "linkedContactsIds")
            if "linkedContactsIds" in body
            else None
        )
        companies = (
            self._check_company_ids(body["linkedCompaniesIds"], "linkedCompaniesIds")
            if "linkedCompaniesIds" in body
            else None
        )
        stage_before = deal["attributes"].get("deal_stage")
        deal["attributes"].update(attrs)
        if isinstance(body.get("name"), str) and body["name"].strip():
            deal["attributes"]["deal_name"] = body["name"]
        # PATCH replaces the linked arrays (reference §6.1).
        if contacts is not None:
            deal["linkedContactsIds"] = contacts
        if companies is not None:
            deal["linkedCompaniesIds"] = companies
        self._touch_deal(deal, stage_before=stage_before)
        return 204, None

    def _link_unlink_deal(self, request: Request, body: Any) -> tuple[int, Any]:
        deal = self._deal_from_path(request)
        if not isinstance(body, dict):
            raise _Fail(400, "bad_request", "Not valid data.")
        link = self._check_contact_ids(body.get("linkContactIds"), "linkContactIds")
        unlink = set(self._check_contact_ids(body.get("unlinkContactIds"), "unlinkContactIds"))
        link_co = self._check_company_ids(body.get("linkCompanyIds"), "linkCompanyIds")
        unlink_co = set(self._check_company_ids(body.get("unlinkCompanyIds"), "unlinkCompanyIds"))
        deal["linkedContactsIds"] = [
            i for i in dict.fromkeys(deal["linkedContactsIds"] + link) if i not in unlink
        ]
        deal["linkedCompaniesIds"] = [
            i for i in dict.fromkeys(deal["linkedCompaniesIds"] + link_co) if i not in unlink_co
        ]
        self._touch_deal(deal, stage_before=deal["attributes"].get("deal_stage"))
        return 204, None

    def _get_deal(self, request: Request, body: Any) -> tuple[int, Any]:
        return 200, self._deal_json(self._deal_from_path(request))

    def _delete_deal(self, request: Request, body: Any) -> tuple[int, Any]:
        del self._deals[self._deal_from_path(request)["id"]]
        return 204, None

    def _list_deals(self, request: Request, body: Any) -> tuple[int, Any]:
        params = request.query_params
        limit = _qint(params, "limit", 50, 500)
        offset = _qint(params, "offset", 0)
        name = params.get("filters[attributes.deal_name]")
        contact = _as_int(params.get("filters[linkedContactsIds]"))
        company = params.get("filters[linkedCompaniesIds]")
        since = _since(params, "modifiedSince")
        rows = [
            d
            for d in self._deals.values()
            if (name is None or d["attributes"].get("deal_name") == name)
            and (contact is None or contact in d["linkedContactsIds"])
            and (company is None or company in d["linkedCompaniesIds"])
            and (since is None or _parse_ts(d["attributes"]["last_updated_date"], "x") >= since)
        ]
        if params.get("sort", "desc") == "desc":
            rows.reverse()
        return 200, {"items": [self._deal_json(d) for d in rows[offset : offset + limit]]}

    # ------------------------------------------------------------ e-commerce

    def _activate_ecommerce(self, request: Request, body: Any) -> tuple[int, Any]:
        self.ecommerce_enabled = True
        return 200, {"message": "Ecommerce activation in process"}

    def _require_ecommerce(self) -> None:
        if not self.ecommerce_enabled:
            raise _Fail(
                403,
                "permission_denied",
                "Ecommerce is not activated on this account: call POST /ecommerce/activate",
            )

    def _validate_order(self, order: Any, where: str = "") -> dict:
        def fail(message: str, code: str = "invalid_parameter") -> _Fail:
            return _Fail(400, code, f"{where}{message}")

        if not isinstance(order, dict):
            raise fail("order must be an object", "bad_request")
        for key in ("id", "createdAt", "updatedAt", "status", "amount", "products"):
            if order.get(key) in (None, ""):
                raise fail(f"{key} is mandatory", "missing_parameter")
        if not isinstance(order["id"], str):
            raise fail("id must be a string")
        for key in ("createdAt", "updatedAt"):
            if not isinstance(order[key], str):
                raise fail(f"{key} must be a UTC date-time string (YYYY-MM-DDTHH:mm:ssZ)")
            _parse_ts(order[key], f"{where}{key}")
        if isinstance(order["amount"], bool) or not isinstance(order["amount"], int | float):
            raise fail("amount must be a number")
        products = order["products"]
        if not isinstance(products, list):
            raise fail("products must be an array")
        for i, product in enumerate(products):
            if not isinstance(product, dict) or product.get("productId") in (None, ""):
                raise fail(f"products[{i}].productId is mandatory", "missing_parameter")
            if isinstance(product.get("price"), bool) or not isinstance(product.get("price"), int | float):
                raise fail(f"products[{i}].price is mandatory and must be a number")
            has_q, has_qf = product.get("quantity") is not None, product.get("quantityFloat") is not None
            if has_q == has_qf:
                raise fail(f"products[{i}]: pass exactly one of quantity or quantityFloat")
        identifiers = order.get("identifiers") or {}
        if not isinstance(identifiers, dict):
            raise fail("identifiers must be an object")
        email = identifiers.get("email_id") or order.get("email")
        if email is not None and not valid_email(email):
            raise fail("identifiers.email_id is not a valid email address")
        if not (
            email
            or identifiers.get("phone_id")
            or identifiers.get("ext_id")
            or identifiers.get("loyalty_subscription_id")
            or (order.get("billing") or {}).get("phone")
        ):
            raise fail(
                "identifiers must contain email_id, phone_id, ext_id or loyalty_subscription_id",
                "missing_parameter",
            )
        return order

    def _store_order(self, order: dict) -> None:
        identifiers = order.get("identifiers") or {}
        cid = None
        for key, kind in (("email_id", "EMAIL"), ("ext_id", "EXT_ID"), ("phone_id", "SMS")):
            if cid is None and identifiers.get(key):
                cid = self._find(kind, identifiers[key])
        if cid is None and order.get("email"):
            cid = self._find("EMAIL", order["email"])
        stored = dict(order)
        stored["contact_id"] = cid
        stored["email"] = (
            self._contacts[cid]["email"] if cid else (identifiers.get("email_id") or order.get("email"))
        )
        stored["_received"] = time.time()
        previous = self._orders.get(order["id"])
        stored["_created"] = previous["_created"] if previous else stored["_received"]
        self._orders[order["id"]] = stored  # re-posting an id updates the order

    def _create_order(self, request: Request, body: Any) -> tuple[int, Any]:
        self._require_ecommerce()
        self._store_order(self._validate_order(body))
        return 204, None

    def _create_order_batch(self, request: Request, body: Any) -> tuple[int, Any]:
        self._require_ecommerce()
        orders = body.get("orders") if isinstance(body, dict) else None
        if not isinstance(orders, list) or not orders:
            raise _Fail(400, "missing_parameter", "orders is mandatory and must be a non-empty array")
        if len(orders) > 1000:
            raise _Fail(400, "invalid_parameter", "A batch accepts at most 1000 orders")
        validated = [self._validate_order(o, f"orders[{i}].") for i, o in enumerate(orders)]
        for order in validated:
            self._store_order(order)
        batch_id = self._next_batch
        self._next_batch += 1
        self._order_batches.append(
            {
                "batchId": batch_id,
                "count": len(validated),
                "historical": body.get("historical", True) is not False,
                "notifyUrl": body.get("notifyUrl"),
            }
        )
        return 202, {("batchId" if self.legacy else "batch_id"): batch_id, "count": len(validated)}

    def _list_orders(self, request: Request, body: Any) -> tuple[int, Any]:
        self._require_ecommerce()
        params = request.query_params
        limit = _qint(params, "limit", 50, 100)
        offset = _qint(params, "offset", 0)
        modified, created = _since(params, "modifiedSince"), _since(params, "createdSince")
        rows = [
            o
            for o in self._orders.values()
            if (modified is None or o["_received"] >= modified)
            and (created is None or o["_created"] >= created)
        ]
        if params.get("sort", "desc") == "desc":
            rows.reverse()
        page = [{k: v for k, v in o.items() if not k.startswith("_")} for o in rows[offset : offset + limit]]
        return 200, {"orders": page, "count": len(rows)}
