"""The run floor: request counts per resource from volumes, and the time they take at each budget."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from connectors.providers.brevo.client import GENERAL_BUDGETS
from connectors.sync.base import RequestEstimate, Volumes
from connectors.sync.cost import (
    bucket_seconds,
    contact_writes,
    describe_seconds,
    import_lists,
    pages,
    resource_floor,
)
from connectors.sync.registry import get_resource
from mappings.transforms import AutomationRule, EventRule, FieldRule, ListRule, MappingSet, TagRule


def _connection(**overrides) -> SimpleNamespace:
    values = {
        "include_custom_fields": True,
        "include_tags": True,
        "include_list_memberships": True,
        "include_scores": True,
        "deals_as_crm_objects": False,
    }
    return SimpleNamespace(**{**values, **overrides})


MAPPING = MappingSet(
    fields=(
        FieldRule(source="first_name", attribute="FIRSTNAME"),
        FieldRule(source="field", ac_field_id=1, attribute="COMPANY"),
        FieldRule(source="field", ac_field_id=3, attribute="PLAN_TIER"),
        FieldRule(source="deal.stage", attribute="DEAL_STAGE"),
    ),
    lists=(ListRule(ac_list_id=1, brevo_list_id=50), ListRule(ac_list_id=2, brevo_list_id=51)),
    tags=(TagRule(ac_tag_id=1, brevo_list_id=52),),
    automations=(AutomationRule(ac_automation_id=1, brevo_event_entered="welcome_started"),),
    events=(EventRule(ac_event_name="trial_started", brevo_event_name="trial_started"),),
)
TOTALS = {
    "contacts": 100_000,
    "fieldValues:1": 60_000,
    "fieldValues:3": 40_050,
    "contactTags": 150_000,
    "contactLists": 149_901,
    "deals": 50_000,
    "contactAutomations": 10_000,
    "ecomCustomers": 2_000,
    "ecomOrders": 2_500,
    "ecomOrderProducts": 4_000,
}


def _volumes(mapping: MappingSet = MAPPING, **connection) -> Volumes:
    return Volumes(
        connection=_connection(**connection),
        mapping=mapping,
        totals=dict(TOTALS),
        counts={"ac.automation": 4, "brevo.list": 120},
    )


def test_pages_cost_at_least_one_request() -> None:
    assert [pages(0), pages(1), pages(100), pages(101), pages(120, size=50)] == [1, 1, 1, 2, 3]


def test_hourly_bucket_lets_its_budget_go_at_once_then_one_budget_an_hour() -> None:
    per_second, per_hour = GENERAL_BUDGETS["other"]
    assert bucket_seconds(0, per_second, per_hour) == 0
    assert bucket_seconds(100, per_second, per_hour) == 0
    assert bucket_seconds(101, per_second, per_hour) == 3600
    assert bucket_seconds(1000, per_second, per_hour) == 9 * 3600
    # The contacts bucket is bound by its per-second rate long before its hourly budget.
    assert bucket_seconds(500, *GENERAL_BUDGETS["contacts"]) == 50


def test_resource_floor_is_the_slower_side() -> None:
    floor = resource_floor(RequestEstimate(ac=6000, brevo={"contacts": 400}), ac_rate=5)
    assert floor["ac_requests"] == 6000 and floor["seconds"] == 1200 and floor["bound_by"] == "ActiveCampaign"
    assert floor["brevo_requests_by_bucket"] == {"contacts": 400}
    crm = resource_floor(RequestEstimate(ac=20, brevo={"other": 1000, "contacts": 1000}), ac_rate=5)
    assert crm["seconds"] == 9 * 3600 and crm["bound_by"].startswith("Brevo CRM")
    assert resource_floor(RequestEstimate(), ac_rate=5)["seconds"] == 0


def test_contact_writes() -> None:
    assert contact_writes(0, new=True, lists=3) == {}
    # One import (into the list of all synced contacts), one read-back page, the attributes.
    assert contact_writes(1000, new=False) == {"contacts": 3}
    assert contact_writes(1000, new=True, lists=0) == {"contacts": 3}
    # 6 rounds of 2,000: an import per first list and one for no list, 2 read-back pages each.
    assert contact_writes(12_000, new=True, lists=4) == {"contacts": 6 * 5 + 6 * 2 + 1}
    assert import_lists(MAPPING) == 3 and import_lists(MappingSet()) == 0


def test_contacts_read_each_association_in_bulk() -> None:
    estimate = get_resource("contacts").estimate_requests(_volumes())
    # contact pages carry fields, tags and lists (`include=`); deals are staged: 100 rows a request
    assert estimate.ac == 1000 + 500
    assert estimate.brevo == contact_writes(100_000, new=True, lists=3)
    without_deals = MappingSet(
        fields=tuple(r for r in MAPPING.fields if not r.source.startswith("deal.")), lists=MAPPING.lists
    )
    assert get_resource("contacts").estimate_requests(_volumes(mapping=without_deals)).ac == 1000


def test_deals_cost_brevo_only_as_crm_objects() -> None:
    assert get_resource("deals").estimate_requests(_volumes()) == RequestEstimate(ac=500)
    crm = get_resource("deals").estimate_requests(_volumes(deals_as_crm_objects=True))
    assert crm.ac == 1000 and crm.brevo == {"contacts": 50_000, "other": 50_000}


def test_other_resources() -> None:
    automations = get_resource("automations").estimate_requests(_volumes())
    assert automations.ac == 100 + 25 and automations.brevo == {"events": 2500}  # 1 of 4 automations
    events = get_resource("events").estimate_requests(_volumes())
    assert events.ac == 1000 + 100_000 and events.brevo == {}
    assert get_resource("events").estimate_requests(_volumes(MappingSet())) == RequestEstimate()
    ecommerce = get_resource("ecommerce").estimate_requests(_volumes())
    assert ecommerce.ac == 20 + 40 + 25 and ecommerce.brevo == {"contacts": 2 * 20 + 1, "other": 3}
    assert get_resource("lists").estimate_requests(_volumes()).brevo == {"contacts": 3}
    assert get_resource("custom_objects").estimate_requests(_volumes()) == RequestEstimate()


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.2, "< 1 s"),
        (42, "42 s"),
        (61, "2 min"),
        (3600, "1 h"),
        (12_000, "3 h 20 min"),
        (183_600, "2 d 3 h"),
    ],
)
def test_describe_seconds(seconds: float, text: str) -> None:
    assert describe_seconds(seconds) == text
