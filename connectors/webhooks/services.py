"""Webhook services: receive (the intake's one call), process, reprocess, register, rotate.

The intake must answer within tens of milliseconds, so `webhook_receive` only parses, stores
and enqueues; everything that talks to ActiveCampaign or Brevo happens in the RQ job
(`webhook_event_process`) through the sync engine's single-record path.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import django_rq
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from connectors.exceptions import ApiError
from connectors.http import mask_text
from connectors.models import Connection, Outcome, RunMode, RunStatus, SyncRun, Trigger
from connectors.webhook_models import WebhookEvent, WebhookStatus
from connectors.webhooks.parsing import (
    EVENT_MODELS,
    REGISTRABLE_EVENTS,
    WEBHOOK_SOURCES,
    ParsedWebhook,
    WebhookParseError,
    parse_webhook,
)

logger = logging.getLogger(__name__)

SHORT_QUEUE = (
    "tajo-short"  # same name as connectors.services.SHORT_QUEUE (not imported: keeps the hot path light)
)
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
REJECTED_BODY_MAX = 2048  # a rejected body is kept (log_webhooks only) up to this many characters
# Rejected and duplicate deliveries stored per connection per minute; past it they are still
# answered (400/413/415 or 200) and counted in the log, but leave no row.
UNSTORED_CAP_PER_MINUTE = 60
JOB_RETRY_INTERVALS = [5, 30, 120]

# Field names whose values are never stored (the intake URL's secret is in the path, never here,
# but a sender could put a key or token into the body).
_SECRET_NAME = re.compile(r"key|token|secret|password|passwd|signature|auth", re.IGNORECASE)
_SECRET_PAIR = re.compile(
    r"(^|&)([^=&]*(?:key|token|secret|password|passwd|signature|auth)[^=&]*)=([^&]*)", re.IGNORECASE
)

# The connection switch that must be on for each resource a webhook can touch.
RESOURCE_FLAGS = {"contacts": "sync_contacts", "deals": "sync_deals", "automations": "sync_automations"}


@dataclass(frozen=True)
class Receipt:
    """What the intake answers: the HTTP status, the event's status and, when stored, its id."""

    http_status: int
    status: str
    event_id: int | None = None
    reason: str = ""


# ----------------------------------------------------------------------------- masking


def masked_fields(value: Any, name: str = "") -> Any:
    """Nested parsed fields with secret-looking values replaced (by field name and by known secrets)."""
    if isinstance(value, dict):
        return {k: masked_fields(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [masked_fields(v, name) for v in value]
    if name and _SECRET_NAME.search(name):
        return "****"
    return mask_text(value) if isinstance(value, str) else value


def masked_body(body: bytes, *, limit: int | None = None) -> str:
    text = body.decode("utf-8", errors="replace")
    if limit is not None and len(text) > limit:
        text = text[:limit] + f"… [{len(body)} bytes, cut]"
    return mask_text(_SECRET_PAIR.sub(r"\1\2=****", text))


# ----------------------------------------------------------------------------- queue

_queue_lock = threading.Lock()
_queues: dict[str, Any] = {}


def _queue() -> Any:
    """One RQ queue (and Redis connection pool) per process: the intake enqueues on every request."""
    url = settings.RQ_QUEUES[SHORT_QUEUE].get("URL", "")
    queue = _queues.get(url)
    if queue is None:
        with _queue_lock:
            queue = _queues.get(url) or django_rq.get_queue(SHORT_QUEUE)
            _queues[url] = queue
    return queue


def webhook_event_enqueue(event_id: int) -> None:
    from rq import Retry

    from connectors.webhooks.jobs import process_webhook_event

    _queue().enqueue(
        process_webhook_event,
        event_id,
        retry=Retry(max=len(JOB_RETRY_INTERVALS), interval=JOB_RETRY_INTERVALS),
        job_timeout=120,
        result_ttl=300,
        failure_ttl=7 * 24 * 3600,
    )


_local_counts: dict[str, int] = {}


def _within_unstored_cap(connection_id: int) -> bool:
    """Per connection and minute, shared by all web processes through Redis (per process without it)."""
    cap = getattr(settings, "TAJO_WEBHOOK_UNSTORED_PER_MINUTE", UNSTORED_CAP_PER_MINUTE)
    key = f"tajo:webhooks:unstored:{connection_id}:{int(time.time() // 60)}"
    try:
        redis = _queue().connection
        pipe = redis.pipeline()
        pipe.incr(key)
        pipe.expire(key, 120)
        count = int(pipe.execute()[0])
    except Exception:  # Redis down must not open the gate: count in this process instead
        if len(_local_counts) > 10_000:
            _local_counts.clear()
        count = _local_counts[key] = _local_counts.get(key, 0) + 1
    return count <= cap


# ----------------------------------------------------------------------------- intake


def _ignored_reason(connection: Connection, parsed: ParsedWebhook) -> str:
    if not parsed.handled:
        return f"{parsed.event.type} events are not synced"
    if not connection.enabled:
        return "the connection is disabled"
    flag = RESOURCE_FLAGS.get(parsed.event.resource)
    if flag and not getattr(connection, flag):
        return f"{parsed.event.resource} do not sync on this connection"
    return ""


def webhook_receive(
    *,
    connection: Connection,
    body: bytes,
    content_type: str = FORM_CONTENT_TYPE,
    query: Mapping[str, str] | None = None,
    remote_addr: str | None = None,
    oversize_bytes: int | None = None,
) -> Receipt:
    """Store one delivery and queue it. Never raises for bad input: the receipt says what happened."""
    if oversize_bytes is not None:
        limit = settings.TAJO_WEBHOOK_MAX_BODY
        reason = f"body of {oversize_bytes} bytes is over the {limit}-byte limit"
        return _reject(
            connection, reason, http_status=413, body=b"", size=oversize_bytes, remote_addr=remote_addr
        )
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type not in ("", FORM_CONTENT_TYPE):
        reason = f"content type {media_type[:60]!r} is not {FORM_CONTENT_TYPE}"
        return _reject(
            connection, reason, http_status=415, body=body, size=len(body), remote_addr=remote_addr
        )
    try:
        parsed = parse_webhook(body, query=dict(query or {}))
    except WebhookParseError as exc:
        return _reject(
            connection, exc.reason, http_status=400, body=body, size=len(body), remote_addr=remote_addr
        )

    event = parsed.event
    ignored = _ignored_reason(connection, parsed)
    row = WebhookEvent(
        tenant_id=connection.tenant_id,
        connection_id=connection.pk,
        event_type=event.type,
        source=event.initiated_from[:20],
        resource=event.resource,
        source_id=event.source_id,
        key=event.key[:320],
        occurred_at=event.date_time if event.date_time and event.date_time.tzinfo else None,
        dedup_key=parsed.dedup_key,
        status=WebhookStatus.IGNORED if ignored else WebhookStatus.RECEIVED,
        error=ignored,
        payload=masked_fields(parsed.fields),
        raw_body=masked_body(body) if connection.log_webhooks else "",
        body_bytes=len(body),
        remote_addr=remote_addr,
    )
    try:
        with transaction.atomic():
            row.save(force_insert=True)
    except IntegrityError:
        return _duplicate(connection, row)
    if row.status == WebhookStatus.RECEIVED:
        try:
            webhook_event_enqueue(row.pk)
        except Exception as exc:  # stored is what matters: "reprocess" picks it up once Redis is back
            logger.error("webhook event %s stored but not queued: %s", row.pk, type(exc).__name__)
            WebhookEvent.objects.filter(pk=row.pk).update(error="stored but not queued (queue unavailable)")
    return Receipt(200, row.status, row.pk, ignored)


def _duplicate(connection: Connection, row: WebhookEvent) -> Receipt:
    original = (
        WebhookEvent.objects.filter(connection_id=connection.pk, dedup_key=row.dedup_key).only("id").first()
    )
    if not _within_unstored_cap(connection.pk):
        logger.info("duplicate webhook for connection %s not stored (over the per-minute cap)", connection.pk)
        return Receipt(200, WebhookStatus.DUPLICATE, None, "duplicate")
    row.pk = None
    row.dedup_key = None
    row.duplicate_of = original
    row.status = WebhookStatus.DUPLICATE
    row.error = f"same body as event #{original.pk}" if original else "duplicate"
    row.raw_body = ""
    row.payload = None
    row.save(force_insert=True)
    return Receipt(200, row.status, row.pk, row.error)


def _reject(
    connection: Connection, reason: str, *, http_status: int, body: bytes, size: int, remote_addr: str | None
) -> Receipt:
    if not _within_unstored_cap(connection.pk):
        logger.info(
            "rejected webhook for connection %s not stored (over the per-minute cap): %s",
            connection.pk,
            reason,
        )
        return Receipt(http_status, WebhookStatus.REJECTED, None, reason)
    row = WebhookEvent.objects.create(
        tenant_id=connection.tenant_id,
        connection_id=connection.pk,
        status=WebhookStatus.REJECTED,
        error=reason[:1000],
        raw_body=masked_body(body, limit=REJECTED_BODY_MAX) if connection.log_webhooks and body else "",
        body_bytes=size,
        remote_addr=remote_addr,
    )
    return Receipt(http_status, row.status, row.pk, reason)


# ----------------------------------------------------------------------------- processing


def event_hint(event: WebhookEvent) -> dict[str, Any]:
    """The engine's hint, rebuilt from the stored payload (never trusted as the record's truth)."""
    model = EVENT_MODELS.get(event.event_type)
    if model is None or not event.payload:
        return {"event": event.event_type}
    try:
        return model.model_validate({**event.payload, "type": event.event_type}).hint()
    except ValueError:
        return {"event": event.event_type}


def webhook_event_process(*, event_id: int) -> str:
    """Apply one event through the sync engine's single-record path. Returns the event's new status.

    The claim (received/failed -> processing) makes a job that runs twice, or a reprocess
    clicked while the first job is queued, apply the event once.
    """
    from connectors.sync.engine import sync_single

    claimed = WebhookEvent.objects.filter(
        pk=event_id, status__in=[WebhookStatus.RECEIVED, WebhookStatus.FAILED]
    ).update(status=WebhookStatus.PROCESSING, attempts=F("attempts") + 1, error="")
    if not claimed:
        return "not claimed"
    event = WebhookEvent.objects.select_related("connection").get(pk=event_id)
    started = timezone.now()
    try:
        record = sync_single(
            connection=event.connection,
            resource=event.resource,
            source_id=event.source_id,
            trigger=Trigger.WEBHOOK,
            hint=event_hint(event),
        )
    except ApiError as exc:
        _finish(event, WebhookStatus.FAILED, error=exc.operator_message)
        return WebhookStatus.FAILED
    except Exception as exc:
        _finish(event, WebhookStatus.FAILED, error=f"unexpected error: {type(exc).__name__}")
        raise  # the worker logs the traceback; RQ retries
    if record is None:
        _finish(event, WebhookStatus.FAILED, error=_setup_error(event.connection, started))
        return WebhookStatus.FAILED
    if record.outcome == Outcome.FAILED:
        _finish(event, WebhookStatus.FAILED, error=record.message or record.error_code, record=record)
        return WebhookStatus.FAILED
    _finish(event, WebhookStatus.PROCESSED, record=record)
    return WebhookStatus.PROCESSED


def _setup_error(connection: Connection, since: Any) -> str:
    run = (
        SyncRun.objects.filter(
            connection=connection,
            mode=RunMode.WEBHOOK,
            status=RunStatus.FAILED,
            created_at__gte=since - timedelta(seconds=1),
        )
        .order_by("-pk")
        .only("error")
        .first()
    )
    return (run.error if run and run.error else "the sync engine could not start for this connection")[:1000]


def _finish(event: WebhookEvent, status: str, *, error: str = "", record: Any = None) -> None:
    WebhookEvent.objects.filter(pk=event.pk).update(
        status=status, error=mask_text(error)[:1000], processed_at=timezone.now(), sync_record=record
    )


class CannotReprocess(ValueError):
    pass


def webhook_event_reprocess(*, event: WebhookEvent) -> WebhookEvent:
    """Queue an event again: the record is re-read from ActiveCampaign and written as it is now."""
    if event.status == WebhookStatus.REJECTED:
        raise CannotReprocess(f"event #{event.pk} was rejected ({event.error}); there is nothing to apply")
    target = event.duplicate_of if event.status == WebhookStatus.DUPLICATE and event.duplicate_of else event
    if not target.resource or not target.source_id:
        raise CannotReprocess(f"event #{target.pk} ({target.event_type}) names no record to sync")
    WebhookEvent.objects.filter(pk=target.pk).update(status=WebhookStatus.RECEIVED, error="")
    webhook_event_enqueue(target.pk)
    target.refresh_from_db()
    return target


def webhook_events_purge(*, older_than: timedelta = timedelta(days=30)) -> int:
    """Delete events received before the retention window; returns how many rows went."""
    deleted, _ = WebhookEvent.objects.filter(received_at__lt=timezone.now() - older_than).delete()
    return deleted


# ----------------------------------------------------------------------------- intake URL and secret


def intake_path(connection: Connection) -> str:
    return reverse(
        "webhooks:intake", kwargs={"connection_id": connection.pk, "secret": connection.webhook_secret}
    )


def intake_url(*, connection: Connection, base_url: str) -> str:
    """The URL ActiveCampaign posts to: the deployment's public base URL plus the secret path."""
    return base_url.rstrip("/") + intake_path(connection)


def _belongs_to(connection: Connection, url: str) -> bool:
    """Any intake URL of this connection, including ones with a secret rotated away since."""
    path = reverse("webhooks:intake", kwargs={"connection_id": connection.pk, "secret": "x"})
    return urlsplit(url).path.startswith(path.rsplit("/", 1)[0] + "/")


def webhook_secret_rotate(*, connection: Connection, base_url: str | None = None) -> tuple[Connection, int]:
    """New secret: the old intake URL answers 404 from now on.

    With `base_url`, every ActiveCampaign webhook registered for the old URL is registered again
    for the new one (same events, sources and list) and the old registration is removed.
    Returns the connection and how many registrations moved.
    """
    registered = webhooks_registered(connection=connection) if base_url else []
    connection.webhook_secret = Connection._meta.get_field("webhook_secret").get_default()
    connection._change_reason = "webhook secret rotated"
    connection.save(update_fields=["webhook_secret"])
    moved = 0
    if registered:
        from connectors.services import ac_client_for

        new_url = intake_url(connection=connection, base_url=base_url or "")
        with ac_client_for(connection) as ac:
            for hook in registered:
                ac.create_webhook(
                    name=hook.name or _hook_name(connection),
                    url=new_url,
                    events=hook.events,
                    sources=hook.sources,
                    list_id=hook.list_id,
                )
                ac.delete_webhook(hook.id)
                moved += 1
    return connection, moved


# ----------------------------------------------------------------------------- ActiveCampaign registration


def _hook_name(connection: Connection) -> str:
    return f"Tajo {connection}"[:100]


def webhooks_registered(*, connection: Connection) -> list[Any]:
    """ActiveCampaign webhooks that post to this connection's intake (any secret, any host)."""
    from connectors.services import ac_client_for

    with ac_client_for(connection) as ac:
        return [
            hook
            for page in ac.iter_webhook_pages()
            for hook in page.items
            if _belongs_to(connection, hook.url)
        ]


def webhooks_register(
    *,
    connection: Connection,
    base_url: str,
    events: Iterable[str] = REGISTRABLE_EVENTS,
    sources: Iterable[str] = WEBHOOK_SOURCES,
    list_id: int = 0,
) -> Any:
    """Register the intake URL in ActiveCampaign for `events` from `sources`.

    Earlier registrations of this connection are replaced, so AC never posts one change twice
    through two subscriptions. Raises ValueError for an event or source AC does not know.
    """
    from connectors.services import ac_client_for

    events, sources = list(dict.fromkeys(events)), list(dict.fromkeys(sources))
    bad_events = [e for e in events if e not in REGISTRABLE_EVENTS]
    if not events or bad_events:
        raise ValueError(
            f"choose events among {', '.join(REGISTRABLE_EVENTS)}"
            + (f" (not {', '.join(bad_events)})" if bad_events else "")
        )
    bad_sources = [s for s in sources if s not in WEBHOOK_SOURCES]
    if not sources or bad_sources:
        raise ValueError(f"choose sources among {', '.join(WEBHOOK_SOURCES)}")
    url = intake_url(connection=connection, base_url=base_url)
    existing = webhooks_registered(connection=connection)
    with ac_client_for(connection) as ac:
        hook = ac.create_webhook(
            name=_hook_name(connection), url=url, events=events, sources=sources, list_id=list_id
        )
        for old in existing:
            ac.delete_webhook(old.id)
    return hook


def webhooks_unregister(*, connection: Connection, webhook_ids: Iterable[int] | None = None) -> int:
    """Remove this connection's registrations (all, or the given ids among them). Returns the count."""
    from connectors.services import ac_client_for

    wanted = {int(i) for i in webhook_ids} if webhook_ids is not None else None
    hooks = [h for h in webhooks_registered(connection=connection) if wanted is None or h.id in wanted]
    with ac_client_for(connection) as ac:
        for hook in hooks:
            ac.delete_webhook(hook.id)
    return len(hooks)
