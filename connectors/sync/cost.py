"""What a sync costs, as plain arithmetic: requests per collection and the time they take.

The resources count their own requests with these (`Resource.estimate_requests`) and the run
floor (connectors/sync/estimate.py) turns the counts into seconds at each budget:

    AC seconds      = AC requests ÷ min(the AC account's requests per second, its RateLimit-Limit)
    bucket seconds  = max(n ÷ the bucket's per-second rate, ⌊(n − 1) ÷ hourly budget⌋ × 3600)
    floor           = max(AC seconds, every Brevo bucket's seconds)

Nothing here reads the database or the network, and nothing here imports a resource, so every
resource can import this module without closing an import circle.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from connectors.providers.brevo.client import GENERAL_BUDGETS, MAX_CONTACTS_PAGE
from connectors.sync.base import RequestEstimate
from connectors.sync.brevo_contacts import IMPORT_FLUSH_ROWS

if TYPE_CHECKING:
    from mappings.transforms import MappingSet

AC_PAGE = 100

BUCKET_NAMES = {
    "contacts": "Brevo contacts",
    "events": "Brevo events",
    "orders": "Brevo orders",
    "other": "Brevo CRM/processes (hourly)",
}


# ----------------------------------------------------------------------------- request counting


def pages(rows: float, size: int = AC_PAGE) -> int:
    """Requests to read `rows` rows of a paginated AC collection (an empty one still costs one)."""
    return max(1, math.ceil(rows / size))


def import_lists(mapping: MappingSet) -> int:
    """How many Brevo lists contacts can be imported into (one import per first list)."""
    targets = {rule.brevo_list_id for rule in mapping.lists}
    targets |= {rule.brevo_list_id for rule in mapping.tags if rule.brevo_list_id}
    return len(targets)


def contact_writes(rows: float, *, new: bool = True, lists: int = 0) -> dict[str, float]:
    """Brevo requests per bucket to write `rows` changed contacts with the contacts writer.

    New or known, contacts are imported every `IMPORT_FLUSH_ROWS` (`POST /contacts/import`),
    one import per first list plus one for contacts on no mapped list (they go to the
    connection's list of all synced contacts), then read back with `GET /contacts?modifiedSince`
    (1,000 a page); plus one read of Brevo's attributes per slice. List adds for second lists,
    list removals and blocklist flags depend on the data and are not in a floor; nor are the
    import processes, asked only when a read-back misses rows. `new` is kept for callers: both
    cases cost the same now that no batch update tells new contacts apart.
    """
    del new
    if rows <= 0:
        return {}
    flushes = math.ceil(rows / IMPORT_FLUSH_ROWS)
    imports = min(rows, flushes * (lists + 1))
    read_back = flushes * math.ceil(min(rows, IMPORT_FLUSH_ROWS) / MAX_CONTACTS_PAGE)
    return {"contacts": float(imports + read_back + 1)}


def page_writes(rows: float) -> dict[str, float]:
    """Brevo requests to write `rows` contacts a page of 100 at a time (e-commerce customers,
    custom objects): per page one import and one read-back, plus one attributes read."""
    if rows <= 0:
        return {}
    return {"contacts": float(2 * pages(rows) + 1)}


# ----------------------------------------------------------------------------- the floor


def bucket_seconds(requests: float, per_second: float | None, per_hour: float | None) -> float:
    """Least time `requests` take in one Brevo bucket that is unused when the run starts.

    A moving hourly window lets its whole budget go at once, then one budget per hour.
    """
    if requests <= 0:
        return 0.0
    seconds = requests / per_second if per_second else 0.0
    if per_hour:
        seconds = max(seconds, math.floor((math.ceil(requests) - 1) / per_hour) * 3600.0)
    return seconds


def resource_floor(
    estimate: RequestEstimate,
    *,
    ac_rate: float,
    budgets: Mapping[str, tuple[float | None, float | None]] = GENERAL_BUDGETS,
) -> dict[str, Any]:
    """One resource's floor: the slower of the AC read floor and the Brevo write floor."""
    ac_requests = math.ceil(estimate.ac)
    ac_seconds = ac_requests / ac_rate if ac_rate > 0 else 0.0
    by_bucket = {bucket: math.ceil(n) for bucket, n in sorted(estimate.brevo.items()) if n > 0}
    bucket_secs = {
        bucket: bucket_seconds(n, *budgets.get(bucket, (None, None))) for bucket, n in by_bucket.items()
    }
    slowest = max(bucket_secs, key=lambda b: bucket_secs[b], default=None)
    brevo_seconds = bucket_secs[slowest] if slowest else 0.0
    return {
        "ac_requests": ac_requests,
        "brevo_requests_by_bucket": by_bucket,
        "seconds": max(ac_seconds, brevo_seconds),
        "ac_seconds": ac_seconds,
        "brevo_seconds_by_bucket": bucket_secs,
        "bound_by": "ActiveCampaign"
        if ac_seconds >= brevo_seconds or slowest is None
        else BUCKET_NAMES.get(slowest, f"Brevo {slowest}"),
    }


# ----------------------------------------------------------------------------- for people


def describe_seconds(seconds: float) -> str:
    """'< 1 s', '42 s', '12 min', '3 h 20 min', '2 d 4 h' — for people planning a run."""
    if seconds < 1:
        return "< 1 s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"
