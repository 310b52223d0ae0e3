"""Injected faults: the bad days of a real API, on demand and repeatable.

A `FaultSpec` names what share of requests go wrong and how; a `FaultPlan`
draws from it with a seeded RNG, so a run with the same seed and the same
request order meets the same faults; `FaultInjector` is the ASGI middleware
that carries them out.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass, field
from typing import Any

import orjson

Scope = dict[str, Any]

# Kinds a spec may name besides HTTP status codes.
# "slow" holds a request before anything counts it (late arrival); "think" holds its answer after
# AC's rate gate has counted it (a provider building a slow page).
_DELAY_KINDS = ("slow", "think", "timeout")
_OTHER_KINDS = ("drop",)
_DEFAULT_DELAY = {"slow": 1.0, "think": 1.0, "timeout": 60.0}


@dataclass(frozen=True)
class Fault:
    """One kind of fault and the share of requests that meet it."""

    kind: str  # "429", "500".."599", "slow", "think", "timeout" or "drop"
    share: float
    seconds: float = 0.0  # delay for slow and think, hang for timeout


@dataclass(frozen=True)
class FaultSpec:
    """Shares of injected faults, e.g. ``429=0.05,500=0.02,slow=0.05:2.0,timeout=0.01,drop=0.01``."""

    faults: tuple[Fault, ...] = field(default_factory=tuple)

    @classmethod
    def parse(cls, spec: str | None) -> FaultSpec:
        """Parse a comma-separated spec; raise ValueError naming the bad part."""
        if spec is None or spec.strip().lower() in ("", "none", "off", "0"):
            return cls()
        faults: list[Fault] = []
        seen: set[str] = set()
        for raw in spec.split(","):
            part = raw.strip()
            if not part:
                continue
            faults.append(_parse_part(part, seen))
        total = sum(f.share for f in faults)
        if total > 1.0 + 1e-9:
            raise ValueError(f"fault shares add up to {total:g}; they must not exceed 1")
        return cls(tuple(faults))

    def __bool__(self) -> bool:
        return any(f.share > 0 for f in self.faults)

    def __str__(self) -> str:
        parts = []
        for f in self.faults:
            if f.kind in _DELAY_KINDS:
                parts.append(f"{f.kind}={f.share:g}:{f.seconds:g}")
            else:
                parts.append(f"{f.kind}={f.share:g}")
        return ",".join(parts)

    def pick(self, rng: random.Random) -> Fault | None:
        """Draw one number and map it onto the cumulative shares."""
        if not self.faults:
            return None
        r = rng.random()
        acc = 0.0
        for f in self.faults:
            acc += f.share
            if r < acc:
                return f
        return None


def _parse_part(part: str, seen: set[str]) -> Fault:
    if "=" not in part:
        raise ValueError(f"bad fault spec part {part!r}: expected kind=share")
    kind, _, value = part.partition("=")
    kind = kind.strip().lower()
    value = value.strip()
    if kind.isdigit():
        code = int(kind)
        if code != 429 and not 500 <= code <= 599:
            raise ValueError(f"bad fault spec part {part!r}: status must be 429 or 5xx")
    elif kind not in _DELAY_KINDS + _OTHER_KINDS:
        raise ValueError(
            f"bad fault spec part {part!r}: unknown kind {kind!r} "
            "(expected 429, 5xx, slow, think, timeout, drop)"
        )
    if kind in seen:
        raise ValueError(f"bad fault spec part {part!r}: {kind} given twice")
    seen.add(kind)
    share_text, _, seconds_text = value.partition(":")
    if seconds_text and kind not in _DELAY_KINDS:
        raise ValueError(f"bad fault spec part {part!r}: only slow, think and timeout take ':seconds'")
    try:
        share = float(share_text)
        seconds = float(seconds_text) if seconds_text else _DEFAULT_DELAY.get(kind, 0.0)
    except ValueError:
        raise ValueError(f"bad fault spec part {part!r}: not a number") from None
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"bad fault spec part {part!r}: share must be between 0 and 1")
    if seconds < 0:
        raise ValueError(f"bad fault spec part {part!r}: seconds must not be negative")
    return Fault(kind=kind, share=share, seconds=seconds)


# Bodies: 500 comes from the application (JSON), 502/503/504 from the proxy in
# front of it (HTML), which is what clients actually meet.
_HTML_5XX = (
    "<html>\r\n<head><title>{code} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{code} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
_REASONS = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
}


class FaultPlan:
    """Which requests meet which fault: a spec, a seeded RNG, and a count of what was injected."""

    def __init__(
        self, spec: FaultSpec, *, seed: int, prefixes: tuple[str, ...], retry_after: float = 1.0
    ) -> None:
        self.spec = spec
        self.prefixes = prefixes
        self.retry_after = retry_after
        self.rng = random.Random(seed ^ 0x5EED_FA17)
        self.injected: dict[str, int] = {}

    def draw(self, path: str) -> Fault | None:
        if not self.spec or not path.startswith(self.prefixes):
            return None
        fault = self.spec.pick(self.rng)
        if fault is not None:
            self.injected[fault.kind] = self.injected.get(fault.kind, 0) + 1
        return fault


class FaultInjector:
    """ASGI middleware applying a `FaultPlan` to each HTTP request."""

    def __init__(self, app: Any, plan: FaultPlan) -> None:
        self.app = app
        self.plan = plan
        self.retry_after = plan.retry_after

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        fault = self.plan.draw(scope["path"]) if scope["type"] == "http" else None
        if fault is None:
            await self.app(scope, receive, send)
            return
        scope["sandbox.fault"] = fault.kind
        if fault.kind == "slow":
            await asyncio.sleep(fault.seconds)
            await self.app(scope, receive, send)
        elif fault.kind == "think":
            scope["sandbox.think"] = fault.seconds  # slept by the route's gate, once it has counted it
            await self.app(scope, receive, send)
        elif fault.kind == "timeout":
            await _hang(receive, fault.seconds)
            await _drop(scope.get("sandbox.raw_send", send))
        elif fault.kind == "drop":
            await _drop(scope.get("sandbox.raw_send", send))
        else:
            await self._error(scope, send, int(fault.kind))

    async def _error(self, scope: Scope, send: Any, status: int) -> None:
        is_brevo = scope["path"].startswith("/v3")
        headers: list[tuple[bytes, bytes]] = []
        if status == 429:
            if is_brevo:
                body = orjson.dumps({"code": "too_many_requests", "message": "Too many requests"})
                reset = str(max(1, round(self.retry_after))).encode()
                headers += [
                    (b"x-sib-ratelimit-limit", b"10"),
                    (b"x-sib-ratelimit-remaining", b"0"),
                    (b"x-sib-ratelimit-reset", reset),
                ]
            else:
                body = orjson.dumps({"message": "Too Many Requests"})
                headers += [
                    (b"retry-after", str(max(1, round(self.retry_after))).encode()),
                    (b"ratelimit-limit", b"5"),
                    (b"ratelimit-remaining", b"0"),
                ]
            ctype = b"application/json"
        elif status == 500:
            body = orjson.dumps(
                {"message": "Internal Server Error"}
                if not is_brevo
                else {"code": "internal_error", "message": "Internal server error"}
            )
            ctype = b"application/json"
        else:
            reason = _REASONS.get(status, "Server Error")
            body = _HTML_5XX.format(code=status, reason=reason).encode()
            ctype = b"text/html"
        headers += [(b"content-type", ctype), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def _hang(receive: Any, seconds: float) -> None:
    """Wait `seconds`, or less if the client gives up and disconnects first."""

    async def until_disconnect() -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(until_disconnect(), timeout=seconds)


async def _drop(send: Any) -> None:
    """Close the socket without a response.

    uvicorn passes its per-request cycle's bound `send` (the app keeps it in the
    scope as ``sandbox.raw_send``); that cycle's transport is the connection.
    Without one (an in-process test client) the closest we can do is to fail
    before a response starts.
    """
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is not None:
        transport.close()
        # Let connection_lost run so uvicorn does not answer a 500 on our behalf.
        for _ in range(3):
            await asyncio.sleep(0)
        return
    raise ConnectionResetError("sandbox dropped the connection")
