"""Small value makers of the generator: record UUIDs, ASCII folding, phones, custom field values."""

from __future__ import annotations

import random
import re
import unicodedata
import uuid
from functools import lru_cache

from sandbox.activecampaign.generator.catalog import (
    EPOCH_END,
    EPOCH_START,
)
from sandbox.activecampaign.generator.pools import (
    CITIES,
    COMPANIES,
    LONG_NOTE,
)
from sandbox.clock import AccountClock

DIGITS = re.compile(r"\d+")


def record_uuid(random_bits: int, seq: int) -> str:
    """A v4-looking UUID whose last 12 hex digits are the record's sequence number (cheap lookup)."""
    return str(uuid.UUID(int=(random_bits >> 48 << 48) | seq, version=4))


@lru_cache(maxsize=1024)
def ascii_fold(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    cleaned = "".join(ch for ch in folded if ch.isalnum())
    return cleaned or "contact"


def random_phone(rng: random.Random) -> str:
    # Numbers come from spaces large enough that two contacts rarely share one by chance (real
    # accounts mostly don't); deliberate shared and local numbers are part of the "mess" kinds.
    kind = rng.random()
    if kind < 0.15:
        return ""
    if kind < 0.7:
        return f"+1{rng.choice(('512', '415', '617', '303', '206'))}{rng.randint(2000000, 9999999)}"
    if kind < 0.85:
        return f"+44 7{rng.randint(100, 999)} {rng.randint(100000, 999999)}"
    return f"+33 6 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}"


def random_field_value(
    rng: random.Random, ftype: str, options: tuple[str, ...], clock: AccountClock, *, long: bool
) -> str | None:
    if rng.random() < 0.04:
        return rng.choice(("", None))
    if ftype == "text":
        return rng.choice(COMPANIES + CITIES)
    if ftype == "textarea":
        return (
            LONG_NOTE * 3
            if long or rng.random() < 0.05
            else rng.choice(("Prefers email", "VIP since 2021", ""))
        )
    if ftype == "date":
        return f"{rng.randint(1950, 2005)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    if ftype == "datetime":
        return clock.iso(EPOCH_START + (EPOCH_END - EPOCH_START) * rng.random())
    if ftype in ("dropdown", "radio"):
        return rng.choice(options)
    if ftype in ("listbox", "checkbox"):
        picked = sorted(rng.sample(options, rng.randint(1, len(options))), key=options.index)
        return "||" + "||".join(picked) + "||"
    if ftype == "hidden":
        return f"crm-{rng.randint(0, 999999):06d}"
    if ftype == "number":
        return str(rng.choice((rng.randint(0, 40), round(rng.random() * 100, 2))))
    return ""
