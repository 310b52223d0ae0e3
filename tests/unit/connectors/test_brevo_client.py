"""BrevoClient against hand-built responses (httpx.MockTransport): edge cases of the wire contract."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import httpx
import orjson
import pytest
from pydantic import ValidationError

from connectors.exceptions import (
    ApiError,
    AuthError,
    BadResponse,
    NotFoundError,
    PaymentRequired,
    RateLimited,
    ServerError,
    ValidationFailed,
)
from connectors.providers.brevo import BrevoClient, bucket_for, split_import_rows
from connectors.providers.brevo.errors import ACCOUNT_NOT_READY, IP_BLOCKED, KEY_MISSING, KEY_REJECTED
from connectors.providers.brevo.schemas import Attribute, Contact, IdentifierType, Order, Process
from connectors.providers.http.retry import RetryPolicy

API_KEY = "xkeysib-unit-test-0000-not-a-real-key"
API_URL = "https://api.brevo.com/v3"


class FakeLimiter:
    """Records how often each bucket was asked for a slot, and any pause."""

    def __init__(self, name: str, log: list[str]) -> None:
        self.name, self.log, self.pauses = name, log, []

    def acquire(self) -> float:
        self.log.append(self.name)
        return 0.0

    def pause(self, seconds: float) -> None:
        self.pauses.append(seconds)


class Recorder:
    def __init__(self, *responses: httpx.Response | Callable[[httpx.Request], httpx.Response]) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        item = self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]
        return item(request) if callable(item) else item

    def client(self, **kwargs) -> BrevoClient:
        retry = kwargs.pop("retry", RetryPolicy(max_attempts=4, sleep=self.sleeps.append))
        return BrevoClient(
            api_url=API_URL, api_key=API_KEY, transport=httpx.MockTransport(self), retry=retry, **kwargs
        )

    def body(self, index: int = -1) -> dict:
        return json.loads(self.requests[index].content)


def error(status: int, body: object = None, headers: dict | None = None, content: bytes | None = None):
    if content is not None:
        return httpx.Response(status, content=content, headers=headers)
    return httpx.Response(status, json=body, headers=headers)


# ---------------------------------------------------------------- wire basics


def test_every_request_carries_the_api_key_header_and_user_agent():
    rec = Recorder(httpx.Response(200, json={"email": "owner@example.com", "plan": []}))
    account = rec.client().get_account()
    assert account.email == "owner@example.com"
    request = rec.requests[0]
    assert request.headers["api-key"] == API_KEY
    assert request.headers["user-agent"] == "Tajo/0.1"
    assert str(request.url) == "https://api.brevo.com/v3/account"


def test_204_is_never_json_decoded():
    # A 204 with junk in the body must not be parsed (Brevo sends none; a proxy might).
    rec = Recorder(httpx.Response(204, content=b"<not json>"))
    client = rec.client()
    assert client.update_contact("ana@example.org", {"attributes": {"FIRSTNAME": "Ana"}}) is None
    created = client.create_contact({"email": "ana@example.org", "updateEnabled": True})
    assert created.created is False and created.id is None


def test_create_contact_201_returns_the_new_id_and_sends_camel_case():
    rec = Recorder(httpx.Response(201, json={"id": 4217}))
    created = rec.client().create_contact(
        {
            "email": "ana@example.org",
            "ext_id": "crm-1",
            "list_ids": [7],
            "update_enabled": True,
            "attributes": {"FIRSTNAME": "Ana"},
        }
    )
    assert created.created is True and created.id == 4217
    assert rec.body() == {
        "email": "ana@example.org",
        "ext_id": "crm-1",
        "listIds": [7],
        "updateEnabled": True,
        "attributes": {"FIRSTNAME": "Ana"},
    }


def test_unknown_request_fields_fail_before_sending():
    rec = Recorder(httpx.Response(201, json={"id": 1}))
    with pytest.raises(ValidationError):
        rec.client().create_contact({"email": "a@example.org", "listIdz": [1]})
    assert rec.requests == []


@pytest.mark.parametrize(
    ("identifier", "identifier_type", "raw_path", "query"),
    [
        ("a+b@x.io", None, b"/v3/contacts/a%2Bb%40x.io", b""),
        ("+33612345678", IdentifierType.PHONE, b"/v3/contacts/%2B33612345678", b"identifierType=phone_id"),
        ("00981", "ext_id", b"/v3/contacts/00981", b"identifierType=ext_id"),
        (42, None, b"/v3/contacts/42", b""),
    ],
)
def test_path_identifiers_are_url_encoded_including_plus(identifier, identifier_type, raw_path, query):
    rec = Recorder(httpx.Response(204))
    rec.client().update_contact(
        identifier, {"attributes": {"LASTNAME": "X"}}, identifier_type=identifier_type
    )
    assert rec.requests[0].url.raw_path.split(b"?")[0] == raw_path
    assert rec.requests[0].url.query == query


def test_get_contact_encodes_and_parses():
    rec = Recorder(
        httpx.Response(
            200,
            json={
                "id": 9,
                "email": "a+b@x.io",
                "emailBlacklisted": False,
                "smsBlacklisted": False,
                "createdAt": "2026-01-02T03:04:05.000Z",
                "modifiedAt": "2026-01-02T03:04:05.123+05:30",
                "listIds": [50],
                "attributes": {"FIRSTNAME": "A"},
                "statistics": {},
            },
        )
    )
    contact = rec.client().get_contact("a+b@x.io")
    assert rec.requests[0].url.raw_path == b"/v3/contacts/a%2Bb%40x.io"
    assert (
        contact.id == 9
        and contact.list_ids == [50]
        and contact.modified_at.utcoffset().total_seconds() == 19800
    )


def test_list_contacts_sends_modified_since_encoded_and_rejects_big_pages():
    from datetime import UTC, datetime

    rec = Recorder(httpx.Response(200, json={"contacts": [], "count": 0}))
    client = rec.client()
    page = client.list_contacts(
        modified_since=datetime(2026, 3, 1, 9, 30, 15, 250000, tzinfo=UTC), limit=1000
    )
    assert page.count == 0 and page.contacts == []
    params = rec.requests[0].url.params
    assert params["modifiedSince"] == "2026-03-01T09:30:15.250Z"
    assert params["limit"] == "1000"
    client.list_contacts(modified_since="2026-03-01T10:00:00.000+01:00")
    assert b"%2B01%3A00" in rec.requests[1].url.query  # '+' must not turn into a space
    with pytest.raises(ValueError, match="limit"):
        client.list_contacts(limit=1001)


# ---------------------------------------------------------------- error table


@pytest.mark.parametrize(
    ("status", "body", "cls", "code", "fragment"),
    [
        (401, {"code": "unauthorized", "message": "Key not found"}, AuthError, "unauthorized", KEY_REJECTED),
        (
            401,
            {"message": "authentication not found in headers", "code": "unauthorized"},
            AuthError,
            "unauthorized",
            KEY_MISSING,
        ),
        (
            401,
            {
                "code": "unauthorized",
                "message": "We have detected you are using an unrecognised IP address "
                "1.2.3.4. If you performed this action...",
            },
            AuthError,
            "unauthorized",
            IP_BLOCKED,
        ),
        (
            402,
            {"code": "not_enough_credits", "message": "Not enough credits"},
            PaymentRequired,
            "not_enough_credits",
            "Not enough credits",
        ),
        (
            403,
            {"code": "permission_denied", "message": "Feature not in plan"},
            AuthError,
            "permission_denied",
            "Feature not in plan",
        ),
        (
            404,
            {"code": "document_not_found", "message": "Contact does not exist"},
            NotFoundError,
            "document_not_found",
            "Contact does not exist",
        ),
        (
            400,
            {
                "code": "invalid_parameter",
                "message": "Invalid phone number, SMS phone number should be in "
                "format: 91xxxxxxxxxx or +91xxxxxxxxxx.",
            },
            ValidationFailed,
            "invalid_parameter",
            "Invalid phone number",
        ),
        (
            400,
            {"code": "missing_parameter", "message": "An email or SMS phone number is mandatory"},
            ValidationFailed,
            "missing_parameter",
            "mandatory",
        ),
        (
            405,
            {"code": "method_not_allowed", "message": "not allowed"},
            ApiError,
            "method_not_allowed",
            "405",
        ),
        (500, {"code": "internal", "message": "boom"}, ServerError, "internal", "boom"),
    ],
)
def test_error_table(status, body, cls, code, fragment):
    rec = Recorder(error(status, body))
    client = rec.client(retry=RetryPolicy(max_attempts=1))
    with pytest.raises(ApiError) as info:
        client.update_contact("ana@example.org", {"attributes": {"FIRSTNAME": "Ana"}})
    exc = info.value
    assert type(exc) is cls
    assert exc.status == status and exc.code == code
    assert fragment in exc.operator_message
    assert API_KEY not in str(exc) and API_KEY not in exc.url and API_KEY not in repr(exc)
    assert exc.url == "https://api.brevo.com/v3/contacts/ana%40example.org"


def test_duplicate_parameter_names_the_identifiers_and_keeps_metadata():
    body = {
        "code": "duplicate_parameter",
        "message": "Unable to create contact, email is already associated with another Contact",
        "metadata": {"duplicate_identifiers": ["email", "sms"]},
    }
    rec = Recorder(error(400, body))
    with pytest.raises(ValidationFailed) as info:
        rec.client().create_contact({"email": "ana@example.org"})
    exc = info.value
    assert exc.code == "duplicate_parameter"
    assert "email, sms is already used by another contact" in exc.operator_message
    assert exc.metadata == {"duplicate_identifiers": ["email", "sms"]}
    assert exc.details[0]["metadata"]["duplicate_identifiers"] == ["email", "sms"]
    assert len(rec.requests) == 1  # a 400 is never retried


def test_2026_update_duplicate_with_invalid_parameter_code_is_still_recognised():
    body = {
        "code": "invalid_parameter",
        "message": "Unable to update contact, email is already associated with another Contact",
        "metadata": {"duplicate_identifiers": ["email"]},
    }
    rec = Recorder(error(400, body))
    with pytest.raises(ValidationFailed) as info:
        rec.client().update_contact(5, {"attributes": {"EMAIL": "taken@example.org"}})
    assert info.value.code == "invalid_parameter"
    assert "email is already used by another contact" in info.value.operator_message


@pytest.mark.parametrize(
    ("status", "content"),
    [(403, b"<!DOCTYPE html><html><body>Cloudflare</body></html>"), (400, b'{"code": "invalid_par')],
)
def test_non_json_error_bodies_are_bad_responses(status, content):
    rec = Recorder(error(status, content=content))
    with pytest.raises(BadResponse) as info:
        rec.client().get_account()
    assert info.value.status == status


def test_html_on_a_200_is_a_bad_response():
    rec = Recorder(httpx.Response(200, content=b"<html>maintenance</html>"))
    with pytest.raises(BadResponse, match="HTML page"):
        rec.client().get_account()


def test_wrong_json_shape_is_a_bad_response():
    rec = Recorder(httpx.Response(200, json={"processes": []}))
    with pytest.raises(BadResponse, match="unexpected body"):
        rec.client().get_process(7)


# ---------------------------------------------------------------- retries and budgets


def test_425_account_in_process_is_retried_then_succeeds():
    rec = Recorder(
        error(425, {"code": "account_in_process", "message": "retry later"}),
        httpx.Response(201, json={"id": 3}),
    )
    created = rec.client().create_contact({"email": "a@example.org", "updateEnabled": True})
    assert created.id == 3
    assert len(rec.requests) == 2 and len(rec.sleeps) == 1


def test_425_that_never_clears_gives_up_with_an_operator_message():
    rec = Recorder(error(425, {"code": "account_in_process", "message": "retry later"}))
    client = rec.client(retry=RetryPolicy(max_attempts=10, sleep=rec.sleeps.append))
    with pytest.raises(ApiError) as info:
        client.update_contact("a@example.org", {"attributes": {"FIRSTNAME": "A"}})
    assert info.value.status == 425 and info.value.code == "account_in_process"
    assert info.value.operator_message == ACCOUNT_NOT_READY
    assert 2 <= len(rec.requests) <= 6  # retried, but bounded by the 425 cap


def test_429_waits_the_reset_header_then_retries_and_pauses_the_bucket():
    log: list[str] = []
    limiters = {b: FakeLimiter(b, log) for b in ("contacts", "events", "orders", "other")}
    rec = Recorder(
        error(
            429,
            {"code": "too_many_requests", "message": "slow down"},
            headers={
                "x-sib-ratelimit-limit": "10",
                "x-sib-ratelimit-remaining": "0",
                "x-sib-ratelimit-reset": "7",
            },
        ),
        httpx.Response(
            204,
            headers={
                "x-sib-ratelimit-limit": "10",
                "x-sib-ratelimit-remaining": "9",
                "x-sib-ratelimit-reset": "1",
            },
        ),
    )
    client = rec.client(limiters=limiters)
    client.update_contact("a@example.org", {"attributes": {"FIRSTNAME": "A"}})
    assert len(rec.requests) == 2
    assert len(rec.sleeps) == 1 and 7.0 <= rec.sleeps[0] <= 7.3  # the reset value plus a little jitter
    assert limiters["contacts"].pauses == [7.0]  # other workers back off too
    assert log == ["contacts", "contacts"]
    budget = client.budget("contacts")
    assert (budget.limit, budget.remaining, budget.reset) == (10, 9, 1.0)
    assert client.budget("other") is None


def test_429_with_an_hourly_reset_gives_up_with_retry_after_for_the_scheduler():
    rec = Recorder(
        error(
            429,
            {"message": "limit"},
            headers={
                "x-sib-ratelimit-reset": "3000",
                "x-sib-ratelimit-remaining": "0",
                "x-sib-ratelimit-limit": "100",
            },
        )
    )
    with pytest.raises(RateLimited) as info:
        rec.client().get_process(4)
    assert info.value.retry_after == 3000.0
    assert "'other' budget" in info.value.operator_message
    assert rec.sleeps == []  # waiting an hour inside a job is not an option
    assert rec.client().budget("other") is None  # budgets are per client instance


def test_500_on_post_events_is_not_repeated_but_503_is():
    rec = Recorder(error(500, {"message": "boom"}))
    with pytest.raises(ServerError):
        rec.client().create_event("signed_up", {"email_id": "a@example.org"})
    assert len(rec.requests) == 1  # the event may have been recorded: a repeat would duplicate it

    rec = Recorder(error(503, {"message": "busy"}), httpx.Response(204))
    rec.client().create_event("signed_up", {"email_id": "a@example.org"})
    assert len(rec.requests) == 2


def test_transport_errors_on_idempotent_writes_are_retried():
    calls = []

    def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            raise httpx.ReadTimeout("slow", request=request)
        return httpx.Response(204)

    rec = Recorder(flaky)
    rec.client().create_order(_order())
    assert len(calls) == 2


@pytest.mark.parametrize(
    ("call", "bucket"),
    [
        (lambda c: c.get_account(), "other"),
        (lambda c: c.create_contact({"email": "a@example.org"}), "contacts"),
        (lambda c: c.list_contacts(modified_since="2026-12-01T00:00:00.000Z", limit=1000), "contacts"),
        (lambda c: c.create_events_batch([{"event_name": "x", "identifiers": {"ext_id": "9"}}]), "other"),
        (lambda c: c.import_contacts(json_body=[{"email": "a@example.org"}], list_ids=[2]), "contacts"),
        (lambda c: c.list_attributes(), "contacts"),
        (lambda c: c.add_contacts_to_list(50, emails=["a@example.org"]), "contacts"),
        (lambda c: c.create_event("opened_app", {"ext_id": "9"}), "events"),
        (lambda c: c.create_order(_order()), "orders"),
        (lambda c: c.create_orders_batch([_order()]), "other"),
        (lambda c: c.get_process(1), "other"),
        (lambda c: c.list_pipelines(), "other"),
        (lambda c: c.link_deal_contacts("abc", link_contact_ids=[1]), "other"),
    ],
)
def test_each_call_paces_on_its_budget_bucket(call, bucket):
    log: list[str] = []
    limiters = {b: FakeLimiter(b, log) for b in ("contacts", "events", "orders", "other")}

    def answer(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/import"):
            return httpx.Response(202, json={"processId": 1})
        if path.endswith("/batch") and "orders" in path:
            return httpx.Response(202, json={"batchId": 5, "count": 1})
        if path.endswith("/processes/1"):
            return httpx.Response(200, json={"id": 1, "status": "queued"})
        if path.endswith("/attributes"):
            return httpx.Response(200, json={"attributes": []})
        if path.endswith("/account"):
            return httpx.Response(200, json={})
        if path.endswith("/all"):
            return httpx.Response(200, json=[])
        if path.endswith("/add"):
            return httpx.Response(201, json={"contacts": {"success": ["a@example.org"], "failure": []}})
        if request.method == "POST" and path.endswith("/contacts"):
            return httpx.Response(201, json={"id": 1})
        if request.method == "GET" and path.endswith("/contacts"):
            return httpx.Response(200, json={"contacts": [], "count": 0})
        return httpx.Response(204)

    call(Recorder(answer).client(limiters=limiters))
    assert log == [bucket]


@pytest.mark.parametrize(
    ("method", "path", "bucket"),
    [
        ("GET", "/contacts", "contacts"),
        ("PUT", "/contacts/a%40b.io", "contacts"),
        ("POST", "/contacts/lists/5/contacts/add", "contacts"),
        ("POST", "/events", "events"),
        ("POST", "/events/batch", "other"),
        ("GET", "/events", "other"),
        ("POST", "/orders/status", "orders"),
        ("POST", "/orders/status/batch", "other"),
        ("GET", "/orders", "other"),
        ("GET", "/crm/deals?limit=5", "other"),
        ("GET", "/account", "other"),
        ("GET", "/contactsx", "other"),
    ],
)
def test_bucket_table(method, path, bucket):
    assert bucket_for(method, path) == bucket


# ---------------------------------------------------------------- bulk helpers


def test_the_client_has_no_route_to_the_deprecated_batch_update():
    # POST /contacts/batch is deprecated (effective 2026-10-30): nothing may send it.
    assert not hasattr(BrevoClient, "update_contacts_batch")


def test_list_add_is_chunked_by_150_and_reports_merge():
    def answer(request: httpx.Request) -> httpx.Response:
        emails = json.loads(request.content)["emails"]
        return httpx.Response(201, json={"contacts": {"success": emails[1:], "failure": emails[:1]}})

    rec = Recorder(answer)
    emails = [f"c{i}@example.org" for i in range(320)]
    report = rec.client().add_contacts_to_list(50, emails=emails)
    assert [len(json.loads(r.content)["emails"]) for r in rec.requests] == [150, 150, 20]
    assert report.failure == ["c0@example.org", "c150@example.org", "c300@example.org"]
    assert len(report.success) == 317
    assert rec.requests[0].url.path == "/v3/contacts/lists/50/contacts/add"


def test_list_report_accepts_the_flat_shape_of_old_examples_and_remove_all():
    rec = Recorder(
        httpx.Response(201, json={"success": [1, 2], "failure": [5]}),
        httpx.Response(201, json={"contacts": {"total": 27, "processId": 78}}),
    )
    client = rec.client()
    report = client.remove_contacts_from_list(9, ids=[1, 2, 5])
    assert (report.success, report.failure) == ([1, 2], [5])
    everyone = client.remove_contacts_from_list(9, remove_all=True)
    assert (everyone.total, everyone.process_id) == (27, 78)
    assert rec.body() == {"all": True}
    with pytest.raises(ValueError, match="exactly one"):
        client.add_contacts_to_list(9, emails=["a@b.io"], ids=[1])


def test_import_sends_options_and_returns_the_process_id():
    rec = Recorder(httpx.Response(202, json={"processId": 78}))
    receipt = rec.client().import_contacts(
        json_body=[{"email": "li@example.net", "attributes": {"FIRSTNAME": "Li"}}],
        list_ids=[12],
        update_existing=False,
        empty_contacts_attributes=True,
        notify_url="https://hooks.example.net/done",
    )
    assert receipt.process_id == 78 and receipt.rows == 1 and receipt.accepted_at.tzinfo is not None
    assert rec.body() == {
        "updateExistingContacts": False,
        "emptyContactsAttributes": True,
        "disableNotification": True,
        "jsonBody": [{"email": "li@example.net", "attributes": {"FIRSTNAME": "Li"}}],
        "listIds": [12],
        "notifyUrl": "https://hooks.example.net/done",
    }


def test_import_refuses_oversize_bodies_without_calling_brevo():
    rec = Recorder(httpx.Response(202, json={"processId": 1}))
    big = [{"email": f"c{i}@example.org", "attributes": {"NOTE": "x" * 1000}} for i in range(11_000)]
    with pytest.raises(ValueError, match="at most"):
        rec.client().import_contacts(json_body=big, list_ids=[1])
    assert rec.requests == []
    chunks = list(split_import_rows(big, max_bytes=2_000_000))
    assert sum(len(c) for c in chunks) == len(big)
    assert all(len(orjson.dumps(c)) <= 2_000_000 for c in chunks) and len(chunks) > 1
    assert [len(c) for c in split_import_rows(big[:10], max_rows=4)] == [4, 4, 2]


def test_process_in_the_2026_shape_links_its_reports():
    rec = Recorder(
        httpx.Response(
            200,
            json={
                "id": 78,
                "name": "IMPORTUSER",
                "status": "completed",
                "info": {
                    "import": {
                        "invalid_emails": "https://reports.example.net/78/invalid.csv",
                        "duplicate_ext_id": None,
                        "duplicate_email_id": "https://reports.example.net/78/dup.csv",
                        "future_report": "https://reports.example.net/78/new.csv",
                    }
                },
            },
        )
    )
    process = rec.client().get_process(78)
    assert process.finished and process.succeeded
    assert process.reports == {
        "invalid_emails": "https://reports.example.net/78/invalid.csv",
        "duplicate_email_id": "https://reports.example.net/78/dup.csv",
    }


@pytest.mark.parametrize(
    ("status", "finished", "succeeded"),
    [
        ("queued", False, False),
        ("in_process", False, False),
        ("processing", False, False),
        ("something_new", False, False),
        ("completed", True, True),
        ("failed", True, False),
        ("cancelled", True, False),
    ],
)
def test_process_statuses(status, finished, succeeded):
    process = Process.model_validate({"id": 1, "status": status})
    assert (process.finished, process.succeeded) == (finished, succeeded)


def test_legacy_process_counters_are_not_taken_for_links():
    legacy = {
        "id": 7,
        "status": "completed",
        "info": {"import": {"invalid_emails": 2, "duplicate_ext_id": 1}},
        "created_at": "2026-03-02T09:14:05Z",
        "error": None,
    }
    assert Process.model_validate(legacy).reports == {}
    with pytest.raises(ValidationError):
        Process.model_validate({"id": 7})  # Tajo depends on the status: no status is no process


def test_category_options_read_value_str_first():
    attribute = Attribute.model_validate(
        {
            "name": "LANGUAGE",
            "category": "category",
            "type": "category",
            "enumeration": [
                {"value": 0, "valueStr": "en", "label": "English"},
                {"value": 2, "label": "Gold"},
                {"value": 3, "valueStr": "3", "label": "Silver", "extra": True},
            ],
        }
    )
    assert [o.option for o in attribute.enumeration] == ["en", "2", "3"]


def test_contacts_carry_whatsapp_blacklisted():
    contact = Contact.model_validate({"id": 1, "whatsappBlacklisted": True, "newField": 1})
    assert contact.whatsapp_blacklisted is True
    assert Contact.model_validate({"id": 2}).whatsapp_blacklisted is False


@pytest.mark.parametrize("key", ["batch_id", "batchId"])
def test_order_batch_id_under_either_name(key):
    rec = Recorder(httpx.Response(202, json={key: 41, "count": 1}))
    assert rec.client().create_orders_batch([_order()]) == 41


def test_events_batch_sends_an_object_and_maps_207_errors_to_indexes():
    rec = Recorder(
        httpx.Response(
            207,
            json={
                "status": "partial_success",
                "total_events": 3,
                "successful_events": 1,
                "failed_events": 2,
                "errors": [{"eventIndex": [0, 2], "message": "identifiers missing"}],
            },
        ),
        httpx.Response(202, json={"message": "Batch accepted", "count": 1}),
    )
    client = rec.client()
    events = [{"event_name": "a", "identifiers": {"ext_id": str(i)}} for i in range(3)]
    result = client.create_events_batch(events)
    assert result.failures() == {0: "identifiers missing", 2: "identifiers missing"}
    assert list(rec.body()) == ["events"] and len(rec.body()["events"]) == 3
    assert client.create_events_batch(events[:1]).failures() == {}


# ---------------------------------------------------------------- events, CRM, orders


def test_event_body_and_local_validation():
    rec = Recorder(httpx.Response(204))
    client = rec.client()
    client.create_event(
        "subscription_renewed",
        {"email_id": "li@example.net", "ext_id": "crm-1"},
        contact_properties={"PLAN": "pro"},
        event_properties={"amount": 49.0},
        event_date="2026-02-10T08:30:00Z",
    )
    assert rec.body() == {
        "event_name": "subscription_renewed",
        "identifiers": {"email_id": "li@example.net", "ext_id": "crm-1"},
        "event_date": "2026-02-10T08:30:00Z",
        "contact_properties": {"PLAN": "pro"},
        "event_properties": {"amount": 49.0},
    }
    with pytest.raises(ValidationError):
        client.create_event("bad name!", {"email_id": "li@example.net"})
    with pytest.raises(ValidationError):
        client.create_event("ok", {})
    with pytest.raises(ValueError, match="50 KB"):
        client.create_event("ok", {"email_id": "li@example.net"}, event_properties={"blob": "x" * 60_000})
    assert len(rec.requests) == 1


def test_deal_calls_use_the_documented_methods_and_string_ids():
    rec = Recorder(httpx.Response(201, json={"id": "6650a1c2e4b0f1a2b3c4d5f0"}), httpx.Response(204))
    client = rec.client()
    deal_id = client.create_deal("Annual plan", attributes={"amount": 12000}, linked_contacts_ids=[4217])
    assert deal_id == "6650a1c2e4b0f1a2b3c4d5f0"
    assert rec.body(0) == {
        "name": "Annual plan",
        "attributes": {"amount": 12000},
        "linkedContactsIds": [4217],
    }
    client.update_deal(deal_id, attributes={"deal_stage": "s2"})
    client.link_deal_contacts(deal_id, link_contact_ids=[5], unlink_contact_ids=[4217])
    assert [(r.method, r.url.path) for r in rec.requests] == [
        ("POST", "/v3/crm/deals"),
        ("PATCH", f"/v3/crm/deals/{deal_id}"),
        ("PATCH", f"/v3/crm/deals/link-unlink/{deal_id}"),
    ]
    assert rec.body(2) == {"linkContactIds": [5], "unlinkContactIds": [4217]}


def test_pipelines_parse_the_array_shape():
    rec = Recorder(
        httpx.Response(
            200, json=[{"pipeline": "p1", "pipeline_name": "Sales", "stages": [{"id": "s1", "name": "New"}]}]
        )
    )
    pipelines = rec.client().list_pipelines()
    assert pipelines[0].id == "p1" and pipelines[0].stages[0].name == "New"


def _order(**extra) -> dict:
    return {
        "id": "ORD-1",
        "created_at": "2026-03-01T10:02:11Z",
        "updated_at": "2026-03-01T10:05:40Z",
        "status": "completed",
        "amount": 87.5,
        "products": [{"product_id": "P11", "price": 35.0, "quantity": 2}],
        "identifiers": {"email_id": "li@example.net"},
        **extra,
    }


def test_order_batch_body_and_batch_id():
    from datetime import UTC, datetime

    rec = Recorder(httpx.Response(202, json={"batchId": 1234567.0, "count": 2}))
    order2 = _order(id="ORD-2", created_at=datetime(2026, 3, 1, 11, 0, tzinfo=UTC))
    batch_id = rec.client().create_orders_batch([_order(), order2], historical=True)
    assert batch_id == 1234567
    body = rec.body()
    assert body["historical"] is True
    assert body["orders"][1]["createdAt"] == "2026-03-01T11:00:00Z"
    assert body["orders"][0]["products"] == [{"productId": "P11", "price": 35.0, "quantity": 2}]


def test_order_validation_is_local():
    with pytest.raises(ValidationError, match="exactly one of quantity"):
        Order.model_validate(
            _order(products=[{"product_id": "P", "price": 1, "quantity": 1, "quantity_float": 1.5}])
        )
    with pytest.raises(ValidationError, match="identifier"):
        Order.model_validate(_order(identifiers={}))
    with pytest.raises(ValueError, match="1000"):
        Recorder(httpx.Response(202)).client().create_orders_batch([_order()] * 1001)


def test_the_key_never_reaches_the_logs(caplog):
    from connectors.providers.http.masking import install_secret_masking

    install_secret_masking()
    rec = Recorder(error(503, {"message": f"echo {API_KEY}"}), httpx.Response(200, json={}))
    with caplog.at_level(logging.DEBUG):
        rec.client().get_account()
    assert caplog.records, "the retry should have been logged"
    assert API_KEY not in caplog.text

    rec = Recorder(error(400, {"code": "invalid_parameter", "message": f"bad key {API_KEY}"}))
    with pytest.raises(ValidationFailed) as info:
        rec.client().get_account()
    assert API_KEY not in str(info.value) and API_KEY[-4:] in str(info.value)
