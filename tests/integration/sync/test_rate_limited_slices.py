"""A Retry-After longer than a slice may wait ends the slice; the run waits and resumes, it does not fail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from connectors.models import RunStatus, SyncRun
from connectors.sync.engine import execute_slice
from sandbox.config import SandboxConfig
from sandbox.faults import FaultSpec
from sandbox.server import SandboxServer
from tests.sandbox_helpers import connection_for_sandbox, demo_mapping

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_long_retry_after_pauses_the_run_without_failing_it(redis_conn) -> None:
    config = SandboxConfig.fast(
        contacts=10, faults=FaultSpec.parse("429=1"), fault_scope="ac", ac_retry_after=600
    )
    with SandboxServer(config) as server:
        connection = connection_for_sandbox(server)
        run = SyncRun.objects.create(
            tenant=connection.tenant,
            connection=connection,
            resources=["contacts"],
            mapping_snapshot=demo_mapping().model_dump(mode="json"),
        )
        before = timezone.now()
        assert execute_slice(run.pk, slice_seconds=30) == "continue"
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING and not run.error
    assert run.state["_rate_limited_slices"] == 1 and "_slice_failures" not in run.state
    # Alive but waiting: the watchdog must not resume it before AC's wait is over.
    assert run.heartbeat_at >= before + timedelta(seconds=590)
