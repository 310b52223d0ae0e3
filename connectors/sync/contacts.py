"""Contacts with custom fields (by field id), tags, list memberships (with consent), scores, deal data.

Full backfill: walk contacts by id (keyset), each page of 100 carrying its field values, tags and
list memberships as `include=` sideloads; deals (and, on a server that ignores `include`, the
other associations) are staged from bulk endpoints first and joined to each page locally.
Incremental: contacts changed since the cursor (minus an overlap window; content hashes skip the
overlap's duplicates) plus contacts whose deals changed; associations not sideloaded come from
per-contact reads when few changed and from staging when many did, whichever costs fewer requests.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from connectors.models import Outcome, RecordState, RunMode
from connectors.sync import staging
from connectors.sync.base import RequestEstimate, Resource, SliceResult, SyncContext, Volumes
from connectors.sync.brevo_contacts import IMPORT_FLUSH_ROWS, ContactWriter, PendingContact, slice_writer
from connectors.sync.estimate import contact_writes, import_lists, pages
from connectors.sync.readahead import ReadAhead
from connectors.sync.recorder import load_states, warnings_text
from connectors.sync.registry import register
from mappings.records import SourceContact
from mappings.transforms import (
    CompiledMapping,
    ContactResult,
    MappingSet,
    content_hash,
    not_sent_outcome,
    transform_contact,
)

if TYPE_CHECKING:
    from connectors.activecampaign.client import ActiveCampaignClient
    from connectors.activecampaign.schemas import ContactDetail
    from connectors.models import Connection

UNIT = 500  # contacts transformed and written together
READ_AHEAD = 20  # pages (about 12 MB): reading goes on while Brevo writes catch up
DETAIL_UNIT = 100  # with per-contact reads (2 requests each): a unit stays within a slice's time
SETTLE_AFTER = 1.0  # seconds: a younger import is confirmed at a later flush (or the slice's end)
STANDARD = ("orgname",)


def contact_needs(connection: Connection, mapping: MappingSet) -> dict[str, Any]:
    """Which associations the mapping actually uses: nothing else is read."""
    fields = list(mapping.fields)
    return {
        "field_ids": sorted({r.ac_field_id for r in fields if r.source == "field" and r.ac_field_id})
        if connection.include_custom_fields
        else [],
        "tags": bool(mapping.tags) and connection.include_tags,
        "lists": bool(mapping.lists) and connection.include_list_memberships,
        "deals": any(r.source.startswith("deal.") for r in fields),
        "scores": connection.include_scores and any(r.source == "score" for r in fields),
    }


def _needs(ctx: SyncContext) -> dict[str, Any]:
    return contact_needs(ctx.connection, ctx.mapping)


def sideload_names(needs: dict[str, Any]) -> list[str]:
    """The `/contacts?include=` sideloads that carry what the mapping uses."""
    names = []
    if needs["field_ids"]:
        names.append("fieldValues")
    if needs["tags"]:
        names.append("contactTags")
    if needs["lists"]:
        names.append("contactLists")
    return names


def included_associations(page: Any, needs: dict[str, Any]) -> dict[int, staging.Associations] | None:
    """Each contact's associations from the page's sideloads; None when the server left one out."""
    if any(name not in page.included for name in sideload_names(needs)):
        return None
    found = {contact.id: staging.Associations() for contact in page.items}
    keep = set(needs["field_ids"])
    for fv in page.included.get("fieldValues", ()):
        assoc = found.get(fv.contact_id)
        if assoc is not None and fv.field_id in keep:
            assoc.field_values[fv.field_id] = fv.value
    for ct in page.included.get("contactTags", ()):
        assoc = found.get(ct.contact_id)
        if assoc is not None:
            assoc.tags.add(ct.tag_id)
    for cl in page.included.get("contactLists", ()):
        assoc = found.get(cl.contact_id)
        if assoc is not None:
            assoc.lists[cl.list_id] = cl.status
    return found


def build_source(contact: Any, assoc: staging.Associations | None, scores: dict[int, float]) -> SourceContact:
    assoc = assoc or staging.Associations()
    return SourceContact.model_construct(
        ac_id=contact.id,
        email=contact.email or None,
        first_name=contact.first_name or None,
        last_name=contact.last_name or None,
        phone=contact.phone or None,
        udate=contact.udate,
        standard={name: (getattr(contact, name, None) or None) for name in STANDARD},
        field_values=assoc.field_values,
        tags=frozenset(assoc.tags),
        lists=assoc.lists,
        scores=scores,
        deal=staging.primary_deal(assoc.deals),
        automations={},
        custom_objects={},
    )


def detail_associations(
    ac: ActiveCampaignClient, detail: ContactDetail, needs: dict[str, Any]
) -> tuple[staging.Associations, dict[int, float] | None]:
    """One contact's associations from its detail read, plus its tags and scores when the mapping
    uses them (one request each). Scores are None when the mapping does not use them."""
    contact_id = detail.contact.id
    wanted_fields = set(needs["field_ids"])
    assoc = staging.Associations(
        field_values={fv.field_id: fv.value for fv in detail.field_values if fv.field_id in wanted_fields},
        lists={cl.list_id: cl.status for cl in detail.contact_lists} if needs["lists"] else {},
        deals=[staging.deal_blob(d) for d in detail.deals if not d.is_disabled] if needs["deals"] else [],
    )
    if needs["tags"]:
        assoc.tags = {ct.tag_id for ct in ac.list_contact_tags(contact_id).items}
    scores = None
    if needs["scores"]:
        scores = {
            sv.score_id: sv.value
            for sv in ac.list_contact_score_values(contact_id).items
            if sv.value is not None
        }
    return assoc, scores


# One contact read: the row, its scores from the page, its sideloaded associations (or None).
Unit = tuple[Any, dict[int, float], "staging.Associations | None"]


@dataclass(frozen=True, slots=True)
class ContactPlan:
    """What a sync does with one contact, decided before anything is sent.

    `outcome` is created/updated for a contact that would be written (`body` is then what goes
    to Brevo), else unchanged, skipped or failed with `code` and `message`. `problems` names
    values that were left out of `body` (the contact is still written).
    """

    source_id: str
    key: str
    result: ContactResult
    outcome: str
    code: str = ""
    message: str = ""
    body: dict[str, Any] | None = None
    digest: str = ""
    problems: str = ""
    warnings: tuple[dict[str, str], ...] = ()  # the values in `problems`, one {field, reason} each

    @property
    def writes(self) -> bool:
        return self.outcome in (Outcome.CREATED, Outcome.UPDATED)


def plan_contact(
    source: SourceContact,
    compiled: CompiledMapping,
    *,
    previous: RecordState | None,
    seen_emails: dict[str, str],
    seen_phones: dict[str, str] | None = None,
    force: bool = False,
) -> ContactPlan:
    """Map one contact and decide create/update/unchanged/skip against its RecordState.

    `seen_emails` (email -> source id) spans the contacts written together, so a second
    contact with the same email fails instead of overwriting the first.
    """
    source_id = str(source.ac_id)
    result = transform_contact(source, compiled)
    key = (source.email or "").strip().lower()
    if result.payload is None:
        outcome = not_sent_outcome(result.skip_code)
        return ContactPlan(
            source_id, key, result, outcome, code=result.skip_code or "", message=result.skip_reason or ""
        )
    email = result.payload.email
    if email in seen_emails:
        return ContactPlan(
            source_id,
            email,
            result,
            Outcome.FAILED,
            code="duplicate_email",
            message=f"another ActiveCampaign contact (id {seen_emails[email]}) has the same email "
            "(compared case-insensitively): merge them in ActiveCampaign",
        )
    seen_emails[email] = source_id
    if (
        previous is not None
        and previous.source_modified_at
        and source.udate
        and source.udate < previous.source_modified_at
    ):
        return ContactPlan(
            source_id,
            email,
            result,
            Outcome.SKIPPED,
            code="stale",
            message="older than the last write: a newer version of this contact was already sent",
        )
    body = result.payload.to_brevo()
    warnings = [{"field": e.field, "reason": e.reason} for e in result.errors]
    sms = body["attributes"].get("SMS")
    if sms is not None and seen_phones is not None:
        # Brevo keeps one contact per phone number and refuses a whole batch over a second one:
        # catch it here instead of after a round trip.
        owner = seen_phones.setdefault(sms, source_id)
        if owner != source_id:
            body = {**body, "attributes": {k: v for k, v in body["attributes"].items() if k != "SMS"}}
            warnings.append(
                {
                    "field": "SMS",
                    "reason": f"{sms} is also the phone of ActiveCampaign contact {owner} "
                    "(one per number in Brevo)",
                }
            )
    problems = "; ".join(f"{w['field']}: {w['reason']}" for w in warnings)
    digest = content_hash(body)
    if previous is not None and previous.content_hash == digest and not force:
        outcome = Outcome.UNCHANGED
    else:
        outcome = Outcome.UPDATED if previous is not None else Outcome.CREATED
    return ContactPlan(
        source_id,
        email,
        result,
        outcome,
        body=body,
        digest=digest,
        problems=problems,
        warnings=tuple(warnings),
    )


@register
class ContactsResource(Resource):
    name = "contacts"
    label = "Contacts"
    connection_flag = "sync_contacts"
    after = ("lists",)

    # -- slices -------------------------------------------------------------------------------

    def __init__(self) -> None:
        self._writer: ContactWriter | None = None  # one per slice: it holds the imports in flight
        self._new: list[PendingContact] = []
        self._new_meta: dict[str, Any] = {}
        self._seen_phones: dict[str, str] = {}  # phone -> AC contact id, across the slice

    def estimate_requests(self, counts: Volumes) -> RequestEstimate:
        """Contact pages with their sideloads plus staged deals, then batch updates and imports
        into a Brevo account without these contacts."""
        needs = contact_needs(counts.connection, counts.mapping)
        rows = counts.total("contacts")
        ac = pages(rows) + (pages(counts.total("deals")) if needs["deals"] else 0)
        writes = contact_writes(rows, new=True, lists=import_lists(counts.mapping))
        return RequestEstimate(ac=ac, brevo=writes)

    def run_slice(self, ctx: SyncContext, state: dict[str, Any]) -> SliceResult:
        try:
            return self._run_slice(ctx, state)
        finally:
            # The slice's position is committed after this returns: create what it read first.
            self._flush_new(ctx, final=True)

    def _run_slice(self, ctx: SyncContext, state: dict[str, Any]) -> SliceResult:
        if ctx.mode == RunMode.RETRY:
            return self._retry_slice(ctx, state)
        needs = _needs(ctx)
        if "sideload" not in state:
            names = sideload_names(needs)
            state["sideload"] = bool(names) and ctx.ac.sideloads_supported(names)
        phase = state.get("phase") or ("plan" if ctx.since else "stage")
        if phase == "plan":
            phase = self._plan_incremental(ctx, state, needs)
        if phase == "stage":
            if not self._stage(ctx, state, needs):
                state["phase"] = "stage"
                return SliceResult(state, done=False, total=state.get("total"))
            phase = "main"
        if phase in ("main", "main_detail"):
            state["phase"] = phase
            if not self._main(ctx, state, needs, detail=phase == "main_detail"):
                return SliceResult(state, done=False, total=state.get("total"))
            phase = "extra"
        if phase == "extra":
            state["phase"] = phase
            if not self._extra(ctx, state, needs):
                return SliceResult(state, done=False, total=state.get("total"))
        next_cursor = datetime.fromisoformat(state["max_udate"]) if state.get("max_udate") else None
        return SliceResult(state, done=True, total=state.get("total"), next_cursor=next_cursor)

    def _handled(self, ctx: SyncContext) -> int:
        # New contacts wait for their import and are recorded once it is confirmed: count them.
        in_flight = self._writer.pending() if self._writer else 0
        return ctx.recorder.records_in_slice + len(self._new) + in_flight

    def _slice_full(self, ctx: SyncContext) -> bool:
        return ctx.out_of_time() or self._handled(ctx) >= ctx.max_records

    def _plan_incremental(self, ctx: SyncContext, state: dict[str, Any], needs: dict[str, Any]) -> str:
        """Pick per-contact reads or bulk staging by which costs fewer AC requests."""
        first = next(iter(ctx.ac.iter_contact_pages(updated_after=ctx.since)), None)
        changed = (
            first.total if first and first.total is not None else len(first.items) if first else 0
        ) or 0
        extra: set[int] = set()
        if needs["deals"]:
            for page in ctx.ac.iter_deal_pages(updated_after=ctx.since):
                extra.update(d.contact_id for d in page.items if d.contact_id)
                if len(extra) > 5000:
                    break
        state["extra_ids"] = sorted(extra)
        state["total"] = changed + len(extra)
        sideload = state["sideload"]
        if sideload and not needs["deals"]:
            return "main"  # a page of 100 changed contacts carries all they need
        per_contact = 2 * (changed + len(extra))
        bulk = sum(math.ceil(t / 100) for t in self._association_totals(ctx, needs, sideload=sideload))
        return "stage" if bulk < per_contact else "main_detail"

    @staticmethod
    def _association_totals(ctx: SyncContext, needs: dict[str, Any], *, sideload: bool) -> Iterable[int]:
        probes = []
        if not sideload:
            probes = [("/fieldValues", {"filters[fieldid]": fid}) for fid in needs["field_ids"]]
            if needs["tags"]:
                probes.append(("/contactTags", {}))
            if needs["lists"]:
                probes.append(("/contactLists", {}))
        if needs["deals"]:
            probes.append(("/deals", {}))
        for path, params in probes:
            body = ctx.ac.get(path, {**params, "limit": 1})
            yield _total(body)

    @staticmethod
    def _read_all_fields(ctx: SyncContext, field_ids: list[int]) -> bool:
        """One unfiltered field-value listing, or one per mapped field: whichever needs fewer pages.

        Mapping most of an account's fields makes the single listing cheaper (and it has one
        partial last page instead of one per field); mapping a few of many makes it wasteful.
        """
        if len(field_ids) < 2:
            return False
        every = _total(ctx.ac.get("/fieldValues", {"limit": 1}))
        mapped = [_total(ctx.ac.get("/fieldValues", {"filters[fieldid]": f, "limit": 1})) for f in field_ids]
        return math.ceil(every / 100) <= sum(math.ceil(t / 100) for t in mapped)

    def _stage(self, ctx: SyncContext, state: dict[str, Any], needs: dict[str, Any]) -> bool:
        positions = state.setdefault("stage", {})
        sideload = state.get("sideload", False)
        if "all_fields" not in state:
            state["all_fields"] = not sideload and self._read_all_fields(ctx, needs["field_ids"])
        sources = staging.stage_sources(
            field_ids=[] if sideload else needs["field_ids"],
            tags=needs["tags"] and not sideload,
            lists=needs["lists"] and not sideload,
            deals=needs["deals"],
            all_fields=state["all_fields"],
        )
        for source in sources:
            position = positions.get(source.key, 0)
            if position == -1:
                continue
            for page in staging.pages_for(ctx.ac, source, position):
                staging.stage_page(ctx.run.pk, source, page)
                position = page.offset + page.row_count
                positions[source.key] = position
                if ctx.out_of_time():
                    return False
            positions[source.key] = -1
        return True

    def _main(self, ctx: SyncContext, state: dict[str, Any], needs: dict[str, Any], *, detail: bool) -> bool:
        last_id = int(state.get("last_id") or 0)
        extra = set(state.get("extra_ids") or [])
        unit: list[Unit] = []
        sideload = bool(state.get("sideload")) and not detail
        budget = ctx.max_records - self._handled(ctx)
        read = 0

        def more(page: Any) -> bool:
            # Runs in the read-ahead thread: stop reading where this slice's budget ends. A slice
            # may take one page past it, so an account ending exactly at the budget learns that
            # it has ended (an empty page) in this slice instead of in a slice of its own.
            nonlocal read
            read += page.row_count
            return read <= budget and not ctx.out_of_time()

        pages = ReadAhead(
            ctx.ac.iter_contact_pages(
                updated_after=ctx.since,
                id_greater=last_id,
                include=sideload_names(needs) if sideload else (),
            ),
            depth=READ_AHEAD,
            more=more,
        )
        for page in pages:
            if state.get("total") is None and page.total is not None:
                state["total"] = page.total
            scores: dict[int, dict[int, float]] = {}
            for sv in page.score_values:
                if sv.contact_id is not None and sv.value is not None:
                    scores.setdefault(sv.contact_id, {})[sv.score_id] = sv.value
            ctx.recorder.record_invalid(self.name, page.invalid)
            included = included_associations(page, needs) if sideload else None
            for contact in page.items:
                extra.discard(contact.id)
                # A page whose sideloads did not come back is read contact by contact.
                assoc = included.get(contact.id) if included is not None else None
                unit.append((contact, scores.get(contact.id, {}), assoc))
            if page.last_id is not None:
                last_id = page.last_id
            if len(unit) >= (DETAIL_UNIT if detail else UNIT):
                self._process(ctx, unit, needs, detail=detail, state=state)
                unit = []
                state["last_id"] = last_id
                state["extra_ids"] = sorted(extra)
                # Per-contact reads are slow: stop at the deadline even if a page read ahead is
                # dropped (one request against the hundreds the next unit would cost).
                if detail and self._slice_full(ctx):
                    return False
        self._process(ctx, unit, needs, detail=detail, state=state)
        state["last_id"] = last_id
        state["extra_ids"] = sorted(extra)
        return not pages.stopped

    def _extra(self, ctx: SyncContext, state: dict[str, Any], needs: dict[str, Any]) -> bool:
        """Contacts whose deals changed although the contact itself did not."""
        remaining = list(state.get("extra_ids") or [])
        while remaining:
            batch, remaining = remaining[:50], remaining[50:]
            unit = []
            for contact_id in batch:
                try:
                    detail = ctx.ac.get_contact(contact_id)
                except Exception as exc:  # one unreadable contact must not stop the run
                    ctx.recorder.record(
                        self.name, contact_id, Outcome.FAILED, message=_reason(exc), code="ac_read"
                    )
                    continue
                unit.append((detail.contact, {}, None))
            self._process(ctx, unit, needs, detail=True, state=state)
            state["extra_ids"] = remaining
            if self._slice_full(ctx):
                return False
        return True

    def _retry_slice(self, ctx: SyncContext, state: dict[str, Any]) -> SliceResult:
        ids = sorted(ctx.only_ids.get(self.name, set()) - set(state.get("done_ids", [])), key=_int_or_zero)
        state.setdefault("total", len(ctx.only_ids.get(self.name, set())))
        needs = _needs(ctx)
        while ids:
            batch, ids = ids[:50], ids[50:]
            unit = []
            for source_id in batch:
                try:
                    unit.append((ctx.ac.get_contact(int(source_id)).contact, {}, None))
                except Exception as exc:
                    ctx.recorder.record(
                        self.name, source_id, Outcome.FAILED, message=_reason(exc), code="ac_read"
                    )
            self._process(ctx, unit, needs, detail=True, state=state, force=True)
            state["done_ids"] = [*state.get("done_ids", []), *batch]
            if self._slice_full(ctx):
                return SliceResult(state, done=not ids, total=state["total"])
        return SliceResult(state, done=True, total=state["total"])

    def sync_one(self, ctx: SyncContext, source_id: str) -> None:
        contact = ctx.ac.get_contact(int(source_id)).contact
        self._process(ctx, [(contact, {}, None)], _needs(ctx), detail=True, state={})
        self._flush_new(ctx, final=True)

    # -- one unit -----------------------------------------------------------------------------

    def _associations(
        self, ctx: SyncContext, unit: list[Unit], needs: dict[str, Any], *, detail: bool, sideload: bool
    ) -> tuple[dict[int, staging.Associations], dict[int, dict[int, float]]]:
        """Associations per contact: sideloaded (plus staged deals), staged, or read one by one."""
        found: dict[int, staging.Associations] = {}
        scores: dict[int, dict[int, float]] = {}
        if detail:
            one_by_one = [contact for contact, _, _ in unit]
        elif sideload:
            given = {contact.id: assoc for contact, _, assoc in unit if assoc is not None}
            if needs["deals"] and given:
                staged = staging.load_associations(ctx.run.pk, list(given))
                for contact_id, assoc in given.items():
                    if contact_id in staged:
                        assoc.deals = staged[contact_id].deals
            found.update(given)
            one_by_one = [contact for contact, _, assoc in unit if assoc is None]
        else:
            return staging.load_associations(ctx.run.pk, [contact.id for contact, _, _ in unit]), {}
        for contact in one_by_one:
            assoc, contact_scores = detail_associations(ctx.ac, ctx.ac.get_contact(contact.id), needs)
            found[contact.id] = assoc
            if contact_scores is not None:
                scores[contact.id] = contact_scores
        return found, scores

    def _process(
        self,
        ctx: SyncContext,
        unit: list[Unit],
        needs: dict[str, Any],
        *,
        detail: bool,
        state: dict[str, Any],
        force: bool = False,
    ) -> None:
        if not unit:
            return
        assocs, detail_scores = self._associations(
            ctx, unit, needs, detail=detail, sideload=bool(state.get("sideload"))
        )
        states = load_states(ctx.connection.pk, self.name, [str(c.id) for c, _, _ in unit])
        pending: list[PendingContact] = []
        meta: dict[str, tuple[Any, str, str, datetime | None]] = {}
        seen_emails: dict[str, str] = {}
        max_udate = state.get("max_udate")
        for contact, page_scores, _ in unit:
            source_id = str(contact.id)
            if contact.udate and (max_udate is None or contact.udate.isoformat() > max_udate):
                max_udate = contact.udate.isoformat()
            source = build_source(
                contact, assocs.get(contact.id), detail_scores.get(contact.id) or page_scores
            )
            plan = plan_contact(
                source,
                ctx.compiled,
                previous=states.get(source_id),
                seen_emails=seen_emails,
                seen_phones=self._seen_phones,
                force=force,
            )
            if plan.writes:
                pending.append(
                    PendingContact(
                        source_id=source_id,
                        email=plan.key,
                        body=plan.body,
                        known=plan.outcome == Outcome.UPDATED,
                    )
                )
                meta[source_id] = (plan.body, plan.digest, list(plan.warnings), contact.udate)
            elif plan.outcome == Outcome.UNCHANGED:
                ctx.recorder.record(self.name, source_id, Outcome.UNCHANGED, key=plan.key)
            else:
                ctx.recorder.record(
                    self.name, source_id, plan.outcome, key=plan.key, message=plan.message, code=plan.code
                )
        state["max_udate"] = max_udate
        if not pending:
            return
        if ctx.dry_run:
            for item in pending:
                body, _digest, warnings, _ = meta[item.source_id]
                outcome = Outcome.UPDATED if item.known else Outcome.CREATED
                verb = "would update" if item.known else "would create"
                ctx.recorder.record(
                    self.name,
                    item.source_id,
                    outcome,
                    key=item.email,
                    message=verb + (f"; not sent: {warnings_text(warnings)}" if warnings else ""),
                    code="with_warnings" if warnings else "",
                    sent=body,
                    warnings=warnings,
                )
            return
        # Every contact goes through an import; gathering them across units means fewer imports
        # (one per list group), and reading them back a flush later means nobody waits for Brevo.
        self._new.extend(pending)
        self._new_meta.update({item.source_id: meta[item.source_id] for item in pending})
        if len(self._new) >= IMPORT_FLUSH_ROWS:
            self._flush_new(ctx, final=False)

    def _slice_writer(self, ctx: SyncContext) -> ContactWriter:
        if self._writer is None:
            self._writer = slice_writer(ctx)
        return self._writer

    def _flush_new(self, ctx: SyncContext, *, final: bool) -> None:
        """Import the gathered contacts; record those Brevo's read-back settled (all, if `final`)."""
        if not self._new and (self._writer is None or not self._writer.imports):
            return
        writer = self._slice_writer(ctx)
        submitted = self._new
        self._new = []
        writer.submit(submitted)
        # Contacts refused before any import (no list to import into) are settled at once.
        settled = [item for item in submitted if item.source_id in writer.outcomes]
        settled += writer.settle(wait=final, min_age=SETTLE_AFTER)
        self._record_written(ctx, writer, settled, self._new_meta)
        ctx.recorder.note_imports(writer.processes)
        for item in settled:
            self._new_meta.pop(item.source_id, None)

    def _record_written(
        self, ctx: SyncContext, writer: ContactWriter, items: list[PendingContact], meta: dict[str, Any]
    ) -> None:
        for item in items:
            body, digest, warnings, udate = meta[item.source_id]
            written = writer.outcomes.get(item.source_id)
            recorded = ctx.recorder.record_written(self.name, item, written, problems=warnings, sent=body)
            # Unconfirmed imports are not remembered, so the next run sends them again (and then
            # sees whether Brevo has them).
            if recorded and written.confirmed:
                ctx.recorder.remember(self.name, item.source_id, content_hash=digest, modified_at=udate)


def _total(body: dict[str, Any]) -> int:
    return int((body.get("meta") or {}).get("total") or 0)


def _int_or_zero(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        return 0


def _reason(exc: Exception) -> str:
    return getattr(exc, "operator_message", None) or f"{type(exc).__name__}"
