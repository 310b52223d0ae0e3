"""Sending one Brevo custom event at most once and recording its outcome.

Shared by the automations and tracked-events resources and by the HTTP API's "track event".
`POST /events` (events bucket, about 10 a second) is not idempotent, so every event is keyed by
the id of its source occurrence in RecordState: an event already confirmed is never sent
again, and one whose sending was interrupted (see `connectors.sync.intents`) is reported
rather than repeated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from connectors.exceptions import ApiError, BadResponse, ServerError, TransportError, ValidationFailed
from connectors.models import Outcome, RecordState
from connectors.sync import intents
from connectors.sync.base import SyncContext
from connectors.sync.recorder import as_warnings
from mappings.transforms import EventResult, content_hash

# `POST /events/batch` costs one request of Brevo's hourly bucket (its own budget is not
# published; Tajo assumes the stricter one) instead of one `POST /events` (10/s) per event: worth
# it from this many events on, when the hourly bucket has a slot now.
BATCH_MIN = 50
BATCH_MAX = 500  # Brevo publishes no cap; this keeps a body well under a megabyte
BATCH_POLL_WAIT = 5.0  # seconds the hourly bucket may make a batch wait; else events go one by one


@dataclass
class _Queued:
    resource: str
    source_id: str
    key: str
    event: dict[str, Any]  # the `POST /events` body
    digest: str
    warnings: list[dict[str, str]]


@dataclass
class EventBatch:
    """Events gathered across a page, sent in one `POST /events/batch` (changelog 2026-04-21:
    `{"events": [...]}`; 207 names refused events by index) where that saves requests, else one
    by one. Call `flush()` before the slice's outcomes are committed."""

    ctx: SyncContext
    queued: list[_Queued] = field(default_factory=list)

    def add(self, item: _Queued) -> None:
        self.queued.append(item)
        if len(self.queued) >= BATCH_MAX:
            self.flush()

    def flush(self) -> None:
        queued, self.queued = self.queued, []
        if not queued:
            return
        limiter = (
            self.ctx.brevo.bucket_limiter("other") if hasattr(self.ctx.brevo, "bucket_limiter") else None
        )
        if len(queued) < BATCH_MIN or (limiter is not None and limiter.peek() > BATCH_POLL_WAIT):
            for item in queued:
                _send_one(self.ctx, item)
            return
        for item in queued:
            intents.mark_sending(self.ctx, item.resource, item.source_id, item.digest)
        try:
            result = self.ctx.brevo.create_events_batch([item.event for item in queued])
        except ValidationFailed as exc:
            # The whole batch refused: nothing was recorded in Brevo; one by one says which.
            for item in queued:
                intents.clear(self.ctx, item.resource, item.source_id)
            if len(queued) == 1:
                _refused(self.ctx, queued[0], exc)
                return
            for item in queued:
                _send_one(self.ctx, item)
            return
        except ApiError as exc:
            if not _maybe_applied(exc):
                for item in queued:
                    intents.clear(self.ctx, item.resource, item.source_id)
            raise
        failures = result.failures()
        for index, item in enumerate(queued):
            if index in failures:
                intents.clear(self.ctx, item.resource, item.source_id)
                self.ctx.recorder.record(
                    item.resource,
                    item.source_id,
                    Outcome.FAILED,
                    key=item.key,
                    code="brevo_invalid",
                    message=f"Brevo rejected the event: {failures[index]}",
                    sent=item.event,
                )
            else:
                _sent(self.ctx, item)


INTERRUPTED = (
    "an earlier attempt stopped while this event was being sent, so it may already be in Brevo; "
    "it was not sent again, to never record it twice (check the contact's activity in Brevo)"
)


def deliver_event(
    ctx: SyncContext,
    resource: str,
    source_id: str,
    result: EventResult,
    *,
    previous: RecordState | None,
    key: str = "",
    record_unchanged: bool = True,
    batch: EventBatch | None = None,
) -> str | None:
    """Record one event's outcome, sending it unless it was sent before; returns the outcome.

    `record_unchanged=False` passes over events already sent without a record (incremental
    runs re-read everything AC has and record only what is new). With `batch`, the event is
    queued there and its outcome recorded when the batch is flushed.
    """
    if intents.is_interrupted(previous):
        if not record_unchanged:
            return None
        ctx.recorder.record(
            resource, source_id, Outcome.SKIPPED, key=key, code="interrupted", message=INTERRUPTED
        )
        return Outcome.SKIPPED
    if previous is not None:
        if not record_unchanged:
            return None
        ctx.recorder.record(resource, source_id, Outcome.UNCHANGED, key=key, message="already sent to Brevo")
        return Outcome.UNCHANGED
    if result.payload is None:
        return ctx.recorder.record_not_sent(resource, source_id, result, key=key)
    payload = result.payload
    key = payload.email or key
    body = payload.to_brevo()
    problems = "; ".join(f"{e.field}: {e.reason}" for e in result.errors)
    if ctx.dry_run:
        message = f"would send event {payload.event_name}" + (f"; not sent: {problems}" if problems else "")
        ctx.recorder.record(
            resource,
            source_id,
            Outcome.CREATED,
            key=key,
            code="with_warnings" if problems else "",
            message=message,
            sent=body,
            warnings=as_warnings(result.errors),
        )
        return Outcome.CREATED
    digest = content_hash(payload)
    item = _Queued(resource, source_id, key, body, digest, as_warnings(result.errors))
    if batch is not None:
        batch.add(item)
        return Outcome.CREATED
    return _send_one(ctx, item)


def _maybe_applied(exc: ApiError) -> bool:
    return isinstance(exc, ServerError | BadResponse) or (
        isinstance(exc, TransportError) and exc.request_sent
    )


def _refused(ctx: SyncContext, item: _Queued, exc: ValidationFailed) -> str:
    ctx.recorder.record(
        item.resource,
        item.source_id,
        Outcome.FAILED,
        key=item.key,
        code=exc.code or "brevo_invalid",
        message=f"Brevo rejected the event: {exc.operator_message}",
        sent=item.event,
    )
    return Outcome.FAILED


def _send_one(ctx: SyncContext, item: _Queued) -> str:
    intents.mark_sending(ctx, item.resource, item.source_id, item.digest)
    try:
        ctx.brevo.create_event(
            item.event["event_name"],
            item.event["identifiers"],
            event_properties=item.event.get("event_properties") or None,
            event_date=item.event.get("event_date"),
        )
    except ValidationFailed as exc:
        intents.clear(ctx, item.resource, item.source_id)
        return _refused(ctx, item, exc)
    except ApiError as exc:
        if not _maybe_applied(exc):
            intents.clear(ctx, item.resource, item.source_id)
        raise
    return _sent(ctx, item)


def _sent(ctx: SyncContext, item: _Queued) -> str:
    """Brevo accepted the event: it is created, with a warning for each property not sent."""
    intents.confirm(ctx, item.resource, item.source_id, item.digest)
    name = item.event["event_name"]
    ctx.recorder.record(
        item.resource,
        item.source_id,
        Outcome.CREATED,
        key=item.key,
        message=f"event {name}",
        code="with_warnings" if item.warnings else "",
        sent=item.event,
        warnings=item.warnings,
    )
    return Outcome.CREATED
