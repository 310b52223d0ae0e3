"""The intake endpoint over Django's request stack with PostgreSQL and Redis: status codes,
storage, deduplication, allow-list, size limit and a flood of junk."""

from __future__ import annotations

import time
from urllib.parse import urlencode

import pytest
from django.test import Client, override_settings

from connectors import queues
from connectors.models import Connection
from connectors.providers.http.masking import register_secret
from connectors.webhooks import services
from connectors.webhooks.models import WebhookEvent, WebhookStatus
from tests.integration.webhooks.conftest import FORM, intake, sample

pytestmark = pytest.mark.django_db(transaction=True)


def post(client: Client, path: str, body: bytes, *, content_type: str = FORM, **extra):
    return client.generic("POST", path, body, content_type=content_type, **extra)


def test_accepted_event_is_stored_parsed_and_queued(client, connection, short_queue) -> None:
    response = post(client, intake(connection), sample("update"))
    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert response.json() == {"status": "received", "event": event.pk}
    assert (event.tenant_id, event.connection_id) == (connection.tenant_id, connection.pk)
    assert (event.event_type, event.resource, event.source_id, event.source) == (
        "update",
        "contacts",
        "2381",
        "admin",
    )
    assert event.key == "maria.lopez@example.org"
    assert event.occurred_at.isoformat() == "2024-05-21T15:14:32+00:00"
    assert event.payload["contact"]["fields"] == {"3": "Austin", "5": "Gold", "7": "2024-05-01"}
    assert event.status == WebhookStatus.RECEIVED
    assert event.raw_body == ""  # log_webhooks is off by default
    assert event.body_bytes == len(sample("update"))
    jobs = short_queue.get_jobs()
    assert [(j.func_name, j.args) for j in jobs] == [
        ("connectors.webhooks.jobs.process_webhook_event", (event.pk,))
    ]


def test_wrong_secret_and_unknown_connection_look_like_any_unknown_url(
    client, connection, short_queue
) -> None:
    unknown_url = post(client, "/hooks/nothing-here", sample("update"))
    good = intake(connection)
    wrong_secret = good[: -len(connection.webhook_secret)] + "A" * len(connection.webhook_secret)
    wrong_id = good.replace(f"/ac/{connection.pk}/", f"/ac/{connection.pk + 1000}/")
    for path in (wrong_secret, wrong_id, good + "x", good[:-1]):
        for method in ("POST", "GET"):
            response = client.generic(method, path, sample("update"), content_type=FORM)
            assert response.status_code == 404
            assert response.content == unknown_url.content
    assert WebhookEvent.objects.count() == 0
    assert short_queue.count == 0


def test_only_post(client, connection) -> None:
    assert client.get(intake(connection)).status_code == 405
    assert client.put(intake(connection), b"", content_type=FORM).status_code == 405
    assert WebhookEvent.objects.count() == 0


def test_ip_allowlist(client, connection, short_queue) -> None:
    connection.webhook_ip_allowlist = "203.0.113.0/24\n"
    connection.save()
    refused = post(client, intake(connection), sample("update"), REMOTE_ADDR="198.51.100.1")
    assert refused.status_code == 403
    assert refused.json() == {"error": "address not allowed"}
    # A forged proxy header counts for nothing while no proxy header is trusted.
    forged = post(
        client,
        intake(connection),
        sample("update"),
        REMOTE_ADDR="198.51.100.1",
        HTTP_X_FORWARDED_FOR="203.0.113.5",
    )
    assert forged.status_code == 403
    assert WebhookEvent.objects.count() == 0
    assert post(client, intake(connection), sample("update"), REMOTE_ADDR="203.0.113.44").status_code == 200
    assert WebhookEvent.objects.get().remote_addr == "203.0.113.44"


@override_settings(TAJO_WEBHOOK_TRUSTED_PROXY_HEADER="X-Forwarded-For")
def test_allowlist_behind_a_trusted_proxy(client, connection, short_queue) -> None:
    connection.webhook_ip_allowlist = "203.0.113.0/24"
    connection.save()
    via_proxy = post(
        client,
        intake(connection),
        sample("update"),
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.5",
    )
    assert via_proxy.status_code == 200
    assert WebhookEvent.objects.get().remote_addr == "203.0.113.5"
    # The caller can prepend anything; only the proxy's own (right-most) entry counts.
    spoofed = post(
        client,
        intake(connection),
        sample("subscribe"),
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="203.0.113.5, 6.6.6.6",
    )
    assert spoofed.status_code == 403


@override_settings(TAJO_WEBHOOK_MAX_BODY=1024)
def test_oversize_body_is_413_and_recorded_without_the_body(client, connection, short_queue) -> None:
    connection.log_webhooks = True
    connection.save()
    big = sample("update") + b"&contact%5Bfields%5D%5B9%5D=" + b"x" * 2000
    response = post(client, intake(connection), big)
    assert response.status_code == 413
    assert "over the 1024-byte limit" in response.json()["error"]
    event = WebhookEvent.objects.get()
    assert event.status == WebhookStatus.REJECTED
    assert event.body_bytes == len(big) and event.raw_body == ""
    assert short_queue.count == 0
    # Just under the limit is fine.
    assert post(client, intake(connection), sample("update")).status_code == 200


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"type=update&contact%5Bid%5D=2381&contact%5Bem", "truncated"),
        (b"\xff\xfe\xfd", "not UTF-8"),
        (b"type=contact_deleted&contact%5Bid%5D=1", "unknown event type"),
        (b"type=update&contact%5Bemail%5D=a%40b.org", "contact[id]: missing"),
    ],
)
def test_malformed_body_is_400_and_stored_as_rejected_with_the_reason(
    client, connection, short_queue, body: bytes, reason: str
) -> None:
    connection.log_webhooks = True
    connection.save()
    response = post(client, intake(connection), body)
    assert response.status_code == 400
    assert reason in response.json()["error"]
    event = WebhookEvent.objects.get()
    assert event.status == WebhookStatus.REJECTED and reason in event.error
    assert event.raw_body  # kept (cut) because log_webhooks is on
    assert short_queue.count == 0


def test_wrong_content_type_is_415(client, connection, short_queue) -> None:
    response = post(client, intake(connection), b'{"type": "update"}', content_type="application/json")
    assert response.status_code == 415
    assert WebhookEvent.objects.get().status == WebhookStatus.REJECTED
    # A charset parameter on the right type is fine.
    ok = post(client, intake(connection), sample("update"), content_type=FORM + "; charset=utf-8")
    assert ok.status_code == 200


def test_redelivery_is_a_duplicate_and_queued_once(client, connection, short_queue) -> None:
    first = post(client, intake(connection), sample("update"))
    pairs = sample("update").decode().strip().split("&")
    reordered = "&".join(reversed(pairs)).encode()
    second = post(client, intake(connection), sample("update"))
    third = post(client, intake(connection), reordered)
    assert [r.status_code for r in (first, second, third)] == [200, 200, 200]
    assert [r.json()["status"] for r in (first, second, third)] == ["received", "duplicate", "duplicate"]
    original = WebhookEvent.objects.get(status=WebhookStatus.RECEIVED)
    duplicates = WebhookEvent.objects.filter(status=WebhookStatus.DUPLICATE)
    assert duplicates.count() == 2
    assert {d.duplicate_of_id for d in duplicates} == {original.pk}
    assert all(d.dedup_key is None and d.payload is None for d in duplicates)
    assert short_queue.count == 1
    # The same body on another connection is its own event.
    from tests.factories import ConnectionFactory

    other = ConnectionFactory(tenant=connection.tenant)
    assert post(client, intake(other), sample("update")).json()["status"] == "received"


def test_raw_body_only_with_log_webhooks_and_never_secrets(client, connection, short_queue) -> None:
    register_secret("sk-live-known-secret-0042")
    body = urlencode(
        [
            ("type", "update"),
            ("contact[id]", "5"),
            ("contact[email]", "a@example.org"),
            ("contact[fields][api_key]", "abc123def456"),
            ("contact[fields][4]", "note sk-live-known-secret-0042"),
            ("token", "tok-999999"),
        ]
    ).encode()
    post(client, intake(connection), body)
    quiet = WebhookEvent.objects.get()
    assert quiet.raw_body == ""
    # One convention: `****` and the last 4 characters, only `****` for a short value.
    assert quiet.payload["contact"]["fields"]["api_key"] == "****f456"
    assert quiet.payload["token"] == "****"
    assert "sk-live-known-secret-0042" not in str(quiet.payload)

    connection.log_webhooks = True
    connection.save()
    post(client, intake(connection), body.replace(b"contact%5Bid%5D=5", b"contact%5Bid%5D=6"))
    logged = WebhookEvent.objects.exclude(pk=quiet.pk).get()
    assert "contact%5Bemail%5D=a%40example.org" in logged.raw_body
    for secret in ("abc123def456", "tok-999999", "sk-live-known-secret-0042"):
        assert secret not in logged.raw_body
        assert secret not in str(logged.payload)


def test_events_not_synced_are_answered_and_ignored(client, connection, short_queue) -> None:
    assert post(client, intake(connection), sample("open")).json()["status"] == "ignored"
    connection.sync_deals = False
    connection.save()
    assert post(client, intake(connection), sample("deal_update")).json()["status"] == "ignored"
    connection.enabled = False
    connection.save()
    assert post(client, intake(connection), sample("update")).json()["status"] == "ignored"
    reasons = list(WebhookEvent.objects.order_by("pk").values_list("error", flat=True))
    assert reasons == [
        "open events are not synced",
        "deals do not sync on this connection",
        "the connection is disabled",
    ]
    assert short_queue.count == 0


def test_rotated_secret_retires_the_old_url(client, connection, short_queue) -> None:
    old = intake(connection)
    connection, moved = services.webhook_secret_rotate(connection=connection)
    assert moved == 0
    assert post(client, old, sample("update")).status_code == 404
    assert post(client, intake(connection), sample("update")).status_code == 200
    assert Connection.objects.get(pk=connection.pk).webhook_secret == connection.webhook_secret


def test_stored_even_when_the_queue_is_down(client, connection, redis_conn) -> None:
    services._queues.clear()
    with override_settings(RQ_QUEUES={**_queues(), queues.SHORT_QUEUE: {"URL": "redis://127.0.0.1:1/0"}}):
        import django_rq.settings as rq_settings

        saved = dict(rq_settings.QUEUES)
        rq_settings.QUEUES[queues.SHORT_QUEUE] = {"URL": "redis://127.0.0.1:1/0", "DEFAULT_TIMEOUT": 120}
        try:
            response = post(client, intake(connection), sample("update"))
        finally:
            rq_settings.QUEUES.clear()
            rq_settings.QUEUES.update(saved)
            services._queues.clear()
    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert event.status == WebhookStatus.RECEIVED
    assert "not queued" in event.error


def _queues() -> dict:
    from django.conf import settings

    return dict(settings.RQ_QUEUES)


@override_settings(TAJO_WEBHOOK_UNSTORED_PER_MINUTE=40, TAJO_WEBHOOK_MAX_BODY=4096)
def test_flood_of_ten_thousand_junk_requests(connection, short_queue) -> None:
    """10,000 junk requests: clear answers, nothing processed, storage bounded, no crash."""
    client = Client()
    good = intake(connection)
    wrong = good[: -len(connection.webhook_secret)] + "B" * len(connection.webhook_secret)
    kinds = {
        "wrong secret": (wrong, lambda i: f"type=update&contact%5Bid%5D={i}".encode(), 404),
        "unknown connection": (f"/hooks/ac/{connection.pk + 7}/{'C' * 43}", lambda i: b"junk", 404),
        "malformed": (good, lambda i: f"junk-{i}-{'z' * (i % 50)}".encode(), 400),
        "unknown type": (good, lambda i: f"type=evil{i}&contact%5Bid%5D=1".encode(), 400),
        "oversize": (good, lambda i: b"a=" + b"x" * 5000, 413),
        "replay": (good, lambda i: sample("update"), 200),
    }
    post(client, good, sample("update"))  # the one real event, replayed below
    statuses: dict[str, set[int]] = {name: set() for name in kinds}
    started = time.monotonic()
    names = list(kinds)
    for i in range(10_000):
        name = names[i % len(names)]
        path, body, _ = kinds[name]
        statuses[name].add(post(client, path, body(i)).status_code)
    elapsed = time.monotonic() - started
    assert statuses == {name: {expected} for name, (_, _, expected) in kinds.items()}
    # Unauthenticated junk left nothing; authenticated junk is capped per connection and minute.
    assert WebhookEvent.objects.filter(status=WebhookStatus.RECEIVED).count() == 1
    stored_junk = WebhookEvent.objects.filter(
        status__in=[WebhookStatus.REJECTED, WebhookStatus.DUPLICATE]
    ).count()
    assert stored_junk <= 40 * 2  # the cap, even if the run straddles a minute boundary
    assert short_queue.count == 1  # only the real event was ever queued
    assert elapsed < 45, f"flood took {elapsed:.1f}s"  # ~1 ms a request; far slower means real work per junk


def test_the_secret_in_the_url_never_reaches_the_logs(client, connection, short_queue, caplog) -> None:
    caplog.set_level("WARNING", logger="django.request")
    assert client.get(intake(connection)).status_code == 405
    assert post(client, intake(connection), b"junk").status_code == 400
    assert "Method Not Allowed" in caplog.text and "Bad Request" in caplog.text
    assert connection.webhook_secret not in caplog.text
    assert "****" + connection.webhook_secret[-4:] in caplog.text
