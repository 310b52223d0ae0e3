"""Wiring Tajo objects to a running sandbox, and driving runs without an RQ worker."""

from __future__ import annotations

from connectors.models import ActiveCampaignAccount, BrevoAccount, Connection, SyncRun
from mappings.transforms import FieldRule, ListRule, MappingSet, TagRule, Transform
from tenants.models import Tenant
from tests.factories import TenantFactory


def connection_for_sandbox(sandbox, *, tenant: Tenant | None = None, **options) -> Connection:
    tenant = tenant or TenantFactory()
    ac = ActiveCampaignAccount.objects.create(
        tenant=tenant,
        name="sandbox AC",
        api_url=sandbox.ac_api_url,
        api_key=sandbox.ac_key,
        requests_per_second=options.pop("ac_rate", 1000.0),
    )
    # Unpaced unless a test is about pacing: the sandbox's own limits (off in fast mode) apply.
    brevo = BrevoAccount.objects.create(
        tenant=tenant,
        name="sandbox Brevo",
        api_url=sandbox.brevo_api_url,
        api_key=sandbox.brevo_key,
        budget=options.pop("brevo_budget", "unpaced"),
    )
    return Connection.objects.create(tenant=tenant, ac_account=ac, brevo_account=brevo, **options)


def demo_mapping(**overrides) -> MappingSet:
    """The connector documentation's mapping on the sandbox's default account."""
    fields = [
        FieldRule(source="first_name", attribute="FIRSTNAME"),
        FieldRule(source="last_name", attribute="LASTNAME"),
        FieldRule(source="phone", attribute="SMS", transform=Transform.PHONE),
        FieldRule(source="field", ac_field_id=1, attribute="COMPANY"),
        FieldRule(source="field", ac_field_id=2, attribute="INDUSTRY"),
        FieldRule(source="field", ac_field_id=3, attribute="PLAN_TIER"),
        FieldRule(
            source="deal.value", attribute="DEAL_VALUE", transform=Transform.NUMBER, attribute_type="float"
        ),
        FieldRule(source="deal.stage", attribute="DEAL_STAGE"),
        FieldRule(source="deal.owner", attribute="DEAL_OWNER"),
    ]
    values = {
        "default_country": "US",
        "fields": fields,
        "lists": [
            ListRule(ac_list_id=1, brevo_list_id=50),
            ListRule(ac_list_id=2, brevo_list_id=51),
            ListRule(ac_list_id=3, brevo_list_id=52),
        ],
        "tags": [TagRule(ac_tag_id=1, brevo_list_id=52)],
    }
    values.update(overrides)
    return MappingSet(**values)


def drive(run: SyncRun, *, slice_seconds: float = 30.0, max_slices: int = 500) -> SyncRun:
    """Execute a run's slices in this process until it finishes."""
    from connectors.sync.engine import execute_slice

    for _ in range(max_slices):
        if execute_slice(run.pk, slice_seconds=slice_seconds) == "finished":
            break
    run.refresh_from_db()
    return run
