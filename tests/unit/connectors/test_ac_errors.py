"""ActiveCampaign's error table: every body shape of reference §1.3-1.4 and the broken ones."""

from __future__ import annotations

import httpx
import pytest

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
from connectors.providers.activecampaign.errors import ActiveCampaignErrors, error_text
from connectors.providers.http.masking import register_secret
from connectors.providers.http.retry import NO_RETRY, RetryPolicy
from tests.unit.connectors.ac_fakes import API_KEY, Recorder, make_client

classify = ActiveCampaignErrors()
REQUEST = httpx.Request(
    "GET", "https://acme.api-us1.com/api/3/contacts/7?limit=5", headers={"Api-Token": API_KEY}
)


def response(
    status: int, *, json: object = None, content: bytes | None = None, headers=None
) -> httpx.Response:
    if json is not None:
        return httpx.Response(status, json=json, request=REQUEST, headers=headers)
    return httpx.Response(status, content=content or b"", request=REQUEST, headers=headers)


def test_success_is_not_an_error():
    assert classify(response(200, json={"contact": {}})) is None
    assert classify(response(201, json={})) is None


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (400, {}, ValidationFailed),
        (401, {"message": "invalid credentials"}, AuthError),
        (402, {"message": "Payment required"}, PaymentRequired),
        (403, {"message": "Forbidden"}, AuthError),
        (404, {"message": "No Result found for Subscriber with id 7"}, NotFoundError),
        (405, {"message": "Method not allowed"}, ApiError),
        (422, {"errors": [{"title": "Missing attribute"}]}, ValidationFailed),
        (429, {}, RateLimited),
        (500, {}, ServerError),
        (503, {"message": "down"}, ServerError),
    ],
)
def test_status_table(status, body, cls):
    error = classify(response(status, json=body))
    assert type(error) is cls
    assert error.status == status
    assert error.url == "https://acme.api-us1.com/api/3/contacts/7?limit=5"


def test_validation_errors_are_joined_and_kept_as_details():
    body = {
        "errors": [
            {
                "title": "Email address already exists in the system",
                "detail": "",
                "code": "duplicate",
                "source": {"pointer": "/data/attributes/email"},
            },
            {"status": 422, "title": "Missing attribute", "source": {"pointer": "/data/attributes/contact"}},
        ]
    }
    error = classify(response(422, json=body))
    assert isinstance(error, ValidationFailed)
    assert error.operator_message == (
        "ActiveCampaign refused GET /api/3/contacts/7 (422): "
        "Email address already exists in the system [email]; Missing attribute [contact]"
    )
    assert error.code == "duplicate"
    assert [d["pointer"] for d in error.details] == ["/data/attributes/email", "/data/attributes/contact"]


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ({"errors": ["plain string error", ""]}, "plain string error"),
        (
            {"errors": [{"detail": "The custom field value `soon` could not be saved"}]},
            "The custom field value",
        ),
        (
            {
                "errors": [
                    {
                        "title": "Invalid value",
                        "detail": "Schema slug must be unique",
                        "source": {"value": "/s/slug"},
                    }
                ]
            },
            "Invalid value: Schema slug must be unique [slug]",
        ),
        (
            {"message": "No Result found for Subscriber with id 4711"},
            "No Result found for Subscriber with id 4711",
        ),
        ({}, ""),
        (None, ""),
    ],
)
def test_error_text_reads_every_body_variant(body, text):
    assert error_text(body).startswith(text)
    if not text:
        assert error_text(body) == ""


def test_empty_400_uses_the_reason_phrase():
    error = classify(response(400, json={}))
    assert error.operator_message == "ActiveCampaign refused GET /api/3/contacts/7 (400): Bad Request"


def test_plain_403_means_the_key_and_is_retried_a_little():
    error = classify(response(403, json={"message": "Forbidden"}))
    assert error.operator_message == (
        "ActiveCampaign rejected the API key (403): check the key in Settings → Developer"
    )
    assert error.retryable and error.max_retries == 2


def test_403_with_no_result_found_is_a_not_found():
    error = classify(response(403, json={"message": "No Result found for FieldValue with id 10"}))
    assert isinstance(error, NotFoundError) and not error.retryable
    assert "No Result found for FieldValue with id 10" in error.operator_message


def test_403_permission_problem_names_the_permission():
    body = {
        "errors": [
            {"status": 403, "title": "Forbidden", "detail": "You do not have permission to view lists."}
        ]
    }
    error = classify(response(403, json=body))
    assert isinstance(error, AuthError) and not error.retryable
    assert "You do not have permission to view lists." in error.operator_message


def test_429_carries_retry_after():
    error = classify(response(429, json={}, headers={"Retry-After": "3"}))
    assert isinstance(error, RateLimited) and error.retry_after == 3.0
    assert "waiting 3s" in error.operator_message


def test_html_error_page_on_a_4xx_is_a_bad_response():
    page = b"<!DOCTYPE html><html><body><h1>Access denied</h1></body></html>"
    error = classify(response(403, content=page, headers={"content-type": "text/html"}))
    assert isinstance(error, BadResponse)
    assert error.status == 403 and error.url.startswith("https://acme.api-us1.com/api/3/contacts/7")
    assert "HTML page" in error.operator_message


def test_html_error_page_on_a_5xx_stays_a_retryable_server_error():
    error = classify(response(502, content=b"<html><body>Bad gateway</body></html>"))
    assert isinstance(error, ServerError) and error.retryable
    assert "HTML error page" in error.operator_message


def test_truncated_json_error_body_is_a_bad_response():
    error = classify(response(422, content=b'{"errors": [{"title": "Missing'))
    assert isinstance(error, BadResponse)
    assert "not JSON" in error.operator_message


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"<html><head><title>Login</title></head></html>", "HTML page"),
        (b'{"contacts": [{"id": "1"', "malformed or truncated JSON"),
    ],
)
def test_success_status_with_a_body_that_is_not_json_is_a_bad_response(content, reason):
    client = make_client(lambda request: httpx.Response(200, content=content), retry=NO_RETRY)
    with pytest.raises(BadResponse, match=reason) as caught:
        client.get_me()
    assert caught.value.status == 200
    assert caught.value.url == "https://acme.api-us1.com/api/3/users/me"


def test_unexpected_json_types_are_bad_responses():
    client = make_client(lambda request: httpx.Response(200, json=["not", "an", "object"]))
    with pytest.raises(BadResponse):
        client.get_me()
    client = make_client(lambda request: httpx.Response(200, json={"user": {"id": "abc"}}))
    with pytest.raises(BadResponse, match="id"):
        client.get_me()


def test_bad_key_is_retried_twice_then_reported():
    recorder = Recorder()
    client = make_client(
        lambda request: httpx.Response(403, json={"message": "Forbidden"}),
        recorder=recorder,
        retry=RetryPolicy(max_attempts=5, sleep=recorder.sleep),
    )
    with pytest.raises(AuthError) as caught:
        client.get_me()
    assert len(recorder.requests) == 3  # one try + two retries of the intermittent-403 kind
    assert caught.value.operator_message.startswith("ActiveCampaign rejected the API key (403)")


def test_intermittent_403_recovers():
    answers = iter(
        [httpx.Response(403, json={"message": "Forbidden"}), httpx.Response(200, json={"user": {"id": "1"}})]
    )
    client = make_client(lambda request: next(answers))
    assert client.get_me().id == 1


def test_no_error_message_contains_the_key():
    register_secret(API_KEY)
    for status in (400, 401, 403, 404, 422, 429, 500):
        error = classify(response(status, json={"message": f"echo {API_KEY}"}))
        assert API_KEY not in error.operator_message
        assert API_KEY not in str(error) and API_KEY not in repr(error)


def test_body_that_cannot_be_decoded_is_a_bad_response():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"\x1f\x8b truncated gzip", headers={"Content-Encoding": "gzip"})

    client = make_client(handler)
    with pytest.raises(BadResponse, match="could not be decoded") as caught:
        client.get_me()
    assert caught.value.url == "https://acme.api-us1.com/api/3/users/me"
