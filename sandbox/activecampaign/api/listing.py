"""Query parameters and pages shared by the AC routes: `limit`/`offset`, `orders[...]`, `filters[...]`,
sideloads (`include=`) and the `meta` block."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from sandbox.activecampaign.api.links import (
    Linker,
)
from sandbox.activecampaign.api.responses import JSONBody
from sandbox.activecampaign.errors import ACError
from sandbox.activecampaign.generator.catalog import Row
from sandbox.activecampaign.state.store import ChildTable

MAX_LIMIT = 100

# ---------------------------------------------------------------------------
# query helpers
# ---------------------------------------------------------------------------


def page_params(request: Request, default: int = 20) -> tuple[int, int]:
    """``limit`` (default 20, at most 100) and ``offset`` (at least 0); junk falls back to defaults."""
    q = request.query_params
    try:
        limit = int(q.get("limit", default))
    except ValueError:
        limit = default
    if limit <= 0:
        limit = default
    limit = min(limit, MAX_LIMIT)
    try:
        offset = max(0, int(q.get("offset", 0)))
    except ValueError:
        offset = 0
    return limit, offset


def take_page(rows: Iterator[Row], limit: int, offset: int) -> tuple[list[Row], int]:
    """Skip ``offset``, keep ``limit``, and count everything for ``meta.total``."""
    page: list[Row] = []
    seen = 0
    for row in rows:
        if offset <= seen < offset + limit:
            page.append(row)
        seen += 1
    return page, seen


def orders_param(request: Request, allowed: Iterable[str]) -> list[tuple[str, bool]]:
    """``orders[field]=ASC|DESC`` in query-string order; returns [(field, descending)]."""
    allowed = set(allowed)
    out = []
    for key, value in request.query_params.multi_items():
        if key.startswith("orders[") and key.endswith("]"):
            name = key[7:-1]
            if name in allowed:
                direction = value.strip().upper()
                if direction not in ("ASC", "DESC", ""):
                    raise ACError(
                        422,
                        {
                            "errors": [
                                {
                                    "title": "Allowed values are ASC, DESC",
                                    "detail": "",
                                    "code": "field_invalid",
                                    "source": {"pointer": f"/data/attributes/orders/{name}"},
                                }
                            ]
                        },
                    )
                out.append((name, direction == "DESC"))
    return out


def filter_param(request: Request, name: str) -> str | None:
    value = request.query_params.get(f"filters[{name}]")
    return value if value not in (None, "") else None


def sort_rows(
    rows: list[Row], orders: list[tuple[str, bool]], keys: dict[str, Callable[[Row], Any]]
) -> list[Row]:
    for name, descending in reversed(orders):
        rows.sort(key=keys[name], reverse=descending)
    return rows


def num(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def listing(
    kind: str,
    link: Linker,
    rows: list[Row],
    total: int,
    *,
    int_total: bool = False,
    meta: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response:
    body: dict[str, Any] = dict(extra or {})
    body[kind] = link.many(kind, rows)
    m = {"total": total if int_total else str(total)}
    m.update(meta or {})
    body["meta"] = m
    return JSONBody(body)


# ---------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------

SIDELOAD_CHILDREN = (
    "contactLists",
    "contactTags",
    "fieldValues",
    "deals",
    "contactAutomations",
    "scoreValues",
)
# dotted include -> (child kind it hangs off, key in the child row, state attribute)
SIDELOAD_CATALOG = {
    "contactLists.list": ("contactLists", "list", "lists"),
    "contactTags.tag": ("contactTags", "tag", "tags"),
    "fieldValues.field": ("fieldValues", "field", "fields"),
}


def include_kinds(raw: str | None) -> list[str]:
    if not raw:
        return []
    out: list[str] = []
    for part in raw.split(","):
        name = part.strip()
        if not name:
            continue
        if "." in name:
            head = name.split(".", 1)[0]
            if head in SIDELOAD_CHILDREN and head not in out:
                out.append(head)
            if name in SIDELOAD_CATALOG:
                out.append(name)
        elif name in SIDELOAD_CHILDREN and name not in out:
            out.append(name)
    return out


def page_input(request: Request, limit: int, offset: int) -> dict[str, Any]:
    q = request.query_params

    def as_int(name: str, default: int) -> int:
        try:
            return int(q.get(name, default))
        except ValueError:
            return default

    return {
        "segmentid": as_int("segmentid", 0),
        "formid": as_int("formid", 0),
        "listid": as_int("listid", 0),
        "tagid": as_int("tagid", 0),
        "limit": limit,
        "offset": offset,
        "search": q.get("search"),
        "sort": None,
        "seriesid": as_int("seriesid", 0),
        "waitid": as_int("waitid", 0),
        "status": as_int("status", -1),
        "forceQuery": as_int("forceQuery", 0),
        "cacheid": hashlib.md5(str(request.url.query).encode(), usedforsecurity=False).hexdigest(),
    }


def plain_page(table: ChildTable, limit: int, offset: int) -> list[Row]:
    """One page of an unfiltered table in id order without walking what comes before."""
    live_generated = table.generated - len(table.deleted)
    if offset < live_generated:
        start = table.start_for_offset(offset)
        out = []
        for row in table.iter_from(start):
            out.append(row)
            if len(out) >= limit:
                break
        return out
    first = offset - live_generated
    return [table.rows[i] for i in table.new_ids[first : first + limit]]


def op_matches(value: str, op: str, arg: str) -> bool:
    a, b = value.lower(), arg.lower()
    return {
        "eq": a == b,
        "neq": a != b,
        "lt": a < b,
        "lte": a <= b,
        "gt": a > b,
        "gte": a >= b,
        "contains": b in a,
        "starts_with": a.startswith(b),
    }.get(op, True)


def public_webhook(row: Row) -> Row:
    return {k: v for k, v in row.items() if k != "state"}
