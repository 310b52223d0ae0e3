"""Deals: ActiveCampaign deals become Brevo CRM deals at Brevo's hourly CRM budget, or a recorded skip.

Deal value, stage and owner always reach Brevo as contact attributes (the DEAL_VALUE,
DEAL_STAGE and DEAL_OWNER field rules), written by the contacts resource within the contacts
budget. This resource records one outcome per AC deal:

* `connection.deals_as_crm_objects` off: skipped, saying where the deal data went; failed when
  the deal has no contact (then its data reaches Brevo nowhere).
* on: the deal becomes a Brevo CRM deal through `transform_deal`: created once
  (`POST /crm/deals`, guarded by a write-ahead mark so a crash never creates it twice), then
  updated in place (`PATCH /crm/deals/{id}`, the id kept in RecordState) when its content hash
  changes. The linked contact is resolved with `GET /contacts/{email}` (contacts bucket,
  cached per slice); a contact that is not in Brevo yet fails the deal with what to do.

Reading: `GET /deals` oldest first by offset (`filters[updated_after]` on incremental runs),
resumable in the middle of a page (state: the page's offset and the deals done in it).
Cost per 100 deals: one AC request for the page, plus one for the contacts' emails when CRM
deals are on. Brevo: nothing for unchanged deals; one CRM request per new or changed deal.

Pacing: Brevo allows about 100 CRM requests an hour. Before each one the slice asks the
bucket's limiter how long the next slot is away; when that is longer than the slice has
left, the slice ends and the engine enqueues the next one for when the slot frees
(`ctx.resume_after`). The run's `eta_seconds` says when the deals should be done.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from connectors.exceptions import (
    ApiError,
    BadResponse,
    NotFoundError,
    RateLimited,
    ServerError,
    TransportError,
    ValidationFailed,
)
from connectors.models import Outcome, RecordState, RunMode, SyncRun
from connectors.providers.activecampaign.schemas import Contact, Deal
from connectors.sync import intents
from connectors.sync.base import RequestEstimate, Resource, SliceResult, SyncContext, Volumes, not_configured
from connectors.sync.cost import pages
from connectors.sync.recorder import load_states
from connectors.sync.registry import register
from mappings.records import SourceDeal
from mappings.transforms import BrevoDealPayload, content_hash, transform_deal

CRM_BUCKET = "other"
CRM_REQUESTS_PER_DEAL = 1  # a POST or a PATCH; the contact lookup is in the contacts bucket
CRM_OFF = (
    "deal values ride on the contact's attributes (DEAL_VALUE, DEAL_STAGE, DEAL_OWNER); "
    "Brevo CRM deals are off for this connection"
)
NO_CONTACT = "deal has no contact in ActiveCampaign"
RATE_LIMITED_WAIT = 60.0  # when Brevo answers 429 without saying how long to wait


class _OutOfBudget(Exception):
    """The CRM bucket has no free slot within what is left of this slice."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"next CRM slot in {wait:.0f}s")
        self.wait = wait


def hourly_budget(limiter: Any) -> float | None:
    """Requests per hour a limiter allows (its tightest window); None when it never waits."""
    windows = getattr(limiter, "windows", ()) if limiter is not None else ()
    rates = [w.limit * 3600.0 / w.seconds for w in windows if w.seconds > 0]
    return min(rates) if rates else None


@register
class DealsResource(Resource):
    name = "deals"
    label = "Deals"
    connection_flag = "sync_deals"
    after = ("contacts",)

    def __init__(self) -> None:
        self._brevo_contacts: dict[str, int | None] = {}

    # -- slices -------------------------------------------------------------------------------

    def estimate_requests(self, counts: Volumes) -> RequestEstimate:
        """Deal pages; with CRM deals on, a contacts read per page and a lookup and a create per deal."""
        deals = counts.total("deals")
        if not counts.connection.deals_as_crm_objects:
            return RequestEstimate(ac=pages(deals))
        return RequestEstimate(
            ac=2 * pages(deals), brevo={"contacts": deals, CRM_BUCKET: deals * CRM_REQUESTS_PER_DEAL}
        )

    def run_slice(self, ctx: SyncContext, state: dict[str, Any]) -> SliceResult:
        if not self._crm(ctx):
            # Deal data rides on contact attributes by the mapping's choice: one note for the
            # run, not one skipped record per deal (nor an AC read of every deal).
            return not_configured(state, CRM_OFF)
        if ctx.mode == RunMode.RETRY:
            return self._retry_slice(ctx, state)
        offset = int(state.get("offset") or 0)
        skip = int(state.get("skip") or 0)
        for page in ctx.ac.iter_deal_pages(updated_after=ctx.since, offset=offset):
            if page.total is not None:
                state["total"] = page.total
            if skip == 0:
                ctx.recorder.record_invalid(self.name, page.invalid)
            items = page.items[skip:]
            handled = self._process(ctx, items, state)
            if handled < len(items):
                state["offset"], state["skip"] = page.offset, skip + handled
                self._estimate(ctx, state)
                return SliceResult(state, done=False, total=state.get("total"))
            state["offset"], state["skip"], skip = page.next_offset, 0, 0
            if ctx.out_of_time():
                self._estimate(ctx, state)
                return SliceResult(state, done=False, total=state.get("total"))
        self._set_eta(ctx, 0 if self._crm(ctx) else None)
        cursor = datetime.fromisoformat(state["max_mdate"]) if state.get("max_mdate") else None
        return SliceResult(state, done=True, total=state.get("total"), next_cursor=cursor)

    def _retry_slice(self, ctx: SyncContext, state: dict[str, Any]) -> SliceResult:
        wanted = ctx.only_ids.get(self.name, set())
        state.setdefault("total", len(wanted))
        done_ids: list[str] = state.setdefault("done_ids", [])
        for source_id in sorted(set(wanted) - set(done_ids), key=_int_or_zero):
            if ctx.out_of_time():
                return SliceResult(state, done=False, total=state["total"])
            deal = self._fetch(ctx, source_id)
            if deal is not None and self._process(ctx, [deal], state) == 0:
                return SliceResult(state, done=False, total=state["total"])
            done_ids.append(source_id)
        return SliceResult(state, done=True, total=state["total"])

    def sync_one(self, ctx: SyncContext, source_id: str) -> None:
        deal = self._fetch(ctx, source_id)
        if deal is None:
            return
        if self._process(ctx, [deal], {}) == 0:
            ctx.recorder.record(
                self.name,
                source_id,
                Outcome.FAILED,
                code="crm_budget",
                message="Brevo's CRM budget (about 100 requests an hour) is used up for now; "
                "the next run sends this deal",
            )

    def _fetch(self, ctx: SyncContext, source_id: str) -> Deal | None:
        try:
            deal_id = int(source_id)
        except ValueError:
            ctx.recorder.record(
                self.name,
                source_id,
                Outcome.FAILED,
                code="malformed",
                message="not an ActiveCampaign deal id",
            )
            return None
        try:
            return ctx.ac.get_deal(deal_id)
        except NotFoundError:
            ctx.recorder.record(
                self.name,
                source_id,
                Outcome.FAILED,
                code="not_found",
                message="the deal no longer exists in ActiveCampaign",
            )
        except BadResponse as exc:  # AC answered without a usable deal
            ctx.recorder.record(
                self.name, source_id, Outcome.FAILED, code="malformed", message=f"unusable deal: {exc}"[:300]
            )
        return None

    # -- one batch of deals -------------------------------------------------------------------

    @staticmethod
    def _crm(ctx: SyncContext) -> bool:
        return bool(ctx.connection.deals_as_crm_objects)

    def _process(self, ctx: SyncContext, deals: list[Deal], state: dict[str, Any]) -> int:
        """Record (and write) deals in order; returns how many were handled before a budget stop."""
        for deal in deals:
            if deal.mdate and (not state.get("max_mdate") or deal.mdate.isoformat() > state["max_mdate"]):
                state["max_mdate"] = deal.mdate.isoformat()
        if not self._crm(ctx):
            for deal in deals:
                self._record_without_crm(ctx, deal)
            return len(deals)
        contacts = ctx.ac.contacts_by_id([d.contact_id for d in deals if not d.is_disabled])
        states = load_states(ctx.connection.pk, self.name, [str(d.id) for d in deals])
        for index, deal in enumerate(deals):
            if index and ctx.out_of_time():
                return index
            try:
                self._sync_deal(ctx, deal, contacts, states.get(str(deal.id)))
            except _OutOfBudget as stop:
                ctx.resume_after = stop.wait
                return index
        return len(deals)

    def _record_without_crm(self, ctx: SyncContext, deal: Deal) -> None:
        if deal.is_disabled:
            self._record_hidden(ctx, deal)
        elif not deal.contact_id:
            ctx.recorder.record(self.name, deal.id, Outcome.FAILED, code="no_contact", message=NO_CONTACT)
        else:
            ctx.recorder.record(self.name, deal.id, Outcome.SKIPPED, code="crm_off", message=CRM_OFF)

    def _record_hidden(self, ctx: SyncContext, deal: Deal) -> None:
        ctx.recorder.record(
            self.name,
            deal.id,
            Outcome.SKIPPED,
            code="hidden_pipeline",
            message="the deal is in a pipeline the ActiveCampaign API user cannot see: "
            "give that user access to the pipeline to sync it",
        )

    def _sync_deal(
        self, ctx: SyncContext, deal: Deal, contacts: dict[int, Contact], previous: RecordState | None
    ) -> None:
        source_id = str(deal.id)
        if deal.is_disabled:
            self._record_hidden(ctx, deal)
            return
        contact = contacts.get(deal.contact_id) if deal.contact_id else None
        if contact is None:
            detail = f" (its contact {deal.contact_id} no longer exists)" if deal.contact_id else ""
            ctx.recorder.record(
                self.name, source_id, Outcome.FAILED, code="no_contact", message=NO_CONTACT + detail
            )
            return
        key = (contact.email or "").strip().lower()
        if (
            previous is not None
            and previous.source_modified_at
            and deal.mdate
            and deal.mdate < previous.source_modified_at
        ):
            ctx.recorder.record(
                self.name,
                source_id,
                Outcome.SKIPPED,
                key=key,
                code="stale",
                message="older than the last write: a newer version of this deal was already sent",
            )
            return
        result = transform_deal(source_deal(deal, contact), ctx.compiled)
        if result.payload is None:
            ctx.recorder.record_not_sent(self.name, source_id, result, key=key)
            return
        payload = result.payload
        sent, digest = deal_sent(payload)
        problems = "; ".join(f"{e.field}: {e.reason}" for e in result.errors)
        if not (contact.email or "").strip():
            problems = "; ".join(
                filter(
                    None,
                    [problems, f"linkedContactsIds: contact {contact.id} has no email, so it is not linked"],
                )
            )
        known = previous is not None and bool(previous.brevo_id)
        if known and previous.content_hash == digest:
            ctx.recorder.record(self.name, source_id, Outcome.UNCHANGED, key=key)
            return
        if ctx.dry_run:
            verb = "would update" if known else "would create"
            ctx.recorder.record(
                self.name,
                source_id,
                Outcome.FAILED if problems else (Outcome.UPDATED if known else Outcome.CREATED),
                key=key,
                code="field_rejected" if problems else "",
                message=verb + (f"; not sent: {problems}" if problems else ""),
                sent=sent,
            )
            return
        links: list[int] = []
        self._pace(ctx)  # before the contact lookup too: no request at all while the CRM budget is spent
        try:
            if payload.contact_email:
                brevo_contact = self._brevo_contact_id(ctx, payload.contact_email)
                if brevo_contact is None:
                    ctx.recorder.record(
                        self.name,
                        source_id,
                        Outcome.FAILED,
                        key=key,
                        code="contact_not_in_brevo",
                        message=f"contact {payload.contact_email} is not in Brevo yet, so the deal was not "
                        "sent: sync contacts first, then retry the failed records",
                        sent=sent,
                    )
                    return
                links = [brevo_contact]
            outcome, note = self._write(ctx, source_id, payload, links, previous, digest, deal.mdate)
        except ValidationFailed as exc:
            ctx.recorder.record(
                self.name,
                source_id,
                Outcome.FAILED,
                key=key,
                code=exc.code or "brevo_invalid",
                message=f"Brevo rejected the deal: {exc.operator_message}",
                sent=sent,
            )
            return
        except RateLimited as exc:
            raise _OutOfBudget(exc.retry_after or RATE_LIMITED_WAIT) from exc
        if problems:
            ctx.recorder.record(
                self.name,
                source_id,
                Outcome.FAILED,
                key=key,
                code="field_rejected",
                message=f"{outcome}, but these values were not sent: {problems}",
                sent=sent,
            )
        else:
            ctx.recorder.record(self.name, source_id, outcome, key=key, message=note, sent=sent)

    # -- Brevo --------------------------------------------------------------------------------

    def _brevo_contact_id(self, ctx: SyncContext, email: str) -> int | None:
        if email not in self._brevo_contacts:
            try:
                self._brevo_contacts[email] = ctx.brevo.get_contact(email).id
            except NotFoundError:
                self._brevo_contacts[email] = None
        return self._brevo_contacts[email]

    def _pace(self, ctx: SyncContext) -> None:
        """Go on only if the CRM bucket frees a slot before the slice's deadline."""
        limiter = ctx.brevo.bucket_limiter(CRM_BUCKET)
        if limiter is None:
            return
        wait = limiter.peek()
        if wait > max(0.0, ctx.deadline - time.monotonic()):
            raise _OutOfBudget(wait)

    def _write(
        self,
        ctx: SyncContext,
        source_id: str,
        payload: BrevoDealPayload,
        links: list[int],
        previous: RecordState | None,
        digest: str,
        modified_at: datetime | None,
    ) -> tuple[str, str]:
        """Update the known Brevo deal, or create it exactly once; returns (outcome, note)."""
        note = ""
        brevo_id = previous.brevo_id if previous is not None else ""
        if brevo_id:
            self._pace(ctx)
            try:
                # Linked contacts given to PATCH replace the deal's list: it mirrors AC's primary contact.
                ctx.brevo.update_deal(
                    brevo_id, name=payload.name, attributes=payload.attributes, linked_contacts_ids=links
                )
            except NotFoundError:
                note = f"Brevo deal {brevo_id} no longer existed (deleted in Brevo?), so it was created again"
            else:
                intents.confirm(ctx, self.name, source_id, digest, brevo_id=brevo_id, modified_at=modified_at)
                return Outcome.UPDATED, ""
        if intents.is_interrupted(previous):
            found = self._find_interrupted(ctx, payload, links)
            if found:
                intents.confirm(ctx, self.name, source_id, digest, brevo_id=found, modified_at=modified_at)
                return Outcome.CREATED, (
                    f"created as Brevo deal {found} by an earlier attempt that was interrupted; "
                    "found in Brevo, not created twice"
                )
        self._pace(ctx)
        intents.mark_sending(ctx, self.name, source_id, digest)
        try:
            new_id = ctx.brevo.create_deal(
                payload.name, attributes=payload.attributes, linked_contacts_ids=links or None
            )
        except ApiError as exc:
            # Keep the mark only when the deal may exist now; the next attempt then looks for it.
            maybe_applied = isinstance(exc, ServerError | BadResponse) or (
                isinstance(exc, TransportError) and exc.request_sent
            )
            if not maybe_applied:
                intents.clear(ctx, self.name, source_id)
            raise
        intents.confirm(ctx, self.name, source_id, digest, brevo_id=new_id, modified_at=modified_at)
        return Outcome.CREATED, note

    def _find_interrupted(self, ctx: SyncContext, payload: BrevoDealPayload, links: list[int]) -> str:
        """The deal an interrupted attempt may have created: same name and contact."""
        self._pace(ctx)
        found = ctx.brevo.list_deals(
            deal_name=payload.name, linked_contact_id=links[0] if links else None, limit=10
        )
        return found[0].id if found else ""

    # -- operator's view ----------------------------------------------------------------------

    def _estimate(self, ctx: SyncContext, state: dict[str, Any]) -> None:
        """ETA of the deals still to read at the CRM budget (an upper bound: unchanged deals are free)."""
        if not self._crm(ctx) or ctx.dry_run:
            return
        per_hour = hourly_budget(ctx.brevo.bucket_limiter(CRM_BUCKET))
        total = state.get("total")
        if per_hour is None or total is None:
            return
        remaining = max(0, int(total) - int(state.get("offset") or 0) - int(state.get("skip") or 0))
        self._set_eta(ctx, ctx.resume_after + remaining * CRM_REQUESTS_PER_DEAL * 3600.0 / per_hour)

    @staticmethod
    def _set_eta(ctx: SyncContext, seconds: float | None) -> None:
        value = None if seconds is None else round(seconds)
        if ctx.run.eta_seconds == value:
            return
        ctx.run.eta_seconds = value
        # Saved here: the engine's commit writes progress fields only.
        SyncRun.objects.filter(pk=ctx.run.pk).update(eta_seconds=value)


def deal_sent(payload: BrevoDealPayload) -> tuple[dict[str, Any], str]:
    """What the per-record log keeps as sent for a deal, and the content hash RecordState compares."""
    body = payload.to_brevo()
    return {**body, "contact": payload.contact_email}, content_hash(
        {"deal": body, "contact": payload.contact_email}
    )


def source_deal(deal: Deal, contact: Contact) -> SourceDeal:
    return SourceDeal(
        ac_id=deal.id,
        title=deal.title or None,
        description=deal.description or None,
        value_cents=deal.value_cents,
        currency=deal.currency or None,
        pipeline_id=deal.pipeline_id,
        stage_id=deal.stage_id,
        owner_id=deal.owner_id,
        status=deal.status,
        contact_email=contact.email or None,
        created_at=deal.cdate,
        updated_at=deal.mdate,
    )


def _int_or_zero(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        return 0
