"""What reaches Brevo, over real HTTP against the sandbox in its 2026 contract: never
`POST /contacts/batch` on any path, and every record's outcome matching what Brevo holds."""

from __future__ import annotations

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from connectors.models import Outcome, RunStatus, SyncRecord, SyncRun
from connectors.providers.brevo import BrevoClient
from connectors.services import sync_run_retry_failed
from connectors.sync.engine import sync_single
from mappings.services import catalog_discover
from sandbox.config import SandboxConfig
from sandbox.server import SandboxServer
from tests.sandbox_helpers import connection_for_sandbox, demo_mapping, drive

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def sandbox():
    with SandboxServer(SandboxConfig.fast(contacts=120, seed=5)) as server:
        with BrevoClient(api_url=server.brevo_api_url, api_key=server.brevo_key, allow_private=True) as brevo:
            # PLAN_TIER stays missing in Brevo: its values must come back as warnings, by name.
            for name, kind in (("COMPANY", "text"), ("INDUSTRY", "text"), ("DEAL_VALUE", "float")):
                brevo.create_attribute("normal", name, type=kind)
        yield server


def _stats(sandbox) -> dict:
    return httpx.get(f"{sandbox.base_url}/_sandbox/stats").json()["requests"]


def _run(connection, **kwargs) -> SyncRun:
    return SyncRun.objects.create(
        tenant=connection.tenant,
        connection=connection,
        resources=["contacts"],
        mapping_snapshot=demo_mapping().model_dump(mode="json"),
        **kwargs,
    )


def test_no_path_sends_the_deprecated_batch_update_and_outcomes_match_brevo(sandbox, redis_conn) -> None:
    connection = connection_for_sandbox(sandbox)
    run = drive(_run(connection))
    connection.refresh_from_db()
    run.refresh_from_db()
    counters = run.counters["contacts"]
    # Partial means records failed; written-with-warnings and skipped rows do not.
    assert run.status == (RunStatus.PARTIAL if counters.get("failed") else RunStatus.SUCCEEDED), run.error
    assert counters["created"] > 100 and counters["with_warnings"] > 0

    for record in SyncRecord.objects.filter(run=run, outcome=Outcome.CREATED):
        held = sandbox.brevo.contact_by_email(record.key)
        assert held is not None, record.key
        dropped = {w["field"] for w in record.warnings or []}
        for name, value in (record.sent or {}).get("attributes", {}).items():
            if name not in dropped:
                assert name in held["attributes"], (record.key, name)  # written means held
        assert ("PLAN_TIER" in dropped) == ("PLAN_TIER" in (record.sent or {}).get("attributes", {}))
        assert held["listIds"] and connection.brevo_sync_list_id in held["listIds"]

    # The run page names the warnings and lists Brevo's imports with their report links.
    admin = get_user_model().objects.create_superuser("ops", "ops@example.org", "x" * 20)
    browser = Client()
    browser.force_login(admin)
    page = browser.get(reverse("admin:connectors_syncrun_change", args=[run.pk])).content.decode()
    assert 'id="warning-groups"' in page and "not in Brevo: " in page
    assert 'id="brevo-imports"' in page and str(run.brevo_imports[0]["process_id"]) in page

    # A webhook's single-contact path and a retry of the failed records write the same way.
    catalog_discover(connection=connection)  # with the default mappings (first name -> FIRSTNAME, ...)
    contact_id = SyncRecord.objects.filter(run=run, outcome=Outcome.CREATED).first().source_id
    httpx.post(f"{sandbox.base_url}/_sandbox/ac/contacts/{contact_id}", json={"firstName": "Changed"})
    single = sync_single(connection=connection, resource="contacts", source_id=contact_id)
    last = SyncRun.objects.order_by("-pk").first()
    assert single is not None, (last.status, last.error)
    assert single.outcome == Outcome.UPDATED, single.message
    assert sandbox.brevo.contact_by_email(single.key)["attributes"]["FIRSTNAME"] == "Changed"
    if run.status == RunStatus.PARTIAL:  # a retry needs failed records (else: NothingToRetry)
        drive(sync_run_retry_failed(run=run))

    requests = _stats(sandbox)
    assert not [k for k in requests if k.startswith("POST /v3/contacts/batch")]
    assert requests["POST /v3/contacts/import"]["count"] >= 2


@pytest.mark.parametrize("failure", ["failed", "cancelled"])
def test_a_failed_import_fails_its_records_and_the_run_goes_on(redis_conn, failure) -> None:
    with SandboxServer(SandboxConfig.fast(contacts=120, seed=5)) as sandbox:
        sandbox.brevo.import_failure = failure
        connection = connection_for_sandbox(sandbox)
        run = drive(_run(connection))
    assert run.status == RunStatus.PARTIAL, run.counters
    failed = SyncRecord.objects.filter(run=run, error_code=f"brevo_import_{failure}")
    assert failed.count() > 100
    assert f"ended '{failure}'" in failed.first().message
    assert not SyncRecord.objects.filter(run=run, outcome__in=[Outcome.CREATED, Outcome.UPDATED]).exists()
    assert {p["status"] for p in SyncRun.objects.get(pk=run.pk).brevo_imports} == {failure}
