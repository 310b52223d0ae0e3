"""Services: every state change of connections and runs goes through one of these functions.

Admin actions, management commands, the HTTP API and jobs gather input and call one service.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from connectors import queues
from connectors.clients import build_clients
from connectors.exceptions import (
    ApiError,
    AuthError,
    ConnectionDisabled,
    DomainError,
    IdempotencyKeyReused,
    NothingToRetry,
    NothingToSync,
    QueueUnavailable,
    RunAlreadyActive,
    RunNotActive,
    RunStillActive,
)
from connectors.models import (
    ACTIVE_STATUSES,
    PLAN_RATES,
    AcPlan,
    ActiveCampaignAccount,
    BrevoAccount,
    Connection,
    Outcome,
    RunMode,
    RunStatus,
    SyncRecord,
    SyncRun,
    Trigger,
)
from connectors.providers.activecampaign.client import ActiveCampaignClient
from connectors.providers.brevo.client import BrevoClient
from connectors.queues import enqueue_slice

logger = logging.getLogger(__name__)



# ----------------------------------------------------------------------------- connection test


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'✓' if self.ok else '✗'} {self.name}" + (f": {self.detail}" if self.detail else "")


# The connector documentation's troubleshooting table, said where the problem shows.
_AUTH_ADVICE = {
    "ActiveCampaign": "check the API URL (ActiveCampaign Settings → Developer, "
    "https://<account>.api-us1.com, not the dashboard URL) and the API key",
    "Brevo": "check the Brevo API key (Brevo Settings → SMTP & API → API keys) and that it is active",
}


def _check(name: str, probe) -> CheckResult:
    try:
        detail = probe() or ""
        return CheckResult(name, True, detail)
    except AuthError as exc:
        advice = _AUTH_ADVICE["Brevo" if name.startswith("Brevo") else "ActiveCampaign"]
        return CheckResult(name, False, f"{exc.operator_message}; {advice}")
    except ApiError as exc:
        return CheckResult(name, False, exc.operator_message)
    except Exception as exc:  # a check list reports every failure instead of stopping at the first
        logger.exception("connection check %s failed", name)
        return CheckResult(name, False, f"unexpected error: {type(exc).__name__}")


def connection_test(*, connection: Connection) -> list[CheckResult]:
    """The connector documentation's checklist plus the Brevo side; nothing is written anywhere."""
    ac, brevo = build_clients(connection)
    with ac, brevo:
        results = [_check("API connection", lambda: f"signed in as {ac.get_me().email or 'API user'}")]
        if results[0].ok:
            results += [
                _check("Contacts readable", lambda: f"{_first_total(ac.iter_contact_pages())} contacts"),
                _check("Deals readable", lambda: f"{_first_total(ac.iter_deal_pages())} deals"),
                _check(
                    "Automations accessible",
                    lambda: f"{_first_total(ac.iter_automation_pages())} automations",
                ),
                _check("Event tracking enabled", lambda: _event_tracking(ac)),
            ]
        account = _check("Brevo account reachable", lambda: _brevo_account(brevo))
        results.append(account)
        if account.ok:
            results.append(_check("Brevo contacts writable", lambda: _brevo_contacts_writable(brevo)))
    failed = [r for r in results if not r.ok]
    connection.record_check(
        ok=not failed,
        message="; ".join(f"{r.name}: {r.detail}" for r in failed),
    )
    return results


def _first_total(pages) -> int:
    page = next(iter(pages), None)
    if page is None:
        return 0
    return page.total if page.total is not None else len(page.items)


def _event_tracking(ac: ActiveCampaignClient) -> str:
    status = ac.get_event_tracking()
    if not status.enabled:
        raise _CheckFailed(
            "event tracking is off in ActiveCampaign (Website → Site Tracking → Event tracking)"
        )
    return "enabled"


def _brevo_account(brevo: BrevoClient) -> str:
    account = brevo.get_account()
    return f"{account.company_name or account.email or 'account'}"


def _brevo_contacts_writable(brevo: BrevoClient) -> str:
    # Listing needs the same key rights as writing to contacts, and writes nothing.
    page = brevo.list_contacts(limit=1, offset=0)
    return f"{page.count} contacts"


class _CheckFailed(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(message, status=None, url="")


# ----------------------------------------------------------------------------- runs


def sync_run_start(
    *,
    connection: Connection,
    mode: str = RunMode.FULL,
    resources: list[str] | None = None,
    dry_run: bool = False,
    trigger: str = Trigger.ADMIN,
    user: Any = None,
    idempotency_key: str = "",
    retry_of: SyncRun | None = None,
    connection_options: dict[str, Any] | None = None,
) -> SyncRun:
    """Create a run and enqueue its first slice (after commit): both happen or neither does.

    Every rule for starting a run is here, so the admin, the commands, the schedule and the API
    refuse the same things with the same words (connectors.exceptions): UnknownResource,
    IdempotencyKeyReused, ConnectionDisabled, NothingToSync, RunAlreadyActive, and
    QueueUnavailable when the queue cannot take the job (the run is then withdrawn, so no queued
    run waits for a job that does not exist).

    With an `idempotency_key`, the same request again returns the run the first one started, even
    after it finished. `connection_options` (Connection field -> value) are saved with the new run
    in one transaction, and only when a run is started now.
    """
    from connectors.sync.registry import resolve_resources

    names = resolve_resources(resources or connection.enabled_resources())
    if idempotency_key and (earlier := _keyed_run(connection, idempotency_key)) is not None:
        return _same_request(earlier, mode=mode, resources=names, dry_run=dry_run)
    if not connection.enabled:
        raise ConnectionDisabled(connection)
    if not names:
        raise NothingToSync()
    active = SyncRun.objects.filter(connection=connection, status__in=ACTIVE_STATUSES).exclude(
        mode__in=[RunMode.WEBHOOK, RunMode.SINGLE]
    )
    if (running := active.first()) is None:
        try:
            with transaction.atomic():
                run = SyncRun.objects.create(
                    tenant_id=connection.tenant_id,
                    connection=connection,
                    mode=mode,
                    resources=names,
                    dry_run=dry_run,
                    trigger=trigger,
                    requested_by=user if getattr(user, "is_authenticated", False) else None,
                    idempotency_key=idempotency_key,
                    retry_of=retry_of,
                )
                _store_options(connection, connection_options or {})
                transaction.on_commit(lambda: _enqueue_first_slice(run.pk))
            return run
        except IntegrityError:
            # Another request created its run in between (one active run per connection).
            if (running := active.first()) is None:
                raise
    if idempotency_key and running.idempotency_key == idempotency_key:
        return running  # a concurrent twin of this request won the race: its run is the answer
    raise RunAlreadyActive(running)


def _keyed_run(connection: Connection, key: str) -> SyncRun | None:
    return (
        SyncRun.objects.select_related("connection")
        .filter(connection=connection, idempotency_key=key)
        .first()
    )


def _same_request(run: SyncRun, *, mode: str, resources: list[str], dry_run: bool) -> SyncRun:
    """The run an idempotency key started, when this is the same request again."""
    if run.mode == mode and list(run.resources) == resources and run.dry_run == dry_run:
        return run
    raise IdempotencyKeyReused(
        f"This Idempotency-Key already started run {run.pk} with other parameters; use a new key.", run=run
    )


def _store_options(connection: Connection, options: dict[str, Any]) -> None:
    changed = [name for name, value in options.items() if getattr(connection, name) != value]
    for name in changed:
        setattr(connection, name, options[name])
    if changed:
        connection.save(update_fields=changed)


def _enqueue_first_slice(run_id: int) -> None:
    """Runs on commit of the new run. The run is committed first so a fast worker always finds
    it; when the enqueue fails, the run that was never taken is removed again."""
    from redis.exceptions import RedisError

    try:
        enqueue_slice(run_id)
    except RedisError as exc:
        SyncRun.objects.filter(pk=run_id, status=RunStatus.QUEUED, started_at__isnull=True).delete()
        # The caller reports it (admin message, API 503, command error): no second line here.
        logger.debug("run %s withdrawn: the queue cannot be reached (%s)", run_id, type(exc).__name__)
        fix = (
            "start Redis or set REDIS_URL to it"
            if settings.REDIS_URL
            else "REDIS_URL is not set and no demo is running: start ./scripts/demo or set REDIS_URL"
        )
        raise QueueUnavailable(exc, address=queues.queue_address(), fix=fix) from exc


LOST_JOB_GRACE_SECONDS = 60


def sync_runs_mark_lost(*, now=None, grace_seconds: float = LOST_JOB_GRACE_SECONDS) -> list[int]:
    """Fail queued runs whose job is no longer in the queue (Redis restarted or was flushed, or the
    process died between commit and enqueue): no worker will ever take them. Returns their ids.

    A run whose job still waits in the queue stays queued however long the queue is; when Redis
    cannot be asked, nothing is marked (a lost job cannot be told from a busy queue).
    """
    from redis.exceptions import RedisError
    from rq.exceptions import NoSuchJobError
    from rq.job import Job, JobStatus

    # A first slice that finished, failed or stopped while its run still says "queued" will
    # never move it on either.
    LOST_JOB_STATUSES = (None, JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED)
    now = now or timezone.now()
    candidates = SyncRun.objects.filter(
        status=RunStatus.QUEUED,
        started_at__isnull=True,
        created_at__lt=now - timedelta(seconds=grace_seconds),
    ).only("pk", "job_id")
    connection = queues.redis_connection(queues.SYNC_QUEUE)
    lost = []
    try:
        for run in candidates:
            if run.job_id:
                try:
                    status = Job.fetch(run.job_id, connection=connection).get_status(refresh=False)
                except NoSuchJobError:
                    status = None
                if status not in LOST_JOB_STATUSES:
                    continue
            marked = SyncRun.objects.filter(
                pk=run.pk, status=RunStatus.QUEUED, started_at__isnull=True
            ).update(
                status=RunStatus.FAILED,
                finished_at=now,
                error="its job was lost from the queue before a worker took it (the queue was "
                "restarted or emptied); nothing was synced: start the run again",
            )
            if marked:
                logger.warning("run %s was queued but its job is gone: marked failed", run.pk)
                lost.append(run.pk)
    except RedisError as exc:
        logger.warning("lost-job check skipped: the queue cannot be reached (%s)", type(exc).__name__)
    return lost


def sync_runs_start_due(*, now=None) -> list[SyncRun]:
    """Start the incremental runs that connection schedules ask for (and skip busy connections)."""
    from django.db.models import Max

    now = now or timezone.now()
    started = []
    scheduled = Connection.objects.filter(enabled=True, incremental_every_minutes__gt=0).annotate(
        last_created=Max("runs__created_at")
    )
    for connection in scheduled:
        due = connection.last_created is None or connection.last_created <= now - timedelta(
            minutes=connection.incremental_every_minutes
        )
        if not due:
            continue
        try:
            started.append(
                sync_run_start(connection=connection, mode=RunMode.INCREMENTAL, trigger=Trigger.SCHEDULE)
            )
        except (RunAlreadyActive, NothingToSync):
            continue  # busy, or nothing switched on: the next tick looks again
        except DomainError as exc:
            logger.warning("scheduled sync of %s not started: %s", connection, exc)
        except Exception:  # one broken connection must not stop the others' schedules
            logger.exception("scheduled sync of %s could not start", connection)
    return started


def sync_run_cancel(*, run: SyncRun) -> SyncRun:
    """Ask a run to stop; it stops within one slice. A queued run that never started stops now.

    Cancelling a cancelled run again is not an error (a repeated request gets the same answer);
    a run that finished otherwise raises RunNotActive.
    """
    with transaction.atomic():
        run = SyncRun.objects.select_for_update().get(pk=run.pk)
        if run.status == RunStatus.CANCELLED:
            return run
        if run.status not in ACTIVE_STATUSES:
            raise RunNotActive(run)
        run.cancel_requested = True
        now = timezone.now()
        never_started = run.status == RunStatus.QUEUED and run.started_at is None
        # A run waiting for a budget slot (its next slice is scheduled later) has no slice to stop.
        waiting = run.status == RunStatus.RUNNING and run.heartbeat_at is not None and run.heartbeat_at > now
        if never_started or waiting:
            run.status = RunStatus.CANCELLED
            run.finished_at = now
        run.save(update_fields=["cancel_requested", "status", "finished_at"])
    return run


def sync_run_retry_failed(*, run: SyncRun, trigger: str = Trigger.ADMIN, user: Any = None) -> SyncRun:
    """Start a run that re-syncs only the records that failed in `run`.

    Raises RunStillActive while `run` itself is queued or running, NothingToRetry when it has no
    failed record, and whatever sync_run_start raises.
    """
    if run.status in ACTIVE_STATUSES:
        raise RunStillActive(run)
    if not run.records.filter(outcome=Outcome.FAILED).exists():
        raise NothingToRetry(run)
    return sync_run_start(
        connection=run.connection,
        mode=RunMode.RETRY,
        resources=list(run.resources),
        dry_run=False,
        trigger=trigger,
        user=user,
        retry_of=run,
    )


def event_forward(
    *,
    connection: Connection,
    event: str,
    event_data: str | dict[str, Any] | None = None,
    email: str,
    trigger: str = Trigger.API,
) -> SyncRecord | None:
    """Send one tracked event to Brevo through the connection's event mapping ("track event").

    Runs as a short run of mode "single" with one record, like a webhook's single-record sync:
    an unmapped event name is a skipped record, a bad email a failed one. Returns None only
    when the connection's mapping is invalid (the run carries the error).
    """
    import uuid

    from connectors.sync.engine import sync_single

    return sync_single(
        connection=connection,
        resource="events",
        source_id=f"api:{uuid.uuid4().hex}",
        trigger=trigger,
        hint={"forward": {"event": event, "event_data": event_data, "email": email}},
    )


# ----------------------------------------------------------------------------- accounts, connections
# The API's connect, the YAML import and the admin create and change accounts and connections
# through these two, so that naming, plan rates and the audit history follow one set of rules.

Account = TypeVar("Account", ActiveCampaignAccount, BrevoAccount)


def _audited_save(instance: Any, *, user: Any, reason: str) -> None:
    # The audit history shows who made a change and through what (API token, file, admin form).
    if reason:
        instance._change_reason = reason
    if getattr(user, "is_authenticated", False):
        instance._history_user = user
    instance.save()


def account_free_name(model: type[Account], tenant_id: int, base: str) -> str:
    """`base`, or `base (2)`, `base (3)`... whichever the tenant has no account of `model` named yet."""
    base = base[:190]
    taken = set(
        model.objects.filter(tenant_id=tenant_id, name__startswith=base).values_list("name", flat=True)
    )
    name, number = base, 2
    while name in taken:
        name = f"{base} ({number})"
        number += 1
    return name


def account_upsert(
    *,
    model: type[Account],
    tenant_id: int,
    api_url: str | None = None,
    api_key: str | None = None,
    account: Account | None = None,
    name: str = "",
    plan: str | None = None,
    user: Any = None,
    reason: str = "",
) -> Account:
    """Create an account of `model` (ActiveCampaign or Brevo), or change `account`; saved only if changed.

    A new account is named `name` (made unique within the tenant). `plan` (ActiveCampaign only)
    sets the plan; a new account gets the plan's request rate ("lite" without one), an existing
    one keeps a rate set by hand (`ActiveCampaignAccount.plan_change`). Values left as None stay
    as they are; the caller has checked them (URL normalised, key validated).
    """
    if account is None:
        account = model(tenant_id=tenant_id, name=account_free_name(model, tenant_id, name or model.__name__))
        if isinstance(account, ActiveCampaignAccount):
            plan = plan or AcPlan.LITE
    dirty = account.pk is None
    for field, value in (("api_url", api_url), ("api_key", api_key)):
        if value is not None and getattr(account, field) != value:
            setattr(account, field, value)
            dirty = True
    if isinstance(account, ActiveCampaignAccount) and plan and account.pk is None:
        account.plan, account.requests_per_second = plan, PLAN_RATES[plan]
    elif isinstance(account, ActiveCampaignAccount) and plan and plan != account.plan:
        account.plan_change(plan)  # keeps a rate set for this account by hand
        dirty = True
    if dirty:
        _audited_save(account, user=user, reason=reason)
    return account


def connection_save(
    *,
    connection: Connection,
    values: Mapping[str, Any] | None = None,
    user: Any = None,
    reason: str = "",
) -> Connection:
    """Set `values` (Connection field -> value) on the connection and save it with its audit entry.

    Field names are checked against the model, so a caller's table that names a field the
    model lacks fails here, loudly, instead of setting an attribute nothing reads.
    """
    for field, value in (values or {}).items():
        if field not in _CONNECTION_FIELDS:
            raise ValueError(f"Connection has no field '{field}'")
        setattr(connection, field, value)
    _audited_save(connection, user=user, reason=reason)
    return connection


_CONNECTION_FIELDS = frozenset(field.name for field in Connection._meta.concrete_fields)
