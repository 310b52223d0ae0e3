"""The floor of a full sync, before it starts: the requests it needs ÷ the budgets they are paced at.

The run's floor is the sum over its resources (a run syncs them one after another). Request
counts come from each resource's `estimate_requests` given `Volumes`: the discovered catalog's
counts plus AC record totals, read with one `limit=1` request per collection the connection's
resources would page through. The arithmetic is in connectors/sync/cost.py (formulas there and
in docs/write-strategy.md §10). Nothing is written anywhere but the cache the admin reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from connectors.exceptions import ApiError
from connectors.providers.brevo.client import GENERAL_BUDGETS
from connectors.sync.base import Volumes
from connectors.sync.contact_plan import contact_needs
from connectors.sync.cost import resource_floor
from connectors.sync.custom_objects import schema_rules

if TYPE_CHECKING:
    from connectors.models import Connection
    from connectors.providers.activecampaign.client import ActiveCampaignClient, Collection
    from mappings.transforms import MappingSet


# ----------------------------------------------------------------------------- AC record totals


# key -> (collection, the arguments of `ActiveCampaignClient.count` that narrow it)
Probes = dict[str, tuple["Collection", dict[str, Any]]]


def record_probes(connection: Connection, mapping: MappingSet) -> Probes:
    """The AC collections a full backfill of `connection` pages through, by Volumes key."""
    needs = contact_needs(connection, mapping)
    probes: Probes = {"contacts": ("contacts", {})}
    if connection.sync_contacts:
        for field_id in needs["field_ids"]:
            probes[f"fieldValues:{field_id}"] = ("fieldValues", {"field_id": field_id})
        if needs["tags"]:
            probes["contactTags"] = ("contactTags", {})
        if needs["lists"]:
            probes["contactLists"] = ("contactLists", {})
    if connection.sync_deals or (connection.sync_contacts and needs["deals"]):
        probes["deals"] = ("deals", {})
    if connection.sync_automations:
        probes["contactAutomations"] = ("contactAutomations", {})
    if connection.sync_ecommerce:
        probes["ecomCustomers"] = ("ecomCustomers", {})
        probes["ecomOrders"] = ("ecomOrders", {})
        probes["ecomOrderProducts"] = ("ecomOrderProducts", {})
    if connection.sync_custom_objects:
        for schema_id in schema_rules(mapping):
            probes[f"customObjectRecords:{schema_id}"] = ("customObjectRecords", {"schema_id": schema_id})
    return probes


def record_totals(ac: ActiveCampaignClient, probes: Probes) -> tuple[dict[str, int], dict[str, str]]:
    """Totals of each collection (one `limit=1` request each) and why some could not be read."""
    totals: dict[str, int] = {}
    unknown: dict[str, str] = {}
    for key, (collection, narrowed) in probes.items():
        try:
            total = ac.count(collection, **narrowed)
        except ApiError as exc:
            unknown[key] = exc.operator_message
            continue
        if total is None:
            unknown[key] = "ActiveCampaign did not say how many there are"
        else:
            totals[key] = total
    return totals, unknown


# ----------------------------------------------------------------------------- the floor


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
    from connectors.clients import ac_client_for
    from connectors.sync.registry import get_resource, resolve_resources
    from mappings.selectors import catalog_for, mapping_snapshot

    if mapping is None:
        mapping = mapping_snapshot(connection=connection)
    unknown: dict[str, str] = {}
    with ac_client_for(connection) as ac:
        if totals is None:
            totals, unknown = record_totals(ac, record_probes(connection, mapping))
        # A run is paced at the account's setting lowered to the `RateLimit-Limit` ActiveCampaign
        # announces (what this process has seen, the totals' answers included), so its floor is too.
        rate = float(ac.pace or 0.0)
    catalog = catalog_for(connection)
    volumes = Volumes(
        connection=connection,
        mapping=mapping,
        totals=dict(totals),
        counts=dict(catalog.counts or {}) if catalog is not None else {},
    )
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
