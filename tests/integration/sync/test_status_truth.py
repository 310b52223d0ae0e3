"""`status` against a real backfill over the sandbox: numbers are what Brevo holds, `connected` is true."""

from __future__ import annotations

import httpx
import pytest

from connectors.api.selectors import connection_status
from connectors.models import ContactIdentity, Outcome, RecordState, RunStatus, SyncRecord, SyncRun
from connectors.services import connection_test
from sandbox.config import SandboxConfig
from sandbox.server import SandboxServer
from tests.sandbox_helpers import connection_for_sandbox, demo_mapping, drive

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def sandbox():
    with SandboxServer(SandboxConfig.fast(contacts=120, seed=11)) as server:
        yield server


def _run(connection, resources=("contacts",)) -> SyncRun:
    return SyncRun.objects.create(
        tenant=connection.tenant,
        connection=connection,
        resources=list(resources),
        mapping_snapshot=demo_mapping().model_dump(mode="json"),
    )


def test_contacts_and_deals_are_counted_once_as_brevo_holds_them(sandbox, redis_conn) -> None:
    connection = connection_for_sandbox(sandbox)
    run = drive(_run(connection))
    assert run.status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL), run.error
    first = connection_status(connection=connection)

    written = set(
        SyncRecord.objects.filter(run=run)
        .filter(outcome__in=[Outcome.CREATED, Outcome.UPDATED])
        .values_list("source_id", flat=True)
    ) | set(
        SyncRecord.objects.filter(run=run, error_code="field_rejected").values_list("source_id", flat=True)
    )
    assert first["contacts_migrated"] == len(written) > 0
    # Every counted contact's address is in Brevo.
    emails = ContactIdentity.objects.filter(connection=connection, source_id__in=written).values_list(
        "email", flat=True
    )
    for email in list(emails)[:20]:
        response = httpx.get(f"{sandbox.base_url}/_sandbox/brevo/contacts", params={"email": email})
        assert response.status_code == 200, email

    carried = {
        str(d)
        for d in ContactIdentity.objects.filter(connection=connection, source_id__in=written)
        .exclude(deal_id="")
        .values_list("deal_id", flat=True)
    }
    assert first["deals_synced"] == len(carried) > 0  # deals carried as contact attributes

    # Writing the same contacts again (forced updates) does not make more contacts or deals.
    RecordState.objects.filter(connection=connection, resource="contacts").update(content_hash="stale")
    again = drive(_run(connection))
    assert again.counters["contacts"].get("updated", 0) > 0
    second = connection_status(connection=connection)
    assert (second["contacts_migrated"], second["deals_synced"]) == (
        first["contacts_migrated"],
        first["deals_synced"],
    )


def test_connected_follows_the_test_and_a_key_refused_during_a_run(sandbox, redis_conn) -> None:
    connection = connection_for_sandbox(sandbox)
    assert connection_status(connection=connection)["connected"] is False  # never tested
    results = connection_test(connection=connection)
    assert connection_status(connection=connection)["connected"] is all(r.ok for r in results)
    connection.record_check(ok=True)
    assert connection_status(connection=connection)["connected"] is True

    account = connection.ac_account
    account.api_key = "not-the-key"
    account.save()
    run = drive(_run(connection))
    assert run.status == RunStatus.FAILED
    connection.refresh_from_db()
    assert connection_status(connection=connection)["connected"] is False
    assert connection.last_check_message.startswith("refused during a sync:")
