"""The in-process rate limiter: windows, fractional and hourly rates, pauses, keys."""

from __future__ import annotations

import threading
import time

import pytest

from connectors.providers.http.ratelimit import (
    MemoryRateLimiter,
    Window,
    get_limiter,
    limiter_key,
    windows_for,
)


def max_in_any_window(stamps: list[float], seconds: float) -> int:
    stamps = sorted(stamps)
    best, start = 0, 0
    for end, stamp in enumerate(stamps):
        while stamp - stamps[start] >= seconds:
            start += 1
        best = max(best, end - start + 1)
    return best


@pytest.mark.parametrize(
    ("rate", "per_hour", "expected"),
    [
        (5, None, (Window(5, 1.0),)),
        (0.5, None, (Window(1, 2.0),)),
        (2.5, None, (Window(2, 0.8),)),
        (None, 100, (Window(100, 3600.0),)),
        (10, 36000, (Window(10, 1.0), Window(36000, 3600.0))),
        (0, None, ()),
        (None, None, ()),
    ],
)
def test_rates_become_windows(rate, per_hour, expected):
    assert windows_for(rate, per_hour) == expected


def test_negative_rates_are_refused():
    with pytest.raises(ValueError):
        windows_for(-1)


def test_limiter_key_is_stable_and_does_not_contain_the_url():
    key = limiter_key("activecampaign", "https://Acme.api-us1.com/")
    assert key == limiter_key("activecampaign", "https://acme.api-us1.com")
    assert "acme" not in key and key.startswith("tajo:ratelimit:activecampaign:")
    assert key != limiter_key("activecampaign", "https://other.api-us1.com")


def test_unlimited_limiter_never_waits():
    limiter = get_limiter("tests:none", None)
    assert limiter.unlimited
    assert all(limiter.try_acquire() == 0.0 for _ in range(1000))


def test_window_allows_its_limit_then_says_how_long_to_wait():
    limiter = MemoryRateLimiter("tests:w", [Window(3, 1.0)], margin=0.0)
    assert [limiter.try_acquire() for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.try_acquire()
    assert 0.9 < wait <= 1.0


def test_acquire_keeps_threads_at_or_under_the_rate():
    limiter = MemoryRateLimiter("tests:threads", [Window(10, 0.5)], margin=0.01)
    stamps: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(8):
            limiter.acquire()
            with lock:
                stamps.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(4)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(stamps) == 32
    assert max_in_any_window(stamps, 0.5) <= 10
    # 32 requests at 10 per 0.5 s need at least three full windows: not much slower than that.
    assert 1.5 <= time.monotonic() - start < 2.5


def test_pause_holds_everyone_back():
    limiter = MemoryRateLimiter("tests:pause", [Window(100, 1.0)])
    limiter.pause(0.3)
    assert 0.25 < limiter.try_acquire() <= 0.3
    started = time.monotonic()
    limiter.acquire()
    assert time.monotonic() - started >= 0.25


def test_hourly_budget_blocks_after_its_amount():
    limiter = get_limiter("tests:hourly", None, per_hour=3)
    assert [limiter.try_acquire() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.try_acquire() > 3500


def test_get_limiter_shares_one_instance_per_key_and_rate():
    assert get_limiter("tests:shared", 5) is get_limiter("tests:shared", 5)
    assert get_limiter("tests:shared", 5) is not get_limiter("tests:shared", 10)


def test_a_slow_answer_widens_the_margin_while_its_request_is_in_the_window():
    """A request that took long may have reached the provider late: the next slots of its window
    wait longer, up to the cap; once it has left the window (5 newer answers), the margin shrinks."""
    from connectors.providers.http.ratelimit import MAX_MARGIN

    limiter = MemoryRateLimiter("tests:latency", [Window(5, 1.0)], margin=0.01)
    assert limiter.margin == pytest.approx(0.01)
    limiter.note_latency(0.004)
    assert limiter.margin == pytest.approx(0.014)
    limiter.note_latency(0.3)
    assert limiter.margin == pytest.approx(0.31)
    assert [limiter.try_acquire() for _ in range(5)] == [0.0] * 5
    assert 1.25 < limiter.try_acquire() <= 1.31  # the window plus the widened margin
    limiter.note_latency(5.0)
    assert limiter.margin == MAX_MARGIN
    for _ in range(4):
        limiter.note_latency(0.002)
    assert limiter.margin == MAX_MARGIN  # the slow one is still among the window's 5
    limiter.note_latency(0.002)
    assert limiter.margin == pytest.approx(0.012)
    limiter.note_latency(float("nan"))  # unusable measures are ignored
    assert limiter.margin == pytest.approx(0.012)
