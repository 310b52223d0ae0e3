"""Services: every state change of connections and runs goes through one of these functions.

Admin actions, management commands, the HTTP API and jobs gather input and call one service.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from connectors import queues
from connectors.activecampaign.client import ActiveCampaignClient
from connectors.brevo.client import ADVANCED_BUDGETS, GENERAL_BUDGETS, BrevoClient, brevo_limiters
from connectors.exceptions import ApiError
from connectors.models import ACTIVE_STATUSES, Connection, RunMode, RunStatus, SyncRecord, SyncRun, Trigger
from connectors.ratelimit import get_limiter, limiter_key

logger = logging.getLogger(__name__)

SYNC_QUEUE = queues.SYNC_QUEUE
SHORT_QUEUE = queues.SHORT_QUEUE


BREVO_BUDGETS = {"general": GENERAL_BUDGETS, "advanced": ADVANCED_BUDGETS, "unpaced": {}}


class RunAlreadyActive(Exception):
    """A connection has a queued or running run; two runs of one connection never run at once."""

    def __init__(self, run: SyncRun) -> None:
        self.run = run
        super().__init__(
            f"Run #{run.pk} of this connection is already {run.status}; wait for it or cancel it."
        )


def _redis_url() -> str | None:
    return settings.REDIS_URL or settings.RQ_QUEUES[SYNC_QUEUE]["URL"]


def ac_client_for(connection: Connection, **overrides: Any) -> ActiveCampaignClient:
    account = connection.ac_account
    limiter = get_limiter(
        limiter_key("activecampaign", account.api_url), account.requests_per_second, redis_url=_redis_url()
    )
    return ActiveCampaignClient(
        api_url=account.api_url,
        api_key=account.api_key,
        limiter=limiter,
        allow_private=settings.TAJO_ALLOW_PRIVATE_URLS,
        **overrides,
    )


def brevo_client_for(connection: Connection, **overrides: Any) -> BrevoClient:
    account = connection.brevo_account
    limiters = brevo_limiters(
        f"brevo-account-{account.pk}",
        api_url=account.api_url,
        redis_url=_redis_url(),
        budgets=overrides.pop("budgets", None) or BREVO_BUDGETS[account.budget],
    )
    return BrevoClient(
        api_url=account.api_url,
        api_key=account.api_key,
        limiters=limiters,
        allow_private=settings.TAJO_ALLOW_PRIVATE_URLS,
        **overrides,
    )


def build_clients(connection: Connection) -> tuple[ActiveCampaignClient, BrevoClient]:
    return ac_client_for(connection), brevo_client_for(connection)


# ----------------------------------------------------------------------------- connection test


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'✓' if self.ok else '✗'} {self.name}" + (f": {self.detail}" if self.detail else "")


def _check(name: str, probe) -> CheckResult:
    try:
        detail = probe() or ""
        return CheckResult(name, True, detail)
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
) -> SyncRun:
    """Create a run and enqueue its first slice (after commit). Raises RunAlreadyActive."""
    from connectors.sync.registry import resolve_resources

    names = resolve_resources(resources or connection.enabled_resources())
    if idempotency_key:
        existing = SyncRun.objects.filter(connection=connection, idempotency_key=idempotency_key).first()
        if existing:
            return existing
    active = SyncRun.objects.filter(connection=connection, status__in=ACTIVE_STATUSES).exclude(
        mode__in=[RunMode.WEBHOOK, RunMode.SINGLE]
    )
    if (running := active.first()) is not None:
        raise RunAlreadyActive(running)
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
            transaction.on_commit(lambda: enqueue_slice(run.pk))
    except IntegrityError as exc:
        running = active.first()
        if running is not None:
            raise RunAlreadyActive(running) from exc
        raise
    return run


def enqueue_slice(run_id: int, *, delay_seconds: float = 0, tenant_id: int | None = None) -> None:
    """Queue a run's next slice on its tenant's sync queue (see connectors/queues.py)."""
    from rq import Callback

    if tenant_id is None:
        tenant_id = SyncRun.objects.filter(pk=run_id).values_list("tenant_id", flat=True).first()
    job = queues.enqueue(
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
        except RunAlreadyActive:
            continue
        except Exception:  # one broken connection must not stop the others' schedules
            logger.exception("scheduled sync of %s could not start", connection)
    return started


def sync_run_cancel(*, run: SyncRun) -> SyncRun:
    """Ask a run to stop; it stops within one slice. A queued run that never started stops now."""
    with transaction.atomic():
        run = SyncRun.objects.select_for_update().get(pk=run.pk)
        if run.status not in ACTIVE_STATUSES:
            return run
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
    """Start a run that re-syncs only the records that failed in `run`."""
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
