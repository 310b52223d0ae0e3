"""An in-memory view of a discovered catalog: look items up by side, kind and id.

Validation, the admin's dropdowns and the YAML importer all read the catalog through this
index, so it works the same on rows loaded from the database and on a discovery that has not
been stored yet. Pure: no database, no HTTP.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

AC = "ac"
BREVO = "brevo"


@dataclass(frozen=True)
class Entry:
    """One catalog item. `missing_since` is set once a later discovery stopped finding it."""

    side: str
    kind: str
    external_id: str
    label: str = ""
    parent_id: str = ""
    data_type: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    missing_since: datetime | None = None

    @property
    def present(self) -> bool:
        return self.missing_since is None

    def describe(self) -> str:
        """'custom field 3 "Plan tier"' — for messages."""
        noun = KIND_NOUNS.get(self.kind, self.kind)
        return f'{noun} {self.external_id} "{self.label}"' if self.label else f"{noun} {self.external_id}"


KIND_NOUNS = {
    "field": "custom field",
    "list": "list",
    "tag": "tag",
    "pipeline": "pipeline",
    "stage": "stage",
    "user": "user",
    "automation": "automation",
    "score": "score",
    "custom_object": "custom object",
    "custom_object_field": "custom object field",
    "event": "event",
    "attribute": "attribute",
    "folder": "folder",
}


def normalize_label(text: str) -> str:
    """'Plan tier' and 'plan_tier' and 'PLAN-TIER' all become 'plan_tier'."""
    return re.sub(r"[^0-9a-z]+", "_", text.strip().lower()).strip("_")


class CatalogIndex:
    """Lookup tables over catalog entries."""

    def __init__(
        self,
        entries: Iterable[Entry],
        *,
        discovered_at: datetime | None = None,
        errors: dict[str, str] | None = None,
    ) -> None:
        self.discovered_at = discovered_at
        self.errors = dict(errors or {})
        self._by_key: dict[tuple[str, str, str, str], Entry] = {}
        self._by_id: dict[tuple[str, str, str], list[Entry]] = {}
        self._by_kind: dict[tuple[str, str], list[Entry]] = {}
        for entry in entries:
            self.add(entry)

    def add(self, entry: Entry) -> None:
        self._by_key[(entry.side, entry.kind, entry.parent_id, entry.external_id)] = entry
        self._by_id.setdefault((entry.side, entry.kind, entry.external_id), []).append(entry)
        self._by_kind.setdefault((entry.side, entry.kind), []).append(entry)

    def __len__(self) -> int:
        return len(self._by_key)

    def get(self, side: str, kind: str, external_id: object, parent_id: object | None = None) -> Entry | None:
        """The entry with this id (and parent, when given), present or missing; None if never seen."""
        ident = str(external_id)
        if parent_id is not None:
            return self._by_key.get((side, kind, str(parent_id), ident))
        found = self._by_id.get((side, kind, ident))
        if not found:
            return None
        # Prefer a present entry when an id was seen under several parents.
        return next((entry for entry in found if entry.present), found[0])

    def items(self, side: str, kind: str, *, include_missing: bool = False) -> list[Entry]:
        rows = self._by_kind.get((side, kind), [])
        return list(rows) if include_missing else [row for row in rows if row.present]

    def children(self, side: str, kind: str, parent_id: object) -> list[Entry]:
        return [row for row in self.items(side, kind) if row.parent_id == str(parent_id)]

    def find(self, side: str, kind: str, text: str, *, keys: tuple[str, ...] = ()) -> list[Entry]:
        """Present entries whose label (or one of `extra[keys]`) names `text`.

        Matching runs in rounds — exact id, then the extra keys and label ignoring case, then
        labels normalised ('Plan tier' = 'plan_tier') — and stops at the first round with a hit,
        so an exact name is never made ambiguous by a looser one. Several hits in that round
        mean the name is ambiguous; the caller reports them all.
        """
        rows = self.items(side, kind)
        wanted = str(text).strip()
        if not wanted:
            return []
        exact = [row for row in rows if row.external_id == wanted]
        if exact:
            return exact
        lowered = wanted.lower()
        by_name = [
            row
            for row in rows
            if row.label.strip().lower() == lowered
            or any(str(row.extra.get(key) or "").strip().lower() == lowered for key in keys)
        ]
        if by_name:
            return by_name
        normal = normalize_label(wanted)
        if not normal:
            return []
        return [
            row
            for row in rows
            if normalize_label(row.label) == normal
            or any(normalize_label(str(row.extra.get(key) or "")) == normal for key in keys)
        ]


def choose_contact_score(key: str, scores: list[Entry]) -> Entry | None:
    """Which AC contact score `score` or `rating` means.

    AC's v3 API has no contact "rating" value (only `rating_tstamp`, reference §3.2), so the
    engagement rating is read from the contact score whose name contains "engagement" (scores
    are defined by `GET /scores` and valued by `scoreValues`, reference §7). `score` is the
    contact score whose name contains "lead", else one named "score", else, when the account
    has several, the first by id that is not the engagement score.
    """
    ordered = sorted(scores, key=lambda e: (int(e.external_id) if e.external_id.isdigit() else 0, e.label))
    engagement = [e for e in ordered if "engagement" in e.label.lower()]
    if key == "rating":
        return engagement[0] if engagement else None
    for test in (lambda e: "lead" in e.label.lower(), lambda e: e.label.strip().lower() == "score"):
        hits = [e for e in ordered if test(e)]
        if hits:
            return hits[0]
    others = [e for e in ordered if e not in engagement]
    return (others or ordered or [None])[0]
