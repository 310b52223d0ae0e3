"""Scheduled incremental syncs start when due, once, and never beside a running run."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from connectors.models import RunMode, RunStatus, SyncRun, Trigger
from connectors.services import sync_runs_start_due
from tests.factories import ConnectionFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_due_connections_get_one_incremental_run(redis_conn) -> None:
    scheduled = ConnectionFactory(incremental_every_minutes=15)
    ConnectionFactory(incremental_every_minutes=0)
    started = sync_runs_start_due()
    assert [run.connection_id for run in started] == [scheduled.pk]
    run = started[0]
    assert run.mode == RunMode.INCREMENTAL and run.trigger == Trigger.SCHEDULE
    assert sync_runs_start_due() == []  # still queued: not twice

    run.status = RunStatus.SUCCEEDED
    run.save()
    assert sync_runs_start_due() == []  # finished just now: not due yet
    SyncRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(minutes=16))
    assert [r.connection_id for r in sync_runs_start_due()] == [scheduled.pk]
