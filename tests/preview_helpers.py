"""A connection for preview tests: the demo configuration plus tag and stage mappings, imported from YAML."""

from __future__ import annotations

from pathlib import Path

import yaml

from connectors.models import Connection
from tajo_config import config_import

DEMO_YAML = Path(__file__).resolve().parents[1] / "docs" / "examples" / "demo.yaml"

# The demo maps lists and fields only; the preview must also cover tags and deal stages.
EXTRA_SECTIONS = {
    "tag_mapping": {"vip": "Customers", "churn-risk": {"list": "Main List", "unlink_when_absent": True}},
    "stage_mapping": {
        "Sales/Qualified": "Sales pipeline/Qualified",
        "Sales/Proposal": "Sales pipeline/Proposal",
        "Renewals/Negotiation": "Sales pipeline/Negotiation",
    },
}


def import_demo_connection(sandbox, *, tenant_slug: str, crm_deals: bool = False) -> Connection:
    """docs/examples/demo.yaml (+ tags and stages) imported for `tenant_slug`, pointed at `sandbox`."""
    document = yaml.safe_load(DEMO_YAML.read_text())
    block = document["connectors"]["activecampaign"]
    block.update(EXTRA_SECTIONS)
    if crm_deals:
        block["sync"]["options"] = {"dealsAsCrmObjects": True}
    env = {
        "AC_API_URL": sandbox.ac_api_url,
        "AC_API_KEY": sandbox.ac_key,
        "BREVO_API_URL": sandbox.brevo_api_url,
        "BREVO_API_KEY": sandbox.brevo_key,
    }
    config_import(
        text=yaml.safe_dump(document, sort_keys=False),
        filename="demo-preview.yaml",
        tenant_slug=tenant_slug,
        create_tenant=True,
        create_missing=True,
        env=env,
    )
    connection = Connection.objects.select_related("ac_account", "brevo_account").get(
        tenant__slug=tenant_slug, name="activecampaign"
    )
    # Tests measure behaviour, not pacing: the sandbox does not limit either.
    connection.ac_account.requests_per_second = 1000.0
    connection.ac_account.save(update_fields=["requests_per_second"])
    return connection
