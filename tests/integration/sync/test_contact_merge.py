"""Duplicate addresses over real HTTP and PostgreSQL: within a unit, across units, slices and runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from connectors.models import ContactIdentity, Outcome, RunStatus, SyncRecord, SyncRun
from connectors.sync.contacts import ContactsResource
from connectors.sync.engine import _context
from mappings.records import SourceContact
from mappings.transforms import FieldRule, ListRule, MappingSet
from sandbox.config import SandboxConfig
from sandbox.server import SandboxServer
from tests.sandbox_helpers import connection_for_sandbox

pytestmark = pytest.mark.django_db(transaction=True)

T0 = datetime(2023, 3, 1, tzinfo=UTC)
ACTIVE, UNSUBSCRIBED, BOUNCED = 1, 2, 3
MAPPING = MappingSet(
    fields=(FieldRule(source="first_name", attribute="FIRSTNAME"),),
    lists=(ListRule(ac_list_id=1, brevo_list_id=50), ListRule(ac_list_id=2, brevo_list_id=51)),
)


@pytest.fixture(scope="module")
def sandbox():
    with SandboxServer(SandboxConfig.fast(contacts=5, seed=3)) as server:
        yield server


def _contact(ac_id: int, email: str, days: int, lists: dict[int, int]) -> SourceContact:
    return SourceContact(
        ac_id=ac_id, email=email, first_name=f"v{ac_id}", udate=T0 + timedelta(days=days), lists=lists
    )


class Slices:
    """Runs and slices driven by hand: each `slice()` is a fresh resource, as in a new RQ job."""

    def __init__(self, connection) -> None:
        self.connection = connection
        self.run: SyncRun | None = None

    def new_run(self) -> SyncRun:
        if self.run is not None:
            SyncRun.objects.filter(pk=self.run.pk).update(status=RunStatus.SUCCEEDED)
        self.run = SyncRun.objects.create(
            tenant=self.connection.tenant,
            connection=self.connection,
            resources=["contacts"],
            mapping_snapshot=MAPPING.model_dump(mode="json"),
        )
        return self.run

    def slice(self, *units: list[SourceContact]) -> None:
        ctx = _context(self.run, 30)
        resource = ContactsResource()
        with ctx.ac, ctx.brevo:
            for unit in units:
                resource._write_sources(ctx, unit, force=False)
            resource._flush_new(ctx, final=True)
            resource._flush_deferred(ctx)
        ctx.recorder.flush()

    def outcome(self, source_id: int) -> SyncRecord:
        return SyncRecord.objects.get(run=self.run, source_id=str(source_id))


def _brevo(sandbox, email: str) -> dict:
    response = httpx.get(f"{sandbox.base_url}/_sandbox/brevo/contacts", params={"email": email})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def slices(sandbox):
    return Slices(connection_for_sandbox(sandbox))


def test_same_unit_the_newer_unsubscribe_wins_and_the_older_is_merged(sandbox, slices) -> None:
    slices.new_run()
    slices.slice(
        [
            _contact(900101, "mia@example.org", 0, {1: ACTIVE}),
            _contact(900102, "MIA@example.org", 700, {1: UNSUBSCRIBED}),
        ]
    )
    stored = _brevo(sandbox, "mia@example.org")
    assert 50 not in stored.get("listIds", [])
    assert stored["attributes"]["FIRSTNAME"] == "v900102"
    merged = slices.outcome(900101)
    assert merged.outcome == Outcome.MERGED and "900102" in merged.message
    assert slices.outcome(900102).outcome == Outcome.CREATED


def test_an_older_unsubscribe_read_in_a_later_slice_is_applied_without_its_values(sandbox, slices) -> None:
    slices.new_run()
    slices.slice([_contact(900202, "leo@example.org", 700, {1: ACTIVE, 2: ACTIVE})])
    assert 50 in _brevo(sandbox, "leo@example.org")["listIds"]
    slices.slice([_contact(900201, "Leo@Example.org", 0, {1: UNSUBSCRIBED})])
    stored = _brevo(sandbox, "leo@example.org")
    assert 50 not in stored["listIds"] and 51 in stored["listIds"]
    assert stored["attributes"]["FIRSTNAME"] == "v900202"  # the newer contact's values stay
    record = slices.outcome(900201)
    assert record.outcome == Outcome.MERGED and "900202" in record.message
    assert record.sent.get("unlinkListIds") == [50] and record.sent["attributes"] == {}


def test_a_later_unit_of_the_same_slice_waits_for_the_first_write(sandbox, slices) -> None:
    slices.new_run()
    slices.slice(
        [_contact(900302, "ida@example.org", 700, {1: ACTIVE})],
        [_contact(900301, "IDA@example.org", 0, {1: BOUNCED})],
    )
    stored = _brevo(sandbox, "ida@example.org")
    assert 50 not in stored.get("listIds", []) and stored.get("emailBlacklisted") is True
    assert slices.outcome(900301).outcome == Outcome.MERGED


def test_later_runs_and_webhook_reads_never_undo_the_opt_out(sandbox, slices) -> None:
    slices.new_run()
    slices.slice([_contact(900401, "eva@example.org", 0, {1: UNSUBSCRIBED})])
    assert 50 not in _brevo(sandbox, "eva@example.org").get("listIds", [])
    # A newer duplicate, active on the list, arrives in the next run (incremental or webhook).
    slices.new_run()
    slices.slice([_contact(900402, "Eva@example.org", 700, {1: ACTIVE, 2: ACTIVE})])
    stored = _brevo(sandbox, "eva@example.org")
    assert 50 not in stored["listIds"] and 51 in stored["listIds"]
    assert stored["attributes"]["FIRSTNAME"] == "v900402"
    # Re-reading either of them alone, run after run, changes nothing.
    slices.new_run()
    slices.slice([_contact(900402, "Eva@example.org", 700, {1: ACTIVE, 2: ACTIVE})])
    slices.slice([_contact(900401, "eva@example.org", 0, {1: UNSUBSCRIBED})])
    assert slices.outcome(900402).outcome == Outcome.UNCHANGED
    assert slices.outcome(900401).outcome == Outcome.MERGED
    assert 50 not in _brevo(sandbox, "eva@example.org")["listIds"]
    assert set(
        ContactIdentity.objects.filter(connection=slices.connection, email="eva@example.org").values_list(
            "source_id", flat=True
        )
    ) == {"900401", "900402"}


def test_counters_add_up_with_merged(sandbox, slices) -> None:
    slices.new_run()
    ctx = _context(slices.run, 30)
    resource = ContactsResource()
    with ctx.ac, ctx.brevo:
        resource._write_sources(
            ctx,
            [_contact(900501, "zoe@example.org", 0, {}), _contact(900502, "ZOE@example.org", 1, {})],
            force=False,
        )
        resource._flush_new(ctx, final=True)
    counters = ctx.recorder.counters["contacts"]
    assert counters["read"] == 2 and counters["merged"] == 1 and counters["created"] == 1


def test_an_older_duplicate_with_nothing_to_say_about_lists_sends_nothing(sandbox, slices) -> None:
    slices.new_run()
    slices.slice([_contact(900602, "ned@example.org", 700, {1: ACTIVE})])
    slices.slice([_contact(900601, "NED@example.org", 0, {})])
    record = slices.outcome(900601)
    assert record.outcome == Outcome.MERGED and record.sent is None
    assert _brevo(sandbox, "ned@example.org")["attributes"]["FIRSTNAME"] == "v900602"
