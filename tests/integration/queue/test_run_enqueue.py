"""A run is created and enqueued together or not at all; a queued run whose job is gone is marked."""

from __future__ import annotations

from datetime import timedelta

import django_rq
import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from connectors import queues
from connectors.exceptions import QueueUnavailable
from connectors.models import RunStatus, SyncRun
from connectors.queues import SYNC_QUEUE
from connectors.services import (
    sync_run_retry_failed,
    sync_run_start,
    sync_runs_mark_lost,
)
from tests.factories import ConnectionFactory, SyncRecordFactory, SyncRunFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_service_withdraws_the_run_when_the_queue_is_down(queue_down) -> None:
    connection = ConnectionFactory()
    with pytest.raises(QueueUnavailable) as refused:
        sync_run_start(connection=connection, resources=["contacts"])
    message = str(refused.value)
    assert "cannot be reached" in message and "nothing was started" in message
    assert "\n" not in message
    assert not SyncRun.objects.exists(), "no run is left queued without a job"


def test_retry_failed_withdraws_too(queue_down) -> None:
    run = SyncRunFactory(status=RunStatus.PARTIAL, resources=["contacts"])
    SyncRecordFactory(run=run, tenant=run.tenant, outcome="failed")
    with pytest.raises(QueueUnavailable):
        sync_run_retry_failed(run=run)
    assert list(SyncRun.objects.values_list("pk", flat=True)) == [run.pk]


def test_command_says_one_line_and_leaves_nothing(queue_down) -> None:
    connection = ConnectionFactory()
    with pytest.raises(CommandError) as failed:
        call_command("tajo_sync", f"{connection.tenant.slug}/{connection.name}", "--wait")
    assert "\n" not in str(failed.value)
    assert "job queue" in str(failed.value) and "nothing was started" in str(failed.value)
    assert not SyncRun.objects.exists()


def _superuser_client() -> Client:
    user = get_user_model().objects.create_superuser("root", "root@example.org", "pw-123456")
    client = Client()
    client.force_login(user)
    return client


def test_admin_actions_report_one_clear_line(queue_down) -> None:
    connection = ConnectionFactory()
    client = _superuser_client()
    response = client.post(
        reverse("admin:connectors_connection_changelist"),
        {"action": "run_full", "_selected_action": [connection.pk]},
        follow=True,
    )
    assert response.status_code == 200
    texts = [str(m) for m in response.context["messages"]]
    assert len(texts) == 1 and "not started" in texts[0] and "cannot be reached" in texts[0], texts
    assert not SyncRun.objects.exists()

    finished = SyncRunFactory(connection=connection, tenant=connection.tenant, status=RunStatus.PARTIAL)
    SyncRecordFactory(run=finished, tenant=finished.tenant, outcome="failed")
    response = client.post(
        reverse("admin:connectors_syncrun_changelist"),
        {"action": "retry_failed", "_selected_action": [finished.pk]},
        follow=True,
    )
    assert response.status_code == 200, "no debug traceback (ConnectionError) for the operator"
    texts = [str(m) for m in response.context["messages"]]
    assert len(texts) == 1 and "retry not started" in texts[0], texts
    assert list(SyncRun.objects.values_list("pk", flat=True)) == [finished.pk]


def test_api_answers_503_with_the_error_body(queue_down) -> None:
    from tests.integration.api.conftest import error_of, make_world

    world = make_world()
    response = world.operator.post("/connectors/activecampaign/sync", {"type": "full"})
    assert response.status_code == 503, response.content
    error = error_of(response)
    assert error["code"] == "queue_unavailable" and "not started" in error["message"]
    assert response["Retry-After"]
    assert not SyncRun.objects.exists()


def test_queue_up_enqueues_and_records_the_job(redis_conn) -> None:
    run = sync_run_start(connection=ConnectionFactory(), resources=["contacts"])
    run.refresh_from_db()
    assert run.status == RunStatus.QUEUED and run.job_id
    # Each tenant has its own sync queue (connectors/queues.py).
    queue = queues.queue_name(SYNC_QUEUE, run.tenant_id)
    assert run.job_id.encode() in redis_conn.lrange(f"rq:queue:{queue}", 0, -1)


def test_queued_run_whose_job_is_gone_is_marked_failed(redis_conn) -> None:
    old = timezone.now() - timedelta(minutes=5)
    lost = SyncRunFactory(status=RunStatus.QUEUED, job_id="no-such-job", created_at=old)
    never_enqueued = SyncRunFactory(status=RunStatus.QUEUED, job_id="", created_at=old)
    waiting = SyncRunFactory(status=RunStatus.QUEUED, created_at=old)
    job = django_rq.get_queue(SYNC_QUEUE).enqueue("connectors.jobs.run_slice", waiting.pk)
    SyncRun.objects.filter(pk=waiting.pk).update(job_id=job.id)
    young = SyncRunFactory(status=RunStatus.QUEUED, job_id="no-such-job-either")

    assert sorted(sync_runs_mark_lost()) == sorted([lost.pk, never_enqueued.pk])
    statuses = dict(SyncRun.objects.values_list("pk", "status"))
    assert statuses[lost.pk] == statuses[never_enqueued.pk] == RunStatus.FAILED
    assert statuses[waiting.pk] == RunStatus.QUEUED, "a job still waiting in the queue is not lost"
    assert statuses[young.pk] == RunStatus.QUEUED, "a run just created may not have its job id yet"
    assert "lost from the queue" in SyncRun.objects.get(pk=lost.pk).error
    assert SyncRun.objects.get(pk=lost.pk).finished_at is not None


def test_lost_job_check_marks_nothing_when_the_queue_is_down(queue_down) -> None:
    run = SyncRunFactory(status=RunStatus.QUEUED, job_id="x", created_at=timezone.now() - timedelta(hours=1))
    assert sync_runs_mark_lost() == []
    run.refresh_from_db()
    assert run.status == RunStatus.QUEUED
