"""Job functions the queue tests enqueue by dotted path (importable by worker processes)."""

from __future__ import annotations

import os
import time

import redis

ORDER_KEY = "tajo:test:order"


def note(label: str, seconds: float = 0.0) -> str:
    """Append `label` to a Redis list, so a test can read the order jobs ran in."""
    if seconds:
        time.sleep(seconds)
    redis.Redis.from_url(os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0").rpush(ORDER_KEY, label)
    return label
