"""ActiveCampaign API v3 client: one method per endpoint, pydantic out, pages for every list.

Credentials and options are passed in; the client knows HTTP, not Django. Every request goes
through `connectors.providers.http.retry.send` (rate limiter, AC error table, bounded retries).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, timedelta
from typing import Any, Literal, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from connectors.providers.activecampaign.cursor import updated_after_value
from connectors.providers.activecampaign.errors import PROVIDER, ActiveCampaignErrors
from connectors.providers.activecampaign.pagination import (
    PAGE_SIZE,
    ContactPage,
    FieldPage,
    KeysetPaginator,
    OffsetPaginator,
    Page,
    PipelinePage,
    describe_validation_error,
    envelope_model,
    envelope_rows,
    max_id,
    parse_rows,
    parse_total,
    sideload,
)
from connectors.providers.activecampaign.schemas import (
    AcModel,
    Automation,
    Contact,
    ContactAutomation,
    ContactDetail,
    ContactList,
    ContactListRef,
    ContactTag,
    ContactTagRef,
    CustomField,
    CustomObjectRecord,
    CustomObjectSchema,
    Deal,
    DealStage,
    EcomCustomer,
    EcomOrder,
    EcomOrderProduct,
    EventTrackingEvent,
    EventTrackingStatus,
    FieldOption,
    FieldRel,
    FieldValue,
    FieldValueRef,
    MailingList,
    Pipeline,
    Score,
    ScoreValue,
    Tag,
    TrackingLog,
    User,
    Webhook,
)
from connectors.providers.http.errors import BadResponse, response_json, validated_body
from connectors.providers.http.factory import build_client
from connectors.providers.http.masking import register_secret
from connectors.providers.http.ratelimit import (
    CombinedLimiter,
    FollowingLimiter,
    RateLimiter,
    get_following_limiter,
    get_limiter,
    limiter_key,
)
from connectors.providers.http.retry import RetryPolicy, send

logger = logging.getLogger(__name__)

DEFAULT_RATE = 5.0  # requests per second per account, every plan (reference §15, vendor page 2026-11-10)
# Event tracking has its own, lower budget per account (the account's `event_tracking_rate`).
DEFAULT_EVENT_TRACKING_RATE = 2.0
RATE_LIMIT_HEADER = "RateLimit-Limit"  # on every answer (reference §15): what the account may send
WEBHOOK_SOURCES = ("public", "admin", "api", "system")

M = TypeVar("M", bound=BaseModel)

# The collections `count` reads a total of; each is also paged through by a `iter_*_pages` method.
Collection = Literal[
    "contacts",
    "fieldValues",
    "contactTags",
    "contactLists",
    "deals",
    "contactAutomations",
    "ecomCustomers",
    "ecomOrders",
    "ecomOrderProducts",
    "customObjectRecords",
]


# `/contacts?include=` sideloads Tajo reads, with their row models.
SIDELOADS: dict[str, type[AcModel]] = {
    "fieldValues": FieldValueRef,
    "contactTags": ContactTagRef,
    "contactLists": ContactListRef,
}


def _whole_contact_page(whole: Any, wanted: list[str]) -> ContactPage[Contact]:
    """The page of a `/contacts` body that validated as a whole: every row is usable."""
    items: list[Contact] = whole.contacts
    return ContactPage(
        items=items,
        total=parse_total(whole.meta),
        offset=0,
        row_count=len(items),
        score_values=whole.scoreValues or [],
        last_id=max((contact.id for contact in items), default=None),
        included={name: rows for name in wanted if (rows := getattr(whole, name)) is not None},
    )


# The account's UTC offset as ActiveCampaign writes its timestamps, per account URL, with when
# it was learnt: re-learnt hourly so a daylight-saving change is picked up within the hour.
_OFFSETS: dict[str, tuple[float, timedelta | None]] = {}
_OFFSETS_LOCK = threading.Lock()
OFFSET_TTL = 3600.0


def _is_event_tracking(path: str) -> bool:
    if path.startswith("/eventTracking"):
        return True
    return path.startswith("/contacts/") and path.endswith("/trackingLogs")


def _clean(params: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in params.items() if value is not None}


class ActiveCampaignClient:
    """Client for one AC account.

    `api_url` is the account URL from Settings → Developer (`https://acme.api-us1.com`); `/api/3`
    is appended (and tolerated if already there). Without `limiter` the client paces itself at
    AC's 5 requests/s within this process; pass a Redis-backed limiter (see
    `connectors.providers.http.ratelimit.FollowingLimiter`) to share the budget between workers, or
    `get_limiter(key, None)` for none at all. A `FollowingLimiter` is told every answer's
    `RateLimit-Limit`, so the client never paces above what the account is granted.

    Event-tracking reads (`/eventTracking*`, `/contacts/{id}/trackingLogs`) also wait for
    `event_limiter` (default: the account's 2 requests/s event-tracking budget, in this process).
    """

    def __init__(
        self,
        *,
        api_url: str,
        api_key: str,
        limiter: RateLimiter | FollowingLimiter | None = None,
        event_limiter: RateLimiter | FollowingLimiter | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        allow_private: bool = False,
        retry: RetryPolicy | None = None,
        page_size: int = PAGE_SIZE,
    ) -> None:
        register_secret(api_key)
        base = api_url.strip().rstrip("/")
        if base.endswith("/api/3"):
            base = base[: -len("/api/3")]
        self.api_url = base
        self.page_size = page_size
        key = limiter_key("activecampaign", base)
        self._limiter = limiter or get_following_limiter(key, DEFAULT_RATE)
        self._event_limiter = event_limiter or get_limiter(f"{key}:events", DEFAULT_EVENT_TRACKING_RATE)
        self._retry = retry or RetryPolicy()
        self._errors = ActiveCampaignErrors()
        self._http = build_client(
            base_url=f"{base}/api/3",
            headers={"Api-Token": api_key, "Accept": "application/json"},
            timeout=timeout,
            transport=transport,
            allow_private=allow_private,
        )
        if isinstance(self._limiter, FollowingLimiter):
            self._http.event_hooks["response"].append(self._observe_limit)

    # -- plumbing ------------------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ActiveCampaignClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _observe_limit(self, response: httpx.Response) -> None:
        # 429s and errors carry the header too; every answer keeps the pace within the grant.
        self._limiter.observe(response.headers.get(RATE_LIMIT_HEADER))  # type: ignore[union-attr]

    @property
    def pace(self) -> float | None:
        """Requests per second this client paces at now (None: unlimited)."""
        limiter = self._limiter
        if isinstance(limiter, FollowingLimiter):
            return limiter.rate
        if not limiter.windows:
            return None
        window = limiter.windows[0]
        return window.limit / window.seconds

    def _limiter_for(self, path: str) -> Any:
        if _is_event_tracking(path):
            return CombinedLimiter(self._event_limiter, self._limiter)
        return self._limiter

    def _request(self, method: str, path: str, **options: Any) -> Any:
        """`_send`'s answer as JSON (same options)."""
        return response_json(self._send(method, path, **options), provider=PROVIDER)

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        return send(
            self._http,
            method,
            path,
            limiter=self._limiter_for(path),
            classify=self._errors,
            retry=self._retry,
            idempotent=idempotent,
            params=params,
            json=json,
        )

    def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self._request("GET", path, params=params)

    def _read(self, path: str, key: str, model: type[M]) -> M:
        """One object by its URL (`GET /deals/7` -> `deal`); NotFoundError when AC has none."""
        return self._object(self._get(path), key, model, f"GET {path}")

    def _rows(self, path: str, key: str, model: type[M], params: dict[str, Any]) -> list[M]:
        """The valid rows of one page of a collection (rows AC got wrong are logged and left out)."""
        where = f"GET {path}"
        items, invalid = parse_rows(envelope_rows(self._get(path, _clean(params)), key, where=where), model)
        for _raw, reason in invalid:
            logger.warning("Ignored an unusable '%s' row of %s: %s", key, where, reason)
        return items

    def _object(self, body: Any, key: str, model: type[M], where: str) -> M:
        if not isinstance(body, dict) or not isinstance(body.get(key), dict):
            raise BadResponse(f"ActiveCampaign answered {where} without a '{key}' object", url=where)
        try:
            return model.model_validate(body[key])
        except ValidationError as exc:
            raise BadResponse(
                f"ActiveCampaign answered {where} with an unusable '{key}': {describe_validation_error(exc)}",
                url=where,
            ) from exc

    def _sideloaded(self, body: dict, key: str, model: type[M], where: str) -> list[M]:
        items, invalid = parse_rows(sideload(body, key), model)
        for _raw, reason in invalid:
            logger.warning("Ignored an unusable '%s' row sideloaded by %s: %s", key, where, reason)
        return items

    def _offset_pages(
        self,
        path: str,
        key: str,
        model: type[M],
        *,
        params: dict[str, Any] | None = None,
        keep: Callable[[dict], bool] | None = None,
        finish: Callable[[Page[M], dict], Page[M]] | None = None,
        offset: int = 0,
    ) -> Iterator[Page[M]]:
        paginator = OffsetPaginator(limit=self.page_size, offset=offset, where=path)
        while True:
            offset = paginator.offset
            body = self._request("GET", path, params={**_clean(params or {}), **paginator.params()})
            rows = envelope_rows(body, key, where=f"GET {path}")
            selected = (
                rows if keep is None else [row for row in rows if not isinstance(row, dict) or keep(row)]
            )
            items, invalid = parse_rows(selected, model)
            page: Page[M] = Page(
                items=items,
                invalid=invalid,
                total=parse_total(body.get("meta")),
                offset=offset,
                row_count=len(rows),
            )
            if finish is not None:
                page = finish(page, body)
            yield page
            if not paginator.advance(rows, page.total):
                return

    def _subcollection(self, path: str, key: str, model: type[M]) -> Page[M]:
        """Per-contact collections (`/contacts/{id}/...`): one unpaged response."""
        body = self._request("GET", path)
        rows = envelope_rows(body, key, where=f"GET {path}")
        items, invalid = parse_rows(rows, model)
        return Page(items=items, invalid=invalid, total=parse_total(body.get("meta")), row_count=len(rows))

    def count(
        self, collection: Collection, *, field_id: int | None = None, schema_id: str | None = None
    ) -> int | None:
        """How many rows a collection holds, from one `limit=1` request (None: AC did not say).

        `field_id` narrows `fieldValues` to one custom field; `customObjectRecords` needs the
        records' `schema_id`.
        """
        if collection == "customObjectRecords":
            if not schema_id:
                raise ValueError("counting custom object records needs their schema_id")
            path = f"/customObjects/records/{quote(str(schema_id), safe='')}"
        else:
            path = f"/{collection}"
        params = {"limit": 1, "filters[fieldid]": field_id if collection == "fieldValues" else None}
        body = self._get(path, _clean(params))
        return parse_total(body.get("meta")) if isinstance(body, dict) else None

    # -- account --------------------------------------------------------------------------------

    def account_offset(self) -> timedelta | None:
        """The account's UTC offset now, read from its newest contact's `udate` (one request an hour).

        AC writes `cdate`/`udate` in the account's time zone (reference §3.2); no endpoint names
        that zone. None when the account has no contact with a timestamp (nothing to miss then).
        """
        now = time.monotonic()
        with _OFFSETS_LOCK:
            known = _OFFSETS.get(self.api_url)
        if known is not None and now - known[0] < OFFSET_TTL:
            return known[1]
        body = self._request("GET", "/contacts", params={"orders[id]": "DESC", "limit": 1})
        items, _invalid = parse_rows(envelope_rows(body, "contacts", where="GET /contacts"), Contact)
        stamp = next((c.udate or c.cdate for c in items if (c.udate or c.cdate)), None)
        offset = stamp.utcoffset() if stamp is not None and stamp.tzinfo is not None else None
        with _OFFSETS_LOCK:
            _OFFSETS[self.api_url] = (now, offset)
        return offset

    def _updated_after(self, value: datetime | date) -> str:
        # Written so that no reading of the filter (with its offset, UTC or account wall clock, date
        # only) starts after `value`: see connectors/providers/activecampaign/cursor.py.
        if not isinstance(value, datetime):
            return updated_after_value(value, None)
        return updated_after_value(value, self.account_offset())

    def get_me(self) -> User:
        """The user owning the key (`/users/me`): the cheapest credential check."""
        return self._object(self._request("GET", "/users/me"), "user", User, "GET /users/me")

    def iter_user_pages(self) -> Iterator[Page[User]]:
        return self._offset_pages("/users", "users", User)

    # -- contacts -------------------------------------------------------------------------------

    def iter_contact_pages(
        self,
        *,
        updated_after: datetime | date | None = None,
        id_greater: int = 0,
        include: Iterable[str] = (),
        limit: int | None = None,
    ) -> Iterator[ContactPage[Contact]]:
        """All contacts (or those updated since `updated_after`) in ascending id order, by keyset.

        Resume a stopped read by passing the last page's `last_id` as `id_greater`. `include`
        asks for sideloads (`fieldValues`, `contactTags`, `contactLists`); those the server sent
        are in `page.included`.
        """
        path = "/contacts"
        wanted = [name for name in include if name in SIDELOADS]
        paginator = KeysetPaginator(limit=limit or self.page_size, id_greater=id_greater, where=path)
        filters = {
            "filters[updated_after]": self._updated_after(updated_after) if updated_after else None,
            "include": ",".join(wanted) or None,
        }
        where = f"GET {path}"
        envelope = envelope_model(
            (
                ("contacts", Contact, True),
                ("scoreValues", ScoreValue, False),
                *((name, SIDELOADS[name], False) for name in wanted),
            )
        )
        while True:
            response = self._send("GET", path, params={**_clean(filters), **paginator.params()})
            whole = validated_body(response, envelope)
            if whole is not None:
                page = _whole_contact_page(whole, wanted)
                yield page
                if not paginator.advance(page.row_count, page.last_id):
                    return
                continue
            body = response_json(response, provider=PROVIDER)
            rows = envelope_rows(body, "contacts", where=where)
            items, invalid = parse_rows(rows, Contact)
            last_id = max_id(rows)
            yield ContactPage(
                items=items,
                invalid=invalid,
                total=parse_total(body.get("meta")),
                offset=0,
                row_count=len(rows),
                score_values=self._sideloaded(body, "scoreValues", ScoreValue, where),
                last_id=last_id,
                included={
                    name: self._sideloaded(body, name, SIDELOADS[name], where)
                    for name in wanted
                    if isinstance(body.get(name), list)
                },
            )
            if not paginator.advance(len(rows), last_id):
                return

    def sideloads_supported(self, include: Iterable[str]) -> bool:
        """Whether `/contacts?include=...` returns these sideloads (one request of one contact).

        AC's own code and public clients use it, but it is undocumented: a server that ignores
        it leaves the arrays out, and callers then read the associations another way.
        """
        wanted = [name for name in include if name in SIDELOADS]
        if not wanted:
            return True
        page = next(self.iter_contact_pages(include=wanted, limit=1), None)
        if page is None or not page.row_count:
            return True
        return all(name in page.included for name in wanted)

    def contacts_by_id(self, ids: Iterable[int | None]) -> dict[int, Contact]:
        """The contacts that still exist among `ids` (deleted ones are simply absent).

        One `GET /contacts?ids[]=...` per hundred distinct ids (reference §3.1), instead of one
        request per contact.
        """
        wanted = sorted({int(i) for i in ids if i})
        found: dict[int, Contact] = {}
        for start in range(0, len(wanted), PAGE_SIZE):
            chunk = wanted[start : start + PAGE_SIZE]
            asked = set(chunk)
            contacts = self._rows("/contacts", "contacts", Contact, {"ids[]": chunk, "limit": PAGE_SIZE})
            found.update((contact.id, contact) for contact in contacts if contact.id in asked)
        return found

    def first_contacts(
        self,
        *,
        limit: int,
        list_id: int | None = None,
        status: int | None = None,
        tag_id: int | None = None,
    ) -> list[Contact]:
        """Up to `limit` contacts, lowest ids first, in one request: all of them, or only those on
        list `list_id` (with membership `status`) or tagged `tag_id`."""
        params = {"limit": limit, "orders[id]": "ASC", "listid": list_id, "status": status, "tagid": tag_id}
        return self._rows("/contacts", "contacts", Contact, params)

    def get_contact(self, contact_id: int) -> ContactDetail:
        """One contact with AC's default sideloads (field values, lists, deals, automations)."""
        path = f"/contacts/{int(contact_id)}"
        where = f"GET {path}"
        body = self._request("GET", path)
        return ContactDetail(
            contact=self._object(body, "contact", Contact, where),
            field_values=self._sideloaded(body, "fieldValues", FieldValue, where),
            contact_lists=self._sideloaded(body, "contactLists", ContactList, where),
            deals=self._sideloaded(body, "deals", Deal, where),
            contact_automations=self._sideloaded(body, "contactAutomations", ContactAutomation, where),
        )

    def list_contact_tags(self, contact_id: int) -> Page[ContactTag]:
        return self._subcollection(f"/contacts/{int(contact_id)}/contactTags", "contactTags", ContactTag)

    def list_contact_score_values(self, contact_id: int) -> Page[ScoreValue]:
        return self._subcollection(f"/contacts/{int(contact_id)}/scoreValues", "scoreValues", ScoreValue)

    def list_contact_tracking_logs(self, contact_id: int) -> Page[TrackingLog]:
        return self._subcollection(f"/contacts/{int(contact_id)}/trackingLogs", "trackingLogs", TrackingLog)

    # -- custom fields ----------------------------------------------------------------------------

    def iter_field_pages(self) -> Iterator[FieldPage[CustomField]]:
        """Contact custom fields with their options and list relations (sideloads)."""

        def finish(page: Page[CustomField], body: dict) -> FieldPage[CustomField]:
            return FieldPage(
                **vars(page),
                options=self._sideloaded(body, "fieldOptions", FieldOption, "GET /fields"),
                relations=self._sideloaded(body, "fieldRels", FieldRel, "GET /fields"),
            )

        return self._offset_pages("/fields", "fields", CustomField, finish=finish)

    def iter_field_value_pages(
        self, *, field_id: int | None = None, offset: int = 0
    ) -> Iterator[Page[FieldValue]]:
        """Every contact's custom field values (bulk, instead of one request per contact)."""
        return self._offset_pages(
            "/fieldValues", "fieldValues", FieldValue, params={"filters[fieldid]": field_id}, offset=offset
        )

    # -- lists and tags -------------------------------------------------------------------------

    def iter_list_pages(self) -> Iterator[Page[MailingList]]:
        return self._offset_pages("/lists", "lists", MailingList)

    def iter_tag_pages(self, *, tag_type: str | None = "contact") -> Iterator[Page[Tag]]:
        """Tags of `tag_type` (AC mixes contact and template tags; None keeps both)."""
        keep = (
            None
            if tag_type is None
            else (lambda row: str(row.get("tagType") or "contact").lower() == tag_type)
        )
        return self._offset_pages("/tags", "tags", Tag, keep=keep)

    def iter_contact_tag_pages(self, *, offset: int = 0) -> Iterator[Page[ContactTag]]:
        return self._offset_pages("/contactTags", "contactTags", ContactTag, offset=offset)

    def iter_contact_list_pages(
        self, *, list_id: int | None = None, status: int | None = None, offset: int = 0
    ) -> Iterator[Page[ContactList]]:
        """List memberships (status 0 unconfirmed, 1 active, 2 unsubscribed, 3 bounced, 91 removed)."""
        params = {"filters[list]": list_id, "filters[status]": status}
        return self._offset_pages("/contactLists", "contactLists", ContactList, params=params, offset=offset)

    # -- deals ----------------------------------------------------------------------------------

    def iter_deal_pages(
        self,
        *,
        updated_after: datetime | date | None = None,
        pipeline_id: int | None = None,
        stage_id: int | None = None,
        offset: int = 0,
    ) -> Iterator[Page[Deal]]:
        """Deals, oldest first (a fixed order keeps offsets stable while we read)."""
        params = {
            "filters[updated_after]": self._updated_after(updated_after) if updated_after else None,
            "filters[group]": pipeline_id,
            "filters[stage]": stage_id,
            "orders[cdate]": "ASC",
        }
        return self._offset_pages("/deals", "deals", Deal, params=params, offset=offset)

    def iter_pipeline_pages(self) -> Iterator[PipelinePage[Pipeline]]:
        """Pipelines (AC deal groups) with their stages sideloaded."""

        def finish(page: Page[Pipeline], body: dict) -> PipelinePage[Pipeline]:
            return PipelinePage(
                **vars(page), stages=self._sideloaded(body, "dealStages", DealStage, "GET /dealGroups")
            )

        return self._offset_pages("/dealGroups", "dealGroups", Pipeline, finish=finish)

    def get_deal(self, deal_id: int) -> Deal:
        return self._read(f"/deals/{int(deal_id)}", "deal", Deal)

    def deals_in_stage(self, stage_id: int, *, limit: int) -> list[Deal]:
        """Up to `limit` deals of one stage, in one request."""
        return self._rows("/deals", "deals", Deal, {"filters[stage]": stage_id, "limit": limit})

    def iter_deal_stage_pages(self, *, pipeline_id: int | None = None) -> Iterator[Page[DealStage]]:
        return self._offset_pages(
            "/dealStages", "dealStages", DealStage, params={"filters[d_groupid]": pipeline_id}
        )

    # -- scores, automations, events ------------------------------------------------------------

    def iter_score_pages(self) -> Iterator[Page[Score]]:
        return self._offset_pages("/scores", "scores", Score)

    def iter_automation_pages(self) -> Iterator[Page[Automation]]:
        return self._offset_pages("/automations", "automations", Automation)

    def iter_contact_automation_pages(self, *, offset: int = 0) -> Iterator[Page[ContactAutomation]]:
        return self._offset_pages(
            "/contactAutomations", "contactAutomations", ContactAutomation, offset=offset
        )

    def get_contact_automation(self, enrolment_id: int) -> ContactAutomation:
        """One automation enrolment (AC answers 403 "No Result found" for a deleted one: NotFoundError)."""
        return self._read(f"/contactAutomations/{int(enrolment_id)}", "contactAutomation", ContactAutomation)

    def get_event_tracking(self) -> EventTrackingStatus:
        body = self._request("GET", "/eventTracking")
        return self._object(body, "eventTracking", EventTrackingStatus, "GET /eventTracking")

    def iter_event_tracking_event_pages(self) -> Iterator[Page[EventTrackingEvent]]:
        return self._offset_pages("/eventTrackingEvents", "eventTrackingEvents", EventTrackingEvent)

    # -- e-commerce -----------------------------------------------------------------------------

    def iter_ecom_customer_pages(
        self, *, email: str | None = None, connection_id: int | None = None, offset: int = 0
    ) -> Iterator[Page[EcomCustomer]]:
        params = {"filters[email]": email, "filters[connectionid]": connection_id}
        return self._offset_pages(
            "/ecomCustomers", "ecomCustomers", EcomCustomer, params=params, offset=offset
        )

    def iter_ecom_order_pages(
        self,
        *,
        email: str | None = None,
        connection_id: int | None = None,
        customer_id: int | None = None,
        offset: int = 0,
    ) -> Iterator[Page[EcomOrder]]:
        params = {
            "filters[email]": email,
            "filters[connectionid]": connection_id,
            "filters[customerid]": customer_id,
        }
        return self._offset_pages("/ecomOrders", "ecomOrders", EcomOrder, params=params, offset=offset)

    def iter_ecom_order_product_pages(self, *, offset: int = 0) -> Iterator[Page[EcomOrderProduct]]:
        """Every order product line (join to orders by `order_id`)."""
        return self._offset_pages("/ecomOrderProducts", "ecomOrderProducts", EcomOrderProduct, offset=offset)

    def get_ecom_order(self, order_id: int) -> EcomOrder:
        return self._read(f"/ecomOrders/{int(order_id)}", "ecomOrder", EcomOrder)

    def list_ecom_order_products(self, order_id: int) -> Page[EcomOrderProduct]:
        path = f"/ecomOrders/{int(order_id)}/orderProducts"
        return self._subcollection(path, "ecomOrderProducts", EcomOrderProduct)

    # -- custom objects -------------------------------------------------------------------------

    def iter_custom_object_schema_pages(self) -> Iterator[Page[CustomObjectSchema]]:
        return self._offset_pages("/customObjects/schemas", "schemas", CustomObjectSchema)

    def get_custom_object_schema(self, schema_id: str) -> CustomObjectSchema:
        return self._read(
            f"/customObjects/schemas/{quote(str(schema_id), safe='')}", "schema", CustomObjectSchema
        )

    def get_custom_object_record(self, schema_id: str, record_id: str) -> CustomObjectRecord:
        path = f"/customObjects/records/{quote(str(schema_id), safe='')}/{quote(str(record_id), safe='')}"
        return self._read(path, "record", CustomObjectRecord)

    def iter_custom_object_record_pages(
        self, schema_id: str, *, filters: dict[str, Any] | None = None, offset: int = 0
    ) -> Iterator[Page[CustomObjectRecord]]:
        """Records of one schema; `filters` are passed as-is,
        e.g. `{"filters[relationships.primary-contact][eq]": 14}`."""
        path = f"/customObjects/records/{quote(str(schema_id), safe='')}"
        return self._offset_pages(path, "records", CustomObjectRecord, params=filters, offset=offset)

    # -- webhooks -------------------------------------------------------------------------------

    def iter_webhook_pages(self) -> Iterator[Page[Webhook]]:
        return self._offset_pages("/webhooks", "webhooks", Webhook)

    def create_webhook(
        self,
        *,
        name: str,
        url: str,
        events: Iterable[str],
        sources: Iterable[str] = WEBHOOK_SOURCES,
        list_id: int = 0,
    ) -> Webhook:
        """Subscribe `url` to `events` (AC posts form-encoded payloads and never retries)."""
        payload = {
            "webhook": {
                "name": name,
                "url": url,
                "events": list(events),
                "sources": list(sources),
                "listid": list_id,
            }
        }
        body = self._request("POST", "/webhooks", json=payload)
        return self._object(body, "webhook", Webhook, "POST /webhooks")

    def delete_webhook(self, webhook_id: int) -> None:
        self._request("DELETE", f"/webhooks/{int(webhook_id)}")

    def list_webhook_events(self) -> list[str]:
        """The event names AC can send (`/webhook/events`)."""
        body = self._request("GET", "/webhook/events", params={"limit": self.page_size})
        rows = envelope_rows(body, "webhookEvents", where="GET /webhook/events")
        return [str(row) for row in rows if isinstance(row, str | int)]
