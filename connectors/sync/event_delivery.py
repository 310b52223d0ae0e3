"""Sending one Brevo custom event at most once and recording its outcome.

Shared by the automations and tracked-events resources and by the HTTP API's "track event".
`POST /events` (events bucket, about 10 a second) is not idempotent, so every event is keyed by
the id of its source occurrence in RecordState: an event already confirmed is never sent
again, and one whose sending was interrupted (see `connectors.sync.intents`) is reported
rather than repeated.
"""

from __future__ import annotations

from connectors.exceptions import ApiError, BadResponse, ServerError, TransportError, ValidationFailed
from connectors.models import Outcome, RecordState
from connectors.sync import intents
from connectors.sync.base import SyncContext
from mappings.transforms import EventResult, content_hash

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
) -> str | None:
    """Record one event's outcome, sending it unless it was sent before; returns the outcome.

    `record_unchanged=False` passes over events already sent without a record (incremental
    runs re-read everything AC has and record only what is new).
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
        outcome = Outcome.FAILED if problems else Outcome.CREATED
        message = f"would send event {payload.event_name}" + (f"; not sent: {problems}" if problems else "")
        ctx.recorder.record(
            resource,
            source_id,
            outcome,
            key=key,
            code="field_rejected" if problems else "",
            message=message,
            sent=body,
        )
        return outcome
    digest = content_hash(payload)
    intents.mark_sending(ctx, resource, source_id, digest)
    try:
        ctx.brevo.create_event(
            payload.event_name,
            {"email_id": payload.email},
            event_properties=payload.event_properties or None,
            event_date=payload.event_date,
        )
    except ValidationFailed as exc:
        intents.clear(ctx, resource, source_id)
        ctx.recorder.record(
            resource,
            source_id,
            Outcome.FAILED,
            key=key,
            code=exc.code or "brevo_invalid",
            message=f"Brevo rejected the event: {exc.operator_message}",
            sent=body,
        )
        return Outcome.FAILED
    except ApiError as exc:
        maybe_applied = isinstance(exc, ServerError | BadResponse) or (
            isinstance(exc, TransportError) and exc.request_sent
        )
        if not maybe_applied:
            intents.clear(ctx, resource, source_id)
        raise
    intents.confirm(ctx, resource, source_id, digest)
    if problems:
        ctx.recorder.record(
            resource,
            source_id,
            Outcome.FAILED,
            key=key,
            code="field_rejected",
            message=f"sent, but these properties were not: {problems}",
            sent=body,
        )
        return Outcome.FAILED
    ctx.recorder.record(
        resource, source_id, Outcome.CREATED, key=key, message=f"event {payload.event_name}", sent=body
    )
    return Outcome.CREATED
