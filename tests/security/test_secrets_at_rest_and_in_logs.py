"""Secrets: webhook secrets encrypted at rest, masked in every log line without any warm-up."""

from __future__ import annotations

import logging
from urllib.parse import quote

import pytest
from django.db import connection as db
from django.test import Client

from connectors.providers.http import masking
from connectors.providers.http.masking import mask_text
from connectors.webhooks import selectors, services
from connectors.webhooks.models import WebhookEvent
from tests.factories import ConnectionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def fresh_process(monkeypatch):
    """As right after a reload: no secret registered yet, no connection cached."""
    monkeypatch.setattr(masking, "_secrets", set())
    monkeypatch.setattr(masking, "_secret_pattern", None)
    selectors.intake_cache_evict()
    yield
    selectors.intake_cache_evict()


def test_webhook_secret_is_encrypted_at_rest_and_the_intake_still_works(redis_conn, fresh_process) -> None:
    conn = ConnectionFactory()
    with db.cursor() as cursor:
        cursor.execute("SELECT webhook_secret FROM connectors_connection WHERE id = %s", [conn.pk])
        stored = cursor.fetchone()[0]
    assert stored != conn.webhook_secret and conn.webhook_secret not in stored
    services._queues.clear()
    response = Client().post(
        services.intake_path(conn),
        b"type=update&contact%5Bid%5D=1",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    services._queues.clear()


@pytest.mark.parametrize(
    "line",
    [
        "Not Found: /hooks/ac/12/NeverRegisteredSecretValue0123456789abcd",
        '127.0.0.1 - "GET /api/v1/runs?token=tajo_NeverSeenTokenValue0123456789 HTTP/1.1" 401',
        '127.0.0.1 - "GET /api/v1/runs?api_key=plainvalue12345&page=2 HTTP/1.1" 401',
        "Brevo key xkeysib-0123456789abcdef0123456789abcdef-Zz09 refused",
        "Authorization failed for Bearer tajo_AnotherTokenThatWasNeverValid0001",
    ],
)
def test_secrets_are_masked_by_shape_in_a_fresh_process(fresh_process, line: str, caplog) -> None:
    masked = mask_text(line)
    for secret in (
        "NeverRegisteredSecretValue0123456789",
        "tajo_NeverSeen",
        "plainvalue12345",
        "xkeysib-0123",
        "tajo_Another",
    ):
        assert secret not in masked
    caplog.set_level(logging.WARNING, logger="django.request")
    logging.getLogger("django.request").warning("%s", line)
    assert all(
        secret not in caplog.text
        for secret in (
            "NeverRegisteredSecretValue0123456789",
            "tajo_NeverSeen",
            "plainvalue12345",
            "xkeysib-0123",
        )
    )


def test_keys_in_webhook_bodies_are_masked_on_the_first_delivery(redis_conn, fresh_process) -> None:
    conn = ConnectionFactory(log_webhooks=True)
    ac_key = conn.ac_account.api_key
    brevo_key = conn.brevo_account.api_key
    body = (
        "type=update&contact%5Bid%5D=1&contact%5Bemail%5D=a%40example.org"
        f"&contact%5Bfields%5D%5B1%5D={quote(ac_key)}&contact%5Bfields%5D%5B2%5D={quote(brevo_key)}"
    ).encode()
    services._queues.clear()
    response = Client().post(
        services.intake_path(conn), body, content_type="application/x-www-form-urlencoded"
    )
    services._queues.clear()
    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    stored = f"{event.payload} {event.raw_body}"
    assert ac_key not in stored and brevo_key not in stored
    assert quote(ac_key, safe="") not in stored


def test_gunicorns_own_access_atoms_are_masked() -> None:
    """For deployments on gunicorn's sync workers, whose access line is built from these atoms."""
    from datetime import timedelta
    from types import SimpleNamespace

    from gunicorn.config import Config

    from tajo_site.gunicorn_logging import MaskingLogger

    secret = "IntakeSecretNeverRegistered0123456789wxyz"
    environ = {
        "REQUEST_METHOD": "POST",
        "RAW_URI": f"/hooks/ac/3/{secret}?api_key=plainvalue12345",
        "PATH_INFO": f"/hooks/ac/3/{secret}",
        "QUERY_STRING": "api_key=plainvalue12345&page=2",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
    }
    request = SimpleNamespace(headers=[("AUTHORIZATION", "Bearer tajo_" + "t" * 30)])
    response = SimpleNamespace(status="404 Not Found", sent=10, headers=[])
    atoms = MaskingLogger(Config()).atoms(response, request, environ, timedelta(seconds=0.01))
    text = " ".join(str(value) for value in atoms.values())
    assert secret not in text and "plainvalue12345" not in text and "tajo_tttt" not in text
    assert "/hooks/ac/3/****wxyz" in atoms["r"] and atoms["q"] == "api_key=****2345&page=2"
