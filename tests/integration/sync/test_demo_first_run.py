"""The demo's own configuration: its first full backfill tells the truth about every resource."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from connectors.models import Connection, Outcome, RunStatus, SyncRecord, SyncRun
from connectors.selectors import OUTCOMES, not_configured
from sandbox.config import SandboxConfig
from sandbox.server import SandboxServer
from tajo_config import config_import
from tests.sandbox_helpers import drive

pytestmark = pytest.mark.django_db(transaction=True)

DEMO_YAML = Path(__file__).resolve().parents[3] / "docs" / "examples" / "demo.yaml"


@pytest.fixture(scope="module")
def sandbox():
    with SandboxServer(SandboxConfig.fast(contacts=150, seed=21)) as server:
        yield server


def test_first_run_is_partial_only_for_records_that_failed(sandbox, redis_conn) -> None:
    env = {
        **os.environ,
        "AC_API_URL": sandbox.ac_api_url,
        "AC_API_KEY": sandbox.ac_key,
        "BREVO_API_URL": sandbox.brevo_api_url,
        "BREVO_API_KEY": sandbox.brevo_key,
    }
    config_import(
        text=DEMO_YAML.read_text(),
        filename=str(DEMO_YAML),
        tenant_slug="demo-truth",
        create_tenant=True,
        create_missing=True,
        env=env,
    )
    connection = Connection.objects.get(tenant__slug="demo-truth", name="activecampaign")
    connection.ac_account.requests_per_second = 1000.0
    connection.ac_account.save(update_fields=["requests_per_second"])
    run = drive(
        SyncRun.objects.create(
            tenant=connection.tenant, connection=connection, resources=connection.enabled_resources()
        )
    )
    assert run.status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL), run.error

    # Deals ride on contact attributes and automations are left unmapped in the demo: each is
    # one note for the run, not a skipped record per deal or enrolment.
    notes = not_configured(run=run)
    assert "deals" in notes and "attributes" in notes["deals"]
    assert "automations" in notes
    assert not SyncRecord.objects.filter(run=run, error_code__in=["crm_off", "unmapped_automation"]).exists()
    assert not SyncRecord.objects.filter(run=run, resource__in=["deals", "automations"]).exists()

    failed = SyncRecord.objects.filter(run=run, outcome=Outcome.FAILED).count()
    assert run.status == (RunStatus.PARTIAL if failed else RunStatus.SUCCEEDED)
    for resource, counters in run.counters.items():
        assert counters["read"] == sum(counters.get(k, 0) for k in OUTCOMES), resource
    assert run.counters["contacts"].get("created", 0) > 100
