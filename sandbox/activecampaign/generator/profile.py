"""`GeneratorProfile`: fixed per-contact counts instead of the realistic spread."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from sandbox.activecampaign.generator.catalog import (
    AUTOMATIONS,
    CONTACT_SCORES,
    CONTACT_TAGS,
    FIELDS,
    LISTS,
)


@dataclass(frozen=True)
class GeneratorProfile:
    """Fixed per-contact counts for benchmarks; None keeps the realistic random spread.

    ``GeneratorProfile.parse("fields=5,tags=3,lists=2")`` gives every contact
    exactly 5 custom field values, 3 tags and 2 list memberships.
    """

    fields: int | None = None
    tags: int | None = None
    lists: int | None = None
    scores: int | None = None
    automations: int | None = None
    events: int | None = None
    deals: int | None = None
    orders: int | None = None
    products: int | None = None  # per order
    records: int | None = None
    mess: float = 0.08  # share of contacts carrying a data problem

    _MAX = {
        "fields": len(FIELDS),
        "tags": len(CONTACT_TAGS),
        "lists": len(LISTS),
        "scores": len(CONTACT_SCORES),
        "automations": len(AUTOMATIONS),
        "events": 20,
        "deals": 20,
        "orders": 20,
        "products": 20,
        "records": 5,
    }

    def __post_init__(self) -> None:
        for name, cap in self._MAX.items():
            value = getattr(self, name)
            if value is not None and not 0 <= value <= cap:
                raise ValueError(f"profile {name} must be between 0 and {cap}, not {value}")
        if not 0.0 <= self.mess <= 1.0:
            raise ValueError(f"profile mess must be between 0 and 1, not {self.mess}")

    @classmethod
    def parse(cls, spec: str | None) -> GeneratorProfile:
        """Parse ``fields=5,tags=3,lists=2,mess=0``; raise ValueError naming the bad part."""
        if not spec or not spec.strip():
            return cls()
        names = {f.name for f in fields(cls)}
        values: dict[str, Any] = {}
        for raw in spec.split(","):
            part = raw.strip()
            if not part:
                continue
            name, sep, value = part.partition("=")
            name = name.strip()
            if not sep or name not in names:
                raise ValueError(f"bad profile part {part!r}: expected one of {', '.join(sorted(names))}=N")
            try:
                values[name] = float(value) if name == "mess" else int(value)
            except ValueError:
                raise ValueError(f"bad profile part {part!r}: not a number") from None
        return cls(**values)

    def __str__(self) -> str:
        parts = [
            f"{f.name}={getattr(self, f.name)}"
            for f in fields(self)
            if f.name != "mess" and getattr(self, f.name) is not None
        ]
        return ",".join([*parts, f"mess={self.mess:g}"])
