"""`peek()` on the Redis limiter: the same wait every process would see, and no slot taken."""

from __future__ import annotations

import uuid

from connectors.providers.http.ratelimit import RedisRateLimiter, Window


def test_redis_peek_takes_no_slot_and_is_shared(redis_url, redis_conn) -> None:
    key = f"tests:ratelimit:peek:{uuid.uuid4().hex}"
    one = RedisRateLimiter(key, [Window(2, 60)], redis_client=redis_conn)
    other = RedisRateLimiter(key, [Window(2, 60)], redis_client=redis_conn)
    assert one.peek() == 0.0 and other.peek() == 0.0
    assert one.try_acquire() == 0.0
    assert other.peek() == 0.0, "one slot is still free"
    assert other.try_acquire() == 0.0
    assert 59 < one.peek() <= 60.1
    assert 59 < other.peek() <= 60.1
    other.pause(120)
    assert 119 < one.peek() <= 120.1
