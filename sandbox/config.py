"""Settings of one sandbox run: where it listens, what data it holds, how strict it is."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from sandbox.activecampaign.generator.profile import GeneratorProfile
from sandbox.faults import FaultSpec

# Obviously fake keys: they must never look like a real AC (hex) or Brevo key.
DEFAULT_AC_KEY = "sandbox-ac-key-0001-not-a-real-key"
DEFAULT_BREVO_KEY = "xkeysib-sandbox-0001-not-a-real-key"


@dataclass(frozen=True)
class BucketLimit:
    """Budget of one Brevo rate-limit bucket; None means no cap on that window."""

    per_second: float | None = None
    per_hour: float | None = None

    def as_dict(self) -> dict[str, float | None]:
        return {"per_second": self.per_second, "per_hour": self.per_hour}


# Brevo "General" tier (reference brevo-api-v3.md section 1.4).
DEFAULT_BREVO_LIMITS: dict[str, BucketLimit | None] = {
    "contacts": BucketLimit(per_second=10, per_hour=36000),
    "events": BucketLimit(per_second=10, per_hour=36000),
    "orders": BucketLimit(per_second=5, per_hour=18000),
    "other": BucketLimit(per_second=None, per_hour=100),
}

BREVO_BUCKETS = tuple(DEFAULT_BREVO_LIMITS)

FILTER_ZONES = ("offset", "utc", "account", "date")


@dataclass(frozen=True)
class SandboxConfig:
    host: str = "127.0.0.1"
    port: int = 0  # 0 = let the OS pick a free port
    seed: int = 1
    contacts: int = 200  # generated on top of the default seeded account
    profile: GeneratorProfile = field(default_factory=GeneratorProfile)
    ac_key: str = DEFAULT_AC_KEY
    # More keys of the same AC account (another user); they share its rate limit.
    ac_extra_keys: tuple[str, ...] = ()
    brevo_key: str = DEFAULT_BREVO_KEY
    ac_rate: float = 5.0  # requests per second per AC account; 0 = unlimited
    # Retry-After of AC 429s; None: the vendor's example of 30 s (reference §15), or 1 s with ac_legacy.
    ac_retry_after: float | None = None
    # The AC contract as simulated before the 2026 review: 429s with Retry-After 1, no `GET /api/3/`
    # root, no RateLimit-* headers on refused tokens. For tests written against that behaviour.
    ac_legacy: bool = False
    # How `filters[updated_after]`-style dates are read (the vendor documents a date only, reference
    # §15): "offset" honours an offset and reads a bare time in the account's zone; "utc" and
    # "account" ignore any offset and read the wall clock in UTC or in the account's zone; "date"
    # keeps only the date, in the account's zone.
    ac_filter_zone: str = "offset"
    brevo_limits: dict[str, BucketLimit | None] = field(default_factory=lambda: dict(DEFAULT_BREVO_LIMITS))
    brevo_seed_default: bool = True
    # Brevo as it was before the 2026 changes (`/contacts/batch`, process counters): old tests only.
    brevo_legacy: bool = False
    faults: FaultSpec = field(default_factory=FaultSpec)
    fault_scope: str = "both"  # "ac", "brevo" or "both"
    tz_offset: str = "-05:00"  # AC account time zone, fixed offset
    request_log_size: int = 200_000  # ring buffer for /_sandbox/requests
    access_log: bool = False
    warm: bool = False  # generate the AC account before serving

    def __post_init__(self) -> None:
        if self.fault_scope not in ("ac", "brevo", "both"):
            raise ValueError(f"fault_scope must be ac, brevo or both, not {self.fault_scope!r}")
        if not re.fullmatch(r"[+-]\d\d:\d\d", self.tz_offset):
            raise ValueError(f"tz_offset must look like -05:00, not {self.tz_offset!r}")
        if self.contacts < 0:
            raise ValueError("contacts must not be negative")
        if self.ac_rate < 0:
            raise ValueError("ac_rate must not be negative")
        if self.ac_retry_after is not None and self.ac_retry_after < 0:
            raise ValueError("ac_retry_after must not be negative")
        if self.ac_filter_zone not in FILTER_ZONES:
            raise ValueError(
                f"ac_filter_zone must be one of {', '.join(FILTER_ZONES)}, not {self.ac_filter_zone!r}"
            )
        unknown = set(self.brevo_limits) - set(BREVO_BUCKETS)
        if unknown:
            raise ValueError(f"unknown Brevo rate buckets: {', '.join(sorted(unknown))}")

    @property
    def ac_retry_after_seconds(self) -> float:
        if self.ac_retry_after is not None:
            return self.ac_retry_after
        return 1.0 if self.ac_legacy else 30.0

    @classmethod
    def fast(cls, **overrides: object) -> SandboxConfig:
        """All rate limits and faults off: for tests that measure behaviour, not pacing."""
        base = cls(ac_rate=0.0, brevo_limits=dict.fromkeys(BREVO_BUCKETS), faults=FaultSpec())
        return replace(base, **overrides)  # type: ignore[arg-type]

    def brevo_limits_dict(self) -> dict[str, dict[str, float | None] | None]:
        """Plain-dict form handed to the Brevo simulator."""
        return {k: (v.as_dict() if v is not None else None) for k, v in self.brevo_limits.items()}


_RATE_PART = re.compile(r"^(?P<value>\d+(?:\.\d+)?)/(?P<unit>s|h)$")


def parse_brevo_rates(spec: str) -> dict[str, BucketLimit | None]:
    """Parse ``contacts=10/s+36000/h,events=10/s,orders=5/s+18000/h,other=100/h``.

    ``off`` switches every bucket off; ``bucket=off`` one bucket. Buckets not
    named keep their default. Raises ValueError naming the bad part.
    """
    limits: dict[str, BucketLimit | None] = dict(DEFAULT_BREVO_LIMITS)
    text = spec.strip()
    if text.lower() in ("off", "none", "0"):
        return dict.fromkeys(BREVO_BUCKETS)
    for raw in text.split(","):
        part = raw.strip()
        if not part:
            continue
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep or name not in BREVO_BUCKETS:
            raise ValueError(
                f"bad Brevo rate part {part!r}: expected BUCKET=N/s[+N/h] with BUCKET one of "
                + ", ".join(BREVO_BUCKETS)
            )
        if value.strip().lower() in ("off", "none"):
            limits[name] = None
            continue
        per_second: float | None = None
        per_hour: float | None = None
        for piece in value.split("+"):
            m = _RATE_PART.match(piece.strip())
            if not m:
                raise ValueError(f"bad Brevo rate part {part!r}: {piece.strip()!r} is not N/s or N/h")
            if m["unit"] == "s":
                per_second = float(m["value"])
            else:
                per_hour = float(m["value"])
        limits[name] = BucketLimit(per_second=per_second, per_hour=per_hour)
    return limits
