"""Brevo's four rate-limit buckets (reference §1.4): which route counts against which, and the
sliding windows that answer 429 with the `x-sib-ratelimit-*` headers."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

BUCKETS = ("contacts", "events", "orders", "other")

# General-tier budgets (reference §1.4): bucket -> (per second, per hour).
GENERAL_LIMITS: dict[str, tuple[float | None, float | None]] = {
    "contacts": (10.0, 36_000.0),
    "events": (10.0, 36_000.0),
    "orders": (5.0, 18_000.0),
    "other": (None, 100.0),
}


@dataclass(frozen=True)
class BrevoLimits:
    """Per-bucket budgets: (requests per second, requests per hour); None = no cap."""

    contacts: tuple[float | None, float | None] = (None, None)
    events: tuple[float | None, float | None] = (None, None)
    orders: tuple[float | None, float | None] = (None, None)
    other: tuple[float | None, float | None] = (None, None)

    @classmethod
    def general(cls) -> BrevoLimits:
        return cls(**GENERAL_LIMITS)

    def as_dict(self) -> dict[str, tuple[float | None, float | None]]:
        return {"contacts": self.contacts, "events": self.events, "orders": self.orders, "other": self.other}


def limit_pair(value: Any) -> tuple[float | None, float | None]:
    """(per_second, per_hour) from a tuple, a {"per_second", "per_hour"} dict, an object with those
    attributes (the sandbox config's BucketLimit) or None."""
    if value is None:
        return None, None
    if isinstance(value, Mapping):
        return value.get("per_second"), value.get("per_hour")
    if hasattr(value, "per_second"):
        return value.per_second, getattr(value, "per_hour", None)
    per_second, per_hour = value
    return per_second, per_hour


def bucket_for(method: str, template: str) -> str:
    """Which rate-limit bucket a route belongs to (reference §1.4)."""
    if template == "/contacts" or template.startswith("/contacts/"):
        return "contacts"
    if method == "POST" and template == "/events":
        return "events"
    if method == "POST" and template == "/orders/status":
        return "orders"
    return "other"


# ---------------------------------------------------------------- rate limiting


class _Window:
    __slots__ = ("length", "limit", "start", "used")

    def __init__(self, limit: int, length: float) -> None:
        self.limit, self.length, self.start, self.used = limit, length, -math.inf, 0


class BucketLimiter:
    """Fixed windows per bucket; every window must have room (per-second and per-hour caps both apply)."""

    def __init__(self, per_second: float | None, per_hour: float | None, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._windows: list[_Window] = []
        if per_second:
            # Fractional rates (0.5/s) become one request per 1/rate seconds.
            self._windows.append(
                _Window(round(per_second), 1.0) if per_second >= 1 else _Window(1, 1.0 / per_second)
            )
        if per_hour:
            self._windows.append(_Window(max(1, int(per_hour)), 3600.0))

    def hit(self) -> tuple[bool, dict[str, str]]:
        now = self._clock()
        for w in self._windows:
            if now >= w.start + w.length:
                w.start, w.used = now, 0
        full = [w for w in self._windows if w.used >= w.limit]
        if full:
            w = max(full, key=lambda x: x.start + x.length)
            return False, self._headers(w, now, remaining=0)
        for w in self._windows:
            w.used += 1
        w = min(self._windows, key=lambda x: (x.limit - x.used, x.length))
        return True, self._headers(w, now, remaining=w.limit - w.used)

    @staticmethod
    def _headers(w: _Window, now: float, *, remaining: int) -> dict[str, str]:
        reset = max(1, math.ceil(w.start + w.length - now))
        return {
            "x-sib-ratelimit-limit": str(w.limit),
            "x-sib-ratelimit-remaining": str(remaining),
            "x-sib-ratelimit-reset": str(reset),
        }
