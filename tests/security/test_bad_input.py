"""A corpus of bad form values, API bodies and webhook bodies: each a clear error, never a 500.

Each case names what was sent and what the answer must say; a traceback or a 500 fails it.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from connectors.models import ActiveCampaignAccount, Connection
from tests.factories import ACAccountFactory, BrevoAccountFactory, ConnectionFactory, MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator():
    membership = MembershipFactory(role="operator")
    client = Client(raise_request_exception=False)
    client.force_login(membership.user)
    return client, membership.tenant


def _errors(response) -> str:
    assert response.status_code == 200, (response.status_code, response.content[:300])
    form = response.context["adminform"].form
    assert form.errors, "the form should have refused the value"
    return json.dumps(form.errors)


def _ac_form(**overrides):
    data = {
        "name": "Main AC",
        "api_url": "https://acme.api-us1.com",
        "api_key": "ac-key-123456789",
        "plan": "lite",
        "requests_per_second": "",
        "event_tracking_rate": "",
    }
    data.update(overrides)
    return data


def test_duplicate_account_name_is_a_form_error(operator) -> None:
    client, tenant = operator
    ACAccountFactory(tenant=tenant, name="Main AC")
    response = client.post(reverse("admin:connectors_activecampaignaccount_add"), _ac_form())
    assert "already exists" in _errors(response)
    assert ActiveCampaignAccount.objects.filter(tenant=tenant, name="Main AC").count() == 1


def test_duplicate_connection_name_is_a_form_error(operator) -> None:
    client, tenant = operator
    existing = ConnectionFactory(tenant=tenant, name="main")
    add = reverse("admin:connectors_connection_add")
    page = client.get(add)
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {name: field.initial for name, field in form.fields.items() if field.initial is not None}
    for name, value in list(data.items()):
        if callable(value):
            data[name] = value()
        if isinstance(data[name], bool) and not data[name]:
            del data[name]
    data.update(
        {
            "name": "main",
            "ac_account": existing.ac_account_id,
            "brevo_account": existing.brevo_account_id,
        }
    )
    # Inline formsets of the add page, empty.
    for formset in page.context["inline_admin_formsets"]:
        prefix = formset.formset.prefix
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})
    response = client.post(add, data)
    assert "already exists" in _errors(response)
    assert Connection.objects.filter(tenant=tenant, name="main").count() == 1


@pytest.mark.parametrize("value", ["abc", "1e9", "-1", "99999999999999999999"])
def test_bad_initial_ids_in_the_add_url_are_ignored(operator, value: str) -> None:
    client, _ = operator
    response = client.get(reverse("admin:connectors_connection_add"), {"ac_account": value})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("event_tracking_rate", "-1", "between 0 and 100"),
        ("event_tracking_rate", "1e400", ""),
        ("requests_per_second", "-5", "between 0 and 100"),
        ("api_url", "https://acme.api-us1.com:8443", "no port"),
        ("api_url", "https://acme.api-us1.com:abc", "invalid port"),
        ("api_key", "has spaces in it", "spaces"),
    ],
)
def test_bad_account_values_are_form_errors(operator, field: str, value: str, says: str) -> None:
    client, _ = operator
    response = client.post(reverse("admin:connectors_activecampaignaccount_add"), _ac_form(**{field: value}))
    assert says in _errors(response)


def test_unknown_phone_country_is_a_form_error(operator) -> None:
    client, tenant = operator
    connection = ConnectionFactory(tenant=tenant)
    change = reverse("admin:connectors_connection_change", args=[connection.pk])
    page = client.get(change)
    form = page.context["adminform"].form
    assert "default_phone_country" in form.fields
    from connectors.forms import ConnectionForm

    bound = ConnectionForm(
        data={**{k: getattr(connection, k, None) for k in ("name",)}, "default_phone_country": "ZZ"},
        instance=connection,
    )
    assert not bound.is_valid()
    assert "ISO 3166" in json.dumps(bound.errors["default_phone_country"])


# ----------------------------------------------------------------------------- API bodies


@pytest.fixture
def api():
    from connectors.api.services import api_token_create
    from tests.factories import TenantFactory

    tenant = TenantFactory()
    ConnectionFactory(tenant=tenant, name="activecampaign")
    _, raw = api_token_create(tenant=tenant, name="ops", role="operator")
    client = Client(raise_request_exception=False)

    def post(path: str, body: object = None, *, raw_body: bytes | None = None, **headers: str):
        data = raw_body if raw_body is not None else json.dumps(body)
        return client.post(
            "/api/v1" + path,
            data,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {raw}",
            **headers,
        )

    return post


BAD_API_BODIES = [
    (
        "/connectors/activecampaign/events",
        {"event": "x", "email": "a@example.org", "eventData": {"n": 2**64}},
    ),
    (
        "/connectors/activecampaign/events",
        {"event": "x", "email": "a@example.org", "eventData": {"s": "a\x00b"}},
    ),
    ("/connectors/activecampaign/events", {"event": "x\x00", "email": "a@example.org"}),
    (
        "/connectors/activecampaign/events",
        {"event": "x", "email": "a@example.org", "eventData": [[[[[[[[[[[[1]]]]]]]]]]]]},
    ),
    ("/connectors/activecampaign/events", []),
    ("/connectors/activecampaign/events", "text"),
    ("/connectors/activecampaign/connect", {"apiUrl": "https://acme.api-us1.com:8443", "apiKey": "k" * 20}),
    ("/connectors/activecampaign/connect", {"apiUrl": 12, "apiKey": "k"}),
    ("/connectors/activecampaign/sync", {"resources": ["nope"]}),
]


@pytest.mark.parametrize(("path", "body"), BAD_API_BODIES)
def test_bad_api_bodies_are_clear_400s(api, path: str, body: object) -> None:
    response = api(path, body)
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    error = response.json()["error"]
    assert error["message"] and "Traceback" not in error["message"]


@pytest.mark.parametrize(
    "raw", [b"\x00\xff\xfe", b"{", b'{"event": "x", "email": "a@example.org"', b"\xc3\x28"]
)
def test_unparseable_api_bodies_are_clear_400s(api, raw: bytes) -> None:
    response = api("/connectors/activecampaign/events", raw_body=raw)
    assert response.status_code == 400, response.content[:300]
    assert response.json()["error"]["message"]


@override_settings(TAJO_ALLOW_PRIVATE_URLS=False)
@pytest.mark.parametrize(
    "url", ["https://127.0.0.1./v3", "https://[64:ff9b::a9fe:a9fe]/v3", "https://2130706433/v3"]
)
def test_private_brevo_urls_are_refused_by_the_api_as_by_the_admin(api, url: str) -> None:
    body = {
        "apiUrl": "https://acme.api-us1.com",
        "apiKey": "k" * 20,
        "brevoApiKey": "b" * 20,
        "brevoApiUrl": url,
    }
    response = api("/connectors/activecampaign/connect", body)
    assert response.status_code == 400, response.content[:300]
    assert response.json()["error"]["field"] == "brevoApiUrl"


def test_chunked_bodies_are_refused_not_read_as_empty(api) -> None:
    response = api(
        "/connectors/activecampaign/events",
        raw_body=b"",
        HTTP_TRANSFER_ENCODING="chunked",
        CONTENT_LENGTH="",
    )
    assert response.status_code == 411
    assert "Content-Length" in response.json()["error"]["message"]


# ----------------------------------------------------------------------------- webhook bodies


@pytest.mark.parametrize(
    "body",
    [
        b"type=update&contact%5Bid%5D=1&contact%5Bemail%5D=a%00b%40example.org",
        b"type=update%00&contact%5Bid%5D=1",
        b"type=update&contact%5Bid%5D=1&contact%5Bfields%5D%5B1%5D=%00%00",
        bytes(range(256)),
        b"\x00" * 64,
        b"type=update&contact%5Bid%5D=" + b"9" * 40,
    ],
)
def test_bad_webhook_bodies_are_answered_and_nothing_crashes(body: bytes, redis_conn) -> None:
    from connectors.webhooks.services import intake_path

    connection = ConnectionFactory(log_webhooks=True)
    client = Client(raise_request_exception=False)
    response = client.post(intake_path(connection), body, content_type="application/x-www-form-urlencoded")
    assert response.status_code in (200, 400), (response.status_code, response.content[:300])
    assert "status" in response.json()


def test_swagger_ui_is_served_from_the_package_not_a_cdn() -> None:
    page = Client().get("/api/v1/docs").content.decode()
    assert "cdn" not in page.lower() and "unpkg" not in page.lower()
    assert "/static/ninja/swagger-ui-bundle.js" in page
    assert Client().get("/static/ninja/swagger-ui-bundle.js").status_code == 200


def test_forwarded_proto_is_not_trusted_by_default() -> None:
    from django.conf import settings

    assert settings.SECURE_PROXY_SSL_HEADER is None
    _ = BrevoAccountFactory  # the factory module is shared with the other cases
