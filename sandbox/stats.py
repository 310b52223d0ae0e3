"""What the sandbox served: counts per method and path template, and a bounded request log.

The log keeps monotonic arrival times so a test can check pacing, e.g. that
no second held more AC requests than the account's rate allows.
"""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from collections.abc import Iterable
from typing import Any, NamedTuple

_NUMERIC = re.compile(r"^\d+$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class LogEntry(NamedTuple):
    t: float  # time.monotonic(): the AC limiter's decision time, else arrival
    method: str
    path: str  # template, e.g. /api/3/contacts/{id}
    status: str  # "200", "429", ... or "drop" / "timeout" when no response went out
    api: str  # "ac", "brevo" or "sandbox"
    account: str  # who was served (an account label), "" before authentication

    def as_dict(self) -> dict[str, Any]:
        return self._asdict()


class RequestStats:
    """Thread-safe counters and ring buffer."""

    def __init__(self, log_size: int = 200_000) -> None:
        self.lock = threading.Lock()
        self.log: deque[LogEntry] = deque(maxlen=log_size)
        self.counts: dict[str, dict[str, int]] = {}
        self.started = time.monotonic()

    def record(self, entry: LogEntry) -> None:
        key = f"{entry.method} {entry.path}"
        with self.lock:
            self.log.append(entry)
            bucket = self.counts.get(key)
            if bucket is None:
                bucket = self.counts[key] = {"count": 0}
            bucket["count"] += 1
            bucket[entry.status] = bucket.get(entry.status, 0) + 1

    def reset(self) -> None:
        with self.lock:
            self.log.clear()
            self.counts.clear()

    def snapshot(self) -> dict[str, dict[str, int]]:
        with self.lock:
            return {k: dict(v) for k, v in sorted(self.counts.items())}

    def entries(
        self, since: float | None = None, api: str | None = None, limit: int | None = None
    ) -> list[LogEntry]:
        with self.lock:
            items = list(self.log)
        out = [e for e in items if (since is None or e.t > since) and (api is None or e.api == api)]
        return out[:limit] if limit else out


def max_in_window(times: Iterable[float], window: float = 1.0) -> int:
    """Largest number of timestamps inside any half-open interval of length ``window``."""
    ts = sorted(times)
    best = 0
    start = 0
    for end, t in enumerate(ts):
        while t - ts[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def template_for(path: str, path_params: dict[str, Any] | None) -> str:
    """The route template of ``path``: matched path parameters become ``{name}``.

    Unmatched paths (auth failures, 404s) fall back to replacing ids, UUIDs and
    emails so the table stays small whatever clients send.
    """
    segments = path.split("/")
    # Keep the API prefix (/api/3, /v3) out of the replacement: "3" may also be an id.
    keep = 3 if path.startswith("/api/3/") else 2 if path.startswith("/v3/") else 1
    head, segments = segments[:keep], segments[keep:]
    if path_params:
        by_value = {str(v): k for k, v in path_params.items()}
        return "/".join(head + [f"{{{by_value[s]}}}" if s in by_value else s for s in segments])
    out = list(head)
    for s in segments:
        if _NUMERIC.match(s) or _UUID.match(s):
            out.append("{id}")
        elif "@" in s:
            out.append("{identifier}")
        else:
            out.append(s)
    return "/".join(out)


def api_of(path: str) -> str:
    if path.startswith("/api/3"):
        return "ac"
    if path.startswith("/v3"):
        return "brevo"
    return "sandbox"


class StatsRecorder:
    """ASGI middleware feeding `RequestStats`; the innermost apps leave hints in the scope."""

    def __init__(self, app: Any, stats: RequestStats) -> None:
        self.app = app
        self.stats = stats

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        arrived = time.monotonic()
        status: list[int] = []

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, capture)
        except BaseException:
            if not status:
                status.append(500)
            raise
        finally:
            path = scope["path"]
            api = api_of(path)
            code = str(status[0]) if status else scope.get("sandbox.fault") or "none"
            account = scope.get("sandbox.account", "")
            if api == "brevo" and not account and status and status[0] != 401:
                account = "brevo"
            self.stats.record(
                LogEntry(
                    scope.get("sandbox.t", arrived),
                    scope["method"],
                    template_for(path, scope.get("path_params")),
                    code,
                    api,
                    account,
                )
            )
