"""Incremental contact runs miss no change, west or east of UTC, however AC reads the cursor.

The sandbox reads `filters[updated_after]` the way its `ac_filter_zone` says (reference §15: the
vendor documents a date only). Each case: a backfill, a first incremental run that moves the
cursor to "now", then changes that the second incremental run must find and write.
"""

from __future__ import annotations

import httpx
import pytest

from connectors.models import Outcome, RunMode, RunStatus, SyncRecord, SyncRun
from sandbox.config import SandboxConfig
from sandbox.server import SandboxServer
from tests.sandbox_helpers import connection_for_sandbox, demo_mapping, drive

pytestmark = pytest.mark.django_db(transaction=True)


def _run(connection, **kwargs) -> SyncRun:
    return drive(
        SyncRun.objects.create(
            tenant=connection.tenant,
            connection=connection,
            resources=["contacts"],
            mapping_snapshot=demo_mapping().model_dump(mode="json"),
            **kwargs,
        )
    )


def _rename(server: SandboxServer, cid: int, name: str) -> None:
    httpx.post(
        f"{server.base_url}/_sandbox/ac/contacts/{cid}", json={"firstName": name}, timeout=10
    ).raise_for_status()


@pytest.mark.parametrize(("zone", "reading"), [("-05:00", "account"), ("+09:00", "utc")])
def test_second_incremental_run_finds_every_change(zone: str, reading: str, redis_conn) -> None:
    config = SandboxConfig.fast(contacts=40, seed=11, tz_offset=zone, ac_filter_zone=reading)
    with SandboxServer(config) as server:
        connection = connection_for_sandbox(server)
        backfill = _run(connection)
        assert backfill.status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL)
        # Contacts the backfill wrote (the generated account holds some that fail by design).
        good = sorted(
            int(source_id)
            for source_id in SyncRecord.objects.filter(
                run=backfill, outcome__in=(Outcome.CREATED, Outcome.UPDATED)
            ).values_list("source_id", flat=True)
        )
        _rename(server, good[0], "Moved")
        first = _run(connection, mode=RunMode.INCREMENTAL)
        assert first.status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL), first.error
        changed = good[1:4]
        for cid in changed:
            _rename(server, cid, f"Renamed{cid}")
        second = _run(connection, mode=RunMode.INCREMENTAL)
    assert second.status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL), second.error
    written = set(
        SyncRecord.objects.filter(run=second, outcome=Outcome.UPDATED).values_list("source_id", flat=True)
    )
    outcomes = dict(SyncRecord.objects.filter(run=second).values_list("source_id", "outcome"))
    assert {str(cid) for cid in changed} <= written, f"{reading} reading in {zone}: {outcomes}"
    # In proportion to what changed: far fewer reads than the account holds.
    assert second.counters["contacts"]["read"] < 20
