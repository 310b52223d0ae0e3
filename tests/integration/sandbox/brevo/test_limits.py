"""The Brevo simulator's authentication answers and rate-limit buckets (reference §1.3-1.4)."""

from __future__ import annotations

import pytest

from sandbox.brevo import BrevoLimits, BrevoSimulator
from tests.integration.sandbox.brevo.helpers import KEY, FakeClock, make, order

# ---------------------------------------------------------------- auth and rate limits


def test_auth_bodies(api):
    sim, client = api
    missing = client.get("/account", headers={"api-key": ""})
    assert missing.status_code == 401
    assert missing.json() == {"message": "authentication not found in headers", "code": "unauthorized"}
    wrong = client.get("/account", headers={"api-key": "xkeysib-wrong"})
    assert wrong.status_code == 401 and wrong.json() == {"code": "unauthorized", "message": "Key not found"}
    sim.ip_blocked = True
    blocked = client.get("/account")
    assert blocked.status_code == 401 and "unrecognised IP address" in blocked.json()["message"]
    sim.ip_blocked = False
    ok = client.get("/account")
    assert ok.status_code == 200 and ok.json()["email"]


def test_per_second_bucket_headers_and_429():
    clock = FakeClock()
    sim, client = make(limits={"contacts": (2, None)}, clock=clock)
    first = client.get("/contacts")
    assert first.headers["x-sib-ratelimit-limit"] == "2"
    assert first.headers["x-sib-ratelimit-remaining"] == "1"
    assert first.headers["x-sib-ratelimit-reset"] == "1"
    assert client.get("/contacts/attributes").headers["x-sib-ratelimit-remaining"] == "0"
    over = client.post("/contacts", json={"email": "a@example.org"})
    assert over.status_code == 429
    assert over.headers["x-sib-ratelimit-remaining"] == "0"
    assert set(over.json()) == {"code", "message"}
    assert sim.counts()["contacts"] == 0  # a refused request changes nothing
    # Other buckets are unaffected and, being unlimited here, carry no headers.
    other = client.get("/account")
    assert other.status_code == 200 and "x-sib-ratelimit-limit" not in other.headers
    clock.now += 1.0
    assert client.post("/contacts", json={"email": "a@example.org"}).status_code == 201


def test_hourly_bucket_reports_reset_in_seconds():
    clock = FakeClock()
    _, client = make(limits={"other": (None, 3)}, clock=clock)
    for remaining in ("2", "1", "0"):
        assert client.get("/account").headers["x-sib-ratelimit-remaining"] == remaining
    clock.now += 600
    over = client.get("/crm/pipeline/details/all")
    assert over.status_code == 429
    assert over.headers["x-sib-ratelimit-limit"] == "3"
    assert over.headers["x-sib-ratelimit-reset"] == "3000"
    # Contacts have their own bucket; /events (POST) and /orders/status too.
    assert client.get("/contacts").status_code == 200


def test_both_windows_apply_and_the_tighter_one_is_reported():
    clock = FakeClock()
    _, client = make(limits=BrevoLimits(events=(10, 4)), clock=clock)
    body = {"event_name": "ping", "identifiers": {"ext_id": "e1"}}
    statuses = []
    for _ in range(5):
        statuses.append(client.post("/events", json=body).status_code)
        clock.now += 1.1  # never more than one per second: only the hourly cap bites
    assert statuses == [204, 204, 204, 204, 429]


def test_limits_accept_the_sandbox_config_shapes():
    sim = BrevoSimulator(api_key=KEY, limits={"orders": {"per_second": 5, "per_hour": None}, "other": None})
    assert sim._limiters["orders"] is not None and sim._limiters["other"] is None
    with pytest.raises(ValueError, match="bucket"):
        BrevoSimulator(api_key=KEY, limits={"crm": (1, 1)})


def test_limits_from_the_sandbox_config_defaults():
    from sandbox.config import SandboxConfig

    clock = FakeClock()
    _, client = make(limits=SandboxConfig().brevo_limits, clock=clock)
    assert client.get("/contacts").headers["x-sib-ratelimit-limit"] == "10"
    assert client.get("/account").headers["x-sib-ratelimit-limit"] == "100"
    event = client.post("/events", json={"event_name": "x", "identifiers": {"ext_id": "1"}})
    assert event.headers["x-sib-ratelimit-limit"] == "10"
    order_response = client.post("/orders/status", json=order())
    assert order_response.status_code == 204 and order_response.headers["x-sib-ratelimit-limit"] == "5"
