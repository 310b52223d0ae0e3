"""Sending one request: pace with a rate limiter, classify the reply, retry what is worth it.

Retries use tenacity, bounded in attempts and in total waiting; writes are repeated only when
the provider cannot have acted on them.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
import tenacity

from connectors.providers.http.errors import (
    ApiError,
    BadResponse,
    Classifier,
    ErrorClassifier,
    RateLimited,
    ServerError,
    TransportError,
)
from connectors.providers.http.masking import display_url

logger = logging.getLogger(__name__)


class Limiter(Protocol):
    """What `send` needs from a rate limiter (see `connectors.providers.http.ratelimit.RateLimiter`)."""

    def acquire(self) -> float: ...

    def pause(self, seconds: float) -> None: ...


@dataclass(frozen=True)
class RetryPolicy:
    """How `send` retries: bounded attempts and a bounded total wait.

    A server-requested wait (Retry-After, Brevo's reset header) is honoured as given plus a
    little jitter; other retryable failures back off exponentially with jitter. If the next
    wait would push the total past `max_total_wait`, `send` gives up with the last error (its
    `retry_after` tells the caller when to try again). `sleep` is injectable for tests.
    """

    max_attempts: int = 5
    max_total_wait: float = 120.0
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    jitter: float = 0.2
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)

    def wait_for(self, error: BaseException, attempt: int) -> float:
        """The wait before attempt `attempt + 1` after `error`."""
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            return retry_after + random.uniform(0, self.jitter * min(retry_after, 1.0) + 0.05)
        base = min(self.backoff_max, self.backoff_initial * 2 ** (attempt - 1))
        return base * (1 + random.uniform(0, self.jitter))


NO_RETRY = RetryPolicy(max_attempts=1)

_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


def _retry_allowed(error: BaseException, *, idempotent: bool, counts: dict[tuple, int]) -> bool:
    if not isinstance(error, ApiError) or not error.retryable:
        return False
    key = (type(error), error.status)
    counts[key] = counts.get(key, 0) + 1
    if error.max_retries is not None and counts[key] > error.max_retries:
        return False
    if idempotent:
        return True
    # A write may have been applied already; repeat it only when the provider cannot have acted.
    if isinstance(error, TransportError):
        return not error.request_sent
    if isinstance(error, ServerError):
        return error.status == 503
    return isinstance(error, RateLimited)


class _StopPolicy(tenacity.stop.stop_base):
    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        if retry_state.attempt_number >= self.policy.max_attempts:
            return True
        return retry_state.idle_for + retry_state.upcoming_sleep > self.policy.max_total_wait


def send(
    client: httpx.Client,
    method: str,
    path: str,
    *,
    limiter: Limiter | None,
    classify: Classifier,
    retry: RetryPolicy | None = None,
    idempotent: bool | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """Send one request: wait for the limiter, classify, retry within `retry`; return the response.

    Raises the classified ApiError when the provider refuses or retries run out. Requests with
    non-idempotent methods (POST, PATCH) are repeated only when the provider cannot have acted
    on them (429, 503, connection never made) unless `idempotent=True` (upserts).
    On a 429 the limiter is paused for the requested time, so other workers back off too.
    """
    policy = retry or RetryPolicy()
    method = method.upper()
    safe = method in _IDEMPOTENT_METHODS if idempotent is None else idempotent
    counts: dict[tuple, int] = {}

    def attempt() -> httpx.Response:
        if limiter is not None:
            limiter.acquire()
        sent = time.monotonic()
        marks: dict[str, float] = {}
        try:
            response = client.request(method, path, extensions=_traced(kwargs, marks), **_untraced(kwargs))
        except httpx.TransportError as exc:
            try:
                request = exc.request
            except RuntimeError:  # raised before httpx attached the request
                request = client.build_request(method, path)
            raise _transport_error(classify, exc, request) from exc
        except httpx.DecodingError as exc:  # e.g. a gzip body cut short
            url = display_url(exc.request.url)
            provider = getattr(classify, "provider", "The provider")
            raise BadResponse(
                f"{provider} sent a body that could not be decoded ({method} {url})", url=url
            ) from exc
        if response.is_closed:
            # httpx links a read response and its stream both ways (Response.stream is a stream
            # bound to the Response), so every response, body included, lives until a full
            # garbage collection runs, and with a large heap those are rare: 27 bodies of up to
            # 650 KB were alive at once in a 100,000-contact run, 7 in a 10,000 one. The body
            # has been read and the stream closed; cutting the link frees both when unused.
            response.stream = httpx.ByteStream(b"")
        # How late the request may have reached the provider: the limiter widens its margin.
        if limiter is not None and hasattr(limiter, "note_latency"):
            limiter.note_latency(lateness(sent, time.monotonic(), marks, limiter))
        error = classify(response)
        if error is not None:
            if isinstance(error, RateLimited) and limiter is not None:
                limiter.pause(error.retry_after if error.retry_after is not None else 1.0)
            raise error
        return response

    def before_sleep(state: tenacity.RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        logger.warning(
            "%s %s failed (attempt %d of %d): %s; retrying in %.1fs",
            method,
            getattr(error, "url", "") or path,
            state.attempt_number,
            policy.max_attempts,
            error,
            state.upcoming_sleep,
        )

    retryer = tenacity.Retrying(
        stop=_StopPolicy(policy),
        wait=lambda state: policy.wait_for(state.outcome.exception(), state.attempt_number),
        retry=tenacity.retry_if_exception(lambda exc: _retry_allowed(exc, idempotent=safe, counts=counts)),
        sleep=policy.sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
    return retryer(attempt)


# httpcore's trace events (its "trace" request extension) that time a request on the wire.
_TRACED = ("connect_tcp.started", "connect_tcp.complete", "send_request_body.complete")


def _traced(kwargs: dict[str, Any], marks: dict[str, float]) -> dict[str, Any]:
    """The request's extensions plus a trace hook noting when the wire events of `_TRACED` happen."""
    given = kwargs.get("extensions") or {}
    outer = given.get("trace")

    def trace(event: str, info: dict[str, Any]) -> None:
        if event.endswith(_TRACED):
            marks[event.split(".", 1)[1]] = time.monotonic()
        if outer is not None:
            outer(event, info)

    return {**given, "trace": trace}


def _untraced(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in kwargs.items() if k != "extensions"}


def lateness(sent: float, answered: float, marks: dict[str, float], limiter: object) -> float:
    """How much later than its slot a request can have reached the provider, as far as we know.

    The slot is taken before the request leaves, and the provider counts it when it arrives:
    the gap is this process's delay in sending it (measured: slot to the last byte written)
    plus the network's one-way transit, bounded by the round trip of the connection's TCP
    handshake (measured when a connection opens, kept per account by the limiter). The time
    the provider then spends building its answer does not delay the arrival, so a slow page
    no longer slows the pacing. Without those measurements (a transport that emits no trace
    events, no handshake seen yet), and once the provider has refused a paced request (the
    limiter is `cautious`), the whole answer time is the bound, as it always holds.
    """
    started, connected = marks.get("connect_tcp.started"), marks.get("connect_tcp.complete")
    if started is not None and connected is not None and hasattr(limiter, "note_round_trip"):
        limiter.note_round_trip(connected - started)
    written = marks.get("send_request_body.complete")
    round_trip = getattr(limiter, "round_trip", None)
    if written is None or round_trip is None or getattr(limiter, "cautious", False):
        return answered - sent
    return max(0.0, written - sent) + round_trip


def _transport_error(
    classify: Classifier, exc: httpx.TransportError, request: httpx.Request
) -> TransportError:
    phrase = getattr(classify, "transport_error", None)
    if phrase is not None:
        return phrase(exc, request)
    return ErrorClassifier().transport_error(exc, request)
