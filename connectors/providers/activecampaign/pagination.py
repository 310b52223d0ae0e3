"""Paging through ActiveCampaign list endpoints.

AC has no cursors or next links (reference §2): `limit` (max 100) and `offset` everywhere, plus
keyset paging by id on `/contacts` (`orders[id]=ASC&id_greater=<last id>`, offset 0), which
stays fast and does not skip rows when contacts are added while we read.

A paginator is a small object: `params()` for the next request, `advance(...)` after a page,
returning whether another page should be read. Both refuse to go round in circles (the same
page or cursor served twice raises PaginationLoop). Rows are parsed one by one so that one bad
row becomes an entry in `page.invalid` instead of failing the page.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from connectors.providers.http.errors import BadResponse, PaginationLoop

PAGE_SIZE = 100  # AC's maximum

T = TypeVar("T", bound=BaseModel)


@dataclass
class Page(Generic[T]):
    """One page of a list endpoint.

    `items`: rows that parsed; `invalid`: (raw row, reason) for rows that did not;
    `total`: `meta.total` when sent; `offset`: position of the page's first row;
    `row_count`: rows AC returned (parsed, invalid, and any filtered out client-side).
    """

    items: list[T]
    invalid: list[tuple[Any, str]] = field(default_factory=list)
    total: int | None = None
    offset: int = 0
    row_count: int = 0

    @property
    def next_offset(self) -> int:
        """Where an offset-paged read resumes after this page (pass it as `offset=`)."""
        return self.offset + self.row_count


@dataclass
class ContactPage(Page[T]):
    """A `/contacts` page: `score_values` is AC's top-level `scoreValues` sideload and `last_id`
    the keyset cursor to resume from (highest contact id on the page, valid or not)."""

    score_values: list = field(default_factory=list)
    last_id: int | None = None
    # Sideloads asked for with `include=` that came back (name -> parsed rows). A name that is
    # missing was not honoured by the server: `include` is undocumented (reference §2.5).
    included: dict[str, list] = field(default_factory=dict)


@dataclass
class FieldPage(Page[T]):
    """A `/fields` page with its `fieldOptions` and `fieldRels` sideloads."""

    options: list = field(default_factory=list)
    relations: list = field(default_factory=list)


@dataclass
class PipelinePage(Page[T]):
    """A `/dealGroups` page with its `dealStages` sideload."""

    stages: list = field(default_factory=list)


def parse_total(meta: Any) -> int | None:
    """`meta.total` as int; AC sends a string on most endpoints, an int on some, or no meta."""
    if not isinstance(meta, dict):
        return None
    total = meta.get("total")
    if isinstance(total, bool):
        return None
    if isinstance(total, int):
        return total
    if isinstance(total, str):
        try:
            return int(total.strip())
        except ValueError:
            return None
    return None


def describe_validation_error(exc: ValidationError) -> str:
    """A short reason naming the offending field(s) and values."""
    parts = []
    for error in exc.errors(include_url=False)[:3]:
        where = ".".join(str(loc) for loc in error["loc"]) or "row"
        if error["type"] == "missing":
            parts.append(f"{where} is missing")
        else:
            parts.append(f"{where}: {error['msg']} (got {error.get('input')!r:.60})")
    return "; ".join(parts)


def parse_rows(rows: Iterable[Any], model: type[T]) -> tuple[list[T], list[tuple[Any, str]]]:
    """Validate rows one by one; a bad row lands in the second list with its reason."""
    items: list[T] = []
    invalid: list[tuple[Any, str]] = []
    validate = model.model_validate
    for raw in rows:
        if not isinstance(raw, dict):
            invalid.append((raw, f"row is not an object (got {type(raw).__name__})"))
            continue
        try:
            items.append(validate(raw))
        except ValidationError as exc:
            invalid.append((raw, describe_validation_error(exc)))
    return items, invalid


class Envelope(BaseModel):
    model_config = ConfigDict(extra="ignore")


@functools.cache
def envelope_model(rows: tuple[tuple[str, type[BaseModel], bool], ...]) -> type[Envelope]:
    """A model of a whole collection response: each (name, row model, required) list, and `meta`.

    An optional list may be absent or null (a sideload the server did not send). Validated
    with `connectors.providers.http.errors.validated_body`.
    """
    fields: dict[str, Any] = {"meta": (dict[str, Any] | None, None)}
    for name, model, required in rows:
        fields[name] = (list[model], ...) if required else (list[model] | None, None)
    return create_model("Envelope", __base__=Envelope, **fields)


def envelope_rows(body: Any, key: str, *, where: str) -> list[Any]:
    """The list under `key` in an AC collection response; BadResponse when it is not there."""
    if not isinstance(body, dict):
        raise BadResponse(
            f"ActiveCampaign answered {where} with {type(body).__name__}, not an object", url=where
        )
    rows = body.get(key)
    if not isinstance(rows, list):
        shown = "nothing" if rows is None else type(rows).__name__
        raise BadResponse(f"ActiveCampaign answered {where} without a '{key}' list (got {shown})", url=where)
    return rows


def sideload(body: dict, key: str) -> list[dict]:
    rows = body.get(key)
    return [row for row in rows if isinstance(row, dict)] if isinstance(rows, list) else []


def _row_key(row: Any) -> Any:
    if isinstance(row, dict):
        return row.get("id", row.get("name", repr(sorted(row.items()))[:200]))
    return repr(row)[:200]


class OffsetPaginator:
    """`limit`/`offset` paging. Stops on a short page, an empty page, or `offset >= total`."""

    def __init__(self, *, limit: int = PAGE_SIZE, offset: int = 0, where: str = "") -> None:
        self.limit = limit
        self.offset = offset
        self.where = where
        self._seen: set[tuple] = set()

    def params(self) -> dict[str, int]:
        return {"limit": self.limit, "offset": self.offset}

    def advance(self, rows: list[Any], total: int | None) -> bool:
        """Move past `rows` (the raw rows of the page just read); True if there is more to read."""
        if not rows:
            return False
        fingerprint = (len(rows), _row_key(rows[0]), _row_key(rows[-1]))
        if fingerprint in self._seen:
            raise PaginationLoop(
                f"ActiveCampaign served the same page twice for {self.where} (offset {self.offset}); "
                "stopped paging to avoid an endless loop",
                url=self.where,
            )
        self._seen.add(fingerprint)
        self.offset += len(rows)
        if len(rows) < self.limit:
            return False
        return total is None or self.offset < total


class KeysetPaginator:
    """Keyset paging by id (`/contacts` only): ascending ids, offset 0, `id_greater` = last id seen."""

    def __init__(self, *, limit: int = PAGE_SIZE, id_greater: int = 0, where: str = "") -> None:
        self.limit = limit
        self.id_greater = id_greater
        self.where = where

    def params(self) -> dict[str, Any]:
        return {"limit": self.limit, "offset": 0, "orders[id]": "ASC", "id_greater": self.id_greater}

    def advance(self, row_count: int, last_id: int | None) -> bool:
        """Move the cursor to `last_id` (highest id on the page); True if there is more to read."""
        if row_count == 0:
            return False
        if last_id is None or last_id <= self.id_greater:
            raise PaginationLoop(
                f"ActiveCampaign returned no id beyond {self.id_greater} for {self.where}; "
                "stopped paging to avoid an endless loop",
                url=self.where,
            )
        self.id_greater = last_id
        return row_count >= self.limit


def max_id(rows: Iterable[Any]) -> int | None:
    """The highest numeric `id` among raw rows (invalid rows included, so the cursor passes them)."""
    best: int | None = None
    for row in rows:
        if not isinstance(row, dict):
            continue
        try:
            value = int(row.get("id"))
        except (TypeError, ValueError):
            continue
        if best is None or value > best:
            best = value
    return best
