"""`send`: retries, waits and give-ups, measured on MockTransport with a fake and a real clock."""

from __future__ import annotations

import time

import httpx
import pytest

from connectors.exceptions import (
    AuthError,
    NotFoundError,
    PaymentRequired,
    RateLimited,
    ServerError,
    TransportError,
)
from connectors.providers.activecampaign.errors import ActiveCampaignErrors
from connectors.providers.http import ratelimit
from connectors.providers.http.errors import ErrorClassifier
from connectors.providers.http.factory import build_client
from connectors.providers.http.ratelimit import CAUTIOUS_SECONDS, MemoryRateLimiter, Window
from connectors.providers.http.retry import RetryPolicy, lateness, send


class Script:
    """Answers requests from a list of responses/exceptions; records when each request came."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.times: list[float] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.times.append(time.monotonic())
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


class FakeSleep:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def client_for(script: Script) -> httpx.Client:
    return build_client(
        base_url="https://acme.api-us1.com/api/3", headers={}, transport=httpx.MockTransport(script)
    )


def ok() -> httpx.Response:
    return httpx.Response(200, json={"ok": True})


def call(script: Script, policy: RetryPolicy, *, method: str = "GET", classify=None, limiter=None, **kw):
    return send(
        client_for(script),
        method,
        "/things",
        limiter=limiter,
        classify=classify or ActiveCampaignErrors(),
        retry=policy,
        **kw,
    )


def test_429_waits_what_retry_after_says_fake_clock():
    sleep = FakeSleep()
    script = Script(httpx.Response(429, headers={"Retry-After": "7"}), ok())
    response = call(script, RetryPolicy(sleep=sleep, jitter=0.2))
    assert response.status_code == 200
    assert len(sleep.calls) == 1
    assert 7.0 <= sleep.calls[0] <= 7.0 + 0.2 + 0.05


def test_429_waits_what_retry_after_says_real_clock():
    script = Script(httpx.Response(429, headers={"Retry-After": "1"}), ok())
    call(script, RetryPolicy(jitter=0.0))
    gap = script.times[1] - script.times[0]
    assert 1.0 <= gap < 1.5


def test_the_wait_hook_is_generic_brevo_style_reset_header():
    class ResetHeader(ErrorClassifier):
        provider = "Brevo"
        retry_after_header = "x-sib-ratelimit-reset"

    sleep = FakeSleep()
    script = Script(httpx.Response(429, headers={"x-sib-ratelimit-reset": "12"}), ok())
    call(script, RetryPolicy(sleep=sleep, jitter=0.0), classify=ResetHeader())
    assert 12.0 <= sleep.calls[0] <= 12.05


class RecordingLimiter:
    def __init__(self) -> None:
        self.acquired = 0
        self.pauses: list[float] = []

    def acquire(self) -> float:
        self.acquired += 1
        return 0.0

    def pause(self, seconds: float) -> None:
        self.pauses.append(seconds)


def test_429_pauses_the_shared_limiter_so_other_callers_back_off():
    limiter = RecordingLimiter()
    script = Script(httpx.Response(429, headers={"Retry-After": "30"}), ok())
    call(script, RetryPolicy(sleep=FakeSleep()), limiter=limiter)
    assert limiter.pauses == [30.0]
    assert limiter.acquired == 2


def test_5xx_then_success_backs_off_exponentially():
    sleep = FakeSleep()
    script = Script(httpx.Response(500), httpx.Response(502), httpx.Response(503), ok())
    response = call(script, RetryPolicy(sleep=sleep, backoff_initial=0.5, jitter=0.0))
    assert response.status_code == 200
    assert sleep.calls == [0.5, 1.0, 2.0]


def test_backoff_has_jitter():
    sleep = FakeSleep()
    call(Script(httpx.Response(500), httpx.Response(500), ok()), RetryPolicy(sleep=sleep, jitter=0.5))
    assert 0.5 <= sleep.calls[0] <= 0.75 and 1.0 <= sleep.calls[1] <= 1.5


def test_5xx_forever_gives_up_with_server_error_after_max_attempts():
    sleep = FakeSleep()
    script = Script(httpx.Response(503, json={"message": "maintenance"}))
    with pytest.raises(ServerError) as caught:
        call(script, RetryPolicy(max_attempts=4, sleep=sleep))
    assert len(script.times) == 4 and len(sleep.calls) == 3
    assert caught.value.status == 503 and "maintenance" in caught.value.operator_message


def test_total_wait_is_bounded():
    sleep = FakeSleep()
    script = Script(httpx.Response(429, headers={"Retry-After": "20"}))
    with pytest.raises(RateLimited) as caught:
        call(script, RetryPolicy(max_attempts=10, max_total_wait=50, sleep=sleep))
    assert sum(sleep.calls) <= 50
    assert len(script.times) == 3  # 20 s + 20 s fit, a third wait would not
    assert caught.value.retry_after == 20


@pytest.mark.parametrize(
    ("status", "cls"),
    [(401, AuthError), (402, PaymentRequired), (404, NotFoundError)],
)
def test_client_errors_fail_fast(status, cls):
    sleep = FakeSleep()
    script = Script(httpx.Response(status, json={"message": "no"}))
    with pytest.raises(cls):
        call(script, RetryPolicy(sleep=sleep))
    assert len(script.times) == 1 and sleep.calls == []


def test_timeouts_and_dropped_connections_are_retried():
    sleep = FakeSleep()
    script = Script(httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("peer closed"), ok())
    assert call(script, RetryPolicy(sleep=sleep)).status_code == 200
    assert len(script.times) == 3


def test_transport_failure_forever_becomes_transport_error():
    script = Script(httpx.ConnectError("refused"))
    with pytest.raises(TransportError) as caught:
        call(script, RetryPolicy(max_attempts=3, sleep=FakeSleep()))
    assert len(script.times) == 3
    assert caught.value.status is None
    assert "could not be reached" in caught.value.operator_message
    assert caught.value.url == "https://acme.api-us1.com/api/3/things"


def test_post_is_not_repeated_after_a_failure_that_may_have_been_applied():
    script = Script(httpx.Response(500), ok())
    with pytest.raises(ServerError):
        call(script, RetryPolicy(sleep=FakeSleep()), method="POST", json={})
    assert len(script.times) == 1
    script = Script(httpx.ReadTimeout("slow"), ok())
    with pytest.raises(TransportError):
        call(script, RetryPolicy(sleep=FakeSleep()), method="POST", json={})
    assert len(script.times) == 1


def test_post_is_repeated_when_the_provider_cannot_have_acted():
    for first in (
        httpx.Response(429, headers={"Retry-After": "0"}),
        httpx.Response(503),
        httpx.ConnectError("x"),
    ):
        script = Script(first, ok())
        assert call(script, RetryPolicy(sleep=FakeSleep()), method="POST", json={}).status_code == 200
        assert len(script.times) == 2


def test_idempotent_post_is_repeated_like_a_get():
    script = Script(httpx.Response(500), ok())
    assert (
        call(script, RetryPolicy(sleep=FakeSleep()), method="POST", idempotent=True, json={}).status_code
        == 200
    )


def test_limiter_is_acquired_for_every_attempt():
    limiter = RecordingLimiter()
    call(
        Script(httpx.Response(500), httpx.Response(500), ok()),
        RetryPolicy(sleep=FakeSleep()),
        limiter=limiter,
    )
    assert limiter.acquired == 3 and limiter.pauses == []


# -- lateness: what widens the limiter's margin ---------------------------------------------


class Learner:
    """A limiter-like object that records what `send` teaches it."""

    def __init__(self, round_trip: float | None = None, cautious: bool = False) -> None:
        self.round_trip, self.cautious = round_trip, cautious
        self.latencies: list[float] = []

    def note_latency(self, seconds: float) -> None:
        self.latencies.append(seconds)

    def note_round_trip(self, seconds: float) -> None:
        self.round_trip = seconds


def test_lateness_is_the_send_delay_plus_the_round_trip_not_the_answer_time():
    marks = {"send_request_body.complete": 10.004}
    assert lateness(10.0, 10.9, marks, Learner(round_trip=0.02)) == pytest.approx(0.024)


def test_a_handshake_measures_the_round_trip_and_counts_as_sending_delay():
    learner = Learner()
    marks = {
        "connect_tcp.started": 10.001,
        "connect_tcp.complete": 10.031,
        "send_request_body.complete": 10.032,
    }
    assert lateness(10.0, 10.5, marks, learner) == pytest.approx(0.032 + 0.030)
    assert learner.round_trip == pytest.approx(0.030)


@pytest.mark.parametrize(
    ("marks", "learner"),
    [
        ({}, Learner(round_trip=0.02)),  # a transport that emits no trace events
        ({"send_request_body.complete": 10.004}, Learner()),  # no handshake seen yet
        ({"send_request_body.complete": 10.004}, Learner(round_trip=0.02, cautious=True)),  # a 429 seen
    ],
)
def test_without_measures_or_after_a_refusal_the_whole_answer_time_bounds_it(marks, learner):
    assert lateness(10.0, 10.9, marks, learner) == pytest.approx(0.9)


def test_a_429_makes_the_limiter_cautious_for_a_while(monkeypatch):
    limiter = MemoryRateLimiter("tests:retry:cautious", [Window(5, 1.0)])
    assert not limiter.cautious
    limiter.pause(0.01)
    assert limiter.cautious
    later = time.monotonic() + CAUTIOUS_SECONDS + 1
    monkeypatch.setattr(ratelimit.time, "monotonic", lambda: later)
    assert not limiter.cautious  # a long-running worker tries the wire measure again


def test_a_read_response_is_freed_as_soon_as_it_is_dropped():
    """No reference cycle keeps a body alive until the next full garbage collection."""
    import gc
    import weakref

    response = call(Script(httpx.Response(200, content=b"x" * 100_000)), RetryPolicy())
    assert len(response.content) == 100_000
    alive = weakref.ref(response)
    gc.disable()
    try:
        del response
        assert alive() is None
    finally:
        gc.enable()
