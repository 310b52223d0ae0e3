"""Hand-built ActiveCampaign responses behind httpx.MockTransport, for client unit tests."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from connectors.providers.activecampaign import ActiveCampaignClient
from connectors.providers.http.ratelimit import get_limiter
from connectors.providers.http.retry import RetryPolicy

API_URL = "https://acme.api-us1.com"
API_KEY = "0123456789abcdef" * 4 + "fedcba98"  # 72 characters, like an AC key


class Recorder:
    """Records the requests a handler saw and the sleeps a retry policy asked for."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def make_client(
    handler: Callable[[httpx.Request], httpx.Response],
    *,
    recorder: Recorder | None = None,
    retry: RetryPolicy | None = None,
    page_size: int = 100,
) -> ActiveCampaignClient:
    recorder = recorder or Recorder()

    def recording(request: httpx.Request) -> httpx.Response:
        recorder.requests.append(request)
        return handler(request)

    return ActiveCampaignClient(
        api_url=API_URL,
        api_key=API_KEY,
        transport=httpx.MockTransport(recording),
        limiter=get_limiter("tests:unlimited", None),
        retry=retry or RetryPolicy(sleep=recorder.sleep),
        page_size=page_size,
    )


def contact_row(contact_id: int | str, **extra: object) -> dict:
    row = {
        "id": str(contact_id),
        "email": f"person{contact_id}@example.org",
        "firstName": "Ann",
        "lastName": "Lee",
        "phone": "",
        "cdate": "2023-03-14T09:21:07-05:00",
        "udate": "2023-06-02T11:40:55-05:00",
        "deleted": "0",
        "bounced_hard": "0",
        "bounced_soft": "0",
        "links": {},
    }
    row.update(extra)
    return row
