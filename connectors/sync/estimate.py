"""The floor of a full sync, before it starts: the requests it needs ÷ the budgets they are paced at.

Per resource (docs/write-strategy.md §10):

    AC seconds      = AC requests ÷ the AC account's requests per second
    bucket seconds  = max(n ÷ the bucket's per-second rate, ⌊(n − 1) ÷ hourly budget⌋ × 3600)
    floor           = max(AC seconds, every Brevo bucket's seconds)

The run's floor is the sum over its resources (a run syncs them one after another). Request
counts come from each resource's `estimate_requests` given `Volumes`: the discovered catalog's
counts plus AC record totals, read with one `limit=1` request per collection the connection's
resources would page through. Nothing is written anywhere.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from connectors.exceptions import ApiError
from connectors.providers.activecampaign.pagination import parse_total
from connectors.providers.brevo.client import GENERAL_BUDGETS, MAX_CONTACTS_PAGE
from connectors.sync.base import RequestEstimate, Volumes
from connectors.sync.brevo_contacts import IMPORT_FLUSH_ROWS

if TYPE_CHECKING:
    from connectors.models import Connection
    from connectors.providers.activecampaign.client import ActiveCampaignClient
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


# ----------------------------------------------------------------------------- AC record totals


def record_probes(connection: Connection, mapping: MappingSet) -> dict[str, tuple[str, dict[str, Any]]]:
    """The AC collections a full backfill of `connection` pages through: key -> (path, filters)."""
    from connectors.sync.contacts import contact_needs
    from connectors.sync.custom_objects import schema_rules

    needs = contact_needs(connection, mapping)
    probes: dict[str, tuple[str, dict[str, Any]]] = {"contacts": ("/contacts", {})}
    if connection.sync_contacts:
        for field_id in needs["field_ids"]:
            probes[f"fieldValues:{field_id}"] = ("/fieldValues", {"filters[fieldid]": field_id})
        if needs["tags"]:
            probes["contactTags"] = ("/contactTags", {})
        if needs["lists"]:
            probes["contactLists"] = ("/contactLists", {})
    if connection.sync_deals or (connection.sync_contacts and needs["deals"]):
        probes["deals"] = ("/deals", {})
    if connection.sync_automations:
        probes["contactAutomations"] = ("/contactAutomations", {})
    if connection.sync_ecommerce:
        for key in ("ecomCustomers", "ecomOrders", "ecomOrderProducts"):
            probes[key] = (f"/{key}", {})
    if connection.sync_custom_objects:
        for schema_id in schema_rules(mapping):
            probes[f"customObjectRecords:{schema_id}"] = (
                f"/customObjects/records/{quote(schema_id, safe='')}",
                {},
            )
    return probes


def record_totals(
    ac: ActiveCampaignClient, probes: Mapping[str, tuple[str, dict[str, Any]]]
) -> tuple[dict[str, int], dict[str, str]]:
    """Totals of each collection (one `limit=1` request each) and why some could not be read."""
    totals: dict[str, int] = {}
    unknown: dict[str, str] = {}
    for key, (path, params) in probes.items():
        try:
            body = ac.get(path, {**params, "limit": 1})
        except ApiError as exc:
            unknown[key] = exc.operator_message
            continue
        total = parse_total(body.get("meta")) if isinstance(body, dict) else None
        if total is None:
            unknown[key] = "ActiveCampaign did not say how many there are"
        else:
            totals[key] = total
    return totals, unknown


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


@dataclass
class Floor:
    """A connection's run floor: per resource, in total, and the totals it was computed from."""

    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)
    unknown: dict[str, str] = field(default_factory=dict)
    ac_rate: float = 0.0

    @property
    def seconds(self) -> float:
        return sum(item["seconds"] for item in self.resources.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "resources": self.resources,
            "totals": self.totals,
            "unknown": self.unknown,
            "ac_rate": self.ac_rate,
            "seconds": self.seconds,
        }


def floor_estimate(
    connection: Connection,
    *,
    mapping: MappingSet | None = None,
    totals: Mapping[str, int] | None = None,
    budgets: Mapping[str, tuple[float | None, float | None]] = GENERAL_BUDGETS,
) -> Floor:
    """The floor of a full backfill of `connection`'s enabled resources.

    Raises MappingInvalid when the mapping cannot be used (a run would fail the same way).
    Without `totals`, reads them from ActiveCampaign (one small request per collection).
    """
    from connectors.services import ac_client_for
    from connectors.sync.registry import get_resource, resolve_resources
    from mappings import services as mapping_services
    from mappings.selectors import catalog_for

    if mapping is None:
        mapping = mapping_services.mapping_snapshot(connection=connection)
    unknown: dict[str, str] = {}
    if totals is None:
        with ac_client_for(connection) as ac:
            totals, unknown = record_totals(ac, record_probes(connection, mapping))
    catalog = catalog_for(connection)
    volumes = Volumes(
        connection=connection,
        mapping=mapping,
        totals=dict(totals),
        counts=dict(catalog.counts or {}) if catalog is not None else {},
    )
    rate = float(connection.ac_account.requests_per_second)
    floor = Floor(totals=dict(totals), unknown=unknown, ac_rate=rate)
    for name in resolve_resources(connection.enabled_resources()):
        estimate = get_resource(name).estimate_requests(volumes)
        floor.resources[name] = resource_floor(estimate, ac_rate=rate, budgets=budgets)
    return floor


def run_floor(connection: Connection, **kwargs: Any) -> dict[str, dict[str, Any]]:
    """{resource: {"ac_requests", "brevo_requests_by_bucket", "seconds", ...}} for a full backfill."""
    return floor_estimate(connection, **kwargs).resources


# ----------------------------------------------------------------------------- for the admin

CACHE_SECONDS = 3600  # totals change slowly; the page says when they were read


def _cache_key(connection: Connection) -> str:
    return f"tajo:run-floor:{connection.pk}"


def floor_remember(connection: Connection, floor: Floor) -> dict[str, Any]:
    """Keep a computed floor for the connection page (read-only data, no secrets)."""
    from django.core.cache import cache
    from django.utils import timezone

    stored = {**floor.as_dict(), "computed_at": timezone.now().isoformat()}
    cache.set(_cache_key(connection), stored, CACHE_SECONDS)
    return stored


def floor_recalled(connection: Connection) -> dict[str, Any] | None:
    """The floor last computed for this connection by this deployment, if still kept."""
    from django.core.cache import cache

    return cache.get(_cache_key(connection))


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
