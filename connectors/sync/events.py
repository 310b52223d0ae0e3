"""Tracked events: AC event occurrences become Brevo custom events, each at most once.

AC has no bulk read of event occurrences. The only source is each contact's tracking history,
`GET /contacts/{id}/trackingLogs`: **one AC request per contact**. A full backfill therefore
walks every contact (keyset, 100 per page) and reads its history; an incremental run reads
the history of the contacts changed since the cursor only. Whether a new event changes a
contact's `udate` is undocumented, so events of otherwise unchanged contacts may wait for the
next full run. With no event mapped at all the resource reads nothing (it would pay a request
per contact to skip everything). Contacts without a usable email are passed over without a
request: they cannot be matched in Brevo, and the contacts resource records them already.

Each occurrence is mapped through the EventRules (unmapped names: skipped with the reason) and
deduplicated by RecordState per occurrence, source id `"{contact id}:{tracking log id}"`. A
page's events go out together: `POST /events/batch` (one request of the hourly bucket, 207
naming refused events by index) when there are at least 50 and the bucket has a slot, else
`POST /events` each (events bucket, about 10 a second).

`forward_event` sends one event given by the HTTP API ("track event") through the same
mapping; `connectors.services.event_forward` wraps it in a short run of its own.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from connectors.exceptions import NotFoundError
from connectors.models import Outcome, RunMode
from connectors.providers.activecampaign.schemas import Contact, TrackingLog
from connectors.sync.automations import changed_since
from connectors.sync.base import RequestEstimate, Resource, SliceResult, SyncContext, Volumes
from connectors.sync.cost import pages
from connectors.sync.event_delivery import EventBatch, deliver_event
from connectors.sync.recorder import load_states
from connectors.sync.registry import register
from connectors.webhooks.parsing import TAJO_EVENT_NAMES
from mappings.records import SourceEvent
from mappings.transforms import normalize_email, transform_event

WEBHOOK_AC_NAMES = frozenset(TAJO_EVENT_NAMES.values())


def log_event(contact: Contact, log: TrackingLog, source_id: str) -> SourceEvent:
    return SourceEvent(
        kind="tracked",
        email=contact.email or None,
        occurred_at=log.tstamp,
        name=log.event_name,
        data=log.data or log.value or None,
        source_id=source_id,
    )


def forward_event(
    ctx: SyncContext,
    *,
    event: str,
    event_data: str | Mapping[str, Any] | None,
    email: str,
    source_id: str,
) -> None:
    """Send one event from the HTTP API through the connection's event mapping; records its outcome."""
    properties: dict[str, object] = {}
    data: str | None = None
    if isinstance(event_data, Mapping):
        properties = dict(event_data)
    elif event_data not in (None, ""):
        data = str(event_data)
    source = SourceEvent(
        kind="tracked",
        email=email,
        occurred_at=None,
        name=event,
        data=data,
        properties=properties,
        source_id=source_id,
    )
    normalized, _code, _reason = normalize_email(email)
    compiled = ctx.compiled
    if event and event not in compiled.events:
        # The documentation's trackEvent forwards any event: an event_mapping row only renames it
        # (a webhook event's row may be keyed by AC's name of it: `subscribe` for `contact_add`).
        alias = TAJO_EVENT_NAMES.get(event)
        compiled = copy.copy(compiled)
        compiled.events = {**compiled.events, event: compiled.events.get(alias or "") or event}
    deliver_event(
        ctx,
        EventsResource.name,
        source_id,
        transform_event(source, compiled),
        previous=None,
        key=normalized or (email or "")[:320],
    )


@register
class EventsResource(Resource):
    name = "events"
    label = "Tracked events"
    connection_flag = "sync_events"
    after = ("contacts",)

    def estimate_requests(self, counts: Volumes) -> RequestEstimate:
        """One history read per contact (when any event is mapped); events themselves are not counted."""
        if not counts.mapping.events:
            return RequestEstimate()
        contacts = counts.total("contacts")
        return RequestEstimate(ac=pages(contacts) + contacts)

    def run_slice(self, ctx: SyncContext, state: dict[str, Any]) -> SliceResult:
        # Rows keyed by a webhook event name (contact_add, ...) rename forwarded webhook events;
        # they are no reason to read every contact's tracking history.
        if not any(
            name not in TAJO_EVENT_NAMES and name not in WEBHOOK_AC_NAMES for name in ctx.compiled.events
        ):
            if not state.get("noted"):
                from connectors.debug_log import run_note
                from mappings.selectors import events_without_mapping

                note = events_without_mapping(ctx.connection) or "no tracked event is mapped"
                run_note(ctx.run, f"events: {note}")
                state["noted"] = True
            return SliceResult(state, done=True, total=0)
        if ctx.mode == RunMode.RETRY:
            return self._retry_slice(ctx, state)
        last_id = int(state.get("last_id") or 0)
        # A page's events go out together (one batch when there are enough), before the slice's
        # position and outcomes are committed.
        batch = EventBatch(ctx)
        try:
            for page in ctx.ac.iter_contact_pages(updated_after=ctx.since, id_greater=last_id):
                if page.total is not None:
                    state.setdefault("contacts_total", page.total)
                for contact in page.items:
                    if ctx.out_of_time():
                        state["last_id"] = last_id
                        return SliceResult(state, done=False)
                    self._track_udate(state, contact)
                    if normalize_email(contact.email)[0] is not None:
                        self._contact_logs(ctx, contact, wanted=None, batch=batch)
                    last_id = contact.id
                if page.last_id is not None:
                    last_id = page.last_id
                batch.flush()
                state["last_id"] = last_id
        finally:
            batch.flush()
        cursor = datetime.fromisoformat(state["max_udate"]) if state.get("max_udate") else None
        return SliceResult(state, done=True, next_cursor=cursor)

    def _retry_slice(self, ctx: SyncContext, state: dict[str, Any]) -> SliceResult:
        per_contact: dict[int, set[str]] = {}
        for source_id in ctx.only_ids.get(self.name, set()):
            contact_part, _, _log = source_id.partition(":")
            if contact_part.isdigit():
                per_contact.setdefault(int(contact_part), set()).add(source_id)
        state.setdefault("total", sum(len(v) for v in per_contact.values()))
        done: list[int] = state.setdefault("done_contacts", [])
        for contact_id in sorted(per_contact):
            if contact_id in done:
                continue
            if ctx.out_of_time():
                return SliceResult(state, done=False, total=state["total"])
            self._contact_by_id(ctx, contact_id, wanted=per_contact[contact_id])
            done.append(contact_id)
        return SliceResult(state, done=True, total=state["total"])

    def sync_one(self, ctx: SyncContext, source_id: str) -> None:
        """The API's "track event" (hint `forward`), or one contact's history ("<contact id>[:<log id>]")."""
        forward = (ctx.run.state or {}).get("hint", {}).get("forward")
        if forward:
            forward_event(
                ctx,
                event=forward.get("event") or "",
                event_data=forward.get("event_data"),
                email=forward.get("email") or "",
                source_id=source_id,
            )
            return
        contact_part, _, log_part = source_id.partition(":")
        if not contact_part.isdigit():
            ctx.recorder.record(
                self.name,
                source_id,
                Outcome.FAILED,
                code="malformed",
                message="expected '<contact id>' or '<contact id>:<tracking log id>'",
            )
            return
        self._contact_by_id(ctx, int(contact_part), wanted={source_id} if log_part else None)

    # -- one contact --------------------------------------------------------------------------

    def _contact_by_id(self, ctx: SyncContext, contact_id: int, *, wanted: set[str] | None) -> None:
        try:
            contact = ctx.ac.get_contact(contact_id).contact
        except NotFoundError:
            for source_id in sorted(wanted or {str(contact_id)}):
                ctx.recorder.record(
                    self.name,
                    source_id,
                    Outcome.FAILED,
                    code="no_contact",
                    message=f"contact {contact_id} no longer exists in ActiveCampaign",
                )
            return
        self._contact_logs(ctx, contact, wanted=wanted)

    def _contact_logs(
        self, ctx: SyncContext, contact: Contact, *, wanted: set[str] | None, batch: EventBatch | None = None
    ) -> None:
        try:
            page = ctx.ac.list_contact_tracking_logs(contact.id)
        except NotFoundError:
            return  # deleted in AC since the contacts page was read: it has no history to send
        key = (contact.email or "").strip().lower()
        ctx.recorder.record_invalid(self.name, page.invalid, prefix=f"{contact.id}:", key=key)
        logs = [(f"{contact.id}:{log.id}", log) for log in page.items]
        if wanted is not None:
            logs = [(sid, log) for sid, log in logs if sid in wanted]
        states = load_states(ctx.connection.pk, self.name, [sid for sid, _ in logs])
        incremental = ctx.since is not None
        for source_id, log in logs:
            previous = states.get(source_id)
            if incremental and previous is None and not changed_since([log.tstamp], ctx.since):
                # Older than the cursor and never sent: unmapped then, or sent by a full run; not new.
                continue
            deliver_event(
                ctx,
                self.name,
                source_id,
                transform_event(log_event(contact, log, source_id), ctx.compiled),
                previous=previous,
                key=key,
                record_unchanged=not incremental,
                batch=batch,
            )

    @staticmethod
    def _track_udate(state: dict[str, Any], contact: Contact) -> None:
        if contact.udate and (not state.get("max_udate") or contact.udate.isoformat() > state["max_udate"]):
            state["max_udate"] = contact.udate.isoformat()
