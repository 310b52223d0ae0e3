"""Functions run in child processes by the rate-limit tests (kept light to import under spawn)."""

from __future__ import annotations

import time


def acquire_many(key: str, rate: float, redis_url: str, count: int, start_at: float) -> list[float]:
    """Wait for `start_at` (so processes start together), acquire `count` slots, return their times."""
    from connectors.providers.http.ratelimit import get_limiter

    limiter = get_limiter(key, rate, redis_url=redis_url)
    time.sleep(max(0.0, start_at - time.time()))
    stamps = []
    for _ in range(count):
        limiter.acquire()
        stamps.append(time.time())
    return stamps


def read_contacts(
    api_url: str, api_key: str, rate: float, redis_url: str, pages: int, start_at: float
) -> int:
    """Read `pages` contact pages through a client whose limiter is shared in Redis; return rows read."""
    from connectors.providers.activecampaign import ActiveCampaignClient
    from connectors.providers.http.ratelimit import get_limiter, limiter_key

    limiter = get_limiter(limiter_key("activecampaign", api_url), rate, redis_url=redis_url)
    rows = 0
    with ActiveCampaignClient(
        api_url=api_url, api_key=api_key, limiter=limiter, allow_private=True, page_size=10
    ) as client:
        time.sleep(max(0.0, start_at - time.time()))
        for _ in range(pages):
            rows += len(client.first_contacts(limit=10))
    return rows
