"""What stands before every AC route: the `Api-Token` check and the per-account rate limit, with
AC's `RateLimit-*` headers and its 429 + `Retry-After`."""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

import orjson

# ---------------------------------------------------------------------------
# rate limit and auth
# ---------------------------------------------------------------------------


class SlidingWindow:
    """At most ``limit`` admitted requests in any window of ``seconds`` (one AC account).

    Stricter than a token bucket: a burst never doubles up across a window
    edge, so "5 per second" holds for every 1-second interval a test measures.
    Fractional rates widen the window (2.5/s -> 3 per 1.2 s).
    """

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = max(1, math.ceil(rate))
        self.seconds = self.limit / rate
        self.clock = clock
        self.admitted: deque[float] = deque()
        self.lock = threading.Lock()

    def take(self) -> tuple[bool, int, float]:
        """Admit one request if the window has room: (admitted, left in the window, decision time)."""
        with self.lock:
            now = self.clock()
            while self.admitted and now - self.admitted[0] >= self.seconds:
                self.admitted.popleft()
            if len(self.admitted) < self.limit:
                self.admitted.append(now)
                return True, self.limit - len(self.admitted), now
            return False, 0, now


class ACGate:
    """ASGI middleware in front of the AC routes: token check, rate limit, RateLimit-* headers."""

    def __init__(
        self, app: Any, *, keys: Iterable[str], rate: float, retry_after: float, legacy: bool = False
    ) -> None:
        self.app = app
        self.keys = {k.encode() for k in keys}
        self.rate = rate
        self.retry_after = retry_after
        self.legacy = legacy
        self.bucket = SlidingWindow(rate) if rate > 0 else None
        self.limit_header = str(math.ceil(rate)).encode() if rate > 0 else None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = next((v for k, v in scope["headers"] if k == b"api-token"), None)
        if token is None or token.strip() not in self.keys:
            # Every answer carries the account's limit (reference §15), refusals included.
            headers = None
            if self.bucket is not None and not self.legacy:
                headers = [(b"ratelimit-limit", self.limit_header), (b"ratelimit-remaining", b"0")]
            await send_json(send, 403, {"message": "Forbidden"}, headers)
            return
        scope["sandbox.account"] = "ac"
        if self.bucket is None:
            await self.app(scope, receive, send)
            return
        allowed, remaining, decided = self.bucket.take()
        # The request log then shows the limiter's own clock: windows measured there are exact.
        scope["sandbox.t"] = decided
        limit_headers = [
            (b"ratelimit-limit", self.limit_header),
            (b"ratelimit-remaining", str(remaining).encode()),
        ]
        if not allowed:
            retry = str(max(1, math.ceil(self.retry_after))).encode()
            await send_json(
                send, 429, {"message": "Too Many Requests"}, [(b"retry-after", retry), *limit_headers]
            )
            return

        think = scope.get("sandbox.think")
        if think:
            await asyncio.sleep(think)  # a slow answer to a request already counted

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = dict(message)
                message["headers"] = [*message.get("headers", []), *limit_headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def send_json(
    send: Any, status: int, body: Any, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    data = orjson.dumps(body)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})
