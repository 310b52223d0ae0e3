"""Webhook services: receive (the intake's one call), process, reprocess, register, rotate.

The intake must answer within tens of milliseconds, so `webhook_receive` only parses, stores
and enqueues; everything that talks to ActiveCampaign or Brevo happens in the RQ job
(`webhook_event_process`) through the sync engine's single-record path.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import django_rq
from django.conf import settings
from django.db import connection as db_connection
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from connectors import queues
from connectors.exceptions import ApiError
from connectors.models import Connection, Outcome, RunMode, RunStatus, SyncRun, Trigger
from connectors.providers.http.masking import mask_fields, mask_text
from connectors.webhooks.models import WebhookEvent, WebhookStatus
from connectors.webhooks.parsing import (
    EVENT_MODELS,
    REGISTRABLE_EVENTS,
    WEBHOOK_SOURCES,
    ParsedWebhook,
    WebhookParseError,
    parse_webhook,
    registrable_event,
    tajo_event_name,
)

logger = logging.getLogger(__name__)

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
REJECTED_BODY_MAX = 2048  # a rejected body is kept (log_webhooks only) up to this many characters
# TAJO_WEBHOOK_UNSTORED_PER_MINUTE: rejected and duplicate deliveries stored per connection per
# minute; past it they are still answered (400/413/415 or 200) and counted in the log, but leave
# no row.
# TAJO_WEBHOOK_STORED_MAX: events stored per connection, whatever their kind. Past it the oldest
# finished events (processed, ignored, duplicate, rejected) make room; when the store holds only
# events still to apply or failed ones, a delivery is answered 503 and not stored, counted on the connection
# (`webhooks_not_stored`, `webhooks_full_since`) and shown on its page: AC never retries a
# delivery (reference §14.4), so the next incremental sync is what carries the change.
STORED_COUNT_TTL = 300  # seconds the shared count is trusted before it is counted again
TRIM_BATCH = 500  # finished events removed at once when the cap is reached
FINISHED = (WebhookStatus.PROCESSED, WebhookStatus.IGNORED, WebhookStatus.DUPLICATE, WebhookStatus.REJECTED)
JOB_RETRY_INTERVALS = [5, 30, 120]

# Field names whose values are never stored (the intake URL's secret is in the path, never here,
# but a sender could put a key or token into the body).

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


def masked_fields(value: Any) -> Any:
    """Parsed fields as they are stored: secrets masked (by field name and by known secrets)."""
    return _storable_tree(mask_fields(value))


def _storable_tree(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _storable_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_storable_tree(v) for v in value]
    return _storable(value) if isinstance(value, str) else value


def _storable(text: str) -> str:
    """PostgreSQL text and jsonb refuse NUL; a stored copy shows it as U+FFFD instead."""
    return text.replace("\x00", "\ufffd")


def masked_body(body: bytes, *, limit: int | None = None) -> str:
    text = body.decode("utf-8", errors="replace")
    if limit is not None and len(text) > limit:
        text = text[:limit] + f"… [{len(body)} bytes, cut]"
    return _storable(mask_text(text))


# ----------------------------------------------------------------------------- queue

_queue_lock = threading.Lock()
_queues: dict[str, Any] = {}


def _queue() -> Any:
    """One RQ queue (and Redis connection pool) per process: the intake enqueues on every request."""
    url = settings.RQ_QUEUES[queues.SHORT_QUEUE].get("URL", "")
    queue = _queues.get(url)
    if queue is None:
        with _queue_lock:
            queue = _queues.get(url) or django_rq.get_queue(queues.SHORT_QUEUE)
            _queues[url] = queue
    return queue


def webhook_event_enqueue(event_id: int, *, tenant_id: int | None = None) -> None:
    """Queue the processing job on the tenant's short queue (connectors/queues.py: tenants are
    served round-robin); inside a transaction it waits for the commit (django-rq)."""
    from rq import Retry

    queue = _queue()
    options: dict[str, Any] = {
        "retry": Retry(max=len(JOB_RETRY_INTERVALS), interval=JOB_RETRY_INTERVALS),
        "job_timeout": 120,
        "result_ttl": 300,
        "failure_ttl": 7 * 24 * 3600,
    }
    job = "connectors.webhooks.jobs.process_webhook_event"
    lane = queues.SHORT_QUEUE
    if db_connection.in_atomic_block:
        queues.enqueue(job, event_id, lane=lane, tenant_id=tenant_id, connection=queue.connection, **options)
        return
    # One Redis round trip instead of two: the intake's latency is mostly round trips.
    pipe = queue.connection.pipeline()
    queues.enqueue(
        job, event_id, lane=lane, tenant_id=tenant_id, pipeline=pipe, connection=queue.connection, **options
    )
    pipe.execute()


_local_counts: dict[str, int] = {}


def _within_unstored_cap(connection_id: int) -> bool:
    """Per connection and minute, shared by all web processes through Redis (per process without it)."""
    cap = settings.TAJO_WEBHOOK_UNSTORED_PER_MINUTE
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


def stored_cap() -> int:
    return settings.TAJO_WEBHOOK_STORED_MAX


def _full_key(connection_id: int) -> str:
    return f"tajo:webhooks:full:{connection_id}"


def _room_to_store(connection_id: int) -> bool:
    """Whether one more event may be stored for the connection, trimming finished ones if needed.

    The count is shared through Redis (one increment per delivery, counted again from the table
    every few minutes, so it cannot drift far); without Redis the table is counted each time.
    """
    cap = stored_cap()
    if cap <= 0:
        return True
    key = f"tajo:webhooks:stored:{connection_id}"
    redis = None
    was_full = True  # without Redis: clear the mark with an update that usually changes nothing
    try:
        redis = _queue().connection
        pipe = redis.pipeline()
        pipe.incr(key)
        pipe.get(_full_key(connection_id))
        counted, full_mark = pipe.execute()
        count, was_full = int(counted), full_mark is not None
        if count == 1:  # not known (expired): count the rows once
            count = WebhookEvent.objects.filter(connection_id=connection_id).count() + 1
            redis.set(key, count, ex=STORED_COUNT_TTL)
    except Exception:
        redis = None
        count = WebhookEvent.objects.filter(connection_id=connection_id).count() + 1
    if count <= cap:
        if was_full:
            _store_has_room_again(connection_id, redis)
        return True
    ids = list(
        WebhookEvent.objects.filter(connection_id=connection_id, status__in=FINISHED)
        .order_by("pk")
        .values_list("pk", flat=True)[: count - cap + TRIM_BATCH]
    )
    deleted = WebhookEvent.objects.filter(pk__in=ids).delete()[0] if ids else 0
    count = WebhookEvent.objects.filter(connection_id=connection_id).count() + 1 if deleted else count
    if redis is not None:
        # This delivery counts only if it is stored. A lost update just means a recount sooner.
        with contextlib.suppress(Exception):
            redis.set(key, count if count <= cap else count - 1, ex=STORED_COUNT_TTL)
    if count <= cap:
        _store_has_room_again(connection_id, redis)
    return count <= cap


def _store_full(connection: Connection) -> str:
    """Say, once a minute in the log and always on the connection, that a delivery was not stored."""
    now = timezone.now()
    Connection.objects.filter(pk=connection.pk).update(
        webhooks_not_stored=F("webhooks_not_stored") + 1,
        webhooks_full_since=Coalesce(F("webhooks_full_since"), Value(now)),
    )
    with contextlib.suppress(Exception):
        _queue().connection.set(_full_key(connection.pk), "1")
    cap = stored_cap()
    reason = (
        f"not stored: the connection already holds {cap} webhook events still to apply or failed "
        "(TAJO_WEBHOOK_STORED_MAX); the next incremental sync carries this change"
    )
    if _within_unstored_cap(connection.pk):
        logger.warning(
            "webhook store of connection %s is full (%s events): deliveries are not stored",
            connection.pk,
            cap,
        )
    return reason


def _store_has_room_again(connection_id: int, redis: Any) -> None:
    Connection.objects.filter(pk=connection_id, webhooks_full_since__isnull=False).update(
        webhooks_full_since=None
    )
    if redis is not None:
        with contextlib.suppress(Exception):
            redis.delete(_full_key(connection_id))


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
    if not _room_to_store(connection.pk):
        reason = _store_full(connection)
        return Receipt(503, WebhookStatus.REJECTED, None, reason)
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
    event_id = _insert_unless_duplicate(row)
    if event_id is None:
        return _duplicate(connection, row)
    row.pk = event_id
    if row.status == WebhookStatus.RECEIVED:
        try:
            webhook_event_enqueue(row.pk, tenant_id=row.tenant_id)
        except Exception as exc:  # stored is what matters: "reprocess" picks it up once Redis is back
            logger.error("webhook event %s stored but not queued: %s", row.pk, type(exc).__name__)
            WebhookEvent.objects.filter(pk=row.pk).update(error="stored but not queued (queue unavailable)")
    return Receipt(200, row.status, row.pk, ignored)


_insert_sql: str | None = None


def _insert_unless_duplicate(row: WebhookEvent) -> int | None:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id: the new id, or None for a duplicate.

    The intake's hot path: one statement and one round trip, no exception (so no savepoint
    inside a caller's transaction), and about half the CPU of `Model.save()`, whose SQL is
    compiled anew on every call. The column list comes from the model, so it cannot drift.
    """
    global _insert_sql
    fields = [f for f in WebhookEvent._meta.concrete_fields if not f.primary_key]
    if _insert_sql is None:
        quote = db_connection.ops.quote_name
        columns = ", ".join(quote(f.column) for f in fields)
        # Identifiers come from the model, values are parameters: nothing here is caller input.
        _insert_sql = (
            f"INSERT INTO {quote(WebhookEvent._meta.db_table)} ({columns}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(fields))}) "
            f"ON CONFLICT ({quote('connection_id')}, {quote('dedup_key')}) DO NOTHING RETURNING {quote('id')}"
        )
    values = [f.get_db_prep_save(f.pre_save(row, True), connection=db_connection) for f in fields]
    with db_connection.cursor() as cursor:
        cursor.execute(_insert_sql, values)
        found = cursor.fetchone()
    return int(found[0]) if found else None


def _duplicate(connection: Connection, row: WebhookEvent) -> Receipt:
    if not _within_unstored_cap(connection.pk):
        logger.info("duplicate webhook for connection %s not stored (over the per-minute cap)", connection.pk)
        return Receipt(200, WebhookStatus.DUPLICATE, None, "duplicate")
    from connectors.webhooks.selectors import original_event

    original = original_event(connection_id=connection.pk, dedup_key=row.dedup_key or "")
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


def event_targets(event: WebhookEvent, connection: Connection, hint: dict[str, Any]) -> list[tuple[str, str]]:
    """The records one event is applied to, as (resource, source id).

    A deal event writes the deal's contact first (DEAL_VALUE, DEAL_STAGE and DEAL_OWNER are
    contact attributes, re-read from AC with the contact's deals), then the Brevo CRM deal
    where the connection asks for CRM deals. Everything else touches exactly one record.
    """
    if event.resource != "deals":
        return [(event.resource, event.source_id)]
    targets: list[tuple[str, str]] = []
    contact_id = hint.get("contact_id")
    if contact_id and connection.sync_contacts:
        targets.append(("contacts", str(contact_id)))
    if connection.deals_as_crm_objects or not targets:
        targets.append(("deals", event.source_id))  # without CRM deals: an outcome that says where data went
    return targets


def _hint_for(resource: str, event: WebhookEvent, hint: dict[str, Any]) -> dict[str, Any]:
    if resource == event.resource:
        return hint
    # The deal event's time says nothing about the contact's own modification time.
    return {**hint, "modified_at": None, "deal_modified_at": hint.get("modified_at")}


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
    connection = event.connection
    hint = event_hint(event)
    outcomes: list[dict[str, Any]] = []
    records: list[Any] = []
    errors: list[str] = []
    for resource, source_id in event_targets(event, connection, hint):
        started = timezone.now()
        try:
            record = sync_single(
                connection=connection,
                resource=resource,
                source_id=source_id,
                trigger=Trigger.WEBHOOK,
                hint=_hint_for(resource, event, hint),
            )
        except ApiError as exc:
            record, message = None, exc.operator_message
        except Exception as exc:
            outcomes.append(_outcome(resource, source_id, None, f"unexpected error: {type(exc).__name__}"))
            _finish(event, WebhookStatus.FAILED, outcomes=outcomes, records=records)
            raise  # the worker logs the traceback; RQ retries
        else:
            message = _setup_error(connection, started) if record is None else ""
        outcomes.append(_outcome(resource, source_id, record, message))
        if record is not None:
            records.append(record)
        if record is None or record.outcome == Outcome.FAILED:
            errors.append(f"{resource} {source_id}: {message or record.message or record.error_code}")
    forwarded = _forward_as_brevo_event(connection, event, hint)
    if forwarded is not None:
        outcomes.append(forwarded)
    status = WebhookStatus.FAILED if errors else WebhookStatus.PROCESSED
    _finish(event, status, error="; ".join(errors), outcomes=outcomes, records=records)
    return status


# What of the body travels with the forwarded event (ids and names only; never field values).
_FORWARDED_HINT_KEYS = ("list_id", "tag", "deal_id", "stage_id", "pipeline_id", "automation_id")


def _forward_as_brevo_event(connection: Connection, event: WebhookEvent, hint: dict[str, Any]) -> dict | None:
    """Send the webhook event on to Brevo as a custom event named as the documentation names it.

    `subscribe` arrives in Brevo as `contact_add`, `deal_task_add` as `deal_tasktype_add`
    (parsing.TAJO_EVENT_NAMES), so a Brevo workflow can start on it; an `event_mapping` row
    keyed by either name renames it. Only with the connection's `sync.events` on, and only for
    events that name a contact's email. A failure here is the event's outcome, never the
    webhook's: the record itself was already applied.
    """
    if not connection.sync_events or event.event_type not in EVENT_MODELS:
        return None
    email = str(hint.get("email") or event.key or "").strip()
    if not email:
        return None
    from connectors.services import event_forward

    name = tajo_event_name(event.event_type)
    data = {key: hint[key] for key in _FORWARDED_HINT_KEYS if hint.get(key) not in (None, "")}
    try:
        record = event_forward(
            connection=connection, event=name, event_data=data, email=email, trigger=Trigger.WEBHOOK
        )
    except ApiError as exc:
        return _outcome("events", name, None, exc.operator_message)
    return _outcome(
        "events", name, record, "" if record is not None else "the connection's mappings are not valid"
    )


def _outcome(resource: str, source_id: str, record: Any, message: str) -> dict[str, Any]:
    return {
        "resource": resource,
        "source_id": source_id,
        "outcome": record.outcome if record is not None else Outcome.FAILED,
        "message": mask_text(record.message if record is not None else message)[:500],
        "record": record.pk if record is not None else None,
    }


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


def _finish(
    event: WebhookEvent,
    status: str,
    *,
    error: str = "",
    outcomes: list | None = None,
    records: list | None = None,
) -> None:
    WebhookEvent.objects.filter(pk=event.pk).update(
        status=status,
        error=mask_text(error)[:1000],
        processed_at=timezone.now(),
        outcomes=outcomes or [],
        sync_record=records[0] if records else None,
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
    webhook_event_enqueue(target.pk, tenant_id=target.tenant_id)
    target.refresh_from_db()
    return target


def webhook_events_purge(*, older_than: timedelta | None = None, batch: int = 5000) -> int:
    """Delete up to `batch` events received before the retention window; returns how many went.

    Retention: `TAJO_WEBHOOK_RETENTION_DAYS` (default 30). Bounded per call so a purge never
    holds a long transaction; it runs again an hour later for the rest.
    """
    if older_than is None:
        older_than = timedelta(days=settings.TAJO_WEBHOOK_RETENTION_DAYS)
    cutoff = timezone.now() - older_than
    # Oldest first; an original's duplicates go with it (on_delete=CASCADE).
    ids = list(
        WebhookEvent.objects.filter(received_at__lt=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)[:batch]
    )
    if not ids:
        return 0
    deleted, _ = WebhookEvent.objects.filter(pk__in=ids).delete()
    return deleted


def webhook_events_purge_hourly() -> int:
    """Purge at most once an hour across all workers (a Redis gate), so no scheduler is needed."""
    try:
        if not _queue().connection.set("tajo:webhooks:purge-gate", "1", nx=True, ex=3600):
            return 0
    except Exception:  # no Redis, no gate: skip; the next job tries again
        return 0
    return webhook_events_purge()


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
        from connectors.clients import ac_client_for

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
    from connectors.clients import ac_client_for

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
    from connectors.clients import ac_client_for

    events = list(events)
    bad_events = [e for e in events if registrable_event(e) is None]
    # AC is subscribed under its own names; Tajo's (contact_add, ...) are accepted too.
    events = list(dict.fromkeys(registrable_event(e) or e for e in events))
    sources = list(dict.fromkeys(sources))
    if not events or bad_events:
        names = ", ".join(
            f"{tajo_event_name(e)} ({e})" if tajo_event_name(e) != e else e for e in REGISTRABLE_EVENTS
        )
        raise ValueError(
            f"choose events among {names}" + (f" (not {', '.join(bad_events)})" if bad_events else "")
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
    from connectors.clients import ac_client_for

    wanted = {int(i) for i in webhook_ids} if webhook_ids is not None else None
    hooks = [h for h in webhooks_registered(connection=connection) if wanted is None or h.id in wanted]
    with ac_client_for(connection) as ac:
        for hook in hooks:
            ac.delete_webhook(hook.id)
    return len(hooks)
