"""HTTP face of the simulated ActiveCampaign API v3 (mounted at ``/api/3``).

Follows `reference/activecampaign-api-v3.md`: ``Api-Token`` auth (403
``{"message":"Forbidden"}``), a per-account token bucket with ``RateLimit-*``
headers and 429 + ``Retry-After``, ``limit`` (default 20, clamped to 100; 100
on ``/fields``) and ``offset`` paging, ``meta.total`` typed per endpoint,
numeric strings, sideloads, and the error body variants of section 1.4.

``meta.total`` counts what the query selects, id bounds (``id_greater``,
``id_less``) included. Date filters: ``*_after`` is inclusive, ``*_before``
exclusive; ``YYYY-MM-DD`` and ISO datetimes are read in account time unless
they carry an offset.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
import uuid
from bisect import bisect_left
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import Any
from urllib.parse import unquote

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, Router

from sandbox.ac_state import (
    WEBHOOK_EVENTS,
    ACError,
    ACState,
    ChildTable,
    Window,
    in_window,
    not_found,
)
from sandbox.generator import Row

Handler = Callable[[Request], Awaitable[Response]]

MAX_LIMIT = 100


class JSONBody(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def _error(status: int, body: dict[str, Any]) -> Response:
    return JSONBody(body, status_code=status)


# ---------------------------------------------------------------------------
# rate limit and auth
# ---------------------------------------------------------------------------


class SlidingWindow:
    """At most ``limit`` admitted requests in any window of ``seconds`` (one AC account).

    Stricter than a token bucket: a burst never doubles up across a window
    edge, so "5 per second" holds for every 1-second interval a test measures.
    Fractional rates widen the window (2.5/s -> 3 per 1.2 s).
    """

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = max(1, math.ceil(rate))
        self.seconds = self.limit / rate
        self.clock = clock
        self.admitted: deque[float] = deque()
        self.lock = threading.Lock()

    def take(self) -> tuple[bool, int, float]:
        """Admit one request if the window has room: (admitted, left in the window, decision time)."""
        with self.lock:
            now = self.clock()
            while self.admitted and now - self.admitted[0] >= self.seconds:
                self.admitted.popleft()
            if len(self.admitted) < self.limit:
                self.admitted.append(now)
                return True, self.limit - len(self.admitted), now
            return False, 0, now


class ACGate:
    """ASGI middleware in front of the AC routes: token check, rate limit, RateLimit-* headers."""

    def __init__(
        self, app: Any, *, keys: Iterable[str], rate: float, retry_after: float, legacy: bool = False
    ) -> None:
        self.app = app
        self.keys = {k.encode() for k in keys}
        self.rate = rate
        self.retry_after = retry_after
        self.legacy = legacy
        self.bucket = SlidingWindow(rate) if rate > 0 else None
        self.limit_header = str(math.ceil(rate)).encode() if rate > 0 else None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = next((v for k, v in scope["headers"] if k == b"api-token"), None)
        if token is None or token.strip() not in self.keys:
            # Every answer carries the account's limit (reference §15), refusals included.
            headers = None
            if self.bucket is not None and not self.legacy:
                headers = [(b"ratelimit-limit", self.limit_header), (b"ratelimit-remaining", b"0")]
            await _send_json(send, 403, {"message": "Forbidden"}, headers)
            return
        scope["sandbox.account"] = "ac"
        if self.bucket is None:
            await self.app(scope, receive, send)
            return
        allowed, remaining, decided = self.bucket.take()
        # The request log then shows the limiter's own clock: windows measured there are exact.
        scope["sandbox.t"] = decided
        limit_headers = [
            (b"ratelimit-limit", self.limit_header),
            (b"ratelimit-remaining", str(remaining).encode()),
        ]
        if not allowed:
            retry = str(max(1, math.ceil(self.retry_after))).encode()
            await _send_json(
                send, 429, {"message": "Too Many Requests"}, [(b"retry-after", retry), *limit_headers]
            )
            return

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = dict(message)
                message["headers"] = [*message.get("headers", []), *limit_headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _send_json(
    send: Any, status: int, body: Any, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    data = orjson.dumps(body)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


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


# ---------------------------------------------------------------------------
# query helpers
# ---------------------------------------------------------------------------


def page_params(request: Request, default: int = 20) -> tuple[int, int]:
    """``limit`` (default 20, at most 100) and ``offset`` (at least 0); junk falls back to defaults."""
    q = request.query_params
    try:
        limit = int(q.get("limit", default))
    except ValueError:
        limit = default
    if limit <= 0:
        limit = default
    limit = min(limit, MAX_LIMIT)
    try:
        offset = max(0, int(q.get("offset", 0)))
    except ValueError:
        offset = 0
    return limit, offset


def take_page(rows: Iterator[Row], limit: int, offset: int) -> tuple[list[Row], int]:
    """Skip ``offset``, keep ``limit``, and count everything for ``meta.total``."""
    page: list[Row] = []
    seen = 0
    for row in rows:
        if offset <= seen < offset + limit:
            page.append(row)
        seen += 1
    return page, seen


def orders_param(request: Request, allowed: Iterable[str]) -> list[tuple[str, bool]]:
    """``orders[field]=ASC|DESC`` in query-string order; returns [(field, descending)]."""
    allowed = set(allowed)
    out = []
    for key, value in request.query_params.multi_items():
        if key.startswith("orders[") and key.endswith("]"):
            name = key[7:-1]
            if name in allowed:
                direction = value.strip().upper()
                if direction not in ("ASC", "DESC", ""):
                    raise ACError(
                        422,
                        {
                            "errors": [
                                {
                                    "title": "Allowed values are ASC, DESC",
                                    "detail": "",
                                    "code": "field_invalid",
                                    "source": {"pointer": f"/data/attributes/orders/{name}"},
                                }
                            ]
                        },
                    )
                out.append((name, direction == "DESC"))
    return out


def filter_param(request: Request, name: str) -> str | None:
    value = request.query_params.get(f"filters[{name}]")
    return value if value not in (None, "") else None


def sort_rows(
    rows: list[Row], orders: list[tuple[str, bool]], keys: dict[str, Callable[[Row], Any]]
) -> list[Row]:
    for name, descending in reversed(orders):
        rows.sort(key=keys[name], reverse=descending)
    return rows


def _num(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def listing(
    kind: str,
    link: Linker,
    rows: list[Row],
    total: int,
    *,
    int_total: bool = False,
    meta: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response:
    body: dict[str, Any] = dict(extra or {})
    body[kind] = link.many(kind, rows)
    m = {"total": total if int_total else str(total)}
    m.update(meta or {})
    body["meta"] = m
    return JSONBody(body)


# ---------------------------------------------------------------------------
# the API
# ---------------------------------------------------------------------------


class ACApi:
    """Routes of the AC simulator over one `ACState`."""

    def __init__(self, state: ACState) -> None:
        self.state = state

    def app(self, *, keys: Iterable[str], rate: float, retry_after: float, legacy: bool = False) -> ACGate:
        routes = self.routes()
        if not legacy:
            # Clients check a token with `GET /api/3/` (tap-activecampaign does): 200 for a valid one.
            routes.insert(0, self._route("/", self.api_root, "GET"))
        router = Router(routes=routes, default=self._not_found)
        return ACGate(router, keys=keys, rate=rate, retry_after=retry_after, legacy=legacy)

    async def api_root(self, request: Request) -> Response:
        return JSONBody({})

    async def _not_found(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await _send_json(send, 404, {"message": "Not Found"})

    def routes(self) -> list[BaseRoute]:
        r = self._route
        return [
            r("/contacts", self.contacts_list, "GET"),
            r("/contacts", self.contacts_create, "POST"),
            r("/contact/sync", self.contact_sync, "POST"),
            r("/contacts/{id:int}", self.contact_get, "GET"),
            r("/contacts/{id:int}", self.contact_update, "PUT"),
            r("/contacts/{id:int}", self.contact_delete, "DELETE"),
            *(r(f"/contacts/{{id:int}}/{sub}", self.contact_sub, "GET") for sub in CONTACT_LINKS),
            r("/fields", self.fields_list, "GET"),
            r("/fields/{id:int}", self.field_get, "GET"),
            r("/fieldValues", self.field_values_list, "GET"),
            r("/fieldValues", self.field_value_create, "POST"),
            r("/fieldValues/{id:int}", self.field_value_get, "GET"),
            r("/lists", self.lists_list, "GET"),
            r("/lists/{id:int}", self.list_get, "GET"),
            r("/tags", self.tags_list, "GET"),
            r("/tags", self.tag_create, "POST"),
            r("/tags/{id:int}", self.tag_get, "GET"),
            r("/contactTags", self.contact_tags_list, "GET"),
            r("/contactTags", self.contact_tag_create, "POST"),
            r("/contactTags/{id:int}", self.contact_tag_get, "GET"),
            r("/contactTags/{id:int}", self.contact_tag_delete, "DELETE"),
            r("/contactLists", self.contact_lists_list, "GET"),
            r("/contactLists", self.contact_list_create, "POST"),
            r("/deals", self.deals_list, "GET"),
            r("/deals", self.deal_create, "POST"),
            r("/deals/{id:int}", self.deal_get, "GET"),
            r("/deals/{id:int}", self.deal_update, "PUT"),
            r("/deals/{id:int}", self.deal_delete, "DELETE"),
            r("/dealGroups", self.deal_groups_list, "GET"),
            r("/dealGroups/{id:int}", self.deal_group_get, "GET"),
            r("/dealStages", self.deal_stages_list, "GET"),
            r("/dealStages/{id:int}", self.deal_stage_get, "GET"),
            r("/users", self.users_list, "GET"),
            r("/users/me", self.user_me, "GET"),
            r("/users/email/{email}", self.user_by_email, "GET"),
            r("/users/username/{username}", self.user_by_username, "GET"),
            r("/users/{id:int}", self.user_get, "GET"),
            r("/scores", self.scores_list, "GET"),
            r("/scores/{id:int}", self.score_get, "GET"),
            r("/automations", self.automations_list, "GET"),
            r("/contactAutomations", self.contact_automations_list, "GET"),
            r("/contactAutomations/{id:int}", self.contact_automation_get, "GET"),
            r("/eventTracking", self.event_tracking_get, "GET"),
            r("/eventTracking", self.event_tracking_put, "PUT"),
            r("/eventTrackingEvents", self.event_names_list, "GET"),
            r("/eventTrackingEvents", self.event_name_create, "POST"),
            r("/connections", self.connections_list, "GET"),
            r("/ecomCustomers", self.ecom_customers_list, "GET"),
            r("/ecomCustomers/{id:int}", self.ecom_customer_get, "GET"),
            r("/ecomOrders", self.ecom_orders_list, "GET"),
            r("/ecomOrders/{id:int}", self.ecom_order_get, "GET"),
            r("/ecomOrders/{id:int}/orderProducts", self.ecom_order_products_of, "GET"),
            r("/ecomOrderProducts", self.ecom_order_products_list, "GET"),
            r("/ecomOrderProducts/{id:int}", self.ecom_order_product_get, "GET"),
            r("/customObjects/schemas", self.schemas_list, "GET"),
            r("/customObjects/schemas/{schema_id}", self.schema_get, "GET"),
            r("/customObjects/records/{schema_id}", self.records_list, "GET"),
            r("/customObjects/records/{schema_id}", self.record_upsert, "POST"),
            r("/customObjects/records/{schema_id}/{record_id}", self.record_get, "GET"),
            r("/webhooks", self.webhooks_list, "GET"),
            r("/webhooks", self.webhook_create, "POST"),
            r("/webhooks/{id:int}", self.webhook_get, "GET"),
            r("/webhooks/{id:int}", self.webhook_delete, "DELETE"),
            r("/webhook/events", self.webhook_events, "GET"),
            r("/import/bulk_import", self.bulk_import, "POST"),
            r("/import/bulk_import", self.bulk_import_status, "GET"),
            r("/import/info", self.import_info, "GET"),
        ]

    def _route(self, path: str, handler: Handler, method: str) -> Route:
        async def endpoint(request: Request) -> Response:
            try:
                return await handler(request)
            except ACError as exc:
                return _error(exc.status, exc.body)

        return Route(path, endpoint, methods=[method], name=f"{method} {path}")

    async def _json(self, request: Request) -> Any:
        raw = await request.body()
        try:
            return orjson.loads(raw or b"{}")
        except orjson.JSONDecodeError:
            raise ACError(400, {"message": "Malformed JSON body"}) from None

    # -- contacts ----------------------------------------------------------

    async def contacts_list(self, request: Request) -> Response:
        st = self.state
        q = request.query_params
        link = Linker(request)
        limit, offset = page_params(request)
        with st.lock:
            orders = orders_param(
                request, ("id", "cdate", "email", "first_name", "last_name", "name", "score")
            )
            rows, total = self._contact_query(request, orders, limit, offset)
            out_rows = []
            score_values: list[Row] = []
            includes = _includes(q.get("include"))
            side: dict[str, list[Row]] = {k: [] for k in includes}
            for c in rows:
                cid = int(c["id"])
                row = link("contacts", c)
                svs = st._children(cid, "scoreValues")
                row["scoreValues"] = [s["id"] for s in svs]
                score_values.extend(svs)
                for kind in includes:
                    if kind in _SIDELOAD_CHILDREN:
                        kids = st._children(cid, kind)
                        row[kind] = [k["id"] for k in kids]
                        side[kind].extend(kids)
                out_rows.append(row)
            body: dict[str, Any] = {
                "scoreValues": link.many("scoreValues", score_values),
                "contacts": out_rows,
            }
            for kind, kids in side.items():
                if kind in _SIDELOAD_CHILDREN:
                    body[kind] = link.many(kind, kids)
            for kind in includes:
                if kind in _SIDELOAD_CATALOG:
                    child_kind, key, catalog = _SIDELOAD_CATALOG[kind]
                    wanted = {k[key] for k in side.get(child_kind, [])}
                    rows_by_id = getattr(st, catalog)
                    body[catalog] = link.many(
                        catalog, [rows_by_id[i] for i in sorted(wanted, key=int) if i in rows_by_id]
                    )
            body["meta"] = {"total": str(total), "page_input": _page_input(request, limit, offset)}
        return JSONBody(body)

    def _contact_query(
        self, request: Request, orders: list[tuple[str, bool]], limit: int, offset: int
    ) -> tuple[list[Row], int]:
        st = self.state
        q = request.query_params
        clock = st.clock
        preds: list[Callable[[Row], bool]] = []
        lo, hi = 1, None  # id bounds, inclusive

        def int_param(name: str) -> int | None:
            value = q.get(name)
            if value in (None, ""):
                return None
            try:
                return int(value)
            except ValueError:
                raise ACError(
                    422,
                    {
                        "errors": [
                            {
                                "title": f"Invalid value for {name}",
                                "detail": "",
                                "code": "field_invalid",
                                "source": {"pointer": f"/data/attributes/{name}"},
                            }
                        ]
                    },
                ) from None

        def date_param(name: str) -> float | None:
            value = filter_param(request, name)
            if value is None:
                return None
            try:
                return clock.parse_filter(value)
            except ValueError:
                raise ACError(
                    422,
                    {
                        "errors": [
                            {
                                "title": f"Invalid date for filters[{name}]",
                                "detail": "Use YYYY-MM-DD or an ISO 8601 datetime",
                                "code": "field_invalid",
                                "source": {"pointer": f"/data/attributes/{name}"},
                            }
                        ]
                    },
                ) from None

        greater, less = int_param("id_greater"), int_param("id_less")
        if greater is not None:
            lo = max(lo, greater + 1)
        if less is not None:
            hi = less - 1
        ids_raw = q.getlist("ids[]") + q.getlist("ids")
        explicit: list[int] | None = None
        if ids_raw:
            explicit = sorted({int(x) for raw in ids_raw for x in raw.split(",") if x.strip().isdigit()})
        email = q.get("email") or q.get("filters[email]")
        if email:
            found = st._find_by_email(email)
            explicit = found if explicit is None else sorted(set(explicit) & set(found))
        updated_after, updated_before = date_param("updated_after"), date_param("updated_before")
        created_after, created_before = date_param("created_after"), date_param("created_before")
        updated: Window = (updated_after, updated_before)
        created: Window = (created_after, created_before)
        timed = updated != (None, None) or created != (None, None)

        def time_ok(cid: int) -> bool:
            return in_window(st.udate_of(cid), updated) and in_window(st.cdate_of(cid), created)

        if q.get("email_like"):
            needle = q["email_like"].lower()
            preds.append(lambda c: needle in c["email"].lower())
        if q.get("search") and q["search"] != "null":
            needle = q["search"].lower()
            preds.append(
                lambda c: (
                    any(
                        needle in (c.get(k) or "").lower()
                        for k in ("email", "firstName", "lastName", "phone", "orgname")
                    )
                    or needle in f"{c['firstName']} {c['lastName']}".lower()
                )
            )
        if q.get("phone"):
            prefix = q["phone"]
            preds.append(lambda c: c["phone"].startswith(prefix))
        exclude = int_param("exclude")
        if exclude:
            preds.append(lambda c: int(c["id"]) != exclude)
        listid = int_param("listid")
        status = int_param("status")
        if listid:
            lid, want = str(listid), (None if status in (None, -1) else str(status))
            preds.append(
                lambda c: any(
                    m["list"] == lid and (want is None or m["status"] == want)
                    for m in st._children(int(c["id"]), "contactLists")
                )
            )
        tagid = int_param("tagid")
        if tagid:
            tid = str(tagid)
            preds.append(lambda c: any(t["tag"] == tid for t in st._children(int(c["id"]), "contactTags")))
        seriesid = int_param("seriesid")
        if seriesid:
            sid = str(seriesid)
            preds.append(
                lambda c: any(a["seriesid"] == sid for a in st._children(int(c["id"]), "contactAutomations"))
            )
        for name in ("formid", "waitid", "segmentid"):
            if int_param(name):
                preds.append(lambda c: False)  # no forms, waits or segments in the sandbox

        descending_id = bool(orders) and orders[0] == ("id", True)
        if not preds and explicit is None and (not orders or orders[0] == ("id", False)):
            # Id order with only id/time bounds: answered from the arrays, one page of work.
            ids, total = st.contact_window(
                lo=lo, hi=hi, updated=updated, created=created, offset=offset, limit=limit
            )
            return [c for c in (st._contact(i) for i in ids) if c is not None], total

        if explicit is not None:
            id_source: Iterable[int] = reversed(explicit) if descending_id else explicit
        elif descending_id:
            id_source = st.iter_contact_ids(hi if hi is not None else 2**62, descending=True)
        else:
            start = lo
            if created_after is not None:
                # Generated contacts were created in id order: skip straight to the first candidate.
                start = max(start, bisect_left(st.gen.cdate, created_after) + 1)
            id_source = st.iter_contact_ids(start)

        def matches() -> Iterator[Row]:
            # Sources run in id order, so the first id past a bound ends the walk.
            for cid in id_source:
                if cid < lo:
                    if descending_id:
                        return
                    continue
                if hi is not None and cid > hi:
                    if not descending_id:
                        return
                    continue
                if timed and not time_ok(cid):
                    continue
                c = st._contact(cid)
                if c is not None and all(p(c) for p in preds):
                    yield c

        if orders and orders[0][0] != "id":
            all_rows = list(matches())
            keys: dict[str, Callable[[Row], Any]] = {
                "id": lambda c: int(c["id"]),
                "cdate": lambda c: st.cdate_of(int(c["id"])) or 0.0,
                "email": lambda c: c["email"].lower(),
                "first_name": lambda c: c["firstName"].lower(),
                "last_name": lambda c: c["lastName"].lower(),
                "name": lambda c: f"{c['firstName']} {c['lastName']}".lower(),
                "score": self._score_key(request),
            }
            sort_rows(all_rows, orders, keys)
            return all_rows[offset : offset + limit], len(all_rows)
        return take_page(matches(), limit, offset)

    def _score_key(self, request: Request) -> Callable[[Row], Any]:
        sort_id = request.query_params.get("sortId", "1")

        def key(c: Row) -> float:
            return next(
                (
                    _num(s["scoreValue"])
                    for s in self.state._children(int(c["id"]), "scoreValues")
                    if s["score"] == sort_id
                ),
                0.0,
            )

        return key

    async def contacts_create(self, request: Request) -> Response:
        body = await self._json(request)
        contact, fvs = self.state.create_contact(body)
        link = Linker(request)
        out = link("contacts", contact)
        out["fieldValues"] = [f["id"] for f in fvs]
        return JSONBody({"fieldValues": link.many("fieldValues", fvs), "contact": out}, status_code=201)

    async def contact_sync(self, request: Request) -> Response:
        body = await self._json(request)
        created, contact, fvs = self.state.sync_contact(body)
        link = Linker(request)
        out = link("contacts", contact)
        out["fieldValues"] = [f["id"] for f in fvs]
        # contact/sync answers the org fields as "" (reference quirk 16).
        out.update({"orgid": "", "orgname": "", "organization": ""})
        return JSONBody(
            {"fieldValues": link.many("fieldValues", fvs), "contact": out},
            status_code=201 if created else 200,
        )

    async def contact_get(self, request: Request) -> Response:
        st = self.state
        cid = request.path_params["id"]
        link = Linker(request)
        with st.lock:
            contact = st._contact(cid)
            if contact is None:
                raise not_found("Subscriber", cid)
            row = link("contacts", contact)
            body: dict[str, Any] = {}
            for kind in ("contactAutomations", "contactLists", "deals", "fieldValues"):
                kids = st._children(cid, kind)
                row[kind] = [k["id"] for k in kids]
                body[kind] = link.many(kind, kids)
            row["geoIps"] = []
            row["accountContacts"] = []
            body.update({"geoAddresses": [], "geoIps": [], "accountContacts": [], "contact": row})
        return JSONBody(body)

    async def contact_update(self, request: Request) -> Response:
        body = await self._json(request)
        cid = request.path_params["id"]
        contact, fvs = self.state.update_contact(cid, body)
        link = Linker(request)
        with self.state.lock:
            all_fvs = self.state._children(cid, "fieldValues")
        out = link("contacts", contact)
        out["fieldValues"] = [f["id"] for f in all_fvs]
        return JSONBody({"fieldValues": link.many("fieldValues", fvs), "contact": out})

    async def contact_delete(self, request: Request) -> Response:
        self.state.delete_contact(request.path_params["id"])
        return JSONBody({})

    async def contact_sub(self, request: Request) -> Response:
        st = self.state
        cid = request.path_params["id"]
        sub = request.url.path.rstrip("/").rsplit("/", 1)[-1]
        link = Linker(request)
        with st.lock:
            if st._contact(cid) is None:
                raise not_found("Subscriber", cid)
            if sub in (
                "contactTags",
                "contactLists",
                "fieldValues",
                "scoreValues",
                "contactAutomations",
                "trackingLogs",
                "deals",
            ):
                return JSONBody({sub: link.many(sub, st._children(cid, sub))})
            if sub in (
                "geoIps",
                "notes",
                "bounceLogs",
                "contactLogs",
                "contactGoals",
                "contactDeals",
                "accountContacts",
                "automationEntryCounts",
                "contactData",
                "plusAppend",
            ):
                return JSONBody({sub: []})
            if sub == "organization":
                return JSONBody({"organization": None})
        return _error(404, {"message": "Not Found"})

    # -- fields and values ---------------------------------------------------

    async def fields_list(self, request: Request) -> Response:
        st = self.state
        link = Linker(request)
        limit, offset = page_params(request, default=100)
        perstag = filter_param(request, "perstag")
        with st.lock:
            rows = [f for f in st.fields.values() if perstag is None or f["perstag"] == perstag.upper()]
            rows.sort(key=lambda f: int(f["id"]))
            page = rows[offset : offset + limit]
            wanted = {f["id"] for f in page}
            options = [o for o in st.field_options.values() if o["field"] in wanted]
            rels = [r for r in st.field_rels.values() if r["field"] in wanted]
            return listing(
                "fields",
                link,
                page,
                len(rows),
                extra={
                    "fieldOptions": link.many("fieldOptions", options),
                    "fieldRels": link.many("fieldRels", rels),
                },
            )

    async def field_get(self, request: Request) -> Response:
        fid = str(request.path_params["id"])
        row = self.state.fields.get(fid)
        if row is None:
            raise not_found("Field", fid)
        return JSONBody({"field": Linker(request)("fields", row)})

    async def field_values_list(self, request: Request) -> Response:
        fieldid = filter_param(request, "fieldid")
        val = filter_param(request, "val")
        contact = filter_param(request, "contactid") or filter_param(request, "contact")
        pred = None
        if fieldid or val is not None or contact:

            def pred(r: Row) -> bool:
                return (
                    (fieldid is None or r["field"] == fieldid)
                    and (val is None or r["value"] == val)
                    and (contact is None or r["contact"] == contact)
                )

        return self._table_listing(request, "fieldValues", pred)

    async def field_value_create(self, request: Request) -> Response:
        body = await self._json(request)
        row = self.state.set_field_value(body)
        link = Linker(request)
        out = link("fieldValues", row)
        for key in ("contact", "field", "owner"):
            out[key] = int(out[key])  # ints in this write response, strings in GETs
        contact = self.state.get_contact(int(row["contact"]))
        return JSONBody({"contacts": [link("contacts", contact)] if contact else [], "fieldValue": out})

    async def field_value_get(self, request: Request) -> Response:
        rid = request.path_params["id"]
        with self.state.lock:
            row = self.state.tables["fieldValues"].get(rid)
        if row is None:
            raise not_found("FieldValue", rid, status=403)  # AC answers 403 here
        return JSONBody({"fieldValue": Linker(request)("fieldValues", row)})

    # -- lists and tags ------------------------------------------------------

    async def lists_list(self, request: Request) -> Response:
        st = self.state
        limit, offset = page_params(request)
        q = request.query_params
        name_eq = q.get("filters[name]")
        ops = {k[len("filters[name][") : -1]: v for k, v in q.multi_items() if k.startswith("filters[name][")}
        with st.lock:
            rows = [
                r
                for r in st.lists.values()
                if (name_eq is None or r["name"] == name_eq)
                and all(_op(r["name"], o, v) for o, v in ops.items())
            ]
            orders = orders_param(request, ("name",))
            rows.sort(key=lambda r: int(r["id"]))
            sort_rows(rows, orders, {"name": lambda r: r["name"].lower()})
            return listing("lists", Linker(request), rows[offset : offset + limit], len(rows))

    async def list_get(self, request: Request) -> Response:
        lid = str(request.path_params["id"])
        row = self.state.lists.get(lid)
        if row is None:
            raise not_found("_List", lid)
        return JSONBody({"list": Linker(request)("lists", row)})

    async def tags_list(self, request: Request) -> Response:
        st = self.state
        limit, offset = page_params(request)
        q = request.query_params
        search = q.get("search") or q.get("filters[search]")
        ops = {
            k[len("filters[search][") : -1]: v for k, v in q.multi_items() if k.startswith("filters[search][")
        }
        with st.lock:
            rows = [
                r
                for r in st.tags.values()
                if (not search or search.lower() in r["tag"].lower())
                and all(_op(r["tag"], o, v) for o, v in ops.items())
            ]
            rows.sort(key=lambda r: int(r["id"]))
            sort_rows(rows, orders_param(request, ("search",)), {"search": lambda r: r["tag"].lower()})
            return listing("tags", Linker(request), rows[offset : offset + limit], len(rows))

    async def tag_create(self, request: Request) -> Response:
        row = self.state.create_tag(await self._json(request))
        return JSONBody({"tag": Linker(request)("tags", row)}, status_code=201)

    async def tag_get(self, request: Request) -> Response:
        tid = str(request.path_params["id"])
        row = self.state.tags.get(tid)
        if row is None:
            raise not_found("Tag", tid)
        return JSONBody({"tag": Linker(request)("tags", row)})

    async def contact_tags_list(self, request: Request) -> Response:
        tag = filter_param(request, "tag")
        contact = filter_param(request, "contact")
        pred = None
        if tag or contact:

            def pred(r: Row) -> bool:
                return (tag is None or r["tag"] == tag) and (contact is None or r["contact"] == contact)

        return self._table_listing(request, "contactTags", pred)

    async def contact_tag_create(self, request: Request) -> Response:
        row, _created = self.state.add_contact_tag(await self._json(request))
        return JSONBody({"contactTag": Linker(request)("contactTags", row)}, status_code=201)

    async def contact_tag_get(self, request: Request) -> Response:
        rid = request.path_params["id"]
        with self.state.lock:
            row = self.state.tables["contactTags"].get(rid)
        if row is None:
            raise not_found("SubscriberTag", rid)
        return JSONBody({"contactTag": Linker(request)("contactTags", row)})

    async def contact_tag_delete(self, request: Request) -> Response:
        self.state.remove_contact_tag(request.path_params["id"])
        return JSONBody({})

    async def contact_lists_list(self, request: Request) -> Response:
        lst = filter_param(request, "list") or filter_param(request, "listid")
        status = filter_param(request, "status")
        contact = filter_param(request, "contact")
        pred = None
        if lst or status is not None or contact:

            def pred(r: Row) -> bool:
                return (
                    (lst is None or r["list"] == lst)
                    and (status is None or r["status"] == status)
                    and (contact is None or r["contact"] == contact)
                )

        return self._table_listing(request, "contactLists", pred)

    async def contact_list_create(self, request: Request) -> Response:
        row = self.state.set_list_status(await self._json(request))
        link = Linker(request)
        out = link("contactLists", row)
        out["status"] = int(out["status"])  # an int in this write response, a string in GETs
        contact = self.state.get_contact(int(row["contact"]))
        return JSONBody({"contacts": [link("contacts", contact)] if contact else [], "contactList": out})

    # -- generic per-contact table listing ------------------------------------

    def _table_listing(
        self,
        request: Request,
        kind: str,
        pred: Callable[[Row], bool] | None,
        *,
        int_total: bool = False,
        meta: dict[str, Any] | None = None,
    ) -> Response:
        st = self.state
        limit, offset = page_params(request)
        with st.lock:
            table = st.tables[kind]
            orders = orders_param(request, ("id",))
            descending = bool(orders) and orders[0][1]
            if pred is None and not descending:
                rows, total = _plain_page(table, limit, offset), table.count()
            else:
                rows_iter: Iterator[Row] = table.iter_from(1)
                if pred is not None:
                    rows_iter = (r for r in rows_iter if pred(r))
                if descending:
                    all_rows = list(rows_iter)
                    all_rows.reverse()
                    rows, total = all_rows[offset : offset + limit], len(all_rows)
                else:
                    rows, total = take_page(rows_iter, limit, offset)
            return listing(kind, Linker(request), rows, total, int_total=int_total, meta=meta)

    # -- deals ---------------------------------------------------------------

    async def deals_list(self, request: Request) -> Response:
        st = self.state
        limit, offset = page_params(request)
        clock = st.clock
        conditions: list[Callable[[Row], bool]] = []
        for name, key in (
            ("stage", "stage"),
            ("group", "group"),
            ("owner", "owner"),
            ("status", "status"),
            ("contact", "contact"),
        ):
            value = filter_param(request, name)
            if value is not None:
                conditions.append(lambda r, k=key, v=value: r[k] == v)
        title = filter_param(request, "title")
        if title:
            conditions.append(lambda r: title.lower() in r["title"].lower())
        search = filter_param(request, "search")
        if search:
            conditions.append(
                lambda r: (
                    search.lower() in r["title"].lower()
                    or search.lower() in (r.get("description") or "").lower()
                )
            )
        bounds: dict[str, float | None] = {}
        for name in ("created_after", "created_before", "updated_after", "updated_before"):
            value = filter_param(request, name)
            bounds[name] = None
            if value is not None:
                try:
                    bounds[name] = clock.parse_filter(value)
                except ValueError:
                    raise ACError(
                        422,
                        {
                            "errors": [
                                {
                                    "title": f"Invalid date for filters[{name}]",
                                    "detail": "",
                                    "code": "field_invalid",
                                    "source": {"pointer": f"/data/attributes/{name}"},
                                }
                            ]
                        },
                    ) from None
        # "after" is inclusive (the reference: greater than or equal), "before" exclusive.
        created: Window = (bounds["created_after"], bounds["created_before"])
        updated: Window = (bounds["updated_after"], bounds["updated_before"])
        # Value filters are whole dollars; values are cents (reference quirk 12).
        low, high = filter_param(request, "minimum_value"), filter_param(request, "maximum_value")
        if low is not None:
            conditions.append(lambda r: int(r["value"]) >= _num(low) * 100)
        if high is not None:
            conditions.append(lambda r: int(r["value"]) <= _num(high) * 100)
        with st.lock:
            orders = orders_param(
                request,
                ("id", "title", "value", "cdate", "mdate", "contact_name", "contact_orgname", "next-action"),
            )
            if not conditions and all(o in (("id", False), ("cdate", False)) for o in orders):
                # Deal ids ascend with cdate: one page of work from the arrays.
                page, total = st.deal_window(created=created, updated=updated, offset=offset, limit=limit)
                sums = st.deal_currencies(created=created, updated=updated)
                meta_cur = {
                    c: {"currency": c, "total": str(n), "value": str(v)} for c, (n, v) in sums.items()
                }
                return listing(
                    "deals", Linker(request), page, total, int_total=True, meta={"currencies": meta_cur}
                )
            rows_iter: Iterator[Row] = st.tables["deals"].iter_from(1)
            conditions.append(lambda r: in_window(clock.parse_stored(r["cdate"]), created))
            conditions.append(lambda r: in_window(clock.parse_stored(r["mdate"]), updated))
            rows = [r for r in rows_iter if all(c(r) for c in conditions)]
            keys: dict[str, Callable[[Row], Any]] = {
                "id": lambda r: int(r["id"]),
                "title": lambda r: r["title"].lower(),
                "value": lambda r: int(r["value"]),
                "cdate": lambda r: r["cdate"],
                "mdate": lambda r: r["mdate"],
                "contact_name": lambda r: self._contact_name(r),
                "contact_orgname": lambda r: "",
                "next-action": lambda r: r.get("nextdate") or "",
            }
            sort_rows(rows, orders, keys)
            return listing(
                "deals",
                Linker(request),
                rows[offset : offset + limit],
                len(rows),
                int_total=True,
                meta={"currencies": self._currencies(rows)},
            )

    @staticmethod
    def _currencies(rows: Iterable[Row]) -> dict[str, dict[str, str]]:
        """``meta.currencies`` over every matching deal."""
        sums: dict[str, list[int]] = {}
        for r in rows:
            entry = sums.setdefault(r["currency"].upper(), [0, 0])
            entry[0] += 1
            entry[1] += int(r["value"])
        return {cur: {"currency": cur, "total": str(n), "value": str(v)} for cur, (n, v) in sums.items()}

    def _contact_name(self, deal: Row) -> str:
        c = self.state._contact(int(deal["contact"])) if deal.get("contact") else None
        return f"{c['firstName']} {c['lastName']}".lower() if c else ""

    async def deal_get(self, request: Request) -> Response:
        did = request.path_params["id"]
        with self.state.lock:
            row = self.state.tables["deals"].get(did)
        if row is None:
            raise not_found("Deal", did)
        return JSONBody({"deal": Linker(request)("deals", row)})

    def _deal_write_response(self, request: Request, row: Row, status: int, body: Any) -> Response:
        link = Linker(request)
        out = link("deals", row)
        out["value"] = int(out["value"])  # an int in write responses
        out["status"] = int(out["status"])
        # Custom field values sent with the deal come back with their dealId (not kept otherwise).
        fields = (body.get("deal") or {}).get("fields") if isinstance(body, dict) else None
        out["fields"] = [
            {**f, "dealId": row["id"]}
            for f in (fields if isinstance(fields, list) else [])
            if isinstance(f, dict)
        ]
        with self.state.lock:
            contact = self.state._contact(int(row["contact"]))
            stage = self.state.deal_stages.get(row["stage"])
        return JSONBody(
            {
                "contacts": [link("contacts", contact)] if contact else [],
                "deal": out,
                "dealStages": [link("dealStages", stage)] if stage else [],
            },
            status_code=status,
        )

    async def deal_create(self, request: Request) -> Response:
        body = await self._json(request)
        row = self.state.create_deal(body)
        return self._deal_write_response(request, row, 201, body)

    async def deal_update(self, request: Request) -> Response:
        body = await self._json(request)
        row = self.state.update_deal(request.path_params["id"], body)
        return self._deal_write_response(request, row, 200, body)

    async def deal_delete(self, request: Request) -> Response:
        self.state.delete_deal(request.path_params["id"])
        return JSONBody({})

    async def deal_groups_list(self, request: Request) -> Response:
        st = self.state
        limit, offset = page_params(request)
        title = filter_param(request, "title")
        have_stages = filter_param(request, "have_stages")
        with st.lock:
            rows = [
                r
                for r in st.deal_groups.values()
                if (not title or title.lower() in r["title"].lower())
                and (have_stages is None or bool(r["stages"]) == (have_stages == "1"))
            ]
            rows.sort(key=lambda r: int(r["id"]))
            sort_rows(
                rows,
                orders_param(request, ("title", "popular")),
                {"title": lambda r: r["title"].lower(), "popular": lambda r: int(r["id"])},
            )
            page = rows[offset : offset + limit]
            stages = [st.deal_stages[s] for r in page for s in r["stages"] if s in st.deal_stages]
            link = Linker(request)
            return listing(
                "dealGroups", link, page, len(rows), extra={"dealStages": link.many("dealStages", stages)}
            )

    async def deal_group_get(self, request: Request) -> Response:
        pid = str(request.path_params["id"])
        row = self.state.deal_groups.get(pid)
        if row is None:
            raise not_found("Pipeline", pid)
        link = Linker(request)
        stages = [self.state.deal_stages[s] for s in row["stages"]]
        return JSONBody({"dealGroup": link("dealGroups", row), "dealStages": link.many("dealStages", stages)})

    async def deal_stages_list(self, request: Request) -> Response:
        st = self.state
        limit, offset = page_params(request)
        title = filter_param(request, "title")
        group = filter_param(request, "d_groupid")
        with st.lock:
            rows = [
                r
                for r in st.deal_stages.values()
                if (not title or title.lower() in r["title"].lower())
                and (group is None or r["group"] == group)
            ]
            rows.sort(key=lambda r: int(r["id"]))
            sort_rows(rows, orders_param(request, ("title",)), {"title": lambda r: r["title"].lower()})
            return listing("dealStages", Linker(request), rows[offset : offset + limit], len(rows))

    async def deal_stage_get(self, request: Request) -> Response:
        sid = str(request.path_params["id"])
        row = self.state.deal_stages.get(sid)
        if row is None:
            raise not_found("DealStage", sid)
        return JSONBody({"dealStage": Linker(request)("dealStages", row)})

    # -- users, scores, automations ----------------------------------------

    async def users_list(self, request: Request) -> Response:
        limit, offset = page_params(request)
        rows = sorted(self.state.users.values(), key=lambda r: int(r["id"]))
        return listing("users", Linker(request), rows[offset : offset + limit], len(rows))

    async def user_me(self, request: Request) -> Response:
        return JSONBody({"user": Linker(request)("users", self.state.users["1"])})

    async def user_get(self, request: Request) -> Response:
        row = self.state.users.get(str(request.path_params["id"]))
        if row is None:
            raise not_found("User", request.path_params["id"])
        return JSONBody({"user": Linker(request)("users", row)})

    async def user_by_email(self, request: Request) -> Response:
        email = unquote(request.path_params["email"]).lower()
        row = next((u for u in self.state.users.values() if u["email"].lower() == email), None)
        if row is None:
            raise not_found("User", email)
        return JSONBody({"user": Linker(request)("users", row)})

    async def user_by_username(self, request: Request) -> Response:
        name = request.path_params["username"]
        row = next((u for u in self.state.users.values() if u["username"] == name), None)
        if row is None:
            raise not_found("User", name)
        return JSONBody({"user": Linker(request)("users", row)})

    async def scores_list(self, request: Request) -> Response:
        limit, offset = page_params(request)
        rows = sorted(self.state.scores.values(), key=lambda r: int(r["id"]))
        return listing("scores", Linker(request), rows[offset : offset + limit], len(rows))

    async def score_get(self, request: Request) -> Response:
        row = self.state.scores.get(str(request.path_params["id"]))
        if row is None:
            raise not_found("Score", request.path_params["id"])
        return JSONBody({"score": Linker(request)("scores", row)})

    async def automations_list(self, request: Request) -> Response:
        limit, offset = page_params(request)
        rows = sorted(self.state.automations.values(), key=lambda r: int(r["id"]))
        starts = [{"id": str(n), "series": r["id"], "type": "subscribe"} for n, r in enumerate(rows, start=1)]
        return listing(
            "automations",
            Linker(request),
            rows[offset : offset + limit],
            len(rows),
            meta={"starts": starts, "filtered": False, "smsLogs": []},
        )

    async def contact_automations_list(self, request: Request) -> Response:
        automation = filter_param(request, "seriesid") or filter_param(request, "automation")
        contact = filter_param(request, "contact")
        status = filter_param(request, "status")
        pred = None
        if automation or contact or status is not None:

            def pred(r: Row) -> bool:
                return (
                    (automation is None or r["seriesid"] == automation)
                    and (contact is None or r["contact"] == contact)
                    and (status is None or r["status"] == status)
                )

        return self._table_listing(request, "contactAutomations", pred, meta={"showcase_stats": []})

    async def contact_automation_get(self, request: Request) -> Response:
        rid = request.path_params["id"]
        with self.state.lock:
            row = self.state.tables["contactAutomations"].get(rid)
        if row is None:
            raise not_found("SubscriberSeries", rid, status=403)
        return JSONBody({"contactAutomation": Linker(request)("contactAutomations", row)})

    # -- event tracking ------------------------------------------------------

    async def event_tracking_get(self, request: Request) -> Response:
        return JSONBody({"eventTracking": {"enabled": self.state.event_tracking_enabled}})

    async def event_tracking_put(self, request: Request) -> Response:
        body = await self._json(request)
        data = body.get("eventTracking") if isinstance(body, dict) else None
        if not isinstance(data, dict) or "enabled" not in data:
            raise ACError(
                422,
                {
                    "errors": [
                        {
                            "status": 422,
                            "title": "Missing attribute",
                            "source": {"pointer": "/data/attributes/eventTracking"},
                        }
                    ]
                },
            )
        self.state.event_tracking_enabled = bool(data["enabled"])
        return JSONBody({"eventTracking": {"enabled": self.state.event_tracking_enabled}})

    async def event_names_list(self, request: Request) -> Response:
        limit, offset = page_params(request)
        names = self.state.event_names
        rows = [{"name": n} for n in names[offset : offset + limit]]
        return JSONBody({"eventTrackingEvents": rows, "meta": {"total": len(names)}})

    async def event_name_create(self, request: Request) -> Response:
        body = await self._json(request)
        data = body.get("eventTrackingEvent") if isinstance(body, dict) else None
        name = str((data or {}).get("name") or "").strip()
        if not name:
            raise ACError(
                422,
                {
                    "errors": [
                        {
                            "status": 422,
                            "title": "Missing attribute",
                            "source": {"pointer": "/data/attributes/name"},
                        }
                    ]
                },
            )
        if len(name) > 32:
            raise ACError(
                422,
                {
                    "errors": [
                        {
                            "title": "Event name must be at most 32 characters",
                            "detail": "",
                            "code": "field_invalid",
                            "source": {"pointer": "/data/attributes/name"},
                        }
                    ]
                },
            )
        with self.state.lock:
            if name not in self.state.event_names:
                self.state.event_names.append(name)
        return JSONBody({"eventTrackingEvent": {"name": name}}, status_code=201)

    # -- e-commerce ----------------------------------------------------------

    async def connections_list(self, request: Request) -> Response:
        limit, offset = page_params(request)
        service, externalid = filter_param(request, "service"), filter_param(request, "externalid")
        rows = [
            r
            for r in self.state.connections.values()
            if (service is None or r["service"] == service)
            and (externalid is None or r["externalid"] == externalid)
        ]
        return listing("connections", Linker(request), rows[offset : offset + limit], len(rows))

    async def ecom_customers_list(self, request: Request) -> Response:
        email, externalid = filter_param(request, "email"), filter_param(request, "externalid")
        connectionid = filter_param(request, "connectionid")
        pred = None
        if email or externalid or connectionid:

            def pred(r: Row) -> bool:
                return (
                    (email is None or r["email"].lower() == email.lower())
                    and (externalid is None or r["externalid"] == externalid)
                    and (connectionid is None or r["connectionid"] == connectionid)
                )

        return self._table_listing(request, "ecomCustomers", pred)

    async def ecom_customer_get(self, request: Request) -> Response:
        rid = request.path_params["id"]
        with self.state.lock:
            row = self.state.tables["ecomCustomers"].get(rid)
        if row is None:
            raise not_found("EcomCustomer", rid)
        return JSONBody({"ecomCustomer": Linker(request)("ecomCustomers", row)})

    async def ecom_orders_list(self, request: Request) -> Response:
        wanted = {
            k: filter_param(request, k)
            for k in ("connectionid", "externalid", "externalcheckoutid", "email", "state", "customerid")
        }
        wanted = {k: v for k, v in wanted.items() if v is not None}
        pred = None
        if wanted:

            def pred(r: Row) -> bool:
                for k, v in wanted.items():
                    have = r.get(k)
                    if k == "email":
                        if (have or "").lower() != v.lower():
                            return False
                    elif str(have) != v:
                        return False
                return True

        return self._table_listing(request, "ecomOrders", pred)

    async def ecom_order_get(self, request: Request) -> Response:
        rid = request.path_params["id"]
        with self.state.lock:
            row = self.state.tables["ecomOrders"].get(rid)
        if row is None:
            raise not_found("EcomOrder", rid)
        return JSONBody({"ecomOrder": Linker(request)("ecomOrders", row)})

    async def ecom_order_products_of(self, request: Request) -> Response:
        rid = request.path_params["id"]
        st = self.state
        with st.lock:
            order = st.tables["ecomOrders"].get(rid)
            if order is None:
                raise not_found("EcomOrder", rid)
            table = st.tables["ecomOrderProducts"]
            rows = [p for p in (table.get(int(x)) for x in order["orderProducts"]) if p is not None]
        return JSONBody({"ecomOrderProducts": Linker(request).many("ecomOrderProducts", rows)})

    async def ecom_order_products_list(self, request: Request) -> Response:
        # The vendor example of this list has no meta.
        st = self.state
        limit, offset = page_params(request)
        with st.lock:
            rows = _plain_page(st.tables["ecomOrderProducts"], limit, offset)
        return JSONBody({"ecomOrderProducts": Linker(request).many("ecomOrderProducts", rows)})

    async def ecom_order_product_get(self, request: Request) -> Response:
        rid = request.path_params["id"]
        with self.state.lock:
            row = self.state.tables["ecomOrderProducts"].get(rid)
        if row is None:
            raise not_found("EcomOrderProduct", rid)
        return JSONBody({"ecomOrderProduct": Linker(request)("ecomOrderProducts", row)})

    # -- custom objects --------------------------------------------------------

    async def schemas_list(self, request: Request) -> Response:
        limit, offset = page_params(request)
        rows = list(self.state.schemas.values())
        page = rows[offset : offset + limit]
        return JSONBody(
            {
                "schemas": page,
                "meta": {"total": len(rows), "count": len(page), "limit": limit, "offset": offset},
            }
        )

    async def schema_get(self, request: Request) -> Response:
        row = self.state.schemas.get(request.path_params["schema_id"])
        if row is None:
            return _error(404, {"message": "Not Found"})
        return JSONBody({"schema": row})

    async def records_list(self, request: Request) -> Response:
        st = self.state
        schema_id = request.path_params["schema_id"]
        if schema_id not in st.schemas:
            return _error(404, {"message": "Not Found"})
        limit, offset = page_params(request)
        q = request.query_params
        contact = q.get("filters[relationships.primary-contact][eq]") or q.get(
            "filters[relationships.primary-contact]"
        )
        external = q.get("filters[externalId]") or q.get("filters[externalId][eq]")
        link = Linker(request)
        with st.lock:
            table = st.tables["records"]
            if contact:
                try:
                    rows_all = st._children(int(contact), "records") if st._contact(int(contact)) else []
                except ValueError:
                    rows_all = []
                rows, total = rows_all[offset : offset + limit], len(rows_all)
            elif external:
                rows, total = take_page(
                    (r for r in table.iter_from(1) if r["externalId"] == external), limit, offset
                )
            else:
                rows, total = _plain_page(table, limit, offset), table.count()
            page = link.many("records", rows)
        return JSONBody(
            {"records": page, "meta": {"total": total, "count": len(page), "limit": limit, "offset": offset}}
        )

    async def record_upsert(self, request: Request) -> Response:
        schema_id = request.path_params["schema_id"]
        if schema_id not in self.state.schemas:
            return _error(404, {"message": "Not Found"})
        row, _created = self.state.upsert_record(schema_id, await self._json(request))
        return JSONBody({"record": Linker(request)("records", row)}, status_code=201)

    async def record_get(self, request: Request) -> Response:
        if request.path_params["schema_id"] not in self.state.schemas:
            return _error(404, {"message": "Not Found"})
        row = self.state.record_by_id(request.path_params["record_id"])
        if row is None:
            return _error(404, {"message": "Not Found"})
        return JSONBody({"record": Linker(request)("records", row)})

    # -- webhooks --------------------------------------------------------------

    async def webhooks_list(self, request: Request) -> Response:
        limit, offset = page_params(request)
        name, url, listid = (filter_param(request, k) for k in ("name", "url", "listid"))
        rows = [
            _public_webhook(r)
            for r in self.state.webhooks.values()
            if (name is None or r["name"] == name)
            and (url is None or r["url"] == url)
            and (listid is None or r["listid"] == listid)
        ]
        return listing("webhooks", Linker(request), rows[offset : offset + limit], len(rows))

    async def webhook_create(self, request: Request) -> Response:
        row = self.state.create_webhook(await self._json(request))
        return JSONBody({"webhook": Linker(request)("webhooks", _public_webhook(row))}, status_code=201)

    async def webhook_get(self, request: Request) -> Response:
        row = self.state.webhooks.get(str(request.path_params["id"]))
        if row is None:
            raise not_found("Webhook", request.path_params["id"])
        return JSONBody({"webhook": Linker(request)("webhooks", _public_webhook(row))})

    async def webhook_delete(self, request: Request) -> Response:
        self.state.delete_webhook(request.path_params["id"])
        return JSONBody({})

    async def webhook_events(self, request: Request) -> Response:
        limit, offset = page_params(request, default=MAX_LIMIT)
        return JSONBody(
            {"webhookEvents": WEBHOOK_EVENTS[offset : offset + limit], "meta": {"total": len(WEBHOOK_EVENTS)}}
        )

    # -- bulk import (synchronous in the sandbox; status answers "completed") --

    async def bulk_import(self, request: Request) -> Response:
        body = await self._json(request)
        contacts = body.get("contacts") if isinstance(body, dict) else None
        if not isinstance(contacts, list) or not contacts:
            return _error(
                400,
                {
                    "success": 0,
                    "message": "JSON payload did not pass validation. 'contacts' is required",
                    "failureReasons": [],
                },
            )
        if len(contacts) > 250:
            return _error(
                400,
                {
                    "success": 0,
                    "message": "JSON payload did not pass validation. "
                    "Up to 250 contacts may be imported per request",
                    "failureReasons": [],
                },
            )
        failures = []
        for n, item in enumerate(contacts):
            email = str((item or {}).get("email") or "")
            if "@" not in email or email.count("@") != 1:
                failures.append({"contact": n, "failureReason": "Field 'email' incorrect format"})
        if failures:
            return _error(
                400,
                {
                    "success": 0,
                    "message": "JSON payload did not pass validation. See failureReasons for details",
                    "failureReasons": failures,
                },
            )
        st = self.state
        success: list[str] = []
        for item in contacts:
            data = {
                "email": item["email"],
                "firstName": item.get("first_name"),
                "lastName": item.get("last_name"),
                "phone": item.get("phone"),
                "fieldValues": [
                    {"field": f.get("id"), "value": f.get("value")} for f in item.get("fields") or []
                ],
            }
            _created, contact, _fvs = st.sync_contact(
                {"contact": {k: v for k, v in data.items() if v is not None}}, source="system"
            )
            cid = int(contact["id"])
            for name in item.get("tags") or []:
                tid = st.tag_id(str(name)) or st.create_tag({"tag": {"tag": str(name)}})["id"]
                st.add_contact_tag({"contactTag": {"contact": cid, "tag": tid}}, source="system")
            for sub in item.get("subscribe") or []:
                st.set_list_status(
                    {"contactList": {"contact": cid, "list": sub.get("listid"), "status": 1}}, source="system"
                )
            for sub in item.get("unsubscribe") or []:
                st.set_list_status(
                    {"contactList": {"contact": cid, "list": sub.get("listid"), "status": 2}}, source="system"
                )
            success.append(str(cid))
        batch = str(uuid.uuid4())
        with st.lock:
            st.imports[batch] = {"status": "completed", "success": success, "failure": []}
        return JSONBody(
            {
                "Success": 1,
                "queued_contacts": len(contacts),
                "batchId": batch,
                "message": "Contact import queued",
            }
        )

    async def bulk_import_status(self, request: Request) -> Response:
        day = self.state.clock.date(self.state.clock.now())
        done = sum(len(v["success"]) for v in self.state.imports.values())
        return JSONBody(
            {
                "outstanding": [],
                "recentlyCompleted": [
                    {"forDate": day, "batches": str(len(self.state.imports)), "contacts": str(done)}
                ]
                if done
                else [],
            }
        )

    async def import_info(self, request: Request) -> Response:
        batch = request.query_params.get("batchId")
        if not batch:
            return _error(400, {"success": 0, "message": "'batchId' is a required field."})
        row = self.state.imports.get(batch)
        if row is None:
            return _error(404, {"message": "Not Found"})
        return JSONBody(row)


# ---------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------

_SIDELOAD_CHILDREN = (
    "contactLists",
    "contactTags",
    "fieldValues",
    "deals",
    "contactAutomations",
    "scoreValues",
)
# dotted include -> (child kind it hangs off, key in the child row, state attribute)
_SIDELOAD_CATALOG = {
    "contactLists.list": ("contactLists", "list", "lists"),
    "contactTags.tag": ("contactTags", "tag", "tags"),
    "fieldValues.field": ("fieldValues", "field", "fields"),
}


def _includes(raw: str | None) -> list[str]:
    if not raw:
        return []
    out: list[str] = []
    for part in raw.split(","):
        name = part.strip()
        if not name:
            continue
        if "." in name:
            head = name.split(".", 1)[0]
            if head in _SIDELOAD_CHILDREN and head not in out:
                out.append(head)
            if name in _SIDELOAD_CATALOG:
                out.append(name)
        elif name in _SIDELOAD_CHILDREN and name not in out:
            out.append(name)
    return out


def _page_input(request: Request, limit: int, offset: int) -> dict[str, Any]:
    q = request.query_params

    def as_int(name: str, default: int) -> int:
        try:
            return int(q.get(name, default))
        except ValueError:
            return default

    return {
        "segmentid": as_int("segmentid", 0),
        "formid": as_int("formid", 0),
        "listid": as_int("listid", 0),
        "tagid": as_int("tagid", 0),
        "limit": limit,
        "offset": offset,
        "search": q.get("search"),
        "sort": None,
        "seriesid": as_int("seriesid", 0),
        "waitid": as_int("waitid", 0),
        "status": as_int("status", -1),
        "forceQuery": as_int("forceQuery", 0),
        "cacheid": hashlib.md5(str(request.url.query).encode(), usedforsecurity=False).hexdigest(),
    }


def _plain_page(table: ChildTable, limit: int, offset: int) -> list[Row]:
    """One page of an unfiltered table in id order without walking what comes before."""
    live_generated = table.generated - len(table.deleted)
    if offset < live_generated:
        start = table.start_for_offset(offset)
        out = []
        for row in table.iter_from(start):
            out.append(row)
            if len(out) >= limit:
                break
        return out
    first = offset - live_generated
    return [table.rows[i] for i in table.new_ids[first : first + limit]]


def _op(value: str, op: str, arg: str) -> bool:
    a, b = value.lower(), arg.lower()
    return {
        "eq": a == b,
        "neq": a != b,
        "lt": a < b,
        "lte": a <= b,
        "gt": a > b,
        "gte": a >= b,
        "contains": b in a,
        "starts_with": a.startswith(b),
    }.get(op, True)


def _public_webhook(row: Row) -> Row:
    return {k: v for k, v in row.items() if k != "state"}
