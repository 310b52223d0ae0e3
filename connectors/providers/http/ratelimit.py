"""Client-side rate limiting shared by every process that talks to one provider account.

A limiter holds one or more moving windows ("5 per second", "100 per hour"). `acquire()` blocks
until a request may go out under *all* windows. With a Redis URL the windows live in Redis and
are checked and updated by one Lua script, timed by the Redis server's clock, so every worker
process on every host sees the same window; without one they live in this process.

Why not the `limits` package: its moving window counts whole seconds only and stamps entries
with each process's own clock. We need a safety margin on every window and one clock for all
processes; a 30-line script gives both and tells the caller exactly how long to sleep.

The margin: a slot is stamped when it is taken, but the provider counts the request when it
arrives, and that can be later (a busy process, the network). Two requests of one window that
leave on time can then arrive less than a window apart, and ActiveCampaign answers such a
request 429 with `Retry-After: 30`. The margin is therefore the base `margin` plus the
largest lateness of the last few requests (as many as the smallest window holds), capped at
`MAX_MARGIN`. A request's lateness is measured (`retry.lateness`): from its slot to its last
byte written, plus the connection's TCP round trip as a bound on transit; where that cannot be
measured, the whole answer time bounds it. The time the provider takes to build an answer is
not lateness (the request has arrived by then), so a slow page does not slow the pacing; a
stall in this process widens the windows for the next few requests.

Rates: `rate_per_second` may be fractional (0.5 = one request every 2 s); `per_hour` adds an
hourly budget (Brevo's "100 per hour" bucket: `get_limiter(key, None, per_hour=100)`). Both may
be combined (Brevo contacts: 10/s and 36,000/h). A limiter with no window never waits.
"""

from __future__ import annotations

import collections
import hashlib
import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import redis

logger = logging.getLogger(__name__)

DEFAULT_MARGIN = 0.01  # seconds added to every window, before the latency part
MAX_MARGIN = 0.5  # seconds: the most a slow answer widens the windows (half a 1-second window)
LATENCY_SAMPLES = 20  # at most this many answers the latency part looks back over
ROUND_TRIP_SAMPLES = 5  # connection handshakes the transit estimate looks back over
CAUTIOUS_SECONDS = 600.0  # how long a 429 although paced keeps whole answer times as lateness


@dataclass(frozen=True)
class Window:
    """At most `limit` requests in any `seconds`-long stretch of time."""

    limit: int
    seconds: float


def windows_for(rate_per_second: float | None, per_hour: float | None = None) -> tuple[Window, ...]:
    """Translate rates into windows; fractional per-second rates become "n per n/rate seconds"."""
    windows: list[Window] = []
    if rate_per_second is not None and rate_per_second < 0:
        raise ValueError("rate_per_second must be positive, 0 or None")
    if per_hour is not None and per_hour < 0:
        raise ValueError("per_hour must be positive, 0 or None")
    if rate_per_second:
        amount = max(1, math.floor(rate_per_second))
        windows.append(Window(amount, amount / rate_per_second))
    if per_hour:
        windows.append(Window(max(1, math.floor(per_hour)), 3600.0 * max(1, math.floor(per_hour)) / per_hour))
    return tuple(windows)


def limiter_key(provider: str, account_url: str) -> str:
    """A stable limiter key for one provider account; derived from the account URL, never from a key."""
    normalized = account_url.strip().rstrip("/").lower()
    digest = hashlib.sha256(normalized.encode()).hexdigest()[:20]
    return f"tajo:ratelimit:{provider}:{digest}"


class RateLimiter:
    """Blocks callers so that an account stays within its windows; see the module docstring."""

    def __init__(
        self,
        key: str,
        windows: Sequence[Window],
        *,
        margin: float = DEFAULT_MARGIN,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.key = key
        self.windows = tuple(windows)
        self.base_margin = margin
        self._sleep = sleep
        # A slot waits on the oldest request of its window, so only the lateness of the requests
        # still in the smallest window matters: as many answers as it holds (5 for AC's 5/s).
        samples = min(LATENCY_SAMPLES, *(w.limit for w in self.windows)) if self.windows else 1
        self._latencies: collections.deque[float] = collections.deque(maxlen=samples)
        self._latency_lock = threading.Lock()  # threads of one process note and read them
        self._round_trips: collections.deque[float] = collections.deque(maxlen=ROUND_TRIP_SAMPLES)
        # Set by a 429: the provider counted a paced request later than the wire measure allows.
        self._cautious_until = 0.0

    @property
    def unlimited(self) -> bool:
        return not self.windows

    @property
    def margin(self) -> float:
        """Seconds added to every window now: the base plus the slowest recent answer, capped."""
        with self._latency_lock:
            slowest = max(self._latencies, default=0.0)
        return min(MAX_MARGIN, self.base_margin + slowest)

    @property
    def cautious(self) -> bool:
        """Whether a recent 429 (within `CAUTIOUS_SECONDS`) makes whole answer times the lateness."""
        return time.monotonic() < self._cautious_until

    def note_latency(self, seconds: float) -> None:
        """Record how late a request paced by this limiter may have reached the provider.

        `connectors.providers.http.retry.lateness` measures it: the delay from the slot to the
        request's last byte written plus the connection's round trip, or, without those
        measurements, the whole time from the slot to the answer.
        """
        if seconds >= 0 and math.isfinite(seconds):
            with self._latency_lock:
                self._latencies.append(seconds)

    @property
    def round_trip(self) -> float | None:
        """The slowest recent TCP handshake to the provider (None: none measured yet)."""
        with self._latency_lock:
            return max(self._round_trips, default=None)

    def note_round_trip(self, seconds: float) -> None:
        """Record a TCP handshake's duration: one round trip, so a bound on one-way transit."""
        if seconds >= 0 and math.isfinite(seconds):
            with self._latency_lock:
                self._round_trips.append(seconds)

    def try_acquire(self) -> float:
        """Take a slot if one is free now: 0.0 when taken, else the seconds until one frees up."""
        if self.unlimited:
            return 0.0
        return self._try_acquire()

    def peek(self) -> float:
        """Seconds until a slot frees up, without taking one (0.0: a request could go now).

        Lets a caller with a deadline decide not to start a request whose wait it cannot afford
        (Brevo's 100-per-hour bucket); another process may still take the slot in between.
        """
        if self.unlimited:
            return 0.0
        return self._peek()

    def acquire(self) -> float:
        """Block until a request may go out; returns the seconds spent waiting."""
        if self.unlimited:
            return 0.0
        waited = 0.0
        while True:
            wait = self._try_acquire()
            if wait <= 0:
                return waited
            # A few extra milliseconds so that a woken caller finds the slot already free.
            wait += 0.002
            self._sleep(wait)
            waited += wait

    def pause(self, seconds: float) -> None:
        """Make every caller of this account wait `seconds` (the provider answered 429).

        A 429 although we paced means the provider counted a request later than measured (a
        queue before its gate, another client of the account): for the next `CAUTIOUS_SECONDS`
        this limiter's lateness is the whole answer time, the bound that always holds
        (`retry.lateness`). A long-running worker then tries the wire measure again.
        """
        if not self.cautious:
            logger.info("%s answered 429 although paced: windows widen by whole answer times", self.key)
        self._cautious_until = time.monotonic() + CAUTIOUS_SECONDS
        if seconds > 0:
            self._pause(seconds)

    def _try_acquire(self) -> float:
        raise NotImplementedError

    def _peek(self) -> float:
        raise NotImplementedError

    def _pause(self, seconds: float) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        spec = ", ".join(f"{w.limit}/{w.seconds:g}s" for w in self.windows) or "unlimited"
        return f"{type(self).__name__}({self.key!r}, {spec})"


class MemoryRateLimiter(RateLimiter):
    """Moving windows kept in this process (threads share it; other processes do not)."""

    def __init__(self, key: str, windows: Sequence[Window], **kwargs) -> None:
        super().__init__(key, windows, **kwargs)
        self._lock = threading.Lock()
        self._hits = [collections.deque(maxlen=w.limit) for w in self.windows]
        self._paused_until = 0.0
        self._clock = time.monotonic

    def _try_acquire(self) -> float:
        with self._lock:
            now = self._clock()
            wait = self._wait(now)
            if wait > 0:
                return wait
            for hits in self._hits:
                hits.append(now)
            return 0.0

    def _peek(self) -> float:
        with self._lock:
            return max(0.0, self._wait(self._clock()))

    def _wait(self, now: float) -> float:
        wait = self._paused_until - now
        margin = self.margin
        for window, hits in zip(self.windows, self._hits, strict=True):
            if len(hits) == window.limit:
                wait = max(wait, hits[0] + window.seconds + margin - now)
        return wait

    def _pause(self, seconds: float) -> None:
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)


# KEYS[1] = pause key, KEYS[2..] = one list per window (newest first, capped at its limit).
# ARGV = limit, window in microseconds, for each window. Returns 0 when a slot was taken,
# otherwise the microseconds to wait. Timestamps come from the Redis server clock.
# How long until every window has a free slot (0: now); shared by acquire and peek.
_WAIT_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local paused = redis.call('PTTL', KEYS[1])
if paused > 0 then return paused * 1000 end
local wait = 0
for i = 2, #KEYS do
  local limit = tonumber(ARGV[2 * i - 3])
  local window = tonumber(ARGV[2 * i - 2])
  local oldest = redis.call('LINDEX', KEYS[i], limit - 1)
  if oldest then
    local w = tonumber(oldest) + window - now
    if w > wait then wait = w end
  end
end
"""

_ACQUIRE_LUA = (
    _WAIT_LUA
    + """
if wait > 0 then return math.ceil(wait) end
local stamp = string.format('%.0f', now)
for i = 2, #KEYS do
  local limit = tonumber(ARGV[2 * i - 3])
  local window = tonumber(ARGV[2 * i - 2])
  redis.call('LPUSH', KEYS[i], stamp)
  redis.call('LTRIM', KEYS[i], 0, limit - 1)
  redis.call('PEXPIRE', KEYS[i], math.ceil(window / 1000) + 1000)
end
return 0
"""
)

# The same computation without taking the slot.
_PEEK_LUA = _WAIT_LUA + "return math.ceil(wait)\n"

_PAUSE_LUA = """
local ms = tonumber(ARGV[1])
if redis.call('PTTL', KEYS[1]) < ms then redis.call('SET', KEYS[1], '1', 'PX', ms) end
return 0
"""


def _script(redis_client: redis.Redis, source: str) -> Callable[..., object]:
    """A Lua script sent with EVAL each time.

    EVALSHA would save a few hundred bytes a call, but its NOSCRIPT fallback is not understood
    by the embedded queue server the demo uses; EVAL works on both.
    """

    def run(*, keys: Sequence[str], args: Sequence[int]) -> object:
        return redis_client.eval(source, len(keys), *keys, *args)

    return run


class RedisRateLimiter(RateLimiter):
    """Moving windows in Redis, shared by every process using the same key and Redis.

    If Redis cannot be reached the limiter keeps pacing this process on its own (and says so
    in the log) rather than failing the sync; the provider's 429 handling remains the backstop.
    """

    def __init__(self, key: str, windows: Sequence[Window], *, redis_client: redis.Redis, **kwargs) -> None:
        super().__init__(key, windows, **kwargs)
        self._redis = redis_client
        self._acquire_script = _script(redis_client, _ACQUIRE_LUA)
        self._peek_script = _script(redis_client, _PEEK_LUA)
        self._pause_script = _script(redis_client, _PAUSE_LUA)
        self._keys = [f"{key}:pause", *(f"{key}:w{i}" for i in range(len(self.windows)))]
        self._fallback = MemoryRateLimiter(key, windows, margin=self.base_margin)
        # One record of answer times for both, so the fallback starts with what was learnt.
        self._fallback._latencies, self._fallback._latency_lock = self._latencies, self._latency_lock
        self._fallback._round_trips = self._round_trips
        self._last_warning = 0.0

    def _args(self) -> list[int]:
        """Each window's limit and length in microseconds, with the margin of this moment."""
        margin = self.margin
        args: list[int] = []
        for window in self.windows:
            args += [window.limit, round((window.seconds + margin) * 1_000_000)]
        return args

    def _try_acquire(self) -> float:
        try:
            micros = int(self._acquire_script(keys=self._keys, args=self._args()))
        except redis.RedisError as exc:
            self._warn(exc)
            return self._fallback._try_acquire()
        return micros / 1_000_000

    def _peek(self) -> float:
        try:
            micros = int(self._peek_script(keys=self._keys, args=self._args()))
        except redis.RedisError as exc:
            self._warn(exc)
            return self._fallback._peek()
        return max(0.0, micros / 1_000_000)

    def _pause(self, seconds: float) -> None:
        self._fallback._pause(seconds)
        try:
            self._pause_script(keys=self._keys[:1], args=[max(1, round(seconds * 1000))])
        except redis.RedisError as exc:
            self._warn(exc)

    def _warn(self, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._last_warning > 60:
            self._last_warning = now
            logger.warning(
                "Rate limiter %s cannot reach Redis (%s); pacing this process alone until it is back",
                self.key,
                type(exc).__name__,
            )


_registry: dict[tuple, RateLimiter] = {}
_redis_clients: dict[str, redis.Redis] = {}
_registry_lock = threading.Lock()


def _redis_client(redis_url: str) -> redis.Redis:
    client = _redis_clients.get(redis_url)
    if client is None:
        client = redis.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5)
        _redis_clients[redis_url] = client
    return client


def get_limiter(
    key: str,
    rate_per_second: float | None,
    *,
    redis_url: str | None = None,
    per_hour: float | None = None,
    margin: float = DEFAULT_MARGIN,
) -> RateLimiter:
    """The limiter for `key` (build it with `limiter_key`), shared within this process.

    `rate_per_second` None or 0 and no `per_hour`: a limiter that never waits. With `redis_url`
    the windows are shared by every process using that Redis; otherwise by this process only.
    """
    windows = windows_for(rate_per_second, per_hour)
    registry_key = (key, windows, redis_url, margin)
    with _registry_lock:
        limiter = _registry.get(registry_key)
        if limiter is None:
            if redis_url and windows:
                limiter = RedisRateLimiter(key, windows, redis_client=_redis_client(redis_url), margin=margin)
            else:
                limiter = MemoryRateLimiter(key, windows, margin=margin)
            _registry[registry_key] = limiter
        return limiter


def parse_limit_header(value: str | None) -> float | None:
    """The request rate a `RateLimit-Limit` header announces, or None when it says nothing usable.

    ActiveCampaign sends a bare number of requests per second (`RateLimit-Limit: 5`, reference
    §15); the IETF draft form `5;w=1` (quota and window) is read too, so a vendor moving to it
    is still followed rather than ignored.
    """
    if not value:
        return None
    first = value.split(",", 1)[0].strip()
    quota_text, _, params = first.partition(";")
    try:
        quota = float(quota_text.strip())
    except ValueError:
        return None
    window = 1.0
    for param in params.split(";"):
        name, _, text = param.strip().partition("=")
        if name.strip().lower() == "w":
            try:
                window = float(text.strip())
            except ValueError:
                return None
    if not (quota > 0 and window > 0 and math.isfinite(quota / window)):
        return None
    return quota / window


class FollowingLimiter:
    """An account limiter that follows the limit the provider announces, never going above it.

    It starts at `rate_per_second` (the account's setting) and paces at
    `min(setting, announced)` once a response has announced a limit through `observe()`: an
    account configured above what the provider grants slows down to the grant, and a lowered
    grant is followed at once. It never speeds up past the setting, so a raise by the provider
    only takes effect when the operator raises the setting as well. Windows are shared through
    `get_limiter` (Redis when given), so every process keyed on the account uses the same ones.
    """

    def __init__(
        self,
        key: str,
        rate_per_second: float | None,
        *,
        redis_url: str | None = None,
        margin: float = DEFAULT_MARGIN,
    ) -> None:
        self.key = key
        self.configured = rate_per_second or None
        self.announced: float | None = None
        self._redis_url = redis_url
        self._margin = margin
        self._lock = threading.Lock()
        self._cautious_until = 0.0
        self._current = get_limiter(key, self.configured, redis_url=redis_url, margin=margin)

    @property
    def rate(self) -> float | None:
        """The requests per second paced at now (None: unlimited)."""
        if self.configured is None:
            return None
        if self.announced is None:
            return self.configured
        return min(self.configured, self.announced)

    @property
    def limiter(self) -> RateLimiter:
        return self._current

    def observe(self, header: str | None) -> None:
        """Take note of a response's `RateLimit-Limit` header (missing or unreadable: no change)."""
        announced = parse_limit_header(header)
        if announced is None or announced == self.announced:
            return
        with self._lock:
            before = self.rate
            self.announced = announced
            after = self.rate
            if after != before:
                known = self._current.round_trip
                self._current = get_limiter(self.key, after, redis_url=self._redis_url, margin=self._margin)
                if known is not None and self._current.round_trip is None:
                    # The connection is the same: without it, lateness would fall back to whole
                    # answer times until a new connection's handshake is measured.
                    self._current.note_round_trip(known)
                logger.info(
                    "Pacing %s at %g requests/s: the provider announces %g (setting %s)",
                    self.key,
                    after,
                    announced,
                    "unlimited" if self.configured is None else f"{self.configured:g}",
                )

    def acquire(self) -> float:
        return self._current.acquire()

    def try_acquire(self) -> float:
        return self._current.try_acquire()

    def peek(self) -> float:
        return self._current.peek()

    def pause(self, seconds: float) -> None:
        self._cautious_until = time.monotonic() + CAUTIOUS_SECONDS  # kept when a new limit swaps windows
        self._current.pause(seconds)

    @property
    def cautious(self) -> bool:
        return time.monotonic() < self._cautious_until or self._current.cautious

    def note_latency(self, seconds: float) -> None:
        self._current.note_latency(seconds)

    @property
    def round_trip(self) -> float | None:
        return self._current.round_trip

    def note_round_trip(self, seconds: float) -> None:
        self._current.note_round_trip(seconds)

    def __repr__(self) -> str:
        return f"FollowingLimiter({self.key!r}, rate={self.rate!r}, announced={self.announced!r})"


class CombinedLimiter:
    """Several budgets at once: a request waits until every one of them has room.

    ActiveCampaign's event-tracking reads count against the account's limit *and* against the
    account's own, lower event-tracking rate. Slots are taken one budget at a time, slowest
    first, so a wait on one does not hold a slot of another meanwhile for long.
    """

    def __init__(self, *limiters: object) -> None:
        self.limiters = tuple(limiters)

    def acquire(self) -> float:
        return sum(limiter.acquire() for limiter in self.limiters)  # type: ignore[attr-defined]

    def pause(self, seconds: float) -> None:
        for limiter in self.limiters:
            limiter.pause(seconds)  # type: ignore[attr-defined]

    def note_latency(self, seconds: float) -> None:
        for limiter in self.limiters:
            if hasattr(limiter, "note_latency"):  # a plain limiter-like object need not learn
                limiter.note_latency(seconds)

    @property
    def cautious(self) -> bool:
        return any(getattr(limiter, "cautious", False) for limiter in self.limiters)

    @property
    def round_trip(self) -> float | None:
        """The slowest round trip any of the budgets knows (None: none knows one)."""
        known = [rt for limiter in self.limiters if (rt := getattr(limiter, "round_trip", None)) is not None]
        return max(known, default=None)

    def note_round_trip(self, seconds: float) -> None:
        for limiter in self.limiters:
            if hasattr(limiter, "note_round_trip"):
                limiter.note_round_trip(seconds)


_following: dict[tuple, FollowingLimiter] = {}


def get_following_limiter(
    key: str, rate_per_second: float | None, *, redis_url: str | None = None
) -> FollowingLimiter:
    """The `FollowingLimiter` for `key` at this setting, shared within this process.

    Shared so that what one client learnt from the provider's headers holds for the next slice.
    """
    registry_key = (key, rate_per_second or None, redis_url)
    with _registry_lock:
        limiter = _following.get(registry_key)
    if limiter is None:
        limiter = FollowingLimiter(key, rate_per_second, redis_url=redis_url)
        with _registry_lock:
            limiter = _following.setdefault(registry_key, limiter)
    return limiter
