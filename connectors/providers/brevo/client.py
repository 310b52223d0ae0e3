"""HTTP client for the Brevo API v3: one method per endpoint Tajo uses, pydantic in and out.

Credentials and options are passed in; nothing here reads Django settings or models.
Every request goes through `connectors.providers.http.retry.send`: the limiter of the route's budget bucket
(reference §1.4: `contacts`, `events`, `orders`, `other`), Brevo's error table, and bounded
retries (a 429 waits `x-sib-ratelimit-reset` seconds plus jitter). The last
`x-sib-ratelimit-*` values seen per bucket are exposed through `budget()`.

Writes that are safe to repeat (upserts, list memberships, PATCHes, imports) are marked
idempotent so transient failures are retried; `POST /events` and `POST /crm/deals` are not
(a repeat would record a second event or deal).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import orjson
from pydantic import BaseModel, TypeAdapter, ValidationError

from connectors.providers.brevo.errors import PROVIDER, BrevoErrors
from connectors.providers.brevo.schemas import (
    Account,
    Attribute,
    AttributeCategory,
    Contact,
    ContactCreate,
    ContactCreated,
    ContactPage,
    ContactUpdate,
    Deal,
    DealAttribute,
    DealCreate,
    DealUpdate,
    Event,
    EventBatchResult,
    EventIdentifiers,
    FolderPage,
    IdentifierType,
    ImportReceipt,
    ImportRow,
    ListMembershipReport,
    ListPage,
    Order,
    Pipeline,
    Process,
    RateBudget,
    brevo_datetime,
)
from connectors.providers.http.errors import BadResponse, ValidationFailed, response_json, validated_body
from connectors.providers.http.factory import build_client
from connectors.providers.http.masking import display_url, register_secret
from connectors.providers.http.ratelimit import RateLimiter, get_limiter, limiter_key
from connectors.providers.http.retry import RetryPolicy, send

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.brevo.com/v3"
BUCKETS = ("contacts", "events", "orders", "other")

# Budgets per bucket as (requests per second, requests per hour), reference §1.4.
GENERAL_BUDGETS: dict[str, tuple[float | None, float | None]] = {
    "contacts": (10.0, 36_000.0),
    "events": (10.0, 36_000.0),
    "orders": (5.0, 18_000.0),
    "other": (None, 100.0),
}
ADVANCED_BUDGETS: dict[str, tuple[float | None, float | None]] = {
    "contacts": (20.0, 72_000.0),
    "events": (20.0, 72_000.0),
    "orders": (5.0, 18_000.0),
    "other": (None, 200.0),
}

LIST_MEMBERSHIP_CHUNK = 150  # add/remove accept at most 150 identifiers per call
MAX_IMPORT_BYTES = 10 * 1024 * 1024  # Brevo's hard cap for jsonBody/fileBody
SAFE_IMPORT_BYTES = 8 * 1024 * 1024  # Brevo advises staying under this
MAX_ORDER_BATCH = 1000
MAX_CONTACTS_PAGE = 1000
MAX_EVENT_PROPERTIES_BYTES = 50 * 1024

_RATE_HEADERS = ("x-sib-ratelimit-limit", "x-sib-ratelimit-remaining", "x-sib-ratelimit-reset")

M = TypeVar("M", bound=BaseModel)


def bucket_for(method: str, path: str) -> str:
    """The rate-limit bucket of a request path relative to `/v3` (reference §1.4)."""
    path = "/" + path.split("?", 1)[0].strip("/")
    if path == "/contacts" or path.startswith("/contacts/"):
        return "contacts"
    method = method.upper()
    if method == "POST" and path == "/events":
        return "events"
    if method == "POST" and path == "/orders/status":
        return "orders"
    return "other"


def brevo_limiters(
    account_ref: str,
    *,
    api_url: str = DEFAULT_API_URL,
    redis_url: str | None = None,
    budgets: Mapping[str, tuple[float | None, float | None]] = GENERAL_BUDGETS,
) -> dict[str, RateLimiter]:
    """One limiter per bucket for a Brevo account, shared across processes when `redis_url` is set.

    Every Brevo account lives behind the same API URL, so `account_ref` (any stable, non-secret
    reference to the account, e.g. "brevo-account-7") keeps accounts apart; never pass the key.
    """
    base = limiter_key("brevo", f"{api_url}#{account_ref}")
    return {
        bucket: get_limiter(f"{base}:{bucket}", per_second, per_hour=per_hour, redis_url=redis_url)
        for bucket, (per_second, per_hour) in budgets.items()
    }


def split_import_rows(
    rows: Iterable[ImportRow | Mapping[str, Any]],
    *,
    max_bytes: int = SAFE_IMPORT_BYTES,
    max_rows: int | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """Group import rows into bodies that stay under `max_bytes` of JSON (and `max_rows` rows)."""
    chunk: list[dict[str, Any]] = []
    size = 0
    for row in rows:
        data = row.dump() if isinstance(row, ImportRow) else dict(row)
        row_size = len(orjson.dumps(data)) + 1
        if chunk and (size + row_size > max_bytes or (max_rows is not None and len(chunk) >= max_rows)):
            yield chunk
            chunk, size = [], 0
        chunk.append(data)
        size += row_size
    if chunk:
        yield chunk


def _dump(model: type[BaseModel], value: BaseModel | Mapping[str, Any]) -> dict[str, Any]:
    """Request body from a model or a mapping (validated through the model either way)."""
    if not isinstance(value, model):
        value = model.model_validate(value)
    return value.dump()  # type: ignore[attr-defined]


def server_time(response: httpx.Response) -> datetime:
    """Brevo's clock from the `Date` header (whole seconds, rounded down), else ours."""
    raw = response.headers.get("date")
    if raw:
        try:
            return parsedate_to_datetime(raw).astimezone(UTC)
        except (TypeError, ValueError, IndexError):
            pass
    return datetime.now(UTC)


def _path_segment(value: str | int) -> str:
    # '+' must become %2B: Brevo decodes a raw '+' in a path to a space (reference §10 quirk 3).
    return quote(str(value), safe="")


class BrevoClient:
    """Talks to one Brevo account. Use as a context manager or call `close()`."""

    def __init__(
        self,
        *,
        api_url: str = DEFAULT_API_URL,
        api_key: str,
        limiters: Mapping[str, RateLimiter] | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        allow_private: bool = False,
        retry: RetryPolicy | None = None,
    ) -> None:
        if not api_key:
            raise ValueError("a Brevo API key is required")
        register_secret(api_key)
        self.api_url = api_url.rstrip("/")
        self._limiters: dict[str, RateLimiter] = dict(limiters or {})
        unknown = set(self._limiters) - set(BUCKETS)
        if unknown:
            raise ValueError(f"unknown Brevo budget bucket(s): {', '.join(sorted(unknown))}")
        self._retry = retry or RetryPolicy()
        self._budgets: dict[str, RateBudget] = {}
        self._budget_lock = threading.Lock()
        self._classifiers = {
            bucket: BrevoErrors(bucket=bucket, observe=lambda r, b=bucket: self._observe(b, r))
            for bucket in BUCKETS
        }
        self._http = build_client(
            base_url=self.api_url + "/",
            headers={"api-key": api_key, "accept": "application/json"},
            timeout=timeout,
            transport=transport,
            allow_private=allow_private,
        )

    # ------------------------------------------------------------ plumbing

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> BrevoClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def budget(self, bucket: str) -> RateBudget | None:
        """The last rate-limit headers seen for `bucket` (None before any limited response)."""
        with self._budget_lock:
            return self._budgets.get(bucket)

    def bucket_limiter(self, bucket: str) -> RateLimiter | None:
        """The client-side limiter pacing `bucket` (None: unpaced), for callers that plan around it."""
        return self._limiters.get(bucket)

    def _observe(self, bucket: str, response: httpx.Response) -> None:
        headers = response.headers
        if not any(name in headers for name in _RATE_HEADERS):
            return

        def number(name: str) -> float | None:
            try:
                return float(headers[name])
            except (KeyError, ValueError):
                return None

        limit, remaining, reset = (number(name) for name in _RATE_HEADERS)
        budget = RateBudget(
            limit=int(limit) if limit is not None else None,
            remaining=int(remaining) if remaining is not None else None,
            reset=reset,
            seen_at=datetime.now(UTC),
        )
        with self._budget_lock:
            self._budgets[bucket] = budget

    def _request(
        self, method: str, path: str, *, idempotent: bool | None = None, **kwargs: Any
    ) -> httpx.Response:
        bucket = bucket_for(method, path)
        if "json" in kwargs:
            # orjson is several times faster than the stdlib encoder on big import bodies.
            kwargs["content"] = orjson.dumps(kwargs.pop("json"))
            kwargs["headers"] = {**kwargs.get("headers", {}), "content-type": "application/json"}
        return send(
            self._http,
            method,
            path.lstrip("/"),
            limiter=self._limiters.get(bucket),
            classify=self._classifiers[bucket],
            retry=self._retry,
            idempotent=idempotent,
            **kwargs,
        )

    def _data(self, response: httpx.Response) -> Any:
        # response_json never decodes a 204 (or any empty body).
        return response_json(response, provider=PROVIDER)

    def _parse(self, model: type[M], response: httpx.Response) -> M:
        # One pass from the bytes first (the read-back's pages of 1,000 contacts above all); a
        # body that does not fit goes the long way, which phrases why (not JSON, or which field).
        whole = validated_body(response, model)
        if whole is not None:
            return whole
        try:
            return model.model_validate(self._data(response))
        except ValidationError as exc:
            raise self._unexpected(response, exc) from exc

    def _parse_list(self, model: type[M], response: httpx.Response) -> list[M]:
        try:
            return TypeAdapter(list[model]).validate_python(self._data(response))  # type: ignore[valid-type]
        except ValidationError as exc:
            raise self._unexpected(response, exc) from exc

    @staticmethod
    def _unexpected(response: httpx.Response, exc: ValidationError) -> BadResponse:
        url = display_url(response.request.url)
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ())) or "body"
        return BadResponse(
            f"Brevo answered {response.request.method} {url} with an unexpected body ({where}: "
            f"{first.get('msg', 'invalid')})",
            status=response.status_code,
            url=url,
        )

    def _id_from(self, response: httpx.Response, key: str = "id") -> Any:
        data = self._data(response)
        if not isinstance(data, dict) or data.get(key) in (None, ""):
            url = display_url(response.request.url)
            raise BadResponse(
                f"Brevo answered {response.request.method} {url} without '{key}'",
                status=response.status_code,
                url=url,
            )
        return data[key]

    # ------------------------------------------------------------ account

    def get_account(self) -> Account:
        """`GET /account` (the "test connection" call; it sits in the 100-per-hour budget)."""
        return self._parse(Account, self._request("GET", "/account"))

    # ------------------------------------------------------------ contacts

    def create_contact(self, contact: ContactCreate | Mapping[str, Any]) -> ContactCreated:
        """`POST /contacts`: 201 -> created with id; 204 (updateEnabled matched a contact) -> updated."""
        body = _dump(ContactCreate, contact)
        response = self._request("POST", "/contacts", json=body, idempotent=bool(body.get("updateEnabled")))
        if response.status_code == 204:
            return ContactCreated(created=False)
        return ContactCreated(created=True, id=int(self._id_from(response)))

    def update_contact(
        self,
        identifier: str | int,
        update: ContactUpdate | Mapping[str, Any],
        *,
        identifier_type: IdentifierType | str | None = None,
    ) -> None:
        """`PUT /contacts/{identifier}`. Pass `identifier_type` for numeric-looking external ids."""
        params = {"identifierType": str(IdentifierType(identifier_type))} if identifier_type else None
        self._request(
            "PUT", f"/contacts/{_path_segment(identifier)}", json=_dump(ContactUpdate, update), params=params
        )

    def get_contact(
        self, identifier: str | int, *, identifier_type: IdentifierType | str | None = None
    ) -> Contact:
        """`GET /contacts/{identifier}` (email, id or SMS; others with `identifier_type`)."""
        params = {"identifierType": str(IdentifierType(identifier_type))} if identifier_type else None
        return self._parse(
            Contact, self._request("GET", f"/contacts/{_path_segment(identifier)}", params=params)
        )

    def list_contacts(
        self,
        *,
        modified_since: datetime | str | None = None,
        created_since: datetime | str | None = None,
        limit: int = 50,
        offset: int = 0,
        sort: str | None = None,
        list_ids: Sequence[int] | None = None,
    ) -> ContactPage:
        """`GET /contacts` (limit ≤ 1000; `count` honours `modifiedSince`)."""
        if not 0 < limit <= MAX_CONTACTS_PAGE:
            raise ValueError(f"limit must be between 1 and {MAX_CONTACTS_PAGE}")
        params: list[tuple[str, str | int]] = [("limit", limit), ("offset", offset)]
        if modified_since is not None:
            params.append(("modifiedSince", brevo_datetime(modified_since)))
        if created_since is not None:
            params.append(("createdSince", brevo_datetime(created_since)))
        if sort:
            params.append(("sort", sort))
        params += [("listIds", list_id) for list_id in list_ids or ()]
        return self._parse(ContactPage, self._request("GET", "/contacts", params=params))

    def iter_contact_pages(
        self, *, modified_since: datetime | str | None = None, page_size: int = MAX_CONTACTS_PAGE
    ) -> Iterator[ContactPage]:
        """Pages of `GET /contacts`, oldest first (ascending keeps offsets stable as contacts arrive)."""
        offset = 0
        while True:
            page = self.list_contacts(
                modified_since=modified_since, limit=page_size, offset=offset, sort="asc"
            )
            yield page
            offset += len(page.contacts)
            if len(page.contacts) < page_size or offset >= page.count:
                return

    def import_contacts(
        self,
        *,
        json_body: Sequence[ImportRow | Mapping[str, Any]] | None = None,
        file_body: str | None = None,
        list_ids: Sequence[int] | None = None,
        new_list: tuple[str, int] | None = None,
        update_existing: bool = True,
        empty_contacts_attributes: bool = False,
        notify_url: str | None = None,
        disable_notification: bool = True,
        email_blacklist: bool = False,
        sms_blacklist: bool = False,
    ) -> ImportReceipt:
        """`POST /contacts/import` -> the process and Brevo's time of acceptance.

        The bulk write route since `POST /contacts/batch` was deprecated (effective 2026-10-30,
        reference §0). Asynchronous: what Brevo kept is learnt by reading the contacts back;
        unknown attributes are ignored and the process only links CSV reports. `new_list` is
        (list name, folder id). Bodies above 10 MB are refused before sending (use
        `split_import_rows`, which keeps them under the advised 8 MB).
        """
        if (json_body is None) == (file_body is None):
            raise ValueError("pass exactly one of json_body or file_body")
        if not list_ids and not new_list:
            raise ValueError("list_ids or new_list is required")
        body: dict[str, Any] = {
            "updateExistingContacts": update_existing,
            "emptyContactsAttributes": empty_contacts_attributes,
            "disableNotification": disable_notification,
        }
        if json_body is not None:
            body["jsonBody"] = [row.dump() if isinstance(row, ImportRow) else row for row in json_body]
        else:
            body["fileBody"] = file_body
        if list_ids:
            body["listIds"] = list(list_ids)
        if new_list:
            body["newList"] = {"listName": new_list[0], "folderId": new_list[1]}
        if notify_url:
            body["notifyUrl"] = notify_url
        if email_blacklist:
            body["emailBlacklist"] = True
        if sms_blacklist:
            body["smsBlacklist"] = True
        content = orjson.dumps(body)
        if len(content) > MAX_IMPORT_BYTES:
            raise ValueError(f"import body is {len(content)} bytes; Brevo accepts at most {MAX_IMPORT_BYTES}")
        response = self._request(
            "POST",
            "/contacts/import",
            content=content,
            headers={"content-type": "application/json"},
            idempotent=True,
        )
        process_id = int(self._id_from(response, "processId"))
        logger.info("Brevo accepted an import of %d bytes as process %s", len(content), process_id)
        rows = len(json_body) if json_body is not None else max(0, (file_body or "").count("\n"))
        return ImportReceipt(
            process_id=process_id,
            accepted_at=server_time(response),
            brevo_clock="date" in response.headers,
            rows=rows,
            bytes=len(content),
        )

    def get_process(self, process_id: int) -> Process:
        """`GET /processes/{id}` (100-per-hour budget: poll slowly)."""
        return self._parse(Process, self._request("GET", f"/processes/{int(process_id)}"))

    # ------------------------------------------------------------ attributes

    def list_attributes(self) -> list[Attribute]:
        response = self._request("GET", "/contacts/attributes")
        data = self._data(response)
        try:
            return TypeAdapter(list[Attribute]).validate_python((data or {}).get("attributes", []))
        except (ValidationError, AttributeError) as exc:
            raise BadResponse(
                f"Brevo answered GET {display_url(response.request.url)} with an unexpected body",
                status=response.status_code,
                url=display_url(response.request.url),
            ) from exc

    def create_attribute(
        self,
        category: AttributeCategory,
        name: str,
        *,
        type: str | None = None,
        enumeration: Sequence[Mapping[str, Any]] | None = None,
        multi_category_options: Sequence[str] | None = None,
        value: str | None = None,
        is_recurring: bool | None = None,
    ) -> None:
        """`POST /contacts/attributes/{category}/{NAME}` (201, no body). Names are sent upper-case."""
        body: dict[str, Any] = {}
        if type is not None:
            body["type"] = type
        if enumeration is not None:
            body["enumeration"] = [{"value": int(e["value"]), "label": str(e["label"])} for e in enumeration]
        if multi_category_options is not None:
            body["multiCategoryOptions"] = list(multi_category_options)
        if value is not None:
            body["value"] = value
        if is_recurring is not None:
            body["isRecurring"] = is_recurring
        self._request(
            "POST",
            f"/contacts/attributes/{_path_segment(category)}/{_path_segment(name.upper())}",
            json=body,
            idempotent=True,
        )

    def add_attribute_options(self, name: str, options: Sequence[str]) -> None:
        """`PUT /contacts/attributes/normal/{NAME}` with `multiCategoryOptions`: adds options to a
        multiple-choice attribute (204); options it has already stay."""
        self._request(
            "PUT",
            f"/contacts/attributes/normal/{_path_segment(name.upper())}",
            json={"multiCategoryOptions": list(options)},
            idempotent=True,
        )

    # ------------------------------------------------------------ folders and lists

    def list_folders(self, *, limit: int = 50, offset: int = 0) -> FolderPage:
        return self._parse(
            FolderPage, self._request("GET", "/contacts/folders", params={"limit": limit, "offset": offset})
        )

    def create_folder(self, name: str) -> int:
        return int(self._id_from(self._request("POST", "/contacts/folders", json={"name": name})))

    def list_lists(self, *, limit: int = 50, offset: int = 0) -> ListPage:
        return self._parse(
            ListPage, self._request("GET", "/contacts/lists", params={"limit": limit, "offset": offset})
        )

    def iter_lists(self, *, page_size: int = 50) -> Iterator[ListPage]:
        """Every page of `GET /contacts/lists` (max 50 per page)."""
        offset = 0
        while True:
            page = self.list_lists(limit=page_size, offset=offset)
            yield page
            offset += len(page.lists)
            if len(page.lists) < page_size or offset >= page.count:
                return

    def create_list(self, name: str, folder_id: int) -> int:
        response = self._request("POST", "/contacts/lists", json={"name": name, "folderId": int(folder_id)})
        return int(self._id_from(response))

    def _membership(
        self,
        action: str,
        list_id: int,
        emails: Sequence[str] | None,
        ids: Sequence[int] | None,
        ext_ids: Sequence[str] | None,
    ) -> ListMembershipReport:
        given = [
            (key, values)
            for key, values in (("emails", emails), ("ids", ids), ("extIds", ext_ids))
            if values is not None
        ]
        if len(given) != 1:
            raise ValueError("pass exactly one of emails, ids or ext_ids")
        key, values = given[0]
        report = ListMembershipReport()
        values = list(values)
        for start in range(0, len(values), LIST_MEMBERSHIP_CHUNK):
            chunk = values[start : start + LIST_MEMBERSHIP_CHUNK]
            response = self._request(
                "POST",
                f"/contacts/lists/{int(list_id)}/contacts/{action}",
                json={key: chunk},
                idempotent=True,
            )
            report = report.merge(self._parse(ListMembershipReport, response))
        return report

    def add_contacts_to_list(
        self,
        list_id: int,
        *,
        emails: Sequence[str] | None = None,
        ids: Sequence[int] | None = None,
        ext_ids: Sequence[str] | None = None,
    ) -> ListMembershipReport:
        """Add contacts to a list, 150 per call; the merged report says per identifier what happened."""
        return self._membership("add", list_id, emails, ids, ext_ids)

    def remove_contacts_from_list(
        self,
        list_id: int,
        *,
        emails: Sequence[str] | None = None,
        ids: Sequence[int] | None = None,
        ext_ids: Sequence[str] | None = None,
        remove_all: bool = False,
    ) -> ListMembershipReport:
        """Remove contacts from a list (150 per call), or everyone with `remove_all` (runs in background)."""
        if remove_all:
            response = self._request(
                "POST", f"/contacts/lists/{int(list_id)}/contacts/remove", json={"all": True}, idempotent=True
            )
            return self._parse(ListMembershipReport, response)
        return self._membership("remove", list_id, emails, ids, ext_ids)

    # ------------------------------------------------------------ events

    def create_event(
        self,
        event_name: str,
        identifiers: EventIdentifiers | Mapping[str, Any],
        *,
        contact_properties: Mapping[str, str | int | float | bool] | None = None,
        event_properties: Mapping[str, Any] | None = None,
        event_date: datetime | str | None = None,
    ) -> None:
        """`POST /events` (204). Not idempotent: every call records one more event."""
        event = Event(
            event_name=event_name,
            identifiers=identifiers
            if isinstance(identifiers, EventIdentifiers)
            else EventIdentifiers.model_validate(identifiers),
            contact_properties=dict(contact_properties) if contact_properties is not None else None,
            event_properties=dict(event_properties) if event_properties is not None else None,
            event_date=event_date,
        )
        body = event.dump()
        if event_properties and len(orjson.dumps(body.get("event_properties"))) > MAX_EVENT_PROPERTIES_BYTES:
            raise ValueError("event_properties is larger than Brevo's 50 KB limit")
        self._request("POST", "/events", json=body)

    def create_events_batch(self, events: Sequence[Event | Mapping[str, Any]]) -> EventBatchResult:
        """`POST /events/batch` with `{"events": [...]}` (changelog 2026-04-21, reference §0).

        202: all accepted; 207: `errors` name the refused events by 0-based index. Not retried
        after it may have been applied (events are not idempotent). Brevo does not say which
        budget it uses; Tajo counts it in the hourly "other" bucket, the stricter reading.
        """
        if not events:
            return EventBatchResult(total_events=0, successful_events=0, failed_events=0)
        body = {"events": [_dump(Event, e) for e in events]}
        response = self._request("POST", "/events/batch", json=body)
        data = self._data(response)
        if not isinstance(data, dict):
            return EventBatchResult(total_events=len(events), successful_events=len(events), failed_events=0)
        return self._parse(EventBatchResult, response)

    # ------------------------------------------------------------ CRM

    def list_pipelines(self) -> list[Pipeline]:
        """`GET /crm/pipeline/details/all`: every pipeline with its stages (none: an empty list)."""
        try:
            response = self._request("GET", "/crm/pipeline/details/all")
        except ValidationFailed as exc:
            # Brevo answers 400 "Pipeline not found" when the account has no pipeline at all.
            if "pipeline not found" in (getattr(exc, "provider_message", "") or "").lower():
                return []
            raise
        return self._parse_list(Pipeline, response)

    def list_deal_attributes(self) -> list[DealAttribute]:
        return self._parse_list(DealAttribute, self._request("GET", "/crm/attributes/deals"))

    def create_deal(
        self,
        name: str,
        *,
        attributes: Mapping[str, Any] | None = None,
        linked_contacts_ids: Sequence[int] | None = None,
        linked_companies_ids: Sequence[str] | None = None,
    ) -> str:
        """`POST /crm/deals` -> the new deal id (a string). Not retried after it may have been applied."""
        body = DealCreate(
            name=name,
            attributes=dict(attributes) if attributes is not None else None,
            linked_contacts_ids=list(linked_contacts_ids) if linked_contacts_ids is not None else None,
            linked_companies_ids=list(linked_companies_ids) if linked_companies_ids is not None else None,
        ).dump()
        return str(self._id_from(self._request("POST", "/crm/deals", json=body)))

    def update_deal(
        self,
        deal_id: str,
        *,
        name: str | None = None,
        attributes: Mapping[str, Any] | None = None,
        linked_contacts_ids: Sequence[int] | None = None,
        linked_companies_ids: Sequence[str] | None = None,
    ) -> None:
        """`PATCH /crm/deals/{id}`; linked id lists given here replace the deal's current ones."""
        body = DealUpdate(
            name=name,
            attributes=dict(attributes) if attributes is not None else None,
            linked_contacts_ids=list(linked_contacts_ids) if linked_contacts_ids is not None else None,
            linked_companies_ids=list(linked_companies_ids) if linked_companies_ids is not None else None,
        ).dump()
        self._request("PATCH", f"/crm/deals/{_path_segment(deal_id)}", json=body, idempotent=True)

    def link_deal_contacts(
        self,
        deal_id: str,
        *,
        link_contact_ids: Sequence[int] = (),
        unlink_contact_ids: Sequence[int] = (),
        link_company_ids: Sequence[str] = (),
        unlink_company_ids: Sequence[str] = (),
    ) -> None:
        """`PATCH /crm/deals/link-unlink/{id}`: incremental link changes (PATCH, not POST)."""
        body: dict[str, list] = {}
        for key, values in (
            ("linkContactIds", link_contact_ids),
            ("unlinkContactIds", unlink_contact_ids),
            ("linkCompanyIds", link_company_ids),
            ("unlinkCompanyIds", unlink_company_ids),
        ):
            if values:
                body[key] = list(values)
        if not body:
            return
        self._request("PATCH", f"/crm/deals/link-unlink/{_path_segment(deal_id)}", json=body, idempotent=True)

    def get_deal(self, deal_id: str) -> Deal:
        return self._parse(Deal, self._request("GET", f"/crm/deals/{_path_segment(deal_id)}"))

    def list_deals(
        self,
        *,
        limit: int = 50,
        offset: int = 0,
        linked_contact_id: int | None = None,
        deal_name: str | None = None,
        modified_since: datetime | str | None = None,
    ) -> list[Deal]:
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if linked_contact_id is not None:
            params["filters[linkedContactsIds]"] = linked_contact_id
        if deal_name is not None:
            params["filters[attributes.deal_name]"] = deal_name
        if modified_since is not None:
            params["modifiedSince"] = brevo_datetime(modified_since)
        response = self._request("GET", "/crm/deals", params=params)
        data = self._data(response)
        try:
            return TypeAdapter(list[Deal]).validate_python((data or {}).get("items", []))
        except (ValidationError, AttributeError) as exc:
            raise BadResponse(
                f"Brevo answered GET {display_url(response.request.url)} with an unexpected body",
                status=response.status_code,
                url=display_url(response.request.url),
            ) from exc

    # ------------------------------------------------------------ e-commerce

    def activate_ecommerce(self) -> None:
        self._request("POST", "/ecommerce/activate", idempotent=True)

    def create_order(self, order: Order | Mapping[str, Any]) -> None:
        """`POST /orders/status` (204): creates or updates the order with this `id`."""
        self._request("POST", "/orders/status", json=_dump(Order, order), idempotent=True)

    def create_orders_batch(
        self,
        orders: Sequence[Order | Mapping[str, Any]],
        *,
        historical: bool = True,
        notify_url: str | None = None,
    ) -> int:
        """`POST /orders/status/batch` (≤ 1000 orders) -> batch id. Historical orders trigger no workflows."""
        if not orders:
            raise ValueError("an order batch needs at least one order")
        if len(orders) > MAX_ORDER_BATCH:
            raise ValueError(f"an order batch takes at most {MAX_ORDER_BATCH} orders")
        body: dict[str, Any] = {"orders": [_dump(Order, o) for o in orders], "historical": historical}
        if notify_url:
            body["notifyUrl"] = notify_url
        response = self._request("POST", "/orders/status/batch", json=body, idempotent=True)
        # brevo-python 5.1.0 reads `batch_id`; 4.x and the older spec `batchId` (reference §0).
        data = self._data(response)
        key = "batch_id" if isinstance(data, dict) and data.get("batch_id") not in (None, "") else "batchId"
        return int(self._id_from(response, key))
