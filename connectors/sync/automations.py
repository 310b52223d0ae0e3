"""Automations: a contact entering or completing an AC automation becomes a Brevo custom event, once.

Only automations mapped by an AutomationRule produce events; an enrolment in an unmapped
automation is recorded as skipped with the reason. Each enrolment's entry and completion
become at most one Brevo event each, ever: RecordState holds `"{contactAutomation id}:entered"`
and `"...:completed"` (see `connectors.sync.event_delivery`).

Reading: AC has no changed-since filter on `/contactAutomations`, so every run reads all
enrolments (100 per request, offset pages, resumable within a page) and compares them with
RecordState. Emails come from one `GET /contacts?ids[]=...` per page for the contacts that
still need an event, not a request per enrolment. Incremental runs record only enrolments
that changed since the cursor (entry, last step or removal date); a newly mapped automation's
past enrolments are sent by the next full run.
Writing: `POST /events`, events bucket (about 10 a second).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from connectors.exceptions import BadResponse, NotFoundError
from connectors.models import NOT_CONFIGURED, Outcome, RunMode
from connectors.providers.activecampaign.schemas import Contact, ContactAutomation
from connectors.sync.base import (
    RequestEstimate,
    Resource,
    SliceResult,
    SyncContext,
    Volumes,
    not_configured,
)
from connectors.sync.cost import pages
from connectors.sync.event_delivery import deliver_event
from connectors.sync.recorder import load_states
from connectors.sync.registry import register
from mappings.records import SourceEvent
from mappings.transforms import transform_event

ENTERED, COMPLETED = "entered", "completed"
NONE_MAPPED = "no ActiveCampaign automation is mapped to a Brevo event: automations are not sent"
UNMAPPED = "unmapped"  # run state: AC automation id -> enrolments read that are not mapped


def unmapped_note(tally: dict[str, int], labels: dict[int, str]) -> str:
    """One line for the run: which automations are left unmapped and how many enrolments each had."""
    parts = []
    for automation_id, count in sorted(tally.items(), key=lambda kv: (-kv[1], kv[0])):
        label = labels.get(int(automation_id)) if automation_id.isdigit() else None
        named = f"AC automation {automation_id}" + (f" ({label})" if label else "")
        parts.append(f"{named}: {count} enrolment{'s' if count != 1 else ''}")
    return "not mapped to a Brevo event, so not sent: " + "; ".join(parts)


def _recorded_total(state: dict[str, Any]) -> int | None:
    total = state.get("total")
    if total is None:
        return None
    return max(0, int(total) - sum((state.get(UNMAPPED) or {}).values()))


def changed_since(moments: list[datetime | None], since: datetime | None) -> bool:
    """Whether any of these AC timestamps is at or after `since` (unknown or naive ones count as changed)."""
    if since is None:
        return True
    known = [m for m in moments if m is not None]
    if not known:
        return True
    return any(m.tzinfo is None or m >= since for m in known)


@register
class AutomationsResource(Resource):
    name = "automations"
    label = "Automation entries and completions"
    connection_flag = "sync_automations"
    after = ("contacts",)

    def estimate_requests(self, counts: Volumes) -> RequestEstimate:
        """All enrolments are read; mapped ones (spread evenly over automations) send an entry event."""
        enrolments = counts.total("contactAutomations")
        rules = counts.mapping.automations
        if not rules or not enrolments:
            return RequestEstimate(ac=pages(enrolments))
        automations = max(len(rules), int(counts.counts.get("ac.automation", 0)))
        entered = enrolments * len(rules) / automations
        # Completions add one event each where mapped; how many enrolments completed is not known.
        return RequestEstimate(ac=pages(enrolments) + pages(entered), brevo={"events": entered})

    def run_slice(self, ctx: SyncContext, state: dict[str, Any]) -> SliceResult:
        if not ctx.compiled.automations:
            return not_configured(state, NONE_MAPPED)
        if ctx.mode == RunMode.RETRY:
            return self._retry_slice(ctx, state)
        offset = int(state.get("offset") or 0)
        skip = int(state.get("skip") or 0)
        for page in ctx.ac.iter_contact_automation_pages(offset=offset):
            if page.total is not None and ctx.since is None:
                state["total"] = page.total
            if skip == 0:
                ctx.recorder.record_invalid(self.name, page.invalid)
            items = page.items[skip:]
            handled = self._process(ctx, items, state)
            if handled < len(items):
                state["offset"], state["skip"] = page.offset, skip + handled
                return SliceResult(state, done=False, total=_recorded_total(state))
            state["offset"], state["skip"], skip = page.next_offset, 0, 0
            if ctx.out_of_time():
                return SliceResult(state, done=False, total=_recorded_total(state))
        cursor = datetime.fromisoformat(state["max_date"]) if state.get("max_date") else None
        if state.get(UNMAPPED):
            state[NOT_CONFIGURED] = unmapped_note(state[UNMAPPED], ctx.compiled.labels.automation_names)
        return SliceResult(state, done=True, total=_recorded_total(state), next_cursor=cursor)

    def _retry_slice(self, ctx: SyncContext, state: dict[str, Any]) -> SliceResult:
        enrolment_ids = sorted({_enrolment_id(s) for s in ctx.only_ids.get(self.name, set())} - {0})
        state.setdefault("total", len(enrolment_ids))
        done_ids: list[int] = state.setdefault("done_ids", [])
        for enrolment_id in enrolment_ids:
            if enrolment_id in done_ids:
                continue
            if ctx.out_of_time():
                return SliceResult(state, done=False, total=state["total"])
            try:
                enrolment = ctx.ac.get_contact_automation(enrolment_id)
            except (NotFoundError, BadResponse):
                # AC answers 403 "No Result found" for a deleted enrolment; the client maps it to not found.
                ctx.recorder.record(
                    self.name,
                    enrolment_id,
                    Outcome.FAILED,
                    code="not_found",
                    message="the automation enrolment no longer exists in ActiveCampaign",
                )
            else:
                self._process(ctx, [enrolment], state)
            done_ids.append(enrolment_id)
        return SliceResult(state, done=True, total=state["total"])

    def sync_one(self, ctx: SyncContext, source_id: str) -> None:
        """Webhook "automation contact add/complete": source id `"{contact_id}:{automation_id}"`."""
        contact_part, _, automation_part = source_id.partition(":")
        try:
            contact_id, automation_id = int(contact_part), int(automation_part)
        except ValueError:
            ctx.recorder.record(
                self.name,
                source_id,
                Outcome.FAILED,
                code="malformed",
                message="expected '<contact id>:<automation id>'",
            )
            return
        detail = ctx.ac.get_contact(contact_id)
        enrolments = [ca for ca in detail.contact_automations if ca.automation_id == automation_id]
        if not enrolments:
            ctx.recorder.record(
                self.name,
                source_id,
                Outcome.SKIPPED,
                code="not_found",
                message=f"ActiveCampaign shows no enrolment of contact {contact_id} in automation "
                f"{automation_id} (yet)",
            )
            return
        self._process(ctx, enrolments, {}, known={contact_id: detail.contact})

    # -- one batch of enrolments --------------------------------------------------------------

    def _process(
        self,
        ctx: SyncContext,
        enrolments: list[ContactAutomation],
        state: dict[str, Any],
        *,
        known: dict[int, Contact] | None = None,
    ) -> int:
        """Record every enrolment in order; returns how many were handled before the slice ran out."""
        rules = ctx.compiled.automations
        labels = ctx.compiled.labels.automation_names
        incremental = ctx.since is not None
        # A run counts enrolments of unmapped automations; one record read on its own (webhook,
        # `known` given) still says why it was not sent.
        tally: dict[str, int] | None = state.setdefault(UNMAPPED, {}) if known is None else None
        wanted: list[ContactAutomation] = []
        for ca in enrolments:
            moments = [ca.adddate, ca.lastdate, ca.remdate]
            for moment in moments:
                if (
                    moment
                    and moment.tzinfo
                    and (not state.get("max_date") or moment.isoformat() > state["max_date"])
                ):
                    state["max_date"] = moment.isoformat()
            if changed_since(moments, ctx.since):
                wanted.append(ca)
        mapped = [ca for ca in wanted if ca.automation_id in rules]
        states = load_states(
            ctx.connection.pk,
            self.name,
            [f"{ca.id}:{kind}" for ca in mapped for kind in (ENTERED, COMPLETED)],
        )
        needing = {
            ca.contact_id
            for ca in mapped
            if any(states.get(f"{ca.id}:{kind}") is None for kind in self._kinds(ctx, ca))
        }
        contacts = dict(known or {})
        missing = needing - set(contacts)
        if missing:
            contacts.update(ctx.ac.contacts_by_id(missing))
        wanted_ids = {ca.id for ca in wanted}
        for index, ca in enumerate(enrolments):
            if index and ctx.out_of_time():
                return index
            if ca.id not in wanted_ids:
                continue
            if ca.automation_id not in rules and tally is not None:
                # Left unmapped on purpose: counted for the run's note, not a record each.
                key = str(ca.automation_id)
                tally[key] = tally.get(key, 0) + 1
                continue
            if ca.automation_id not in rules:
                label = labels.get(ca.automation_id)
                named = f"AC automation {ca.automation_id}" + (f" ({label})" if label else "")
                ctx.recorder.record(
                    self.name,
                    ca.id,
                    Outcome.SKIPPED,
                    code="unmapped_automation",
                    message=f"{named} is not mapped to a Brevo event",
                )
                continue
            contact = contacts.get(ca.contact_id)
            for kind in self._kinds(ctx, ca):
                source_id = f"{ca.id}:{kind}"
                previous = states.get(source_id)
                if contact is None and previous is None:
                    ctx.recorder.record(
                        self.name,
                        source_id,
                        Outcome.FAILED,
                        code="no_contact",
                        message=f"contact {ca.contact_id} no longer exists in ActiveCampaign",
                    )
                    continue
                event = SourceEvent(
                    kind="automation_entered" if kind == ENTERED else "automation_completed",
                    email=contact.email if contact is not None else None,
                    occurred_at=ca.adddate if kind == ENTERED else (ca.remdate or ca.lastdate),
                    automation_id=ca.automation_id,
                    source_id=source_id,
                )
                deliver_event(
                    ctx,
                    self.name,
                    source_id,
                    transform_event(event, ctx.compiled),
                    previous=previous,
                    key=_email_of(contact),
                    record_unchanged=not incremental,
                )
        return len(enrolments)

    @staticmethod
    def _kinds(ctx: SyncContext, ca: ContactAutomation) -> tuple[str, ...]:
        rule = ctx.compiled.automations.get(ca.automation_id)
        if rule is None:
            return ()
        # A completion without a mapped event is the mapping's choice: the entry record covers it.
        if ca.completed and rule.brevo_event_completed:
            return (ENTERED, COMPLETED)
        return (ENTERED,)


def _email_of(contact: Contact | None) -> str:
    return (contact.email or "").strip().lower() if contact is not None else ""


def _enrolment_id(source_id: str) -> int:
    try:
        return int(source_id.split(":", 1)[0])
    except ValueError:
        return 0
