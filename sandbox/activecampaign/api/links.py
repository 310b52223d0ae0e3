"""The `links` objects AC puts on every row, built from per-kind templates."""

from __future__ import annotations

from collections.abc import Iterable

import orjson
from starlette.requests import Request

from sandbox.activecampaign.generator.catalog import Row

# ---------------------------------------------------------------------------
# links
# ---------------------------------------------------------------------------

CONTACT_LINKS = (
    "bounceLogs",
    "contactAutomations",
    "contactData",
    "contactGoals",
    "contactLists",
    "contactLogs",
    "contactTags",
    "contactDeals",
    "deals",
    "fieldValues",
    "geoIps",
    "notes",
    "organization",
    "plusAppend",
    "trackingLogs",
    "scoreValues",
    "accountContacts",
    "automationEntryCounts",
)

# kind -> (path segment, link keys, absolute?) ; absolute links carry the host, relative ones start at /api/3
_LINKS: dict[str, tuple[str, tuple[str, ...], bool]] = {
    "contacts": ("contacts", CONTACT_LINKS, True),
    "fieldValues": ("fieldValues", ("owner", "field"), True),
    "contactTags": ("contactTags", ("contact", "tag"), True),
    "contactLists": (
        "contactLists",
        (
            "automation",
            "list",
            "contact",
            "form",
            "autosyncLog",
            "campaign",
            "unsubscribeAutomation",
            "message",
        ),
        True,
    ),
    "scoreValues": ("scoreValues", ("score", "contact", "deal"), True),
    "contactAutomations": (
        "contactAutomations",
        ("automation", "contact", "contactGoals", "automationLogs"),
        True,
    ),
    "trackingLogs": ("trackingLogs", ("contact",), True),
    "deals": (
        "deals",
        (
            "activities",
            "dealActivities",
            "contact",
            "contactDeals",
            "group",
            "nextTask",
            "notes",
            "account",
            "customerAccount",
            "organization",
            "owner",
            "scoreValues",
            "stage",
            "tasks",
            "dealCustomFieldData",
        ),
        False,
    ),
    "lists": ("lists", ("contactGoalLists", "user", "addressLists"), True),
    "tags": ("tags", ("contactGoalTags",), True),
    "fields": ("fields", ("options", "relations"), True),
    "users": ("users", ("lists", "userGroup", "dealGroupTotals", "dealGroupUsers", "configs"), True),
    "dealGroups": ("dealGroups", ("dealGroupGroups", "dealGroupUsers", "stages"), False),
    "dealStages": ("dealStages", ("group",), False),
    "automations": (
        "automations",
        ("campaigns", "contactGoals", "contactAutomations", "blocks", "goals", "sms", "sitemessages"),
        True,
    ),
    "connections": ("connections", ("customers",), False),
    "ecomCustomers": ("ecomCustomers", ("connection", "orders"), False),
    "ecomOrders": (
        "ecomOrders",
        ("connection", "customer", "orderProducts", "orderDiscounts", "orderActivities"),
        True,
    ),
    "ecomOrderProducts": ("ecomOrderProducts", ("ecomOrder",), True),
}
_EMPTY_LIST_LINKS = {"scores", "webhooks", "fieldRels"}
_EMPTY_DICT_LINKS = {"fieldOptions"}
_NO_LINKS = {"records", "schemas", "eventTrackingEvents"}


def _json_chars(text: str) -> bytes:
    """``text`` as it appears inside a JSON string (orjson escapes character by character)."""
    return orjson.dumps(text)[1:-1]


def _links_template(base: str, kind: str) -> list[bytes]:
    """The serialised ``links`` object of ``kind`` split where the row id goes.

    Joining the parts with an id gives the bytes orjson writes for the links dict,
    without building the dict (18 entries on a contact) for every row.
    """
    segment, keys, absolute = _LINKS[kind]
    if not keys:
        return [b"{}"]
    prefix = _json_chars(f"{base}/api/3/{segment}/" if absolute else f"/api/3/{segment}/")
    parts: list[bytes] = []
    opening = b"{"
    for k in keys:
        parts.append(opening + b'"' + _json_chars(k) + b'":"' + prefix)
        opening = b"/" + _json_chars(k) + b'",'
    parts.append(opening[:-1] + b"}")
    return parts


_TEMPLATES: dict[tuple[str, str], list[bytes]] = {}


class Linker:
    """Adds the ``links`` object AC puts on every row; needs the request's scheme and host."""

    def __init__(self, request: Request) -> None:
        host = request.headers.get("host", "localhost")
        self.base = f"{request.url.scheme}://{host}"

    def _template(self, kind: str) -> list[bytes]:
        key = (self.base, kind)
        parts = _TEMPLATES.get(key)
        if parts is None:
            if len(_TEMPLATES) >= 1024:  # hosts come from a header: keep the cache bounded
                _TEMPLATES.clear()
            parts = _TEMPLATES[key] = _links_template(self.base, kind)
        return parts

    def __call__(self, kind: str, row: Row) -> Row:
        out = dict(row)
        if kind == "records":
            out.pop("seq", None)
            return out
        if kind in _NO_LINKS:
            return out
        if kind in _EMPTY_LIST_LINKS:
            out["links"] = []
            return out
        if kind in _EMPTY_DICT_LINKS:
            out["links"] = {}
            return out
        rid = row["id"]
        if type(rid) is str and rid.isascii() and rid.isdigit():
            # Pre-serialised: the same bytes as the dict below, at a fraction of the cost.
            out["links"] = orjson.Fragment(rid.encode().join(self._template(kind)))
            return out
        segment, keys, absolute = _LINKS[kind]
        prefix = f"{self.base}/api/3/{segment}/{rid}/" if absolute else f"/api/3/{segment}/{rid}/"
        out["links"] = {k: prefix + k for k in keys}
        return out

    def many(self, kind: str, rows: Iterable[Row]) -> list[Row]:
        return [self(kind, r) for r in rows]
