"""Queue names, how jobs are enqueued (by dotted path) and how workers take them fairly.

Every tenant has its own pair of queues, `tajo-short.t<id>` (webhook events) and
`tajo-sync.t<id>` (run slices); `tajo-short` and `tajo-sync` remain for jobs without a tenant.
Workers find the tenants' queues in one Redis set (`tajo:queues`, added to on enqueue) and take
jobs round-robin across all of them (RQ's `round_robin` dequeue strategy), so a tenant with a
thousand queued events or a long backfill gets one turn like every other tenant. Inside one
tenant's queue jobs stay in order (docs/webhooks.md's ordering rules are unchanged). Slices
make room for waiting jobs themselves (`connectors.sync.engine`: a slice shortens itself while
jobs wait), which keeps a turn short with one worker.

Delayed jobs (`enqueue(..., delay_seconds=...)`, RQ retries) wait in each queue's RQ scheduled
registry; `move_due_jobs` moves them when due, from the watchdog thread of every worker
(`connectors.watchdog`), so nothing depends on one worker's scheduler lock.

The queue names are defined here once; the settings' `RQ_QUEUES` is keyed by them. This module
is imported by the settings and by the webhook intake on every request: it imports nothing
heavy, and no model at import time.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

SYNC_QUEUE = "tajo-sync"
SHORT_QUEUE = "tajo-short"
LANES = (SHORT_QUEUE, SYNC_QUEUE)
REGISTRY_KEY = "tajo:queues"  # names of the tenants' queues
POLL_SECONDS = 2  # a waiting worker looks for new tenants' queues this often

logger = logging.getLogger(__name__)


def redis_url() -> str:
    """The Redis the queues use, which also holds the shared rate limiters and API throttle."""
    return settings.REDIS_URL or settings.RQ_QUEUES[SYNC_QUEUE]["URL"]


def queue_address() -> str:
    """host:port of the sync queue, never its password."""
    parts = urlsplit(settings.RQ_QUEUES[SYNC_QUEUE]["URL"])
    return f"{parts.hostname or '?'}:{parts.port or 6379}"


def queue_name(lane: str, tenant_id: int | None) -> str:
    """`tajo-short.t7`: the queue of one tenant in one lane (the lane itself without a tenant)."""
    if lane not in LANES:
        raise ValueError(f"unknown queue lane {lane!r}")
    return f"{lane}.t{int(tenant_id)}" if tenant_id else lane


def lane_of(name: str) -> str:
    return name.split(".t", 1)[0]


def redis_connection(lane: str = SYNC_QUEUE) -> Any:
    import django_rq

    return django_rq.get_connection(lane)


def _queue_class() -> type:
    global _QUEUE_CLASS
    if _QUEUE_CLASS is None:
        from django_rq.queues import DjangoRQ, get_result_ttl
        from rq.queue import Queue

        class TajoQueue(DjangoRQ):
            """django-rq's queue (enqueue waits for the transaction's commit) for names that are
            not in `RQ_QUEUES`: a tenant's queue takes its lane's settings."""

            def original_enqueue_call(self, *args: Any, **kwargs: Any) -> Any:
                if "result_ttl" not in kwargs:
                    kwargs["result_ttl"] = get_result_ttl(lane_of(self.name))
                return Queue.enqueue_call(self, *args, **kwargs)

        _QUEUE_CLASS = TajoQueue
    return _QUEUE_CLASS


_QUEUE_CLASS: type | None = None


def queue_for(lane: str, tenant_id: int | None, *, connection: Any = None, **kwargs: Any) -> Any:
    """The RQ queue of a tenant in a lane, with the lane's settings (timeout) and connection."""
    name = queue_name(lane, tenant_id)
    if connection is None:
        connection = redis_connection(lane)
    timeout = settings.RQ_QUEUES.get(lane, {}).get("DEFAULT_TIMEOUT")
    return _queue_class()(name, connection=connection, default_timeout=timeout, **kwargs)


def enqueue(
    func_path: str,
    *args: Any,
    lane: str,
    tenant_id: int | None,
    delay_seconds: float = 0,
    connection: Any = None,
    pipeline: Any = None,
    **options: Any,
) -> Any:
    """Enqueue the job at `func_path` (dotted, so the caller never imports the job's module) on
    the tenant's queue of `lane`; with `delay_seconds` it waits in the scheduled registry.

    `options` are RQ's (`job_timeout`, `retry`, `on_failure`, `result_ttl`, ...). Inside a
    transaction the job is enqueued when it commits (django-rq), and None is returned.
    """
    queue = queue_for(lane, tenant_id, connection=connection)
    if pipeline is None and queue.name != lane:
        queue.connection.sadd(REGISTRY_KEY, queue.name)  # before the job: workers look here first
    if pipeline is not None:
        options["pipeline"] = pipeline
    if delay_seconds > 0:
        job = queue.enqueue_in(timedelta(seconds=delay_seconds), func_path, args=args, **options)
    else:
        job = queue.enqueue(func_path, args=args, **options)
    if pipeline is not None and queue.name != lane:
        pipeline.sadd(REGISTRY_KEY, queue.name)  # RQ starts the pipeline's MULTI itself
    return job


def enqueue_slice(run_id: int, *, delay_seconds: float = 0, tenant_id: int | None = None) -> None:
    """Queue a run's next slice on its tenant's sync queue and remember the job on the run."""
    from rq import Callback

    from connectors.models import SyncRun

    if tenant_id is None:
        tenant_id = SyncRun.objects.filter(pk=run_id).values_list("tenant_id", flat=True).first()
    job = enqueue(
        "connectors.jobs.run_slice",
        run_id,
        lane=SYNC_QUEUE,
        tenant_id=tenant_id,
        delay_seconds=delay_seconds,
        job_timeout=settings.RQ_QUEUES[SYNC_QUEUE]["DEFAULT_TIMEOUT"],
        on_failure=Callback("connectors.jobs.slice_failed"),
    )
    if job is not None:
        SyncRun.objects.filter(pk=run_id).update(job_id=job.id)


def known_queue_names(connection: Any) -> list[str]:
    """Every Tajo queue, per tenant the short lane before the sync lane, then the lanes themselves."""
    names = {n.decode() if isinstance(n, bytes) else str(n) for n in connection.smembers(REGISTRY_KEY)}

    def order(name: str) -> tuple[int, int]:
        lane, _, tenant = name.partition(".t")
        return (int(tenant) if tenant.isdigit() else 0, LANES.index(lane) if lane in LANES else 2)

    tenants = sorted((n for n in names if lane_of(n) in LANES and n not in LANES), key=order)
    return [*tenants, *LANES]


def jobs_waiting(connection: Any = None) -> int:
    """Jobs queued and not taken by any worker, over all Tajo queues (one pipelined round trip)."""
    conn = connection if connection is not None else redis_connection()
    names = known_queue_names(conn)
    pipe = conn.pipeline(transaction=False)
    for name in names:
        pipe.llen(f"rq:queue:{name}")
    return sum(int(n or 0) for n in pipe.execute())


def move_due_jobs(connection: Any = None, *, now: float | None = None) -> int:
    """Enqueue the delayed jobs of every Tajo queue whose time has come; returns how many.

    Each job id is taken off its scheduled registry with one ZREM first and only the caller
    whose ZREM removed it enqueues it, so workers doing this at the same moment (or an RQ
    scheduler beside them) move a job once.
    """
    from rq.job import Job
    from rq.registry import ScheduledJobRegistry

    conn = connection if connection is not None else redis_connection()
    moved = 0
    for name in known_queue_names(conn):
        lane = lane_of(name)
        tenant = name.partition(".t")[2]
        queue = queue_for(lane, int(tenant) if tenant.isdigit() else None, connection=conn)
        registry = ScheduledJobRegistry(queue=queue)
        due = registry.get_jobs_to_schedule(int(now if now is not None else time.time()))
        for job_id in due:
            job_id = job_id.decode() if isinstance(job_id, bytes) else job_id
            if not conn.zrem(registry.key, job_id):
                continue  # another worker took it
            try:
                job = Job.fetch(job_id, connection=conn, serializer=queue.serializer)
            except Exception:  # expired or deleted meanwhile: nothing to run
                logger.info("delayed job %s is gone; nothing to move", job_id)
                continue
            queue.enqueue_job(job, at_front=job.should_enqueue_at_front())
            moved += 1
    return moved


class FairDequeueMixin:
    """For an RQ worker class: listen on every tenant's queues (found while waiting) round-robin.

    RQ's worker keeps a fixed list of queues; this refreshes it from `tajo:queues` before each
    wait and waits at most `POLL_SECONDS` at a time, so a new tenant's first job is seen within
    that. The round-robin position survives the refresh.
    """

    def _refresh_queues(self) -> None:
        names = known_queue_names(self.connection)  # type: ignore[attr-defined]
        current = [q.name for q in self._ordered_queues]  # type: ignore[attr-defined]
        if set(names) == set(current):
            return
        by_name = {q.name: q for q in self.queues}  # type: ignore[attr-defined]
        for name in names:
            if name not in by_name:
                tenant = name.partition(".t")[2]
                by_name[name] = queue_for(
                    lane_of(name),
                    int(tenant) if tenant.isdigit() else None,
                    connection=self.connection,  # type: ignore[attr-defined]
                    job_class=self.job_class,  # type: ignore[attr-defined]
                    serializer=self.serializer,  # type: ignore[attr-defined]
                )
        self.queues = [by_name[name] for name in names]  # type: ignore[attr-defined]
        ordered = [name for name in current if name in by_name and name in names]
        ordered += [name for name in names if name not in ordered]
        self._ordered_queues = [by_name[name] for name in ordered]  # type: ignore[attr-defined]

    def dequeue_job_and_maintain_ttl(self, timeout: int | None, max_idle_time: int | None = None) -> Any:
        parent = super().dequeue_job_and_maintain_ttl  # type: ignore[misc]
        if timeout is None:  # burst: one look at every queue
            self._refresh_queues()
            return parent(None, max_idle_time)
        idle_since = time.monotonic()
        while True:
            self._refresh_queues()
            step = max(1, min(int(timeout), POLL_SECONDS))
            result = parent(step, max_idle_time=step)
            if result is not None or getattr(self, "_stop_requested", False):
                return result
            if max_idle_time is not None and time.monotonic() - idle_since >= max_idle_time:
                return None


def fair_worker_class(base: type) -> type:
    """`base` (an RQ worker class) with fair dequeueing across the tenants' queues."""
    if issubclass(base, FairDequeueMixin):
        return base
    return type(f"Fair{base.__name__}", (FairDequeueMixin, base), {})


class LaneView:
    """Every tenant's queue of one lane, read together: how many jobs wait, and which."""

    def __init__(self, lane: str, *, connection: Any = None) -> None:
        if lane not in LANES:
            raise ValueError(f"unknown queue lane {lane!r}")
        self.lane = lane
        self.connection = connection if connection is not None else redis_connection(lane)

    def queues(self) -> list[Any]:
        found = []
        for name in known_queue_names(self.connection):
            if lane_of(name) == self.lane:
                tenant = name.partition(".t")[2]
                found.append(
                    queue_for(
                        self.lane, int(tenant) if tenant.isdigit() else None, connection=self.connection
                    )
                )
        return found

    @property
    def count(self) -> int:
        return sum(queue.count for queue in self.queues())

    def get_jobs(self) -> list[Any]:
        return [job for queue in self.queues() for job in queue.get_jobs()]
