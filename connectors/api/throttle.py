"""Per-token request budget, counted in Redis so every web process shares it.

A fixed window (INCR + EXPIRE) is enough here: the point is to stop a runaway client, and the
answer tells it exactly how long to wait (`Retry-After`).
"""

from __future__ import annotations

import logging
import math
import time
from functools import lru_cache

import redis
from django.conf import settings
from django.http import HttpRequest
from ninja.throttling import BaseThrottle

from connectors import queues

logger = logging.getLogger(__name__)

@lru_cache(maxsize=4)
def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)


def budget() -> tuple[int, int]:
    """(requests, window seconds) from settings; read per request so tests and operators can change it."""
    return max(settings.TAJO_API_RATE_LIMIT, 1), max(settings.TAJO_API_RATE_WINDOW_SECONDS, 1)


class TokenThrottle(BaseThrottle):
    """Runs after authentication; a request without a token never gets this far."""

    def allow_request(self, request: HttpRequest) -> bool:
        token = getattr(request, "auth", None)
        if token is None:
            return True
        limit, window = budget()
        now = time.time()
        window_start = int(now // window) * window
        key = f"tajo:api:rate:{token.pk}:{window}:{window_start}"
        try:
            pipe = _redis(queues.redis_url()).pipeline()
            pipe.incr(key)
            pipe.expire(key, window + 1)
            count = int(pipe.execute()[0])
        except redis.RedisError:
            # Fail open: an unreachable Redis must not take the API down; the outage is logged.
            logger.warning("API rate limit not enforced: Redis is unreachable")
            return True
        if count <= limit:
            return True
        request._tajo_retry_after = max(1, math.ceil(window_start + window - now))  # type: ignore[attr-defined]
        return False

    def wait(self) -> float | None:
        # Ninja asks `wait()` without the request, and one throttle serves every thread: the wait is
        # kept on the request instead and the 429 handler sets `Retry-After` from it.
        return None
