"""The Redis-backed limiter keeps several real processes together at or under one rate."""

from __future__ import annotations

import multiprocessing
import time
import uuid

import pytest

from connectors.providers.http.ratelimit import RedisRateLimiter, Window, get_limiter
from tests.integration.connectors.ac_workers import acquire_many


def max_in_any_window(stamps: list[float], seconds: float) -> int:
    stamps = sorted(stamps)
    best, start = 0, 0
    for end, stamp in enumerate(stamps):
        while stamp - stamps[start] >= seconds:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_two_processes_share_one_rate(redis_url, redis_conn):
    key = f"tests:ratelimit:{uuid.uuid4().hex}"
    rate, per_process = 10, 12
    context = multiprocessing.get_context("spawn")
    start_at = time.time() + 1.5  # both children are up before either starts
    with context.Pool(2) as pool:
        results = pool.starmap(acquire_many, [(key, rate, redis_url, per_process, start_at)] * 2)
    stamps = [s for result in results for s in result]
    assert len(stamps) == 2 * per_process
    assert max_in_any_window(stamps, 1.0) <= rate
    # ...while still using the budget: 24 slots at 10/s take a little over two seconds.
    assert max(stamps) - min(stamps) < 3.5


def test_pause_in_one_limiter_holds_another_instance_back(redis_url, redis_conn):
    import redis

    key = f"tests:ratelimit:{uuid.uuid4().hex}"
    first = RedisRateLimiter(key, [Window(5, 1.0)], redis_client=redis.Redis.from_url(redis_url))
    second = RedisRateLimiter(key, [Window(5, 1.0)], redis_client=redis.Redis.from_url(redis_url))
    first.pause(0.5)
    assert 0.3 < second.try_acquire() <= 0.5


def test_windows_are_counted_together_across_instances(redis_url, redis_conn):
    limiter = get_limiter(f"tests:ratelimit:{uuid.uuid4().hex}", 3, redis_url=redis_url)
    assert isinstance(limiter, RedisRateLimiter)
    assert [limiter.try_acquire() for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.try_acquire()
    assert 0.9 < wait <= 1.06


def test_redis_outage_falls_back_to_pacing_this_process(caplog):
    import redis

    client = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    limiter = RedisRateLimiter("tests:ratelimit:down", [Window(2, 1.0)], redis_client=client)
    assert [limiter.try_acquire() for _ in range(2)] == [0.0, 0.0]
    assert limiter.try_acquire() > 0.5
    assert "cannot reach Redis" in caplog.text


@pytest.fixture(autouse=True)
def _no_stale_keys(redis_conn):
    yield
