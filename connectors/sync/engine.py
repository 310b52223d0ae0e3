"""The sync engine: the only orchestrator. load → pull → map → push → record, in bounded slices.

A run executes as a chain of RQ jobs. Each job runs one slice: at most `SLICE_SECONDS` of work
or `TAJO_SYNC_SLICE_RECORDS` records, then commits the records' outcomes together with the
resource's position, and enqueues its continuation. A killed worker therefore costs at most
one slice, which the watchdog re-enqueues from the last committed position. Transactions are
short and never held open across an HTTP call.

While a slice works, a heartbeat thread beats for it (`TAJO_HEARTBEAT_SECONDS`, in its own short
database connection) and keeps its Redis lock alive, so a run that is alive never looks
abandoned; resources commit their progress mid-slice (`TAJO_CHECKPOINT_SECONDS`), so a killed
worker re-reads only seconds of pages. See docs/runtime.md.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connections, models, transaction
from django.utils import timezone

from connectors import queues
from connectors.clients import build_clients
from connectors.exceptions import ApiError, AuthError, RateLimited
from connectors.models import (
    ACTIVE_STATUSES,
    Checkpoint,
    Connection,
    Outcome,
    RunMode,
    RunStatus,
    SyncRecord,
    SyncRun,
    Trigger,
)
from connectors.providers.http.factory import requests_sent
from connectors.sync import staging, transform_pool
from connectors.sync.base import SyncContext
from connectors.sync.recorder import Recorder
from connectors.sync.registry import get_resource

logger = logging.getLogger(__name__)

GC_THRESHOLD = 50_000  # allocations between young-generation collections (Python's default: 700)
# glibc: allocations from this size up get their own mapping, returned to the system when freed.
MMAP_THRESHOLD = 128 * 1024
_M_MMAP_THRESHOLD = -3  # mallopt's parameter number in glibc's <malloc.h>


def tune_worker() -> None:
    """Collect garbage less often and hand the GIL over sooner in a sync worker; call once set up.

    A slice allocates millions of short-lived objects (parsed pages, bodies, outcomes) while it
    holds a few pages in memory; with Python's defaults the collector keeps walking those, and a
    profile showed JSON parsing three times slower for it. Freezing what setup loaded also keeps
    it out of every collection (and shared, not copied, with RQ's forked work horses).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, 20, 20)
    # The page reader hands the GIL back and forth on every socket call while the writer thread
    # computes; Python's 5 ms switch interval would let a request the limiter has just timed
    # leave tens of milliseconds late, and arrive in the account's next window too early.
    sys.setswitchinterval(0.001)
    fix_mmap_threshold()


def fix_mmap_threshold() -> bool:
    """Keep large buffers (response bodies, import payloads of up to a few MB) in mappings of
    their own; True when the C library took the setting.

    glibc starts by mapping allocations of 128 KB and more separately, but raises that
    threshold each time such a block is freed (mallopt(3), "dynamic mmap threshold"). After the
    first few pages a sync's bodies then come from the heap, whose freed holes are rarely
    returned: a 100,000-contact run peaked 8 % higher than a 10,000 one with nothing more alive
    (Python's own allocations peaked within 1 MB of each other). Setting the threshold turns
    the adjustment off. Other C libraries (musl, macOS) have no such parameter: nothing changes.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))


OVERLAP = timedelta(minutes=5)  # incremental re-reads this much before the cursor (clock skew, late commits)
MAX_SLICE_FAILURES = 5
# A run waits out this many long provider rate limits (Retry-After beyond what a slice waits inline).
MAX_RATE_LIMITED_SLICES = 50


SLICE_GRACE = 3.0  # seconds past its deadline a slice may take to settle what it wrote


class SliceLock:
    """One worker at a time per run, across machines (Redis).

    Its TTL is the stale period and the slice's heartbeat renews it, so the lock of a worker
    that died expires by itself within `TAJO_RUN_STALE_SECONDS`, while a live slice keeps it
    however long it takes.
    """

    def __init__(self, run_id: int, ttl_seconds: int) -> None:
        self._conn = queues.redis_connection()
        self._key = f"tajo:run-lock:{run_id}"
        self._ttl = max(1, ttl_seconds)
        self._token = f"{time.time_ns()}-{threading.get_ident()}"

    def acquire(self) -> bool:
        return bool(self._conn.set(self._key, self._token, nx=True, ex=self._ttl))

    def held_elsewhere(self) -> bool:
        return self._conn.exists(self._key) == 1

    def refresh(self) -> None:
        if (self._conn.get(self._key) or b"").decode() == self._token:
            self._conn.expire(self._key, self._ttl)

    def break_stale(self) -> None:
        """Drop a lock whose holder stopped beating: its worker died mid-slice."""
        self._conn.delete(self._key)

    def release(self) -> None:
        if (self._conn.get(self._key) or b"").decode() == self._token:
            self._conn.delete(self._key)


class Heartbeat:
    """Beats for one slice from a thread of its own, whatever the slice's thread is waiting on.

    Every `every` seconds: the run's `heartbeat_at` (one UPDATE in this thread's own database
    connection, autocommit: never inside the slice's transactions) and the slice lock's TTL.
    Every second: `on_tick` (the fairness check: whether other jobs wait for this worker).
    A heartbeat already set in the future (a run waiting for a budget) is left alone.
    """

    TICK = 1.0

    def __init__(self, run_id: int, lock: SliceLock, *, every: float) -> None:
        self._run_id = run_id
        self._lock = lock
        self._every = max(self.TICK, every)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"tajo-heartbeat-{run_id}", daemon=True)
        self.on_tick: Callable[[], None] | None = None
        self.beats = 0

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        last_beat = time.monotonic()
        try:
            while not self._stop.wait(self.TICK):
                if self.on_tick is not None:
                    try:
                        self.on_tick()
                    except Exception:  # a fairness check must never stop the beats
                        logger.debug("slice tick failed", exc_info=True)
                if time.monotonic() - last_beat >= self._every:
                    self.beat()
                    last_beat = time.monotonic()
        finally:
            connections.close_all()  # this thread's own connections only (they are per thread)

    def beat(self) -> None:
        now = timezone.now()
        try:
            SyncRun.objects.filter(pk=self._run_id, status=RunStatus.RUNNING).filter(
                models.Q(heartbeat_at__isnull=True) | models.Q(heartbeat_at__lt=now)
            ).update(heartbeat_at=now)
            self._lock.refresh()
            self.beats += 1
        except Exception as exc:  # the slice goes on; the next beat tries again
            logger.warning("run %s: heartbeat failed (%s)", self._run_id, type(exc).__name__)


def execute_slice(run_id: int, *, slice_seconds: float | None = None) -> str:
    """Run one slice of a run. Returns 'continue', 'finished', 'locked' or 'noop'."""
    seconds = slice_seconds if slice_seconds is not None else settings.TAJO_SLICE_SECONDS
    lock = SliceLock(run_id, ttl_seconds=int(settings.TAJO_RUN_STALE_SECONDS))
    if not lock.acquire():
        # A live slice renews its lock; one left by a dead worker expires within the stale period.
        return "locked"
    began = time.monotonic()
    outcome = "failed"
    try:
        # At least three beats per stale period, whatever the settings say: a live run never looks dead.
        every = min(float(settings.TAJO_HEARTBEAT_SECONDS), float(settings.TAJO_RUN_STALE_SECONDS) / 3)
        with Heartbeat(run_id, lock, every=every) as heartbeat, asynchronous_commits():
            outcome = _execute_locked(run_id, seconds, heartbeat)
            return outcome
    finally:
        # The benchmarks read this line for the longest slice.
        logger.info(
            "run %s: slice of %.1f s (%s, deadline %.0f s)",
            run_id,
            time.monotonic() - began,
            outcome,
            seconds,
        )
        lock.release()
        # With `tune_worker`'s rare collections, a slice's cyclic leftovers (pages, threads, bodies)
        # would pile up over the next slices: one full collection here keeps every slice's peak
        # the same.
        gc.collect()


@contextlib.contextmanager
def asynchronous_commits() -> Iterator[bool]:
    """During a slice, PostgreSQL confirms a commit before its WAL reaches the disk; yields
    whether it does.

    A slice commits twice per unit of contacts (the identity rows, then the checkpoint), and
    each flush waited for the disk: 200 commits, 1.5 s of a 50,000-contact run on an idle
    machine. `synchronous_commit = off` is PostgreSQL's own trade for such work (its manual,
    "Asynchronous Commit"): a crash of the database server, not of the worker, may lose the last
    transactions (at most three times `wal_writer_delay`, 0.6 s by default), never part of one,
    and the database stays consistent. What is lost then is a checkpoint with its outcomes and
    record states; the run resumes from the one before and sends those contacts again, which
    Brevo's upserts make harmless. `TAJO_SYNC_ASYNC_COMMIT=false` keeps every commit durable.
    Session-wide for the slice only: other work on the connection commits as configured.
    """
    connection = connections["default"]
    wanted = settings.TAJO_SYNC_ASYNC_COMMIT and connection.vendor == "postgresql"
    if wanted:
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO off")
    try:
        yield wanted
    finally:
        if wanted:
            # A broken connection is closed by Django before the next use; nothing to reset then.
            with contextlib.suppress(Exception), connection.cursor() as cursor:
                cursor.execute("RESET synchronous_commit")


def run_inline(run_id: int) -> None:
    """Run every slice of a run in this process (the CLIs' `--inline`) instead of in a worker.

    Starting the run queued its first slice, and each slice queues its continuation. Here this
    process runs them, so each is withdrawn before its slice starts: a job left waiting would
    count as another tenant's work, shorten every slice to the fairness minimum (with a flush and
    a read-back at each end), and be taken later by a worker for nothing.
    """
    tune_worker()
    with transform_pool.kept_between_slices():
        while True:
            _withdraw_queued_slice(run_id)
            if execute_slice(run_id) in ("finished", "noop"):
                return


def _withdraw_queued_slice(run_id: int) -> None:
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    from connectors import queues

    job_id = SyncRun.objects.filter(pk=run_id).values_list("job_id", flat=True).first()
    if not job_id:
        return
    with contextlib.suppress(NoSuchJobError):  # already gone: nothing waits
        Job.fetch(job_id, connection=queues.redis_connection()).delete()


def _execute_locked(run_id: int, seconds: float, heartbeat: Heartbeat | None = None) -> str:
    run = SyncRun.objects.select_related("connection__ac_account", "connection__brevo_account").get(pk=run_id)
    if run.status not in ACTIVE_STATUSES:
        return "noop"
    if run.cancel_requested:
        _finish(run, RunStatus.CANCELLED)
        return "finished"
    now = timezone.now()
    run.status = RunStatus.RUNNING
    run.started_at = run.started_at or now
    run.heartbeat_at = now
    run.save(update_fields=["status", "started_at", "heartbeat_at"])

    try:
        ctx = _context(run, seconds)
    except _SetupFailed as exc:
        run.error = str(exc)
        _finish(run, RunStatus.FAILED)
        return "finished"

    ctx.hard_stop = ctx.deadline + SLICE_GRACE
    ctx.checkpoint_every = settings.TAJO_CHECKPOINT_SECONDS
    ctx.checkpoint = lambda name, state: _commit(run, ctx, name, {**state, "done": False}, total=None)
    if heartbeat is not None:
        heartbeat.on_tick = _yield_when_others_wait(ctx, started=time.monotonic())
    try:
        with ctx.ac, ctx.brevo:
            finished = _run_resources(run, ctx)
    except ApiError as exc:
        return _slice_failed(run, ctx, exc, queues.enqueue_slice)
    if finished:
        _finish(run, _final_status(run))
        return "finished"
    if ctx.resume_after > 0:
        # The run waits for a provider budget: it is alive, so the watchdog must not resume it early.
        SyncRun.objects.filter(pk=run.pk).update(
            heartbeat_at=timezone.now() + timedelta(seconds=ctx.resume_after)
        )
    queues.enqueue_slice(run.pk, delay_seconds=ctx.resume_after)
    return "continue"


class _SetupFailed(Exception):
    pass


def _yield_when_others_wait(ctx: SyncContext, *, started: float) -> Callable[[], None]:
    """The fairness rule: a slice shortens itself to `TAJO_SLICE_MIN_SECONDS` while jobs wait.

    Another tenant's webhook or run (or this connection's own webhooks) waiting in a queue
    means no worker is free for it: this slice then ends soon, its continuation goes to the back
    of its tenant's queue, and round-robin dequeueing serves the waiting job next.
    """
    minimum = float(settings.TAJO_SLICE_MIN_SECONDS)

    def tick() -> None:
        if ctx.deadline <= started + minimum:
            return
        if queues.jobs_waiting():
            ctx.deadline = max(started + minimum, min(ctx.deadline, time.monotonic()))
            ctx.hard_stop = min(ctx.hard_stop, ctx.deadline + SLICE_GRACE)

    return tick


def _context(run: SyncRun, seconds: float) -> SyncContext:
    from mappings.transforms import MappingError, MappingSet, compile_mapping

    connection = run.connection
    if not run.mapping_snapshot:
        from mappings.selectors import mapping_snapshot

        try:
            snapshot = mapping_snapshot(connection=connection)
        except Exception as exc:  # the snapshot names every problem: the run fails with it
            raise _SetupFailed(f"The mapping is not valid, nothing was synced: {exc}") from exc
        run.mapping_snapshot = snapshot.model_dump(mode="json")
        run.save(update_fields=["mapping_snapshot"])
    mapping = MappingSet.model_validate(run.mapping_snapshot)
    try:
        compiled = compile_mapping(mapping)
    except MappingError as exc:
        raise _SetupFailed(f"The mapping is not valid, nothing was synced: {exc}") from exc
    ac, brevo = build_clients(connection, run=run)  # run: debug mode logs into it
    since = None
    if run.mode in (RunMode.INCREMENTAL,):
        since = _incremental_since(run)
    only_ids: dict[str, set[str]] = {}
    if run.mode == RunMode.RETRY and run.retry_of_id:
        for resource, source_id in SyncRecord.objects.filter(
            run_id=run.retry_of_id, outcome=Outcome.FAILED
        ).values_list("resource", "source_id"):
            only_ids.setdefault(resource, set()).add(source_id)
    return SyncContext(
        run=run,
        connection=connection,
        ac=ac,
        brevo=brevo,
        mapping=mapping,
        compiled=compiled,
        recorder=Recorder(run, trigger=run.trigger),
        dry_run=run.dry_run,
        mode=run.mode,
        deadline=time.monotonic() + seconds,
        max_records=settings.TAJO_SYNC_SLICE_RECORDS,
        transform_processes=settings.TAJO_TRANSFORM_PROCESSES,
        since=since,
        only_ids=only_ids,
        trigger=run.trigger,
    )


def _incremental_since(run: SyncRun):
    stored = run.state.get("_since")
    if stored:
        from datetime import datetime

        return datetime.fromisoformat(stored)
    cursors = Checkpoint.objects.filter(connection=run.connection, cursor__isnull=False).values_list(
        "cursor", flat=True
    )
    oldest = min(cursors, default=None)
    since = (oldest - OVERLAP) if oldest else None
    if since:
        run.state["_since"] = since.isoformat()
    return since


def _run_resources(run: SyncRun, ctx: SyncContext) -> bool:
    for name in run.resources:
        state = dict(run.state.get(name) or {})
        if state.get("done"):
            continue
        if run.mode == RunMode.RETRY and name not in ctx.only_ids:
            _commit(run, ctx, name, {**state, "done": True}, total=0)
            continue
        resource = get_resource(name)
        result = resource.run_slice(ctx, state)
        new_state = {**result.state, "done": result.done}
        if result.next_cursor is not None:
            new_state["next_cursor"] = result.next_cursor.isoformat()
        _commit(run, ctx, name, new_state, total=result.total)
        if not result.done:
            return False
        if ctx.out_of_time():
            return all((run.state.get(n) or {}).get("done") for n in run.resources)
    return True


def _commit(run: SyncRun, ctx: SyncContext, name: str, state: dict[str, Any], *, total: int | None) -> None:
    """Outcomes, RecordState and the resource's position in one short transaction."""
    with transaction.atomic():
        ctx.recorder.flush()
        fresh = SyncRun.objects.select_for_update().only("cancel_requested", "state").get(pk=run.pk)
        run.state = {**(fresh.state or {}), **run.state, name: state}
        run.counters = ctx.recorder.merged_counters(run.counters)
        run.cancel_requested = fresh.cancel_requested
        totals = [int((run.state.get(n) or {}).get("total") or 0) for n in run.resources]
        if total is not None:
            run.state[name]["total"] = total
            totals = [int((run.state.get(n) or {}).get("total") or 0) for n in run.resources]
        run.progress_total = sum(totals) or None
        run.progress_done = sum(int(v.get("read", 0)) for v in run.counters.values())
        run.heartbeat_at = timezone.now()
        _count_requests(run, ctx)
        run.save(
            update_fields=[
                "state",
                "counters",
                "progress_total",
                "progress_done",
                "heartbeat_at",
                "brevo_requests",
                "ac_requests",
            ]
        )
    if run.cancel_requested:
        # Checked between units; the caller stops at the next boundary.
        ctx.deadline = 0


def _count_requests(run: SyncRun, ctx: SyncContext) -> None:
    ac, brevo = requests_sent(ctx.ac), requests_sent(ctx.brevo)
    seen = ctx.counted_requests
    run.ac_requests += ac - seen[0]
    run.brevo_requests += brevo - seen[1]
    ctx.counted_requests = (ac, brevo)


def _note_refused_key(connection: Connection, exc: ApiError) -> None:
    """A provider refused the key (401/403) during a run: the connection no longer counts as connected."""
    if isinstance(exc, AuthError):
        connection.record_check(ok=False, message=f"refused during a sync: {exc.operator_message}")


def _slice_failed(run: SyncRun, ctx: SyncContext, exc: ApiError, enqueue) -> str:
    """Retryable trouble (5xx, timeouts) retries the slice later; anything else fails the run.

    A rate limit the client could not wait out (a long `Retry-After`) is not a failure: the
    slice ends and the run resumes once the provider's wait is over, without counting it.
    """
    _note_refused_key(run.connection, exc)
    with transaction.atomic():
        ctx.recorder.flush()
        run.counters = ctx.recorder.merged_counters(run.counters)
        rate_limited = isinstance(exc, RateLimited)
        counter = "_rate_limited_slices" if rate_limited else "_slice_failures"
        failures = int(run.state.get(counter, 0)) + 1
        run.state[counter] = failures
        _count_requests(run, ctx)
        run.save(update_fields=["counters", "state", "ac_requests", "brevo_requests"])
    if rate_limited and failures < MAX_RATE_LIMITED_SLICES:
        wait = max(1.0, float(exc.retry_after or 0.0))
        logger.info("run %s waits %.0fs for a provider rate limit (%s)", run.pk, wait, exc.operator_message)
        SyncRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() + timedelta(seconds=wait))
        enqueue(run.pk, delay_seconds=wait)
        return "continue"
    if exc.retryable and failures < MAX_SLICE_FAILURES:
        logger.warning("run %s slice failed (%s); retrying", run.pk, exc.operator_message)
        enqueue(run.pk, delay_seconds=min(300, 5 * 2**failures))
        return "continue"
    run.error = exc.operator_message
    _finish(run, RunStatus.FAILED)
    return "finished"


def _final_status(run: SyncRun) -> str:
    if run.cancel_requested:
        return RunStatus.CANCELLED
    failed = sum(int(v.get("failed", 0)) for v in (run.counters or {}).values())
    return RunStatus.PARTIAL if failed else RunStatus.SUCCEEDED


def _finish(run: SyncRun, status: str) -> None:
    with transaction.atomic():
        run.status = status
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "finished_at", "error"])
        if (
            status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL)
            and not run.dry_run
            and run.mode in (RunMode.FULL, RunMode.INCREMENTAL)
        ):
            for name in run.resources:
                cursor = (run.state.get(name) or {}).get("next_cursor")
                checkpoint, _ = Checkpoint.objects.get_or_create(
                    connection=run.connection, resource=name, defaults={"tenant_id": run.tenant_id}
                )
                if cursor:
                    from datetime import datetime

                    checkpoint.cursor = max(filter(None, [checkpoint.cursor, datetime.fromisoformat(cursor)]))
                checkpoint.position = {"last_run": run.pk}
                checkpoint.save()
    staging.clear(run.pk)


# ----------------------------------------------------------------------------- single records


def sync_single(
    *,
    connection: Connection,
    resource: str,
    source_id: str,
    trigger: str = Trigger.WEBHOOK,
    hint: dict[str, Any] | None = None,
) -> SyncRecord | None:
    """Re-read one record from ActiveCampaign and write it through the normal path.

    Used by webhooks and the API. Each call gets its own short run of mode "webhook", so
    outcomes, RecordState and convergence (never older over newer) are exactly a backfill's.
    """
    run = SyncRun.objects.create(
        tenant_id=connection.tenant_id,
        connection=connection,
        mode=RunMode.WEBHOOK if trigger == Trigger.WEBHOOK else RunMode.SINGLE,
        resources=[resource],
        trigger=trigger,
        status=RunStatus.RUNNING,
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
        state={"hint": hint or {}},
    )
    try:
        ctx = _context(run, settings.TAJO_SLICE_SECONDS)
    except _SetupFailed as exc:
        run.error = str(exc)
        _finish(run, RunStatus.FAILED)
        return None
    try:
        with ctx.ac, ctx.brevo:
            get_resource(resource).sync_one(ctx, source_id)
    except ApiError as exc:
        _note_refused_key(connection, exc)
        ctx.recorder.record(
            resource, source_id, Outcome.FAILED, message=exc.operator_message, code="api_error"
        )
    with transaction.atomic():
        ctx.recorder.flush()
        run.counters = ctx.recorder.merged_counters(run.counters)
        run.progress_done = sum(int(v.get("read", 0)) for v in run.counters.values())
        _count_requests(run, ctx)
        run.save(update_fields=["counters", "progress_done", "brevo_requests", "ac_requests"])
    _finish(run, _final_status(run))
    return run.records.order_by("-pk").first()


# ----------------------------------------------------------------------------- watchdog


def recover_stale_runs(*, now=None) -> list[int]:
    """Re-enqueue runs whose worker died (no heartbeat for a while): they resume from their position.

    A stale heartbeat means the slice's holder is gone: a live slice beats every few seconds
    from its own thread. Its lock expires by itself (same period), and a run whose lock is still
    held is left alone. The conditional update makes sure only one watchdog resumes a given run.
    """
    now = now or timezone.now()
    stale = SyncRun.objects.filter(
        status=RunStatus.RUNNING, heartbeat_at__lt=now - timedelta(seconds=settings.TAJO_RUN_STALE_SECONDS)
    ).exclude(mode__in=[RunMode.WEBHOOK, RunMode.SINGLE])
    recovered = []
    for run in stale:
        if SliceLock(run.pk, ttl_seconds=1).held_elsewhere():
            continue
        recoveries = int(run.state.get("_recovered", 0)) + 1
        updated = SyncRun.objects.filter(pk=run.pk, heartbeat_at=run.heartbeat_at).update(
            heartbeat_at=now, state=run.state | {"_recovered": recoveries}
        )
        if not updated:
            continue
        logger.warning(
            "run %s had no heartbeat since %s: resuming from its checkpoint", run.pk, run.heartbeat_at
        )
        queues.enqueue_slice(run.pk)
        recovered.append(run.pk)
    return recovered


def resume_run(run_id: int, *, reason: str) -> bool:
    """Resume a running run from its checkpoint now, if nothing works on it any more.

    A run whose heartbeat is fresh or whose slice lock is held is alive (RQ may call a job
    abandoned that another worker has since resumed): it is left alone.
    """
    run = SyncRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).first()
    if run is None or SliceLock(run.pk, ttl_seconds=1).held_elsewhere() or not _stale(run.heartbeat_at):
        return False
    logger.warning("run %s resumes from its checkpoint: %s", run_id, reason)
    queues.enqueue_slice(run.pk)
    return True


def fail_run(run_id: int, message: str) -> None:
    run = SyncRun.objects.filter(pk=run_id, status__in=ACTIVE_STATUSES).first()
    if run is not None:
        run.error = message
        _finish(run, RunStatus.FAILED)


def _stale(heartbeat_at) -> bool:
    if heartbeat_at is None:
        return False
    return heartbeat_at < timezone.now() - timedelta(seconds=settings.TAJO_RUN_STALE_SECONDS)
