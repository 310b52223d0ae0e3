"""Planning around provider budgets without waiting: limiter peeks and the pure pacing helpers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from connectors.exceptions import ValidationFailed
from connectors.providers.http.ratelimit import MemoryRateLimiter, Window, windows_for
from connectors.sync.automations import changed_since
from connectors.sync.deals import hourly_budget
from connectors.sync.ecommerce import _named_order


def test_peek_reports_the_wait_without_taking_a_slot() -> None:
    limiter = MemoryRateLimiter("peek", [Window(2, 60)])
    assert limiter.peek() == 0.0
    assert limiter.peek() == 0.0  # peeking twice took nothing
    assert [limiter.try_acquire(), limiter.try_acquire()] == [0.0, 0.0]
    wait = limiter.peek()
    assert 59 < wait <= 60.1
    assert 0 < limiter.peek() <= wait  # still not taken


def test_peek_sees_a_pause_after_a_429() -> None:
    limiter = MemoryRateLimiter("pause", [Window(10, 1)])
    limiter.pause(30)
    assert 29 < limiter.peek() <= 30


def test_unlimited_limiter_never_waits() -> None:
    assert MemoryRateLimiter("free", []).peek() == 0.0


def test_hourly_budget_is_the_tightest_window() -> None:
    assert hourly_budget(MemoryRateLimiter("other", windows_for(None, per_hour=100))) == 100
    assert hourly_budget(MemoryRateLimiter("contacts", windows_for(10, per_hour=36_000))) == 36_000
    assert hourly_budget(MemoryRateLimiter("orders", windows_for(5, None))) == 18_000
    assert hourly_budget(None) is None
    assert hourly_budget(MemoryRateLimiter("free", [])) is None


def test_changed_since() -> None:
    since = datetime(2025, 1, 1, tzinfo=UTC)
    assert changed_since([since - timedelta(days=1)], None)
    assert not changed_since([since - timedelta(seconds=1), None], since)
    assert changed_since([since - timedelta(days=9), since], since)
    assert changed_since([None, None], since), "unknown times must not hide a change"
    assert changed_since([datetime(2020, 1, 1)], since), "naive AC times cannot be compared: count them"


def test_named_order_in_a_refused_batch() -> None:
    exc = ValidationFailed("orders[3].products[0].price is mandatory and must be a number", status=400)
    assert _named_order(exc, 10) == 3
    assert _named_order(exc, 3) is None, "an index outside the batch is not trusted"
    assert _named_order(ValidationFailed("Bad request", status=400), 10) is None
    detailed = ValidationFailed("invalid", status=400, details=[{"message": "orders[7].id must be a string"}])
    assert _named_order(detailed, 10) == 7
