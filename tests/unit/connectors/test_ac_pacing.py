"""AC pacing by the account's own limit: RateLimit-Limit followed, never exceeded; event tracking paced."""

from __future__ import annotations

import httpx
import pytest

from connectors.exceptions import RateLimited
from connectors.models import PLAN_RATES
from connectors.providers.activecampaign import ActiveCampaignClient
from connectors.providers.http.ratelimit import FollowingLimiter, get_limiter, parse_limit_header
from connectors.providers.http.retry import RetryPolicy

BASE = "https://acme.api-us1.com"


@pytest.mark.parametrize(
    ("header", "rate"),
    [("5", 5.0), (" 3 ", 3.0), ("10;w=2", 5.0), ("5, 100;w=60", 5.0), ("", None), ("x", None), ("0", None)],
)
def test_limit_header_forms(header, rate):
    assert parse_limit_header(header) == rate


def test_every_plan_paces_at_five():
    assert set(PLAN_RATES.values()) == {5.0}


def test_following_limiter_never_goes_above_the_announced_limit_nor_the_setting():
    limiter = FollowingLimiter("tests:pacing:follow", 10.0)
    assert limiter.rate == 10.0
    limiter.observe("5")
    assert limiter.rate == 5.0
    assert limiter.limiter.windows[0].limit == 5
    limiter.observe("20")  # AC raised the account: the operator's setting still caps it
    assert limiter.rate == 10.0
    limiter.observe(None)
    limiter.observe("junk")
    assert limiter.rate == 10.0
    limiter.observe("2")
    assert limiter.rate == 2.0


class Recorder:
    """A limiter that counts what it is asked for."""

    def __init__(self) -> None:
        self.acquired = 0
        self.paused: list[float] = []

    def acquire(self) -> float:
        self.acquired += 1
        return 0.0

    def pause(self, seconds: float) -> None:
        self.paused.append(seconds)


def _client(handler, **kwargs) -> ActiveCampaignClient:
    return ActiveCampaignClient(
        api_url=BASE, api_key="k" * 40, transport=httpx.MockTransport(handler), **kwargs
    )


def test_client_follows_the_header_of_every_answer():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"user": {"id": "1"}}, headers={"RateLimit-Limit": "3"})

    limiter = FollowingLimiter("tests:pacing:client", 5.0)
    with _client(handler, limiter=limiter) as client:
        assert client.pace == 5.0
        client.get_me()
        assert client.pace == 3.0


def test_event_tracking_reads_also_wait_for_the_event_budget():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/trackingLogs"):
            return httpx.Response(200, json={"trackingLogs": []})
        if request.url.path.endswith("/eventTracking"):
            return httpx.Response(200, json={"eventTracking": {"enabled": True}})
        return httpx.Response(200, json={"user": {"id": "1"}})

    account, events = Recorder(), Recorder()
    with _client(handler, limiter=account, event_limiter=events) as client:
        client.get_me()
        client.list_contact_tracking_logs(7)
        client.get_event_tracking()
    assert (account.acquired, events.acquired) == (3, 2)


def test_default_event_budget_is_two_a_second():
    with _client(lambda r: httpx.Response(200, json={})) as client:
        windows = client._event_limiter.windows
    assert windows[0].limit / windows[0].seconds == 2.0


def test_retry_after_30_is_waited_for_and_the_call_succeeds():
    answers = iter(
        [
            httpx.Response(429, json={"message": "slow down"}, headers={"Retry-After": "30"}),
            httpx.Response(200, json={"user": {"id": "1"}}),
        ]
    )
    slept: list[float] = []
    limiter = Recorder()
    retry = RetryPolicy(sleep=slept.append)
    with _client(lambda r: next(answers), limiter=limiter, retry=retry) as client:
        assert client.get_me().id == 1
    assert limiter.paused == [30.0]  # every worker of the account backs off, not only this one
    assert len(slept) == 1 and 30.0 <= slept[0] < 31.5


def test_a_retry_after_longer_than_a_slice_waits_ends_with_the_wait_to_honour():
    slept: list[float] = []
    retry = RetryPolicy(sleep=slept.append)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, json={}, headers={"Retry-After": "600"})

    client = _client(handler, limiter=get_limiter("tests:pacing:none", None), retry=retry)
    with client, pytest.raises(RateLimited) as caught:
        client.get_me()
    assert slept == [] and caught.value.retry_after == 600.0


def test_a_new_limit_keeps_the_measured_round_trip():
    limiter = FollowingLimiter("tests:pacing:round-trip", 10.0)
    limiter.note_round_trip(0.02)
    limiter.observe("5")
    assert limiter.rate == 5
    assert limiter.round_trip == pytest.approx(0.02)
