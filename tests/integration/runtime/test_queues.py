"""Per-tenant queues on the real test Redis: round-robin across tenants, delayed jobs moved once."""

from __future__ import annotations

import time

import pytest
from rq import SimpleWorker

from connectors import queues
from tests.integration.runtime.jobs_for_tests import ORDER_KEY

JOB = "tests.integration.runtime.jobs_for_tests.note"


def _fair_worker(conn):
    worker_class = queues.fair_worker_class(SimpleWorker)
    return worker_class([queues.queue_for(queues.SHORT_QUEUE, None, connection=conn)], connection=conn)


def _order(conn) -> list[str]:
    return [label.decode() for label in conn.lrange(ORDER_KEY, 0, -1)]


def test_queue_names_per_tenant_and_lane() -> None:
    assert queues.queue_name(queues.SHORT_QUEUE, 7) == "tajo-short.t7"
    assert queues.queue_name(queues.SYNC_QUEUE, None) == "tajo-sync"
    assert queues.lane_of("tajo-sync.t12") == "tajo-sync"
    with pytest.raises(ValueError, match="unknown queue lane"):
        queues.queue_name("default", 1)


def test_a_burst_of_one_tenant_does_not_hold_up_another(redis_conn) -> None:
    for i in range(30):
        queues.enqueue(JOB, f"a{i}", lane=queues.SHORT_QUEUE, tenant_id=1, connection=redis_conn)
    queues.enqueue(JOB, "b-run", lane=queues.SYNC_QUEUE, tenant_id=2, connection=redis_conn)
    queues.enqueue(JOB, "b-event", lane=queues.SHORT_QUEUE, tenant_id=2, connection=redis_conn)
    assert queues.known_queue_names(redis_conn) == [
        "tajo-short.t1",
        "tajo-short.t2",
        "tajo-sync.t2",
        "tajo-short",
        "tajo-sync",
    ]
    assert queues.jobs_waiting(redis_conn) == 32
    assert queues.LaneView(queues.SHORT_QUEUE, connection=redis_conn).count == 31

    _fair_worker(redis_conn).work(burst=True, dequeue_strategy="round_robin")

    order = _order(redis_conn)
    assert len(order) == 32
    # Tenant 2's event and run are taken among the first few jobs, not after tenant 1's thirty.
    assert order.index("b-event") <= 3 and order.index("b-run") <= 3, order
    # One tenant's own jobs keep their order.
    assert [label for label in order if label.startswith("a")] == [f"a{i}" for i in range(30)]


def test_a_waiting_worker_finds_a_new_tenants_queue(redis_conn) -> None:
    import threading

    def late() -> None:
        queues.enqueue(JOB, "late", lane=queues.SHORT_QUEUE, tenant_id=9, connection=redis_conn)

    def give_up() -> None:  # on a queue the worker knew from the start: ends the test if "late" was missed
        queues.enqueue(JOB, "missed", lane=queues.SHORT_QUEUE, tenant_id=None, connection=redis_conn)

    timers = [threading.Timer(0.5, late), threading.Timer(3 * queues.POLL_SECONDS + 3, give_up)]
    for timer in timers:
        timer.start()
    started = time.monotonic()
    _fair_worker(redis_conn).work(max_jobs=1, dequeue_strategy="round_robin")
    for timer in timers:
        timer.cancel()
    assert _order(redis_conn) == ["late"]
    assert time.monotonic() - started < queues.POLL_SECONDS + 2


def test_due_delayed_jobs_move_once_whoever_moves_them(redis_conn) -> None:
    job = queues.enqueue(
        JOB, "later", lane=queues.SYNC_QUEUE, tenant_id=3, delay_seconds=30, connection=redis_conn
    )
    assert queues.move_due_jobs(redis_conn) == 0  # not due yet
    # Two workers' watchdogs at the same moment, thirty seconds on.
    assert queues.move_due_jobs(redis_conn, now=time.time() + 31) == 1
    assert queues.move_due_jobs(redis_conn, now=time.time() + 31) == 0
    queue = queues.queue_for(queues.SYNC_QUEUE, 3, connection=redis_conn)
    assert queue.job_ids == [job.id]
