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
import time
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from connectors.models import Outcome, RunMode
from connectors.sync import carry, contact_merge, staging, transform_pool
from connectors.sync.base import RequestEstimate, Resource, SliceResult, SyncContext, Volumes
from connectors.sync.brevo_contacts import IMPORT_FLUSH_ROWS, ContactWriter, PendingContact, slice_writer
from connectors.sync.contact_plan import (
    Unit,
    build_source,
    contact_needs,
    detail_associations,
    included_associations,
    plan_contact,
    sideload_names,
)
from connectors.sync.cost import contact_writes, import_lists, pages
from connectors.sync.readahead import ReadAhead
from connectors.sync.recorder import load_states, warnings_text
from connectors.sync.registry import register
from connectors.sync.transform_pool import PageTransform, TransformPool
from mappings.records import SourceContact
from mappings.transforms import ContactResult, consent_payload, content_hash

UNIT = 500  # contacts transformed and written together
READ_AHEAD = 20  # pages (about 12 MB): reading goes on while Brevo writes catch up
DETAIL_UNIT = 100  # with per-contact reads (2 requests each): a unit stays within a slice's time
FIRST_UNIT = 5  # contacts written first in a slice that knows nothing yet of how fast Brevo is
SETTLE_AFTER = 1.0  # seconds: a younger import is confirmed at a later flush (or the slice's end)


def _needs(ctx: SyncContext) -> dict[str, Any]:
    return contact_needs(ctx.connection, ctx.mapping)


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
        # Duplicate addresses (connectors/sync/contact_merge.py): the addresses handed to the
        # writer in this slice, the contacts of such an address read later (written at the
        # slice's end, once the first write is confirmed), and the contacts merged into another
        # whose list statuses are being written (recorded as merged, not as written).
        self._slice_emails: set[str] = set()
        self._deferred: list[tuple[SourceContact, bool]] = []
        self._merge_into: dict[str, str] = {}
        # Pages handed to a transform helper as they are read (connectors/sync/transform_pool.py):
        # AC contact id -> (its source, the page, its place in the page), until the contact is planned.
        self._pool: TransformPool | None = None
        self._ahead: dict[int, tuple[SourceContact, PageTransform, int]] = {}

    def estimate_requests(self, counts: Volumes) -> RequestEstimate:
        """Contact pages with their sideloads plus staged deals, then batch updates and imports
        into a Brevo account without these contacts."""
        needs = contact_needs(counts.connection, counts.mapping)
        rows = counts.total("contacts")
        ac = pages(rows) + (pages(counts.total("deals")) if needs["deals"] else 0)
        writes = contact_writes(rows, new=True, lists=import_lists(counts.mapping))
        return RequestEstimate(ac=ac, brevo=writes)

    def run_slice(self, ctx: SyncContext, state: dict[str, Any]) -> SliceResult:
        self._resume_writes(ctx, state)
        try:
            result = self._run_slice(ctx, state)
        finally:
            # What the helper holds is only a head start: parked contacts are transformed again.
            self._ahead.clear()
            if self._pool is not None:
                self._pool.close()
                self._pool = None
        # The slice's position is committed after this returns: settle what it wrote first, as far
        # as its hard stop allows. What is still under way is parked with that position, and the
        # resource is not done before the next slice has settled it.
        self._flush_new(ctx, final=True)
        self._flush_deferred(ctx)
        if self._park_writes(ctx, result.state):
            return SliceResult(result.state, done=False, total=result.total)
        return result

    def _park_writes(self, ctx: SyncContext, state: dict[str, Any]) -> bool:
        """Park the writes under way (`connectors.sync.carry`) and name them in `state`; False
        when there are none."""
        state.pop("writes", None)
        writer = self._writer
        if not (self._new or self._deferred or (writer is not None and writer.pending())):
            return False
        state["writes"] = carry.park_writes(
            ctx.run.pk,
            {
                "new": self._new,
                "meta": self._new_meta,
                "merge_into": self._merge_into,
                "deferred": self._deferred,
                "seen_phones": self._seen_phones,
                "writer": writer.under_way() if writer is not None else None,
            },
        )
        return True

    def _resume_writes(self, ctx: SyncContext, state: dict[str, Any]) -> None:
        """Take over the writes the last slice parked, and settle what Brevo has finished."""
        parked = carry.take_writes(ctx.run.pk, state.pop("writes", None))
        if parked is None:
            return
        writer = self._slice_writer(ctx)
        if parked["writer"] is not None:
            writer.resume(parked["writer"])
        # A slice that failed after the parking may have recorded some of them already.
        ids = [item.source_id for item in [*parked["new"], *writer.waiting()]]
        ids += [str(source.ac_id) for source, _ in parked["deferred"]]
        recorded = self._recorded_in_run(ctx, ids)
        writer.forget(recorded)
        self._new = [item for item in parked["new"] if item.source_id not in recorded]
        self._deferred = [(s, force) for s, force in parked["deferred"] if str(s.ac_id) not in recorded]
        self._new_meta = parked["meta"]
        self._merge_into = parked["merge_into"]
        self._seen_phones = parked["seen_phones"]
        # Their addresses are in flight: a later contact of one of them waits (see _write_sources).
        self._slice_emails = {item.email for item in [*self._new, *writer.waiting()]}
        self._flush_new(ctx, final=False)

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
        return ctx.recorder.records_in_slice + len(self._new) + in_flight + len(self._deferred)

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
        if not sideload:
            for field_id in needs["field_ids"]:
                yield ctx.ac.count("fieldValues", field_id=field_id) or 0
            if needs["tags"]:
                yield ctx.ac.count("contactTags") or 0
            if needs["lists"]:
                yield ctx.ac.count("contactLists") or 0
        if needs["deals"]:
            yield ctx.ac.count("deals") or 0

    @staticmethod
    def _read_all_fields(ctx: SyncContext, field_ids: list[int]) -> bool:
        """One unfiltered field-value listing, or one per mapped field: whichever needs fewer pages.

        Mapping most of an account's fields makes the single listing cheaper (and it has one
        partial last page instead of one per field); mapping a few of many makes it wasteful.
        """
        if len(field_ids) < 2:
            return False
        every = ctx.ac.count("fieldValues") or 0
        mapped = [ctx.ac.count("fieldValues", field_id=f) or 0 for f in field_ids]
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
        """Read contact pages from the position on and write them, unit by unit, until the slice ends.

        A unit is sized to the time left: `seconds_per_contact` is measured as the slice goes (and
        kept for the next one), so a slow Brevo gets smaller units instead of a late slice. What
        the slice holds at its deadline (contacts taken off a page, pages read ahead) is parked
        for the next slice (`connectors.sync.carry`), never dropped or read again.
        """
        if not ctx.dry_run:
            self._slice_writer(ctx).prepare()
        last_id = int(state.get("last_id") or 0)
        extra = set(state.get("extra_ids") or [])
        sideload = bool(state.get("sideload")) and not detail
        held, carried = carry.take(ctx.run.pk, state.get("carry"))
        # What the last slice parked counts against this slice's budget like what it reads: left
        # out, every slice would read a page more than it uses, and the parked pages would grow
        # by one a slice (99 pages, 10,000 contacts pickled at each slice end of a 1,000,000 run).
        budget = ctx.max_records - self._handled(ctx) - len(held) - sum(p.row_count for p in carried)
        read = 0
        read_to = int(state["carry"]["read_to"]) if (held or carried) else last_id
        # The parked pages reach the end of the account: nothing is left to read after them.
        read_all = bool((held or carried) and state["carry"].get("ended"))
        state.pop("carry", None)
        unit: list[Unit] = list(held)
        # After a worker died, pages up to `recorded_to` may hold contacts already recorded.
        recorded_to = int(state.get("recorded_to") or 0)
        target = DETAIL_UNIT if detail else UNIT
        timing = {
            "per_contact": float(state.get("seconds_per_contact") or 0.0),
            "checkpointed": time.monotonic(),
        }

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
                id_greater=read_to,
                include=sideload_names(needs) if sideload else (),
            ),
            depth=READ_AHEAD,
            more=more,
        )

        def every_page() -> Any:
            while carried:
                yield carried.pop(0)
            if not read_all:
                yield from pages

        def work(*, all_of_it: bool) -> None:
            """Write units of `unit` while there is time: full ones, or all of it at the end."""
            nonlocal unit, last_id
            while unit and not self._slice_full(ctx):
                if not all_of_it and len(unit) < target and timing["per_contact"]:
                    return
                left = ctx.deadline - time.monotonic()
                fit = int(left / timing["per_contact"]) if timing["per_contact"] else FIRST_UNIT
                size = max(1, min(len(unit), target, fit))
                chunk, unit = unit[:size], unit[size:]
                began = time.monotonic()
                self._process(ctx, chunk, needs, detail=detail, state=state)
                took = (time.monotonic() - began) / len(chunk)
                timing["per_contact"] = (
                    took if not timing["per_contact"] else (timing["per_contact"] + took) / 2
                )
                last_id = chunk[-1][0].id if unit else max(read_to, chunk[-1][0].id)
                state["extra_ids"] = sorted(extra)
                if (
                    ctx.checkpoint is not None
                    and time.monotonic() - timing["checkpointed"] >= ctx.checkpoint_every
                ):
                    # Commit the position with the writes under way parked, so that a killed worker
                    # re-reads only seconds of pages and nothing it had sent.
                    state["last_id"] = last_id
                    state["recorded_to"] = max(last_id, recorded_to)
                    self._park_writes(ctx, state)
                    ctx.checkpoint(self.name, state)
                    carry.prune(ctx.run.pk, carry.WRITES, keep=state.get("writes"))
                    timing["checkpointed"] = time.monotonic()

        stopped_early = False
        source = every_page()
        for page in source:
            if state.get("total") is None and page.total is not None:
                state["total"] = page.total
            scores: dict[int, dict[int, float]] = {}
            for sv in page.score_values:
                if sv.contact_id is not None and sv.value is not None:
                    scores.setdefault(sv.contact_id, {})[sv.score_id] = sv.value
            ctx.recorder.record_invalid(self.name, page.invalid)
            included = included_associations(page, needs) if sideload else None
            done_before = self._recorded_in_run(ctx, [c.id for c in page.items if c.id <= recorded_to])
            taken = len(unit)
            for contact in page.items:
                extra.discard(contact.id)
                if str(contact.id) in done_before:
                    continue
                # A page whose sideloads did not come back is read contact by contact.
                assoc = included.get(contact.id) if included is not None else None
                unit.append((contact, scores.get(contact.id, {}), assoc))
            if included is not None and not needs["deals"]:
                # Everything these contacts' transforms read is on the page: a helper can start on
                # them now, while the units before them are written.
                self._transform_ahead(ctx, state, unit[taken:])
            if page.last_id is not None:
                read_to = max(read_to, page.last_id)
                if not unit:
                    last_id = read_to
            work(all_of_it=False)
            if self._slice_full(ctx):
                # The deadline holds whatever was read ahead: that is kept for the next slice.
                stopped_early = True
                break
        source.close()  # stops the read-ahead now: what it holds lands in `pages.unused`
        if not stopped_early:
            work(all_of_it=True)
            stopped_early = bool(unit)
            if not unit:
                last_id = max(last_id, read_to)
        state["last_id"] = last_id
        state["recorded_to"] = max(last_id, recorded_to)
        state["extra_ids"] = sorted(extra)
        state["seconds_per_contact"] = round(timing["per_contact"], 6)
        if stopped_early:
            if unit or carried or pages.unused:
                held_pages = carried + pages.unused
                # The next slice reads on after the last page parked, not after the last one used.
                read_to = max([read_to, *(p.last_id for p in held_pages if p.last_id is not None)])
                state["carry"] = carry.park(ctx.run.pk, unit, held_pages, read_to=read_to)
                state["carry"]["ended"] = read_all or pages.exhausted
            return False
        return read_all or not pages.stopped

    def _recorded_in_run(self, ctx: SyncContext, ids: Iterable[int | str]) -> set[str]:
        """Those of `ids` this run already recorded (contacts read or parked again after a
        worker died or a slice failed)."""
        wanted = [str(i) for i in ids]
        if not wanted:
            return set()
        from connectors.models import SyncRecord

        found = SyncRecord.objects.filter(
            run_id=ctx.run.pk, resource=self.name, source_id__in=wanted
        ).values_list("source_id", flat=True)
        return set(found)

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
        self._flush_deferred(ctx)

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

    def _transform_ahead(self, ctx: SyncContext, state: dict[str, Any], units: list[Unit]) -> None:
        """Hand these units' transforms to a helper process, when the run is large enough to
        pay for one and the deployment allows one (`TAJO_TRANSFORM_PROCESSES`)."""
        small = int(state.get("total") or 0) < transform_pool.MIN_CONTACTS
        if not units or ctx.transform_processes <= 0 or small:
            return
        if self._pool is None:
            self._pool = TransformPool(ctx.mapping, ctx.transform_processes)
        if not self._pool.working:
            return
        # Built as _process would build them: sideloaded associations, the page's scores.
        sources = [build_source(contact, assoc, scores) for contact, scores, assoc in units]
        page = self._pool.submit(sources)
        if page is not None:
            for index, source in enumerate(sources):
                self._ahead[source.ac_id] = (source, page, index)

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
        max_udate = state.get("max_udate")
        sources = []
        ahead: dict[int, tuple[SourceContact, PageTransform, int]] = {}
        for contact, page_scores, _ in unit:
            if contact.udate and (max_udate is None or contact.udate.isoformat() > max_udate):
                max_udate = contact.udate.isoformat()
            early = self._ahead.pop(contact.id, None) if not detail else None
            if early is not None:
                ahead[contact.id] = early
                sources.append(early[0])
                continue
            sources.append(
                build_source(contact, assocs.get(contact.id), detail_scores.get(contact.id) or page_scores)
            )
        state["max_udate"] = max_udate
        self._write_sources(ctx, sources, force=force, ahead=ahead)

    def _early_result(
        self, source: SourceContact, ahead: dict[int, tuple[SourceContact, PageTransform, int]]
    ) -> ContactResult | None:
        """The helper's transform of `source`, if it was handed over as it is (a contact merged
        with another of its address is a new source, transformed here)."""
        early = ahead.get(source.ac_id)
        if early is None or early[0] is not source or self._pool is None:
            return None
        results = self._pool.results(early[1])
        return results[early[2]] if results is not None else None

    def _write_sources(
        self,
        ctx: SyncContext,
        sources: list[SourceContact],
        *,
        force: bool,
        ahead: dict[int, tuple[SourceContact, PageTransform, int]] | None = None,
    ) -> None:
        """Merge duplicate addresses, plan each contact, record what is not sent, write the rest."""
        known = contact_merge.known_members(
            ctx.connection.pk, (contact_merge.email_key(s.email) for s in sources)
        )
        if not ctx.dry_run:
            contact_merge.remember_members(
                tenant_id=ctx.run.tenant_id,
                connection_id=ctx.connection.pk,
                sources=sources,
                deals=any(rule.source.startswith("deal.") for rule in ctx.mapping.fields),
                known=known,
            )
        groups = []
        for group in contact_merge.group_contacts(sources, known):
            if group.email and group.email in self._slice_emails and not ctx.dry_run:
                # This address was handed to the writer earlier in the slice, maybe to an import
                # still in flight: two writes of one address could land in either order.
                self._deferred.extend((s, force) for s in (group.write, *group.merged))
            else:
                groups.append(group)
        states = load_states(
            ctx.connection.pk, self.name, [str(g.write.ac_id) for g in groups if not g.lists_only]
        )
        # What a merged contact's list statuses were when last sent (kept apart from the contacts'
        # own states, which count the AC contacts Brevo holds).
        merged_states = load_states(
            ctx.connection.pk,
            contact_merge.MERGED_STATE,
            [str(g.write.ac_id) for g in groups if g.lists_only],
        )
        pending: list[PendingContact] = []
        meta: dict[str, tuple[Any, str, str, datetime | None]] = {}
        seen_emails: dict[str, str] = {}
        for group in groups:
            for other in group.merged:
                ctx.recorder.record(
                    self.name,
                    other.ac_id,
                    Outcome.MERGED,
                    key=group.email,
                    code="same_email",
                    message=contact_merge.merged_message(group.winner_id, dry_run=ctx.dry_run),
                )
            source = group.write
            source_id = str(source.ac_id)
            consent = consent_payload(source, ctx.compiled) if group.lists_only else None
            if consent is not None:
                body = consent.to_brevo()
                digest = content_hash(body)
                previous = merged_states.get(source_id)
                message = contact_merge.merged_message(group.winner_id, dry_run=ctx.dry_run)
                # Nothing to say about lists (none mapped, or no status on them), or said before.
                nothing = not group.new_statuses or not any(
                    key in body for key in ("listIds", "unlinkListIds", "emailBlacklisted")
                )
                if nothing or (previous is not None and previous.content_hash == digest and not force):
                    ctx.recorder.record(
                        self.name,
                        source_id,
                        Outcome.MERGED,
                        key=group.email,
                        code="same_email",
                        message=message,
                    )
                    continue
                pending.append(PendingContact(source_id=source_id, email=group.email, body=body, known=True))
                meta[source_id] = (body, digest, [], source.udate)
                self._merge_into[source_id] = group.winner_id
                continue
            plan = plan_contact(
                source,
                ctx.compiled,
                previous=states.get(source_id),
                seen_emails=seen_emails,
                seen_phones=self._seen_phones,
                force=force,
                result=self._early_result(source, ahead) if ahead else None,
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
                meta[source_id] = (plan.body, plan.digest, list(plan.warnings), source.udate)
            elif plan.outcome == Outcome.UNCHANGED:
                ctx.recorder.record(self.name, source_id, Outcome.UNCHANGED, key=plan.key)
            else:
                ctx.recorder.record(
                    self.name, source_id, plan.outcome, key=plan.key, message=plan.message, code=plan.code
                )
        self._slice_emails.update(item.email for item in pending)
        if not pending:
            return
        if ctx.dry_run:
            for item in pending:
                body, _digest, warnings, _ = meta[item.source_id]
                winner = self._merge_into.pop(item.source_id, None)
                if winner is not None:
                    message = contact_merge.merged_message(winner, dry_run=True)
                    ctx.recorder.record(
                        self.name,
                        item.source_id,
                        Outcome.MERGED,
                        key=item.email,
                        code="same_email",
                        message=message,
                        sent=body,
                    )
                    continue
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
        else:
            self._settle_due(ctx)

    def _slice_writer(self, ctx: SyncContext) -> ContactWriter:
        if self._writer is None:
            self._writer = slice_writer(ctx, parks=True)
        return self._writer

    def _flush_new(self, ctx: SyncContext, *, final: bool) -> None:
        """Import the gathered contacts; record those Brevo's read-back settled (all, if `final`)."""
        if not self._new and (self._writer is None or not self._writer.pending()):
            return
        writer = self._slice_writer(ctx)
        # Mid-run, the earlier imports are read back before the new ones go: a read-back lists
        # every contact modified since its oldest import, so reading after submitting would list
        # the new rows too (and again at the next flush). At the end the new imports go first,
        # so that Brevo applies them while the older ones are read back.
        settled = [] if final else writer.settle(wait=False, min_age=SETTLE_AFTER)
        submitted = self._new
        # What the slice's hard stop left unsent stays here (and is parked at the slice's end).
        self._new = writer.submit(submitted)
        unsent = {item.source_id for item in self._new}
        # Contacts refused before any import (no list to import into) are settled at once.
        settled += [i for i in submitted if i.source_id in writer.outcomes and i.source_id not in unsent]
        if final:
            settled += writer.settle(wait=True, min_age=SETTLE_AFTER)
        self._record_settled(ctx, writer, settled)

    def _settle_due(self, ctx: SyncContext) -> None:
        """Read back the imports old enough while pages are still being read, so that the end
        of the slice has only its last imports to confirm."""
        writer = self._writer
        if writer is None or not writer.imports:
            return
        self._record_settled(ctx, writer, writer.settle(wait=False, min_age=SETTLE_AFTER))

    def _record_settled(self, ctx: SyncContext, writer: ContactWriter, settled: list[PendingContact]) -> None:
        self._record_written(ctx, writer, settled, self._new_meta)
        ctx.recorder.note_imports(writer.processes)
        for item in settled:
            self._new_meta.pop(item.source_id, None)
        # A settled address has landed and been read back: a later contact of it needs no
        # deferring (its merge reads what was remembered), and the set stays as small as what is
        # in flight instead of growing with the slice (every address of a 100,000-contact slice).
        self._slice_emails.difference_update(item.email for item in settled)

    def _record_written(
        self, ctx: SyncContext, writer: ContactWriter, items: list[PendingContact], meta: dict[str, Any]
    ) -> None:
        for item in items:
            body, digest, warnings, udate = meta[item.source_id]
            written = writer.outcomes.get(item.source_id)
            state_key = self.name
            if item.source_id in self._merge_into:
                recorded = self._record_merge_write(ctx, item, written)
                state_key = contact_merge.MERGED_STATE
            else:
                recorded = ctx.recorder.record_written(self.name, item, written, problems=warnings, sent=body)
            # Unconfirmed imports are not remembered, so the next run sends them again (and then
            # sees whether Brevo has them).
            if recorded and written.confirmed:
                ctx.recorder.remember(state_key, item.source_id, content_hash=digest, modified_at=udate)

    def _record_merge_write(self, ctx: SyncContext, item: PendingContact, written: Any) -> bool:
        """A merged contact's list statuses sent to its address: merged if Brevo took them."""
        winner = self._merge_into.pop(item.source_id)
        if written is None:
            ctx.recorder.record_lost(self.name, item)
            return False
        if ctx.recorder.record_refused(self.name, item, written):
            return False
        message = contact_merge.merged_message(winner) + "; its list statuses were sent to that Brevo contact"
        ctx.recorder.record(
            self.name,
            item.source_id,
            Outcome.MERGED,
            key=item.email,
            code="same_email",
            message=message,
            sent=item.body,
        )
        return True

    def _flush_deferred(self, ctx: SyncContext) -> None:
        """Write the contacts held back for an address already written in this slice, once nothing
        is in flight any more (in time: else they are parked with the rest)."""
        while (
            self._deferred
            and not self._new
            and not (self._writer is not None and self._writer.pending())
            and time.monotonic() < ctx.hard_stop
        ):
            held, self._deferred = self._deferred, []
            self._slice_emails = set()
            for force in (False, True):
                sources = [source for source, forced in held if forced is force]
                if sources:
                    self._write_sources(ctx, sources, force=force)
            self._flush_new(ctx, final=True)


def _int_or_zero(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        return 0


def _reason(exc: Exception) -> str:
    return getattr(exc, "operator_message", None) or f"{type(exc).__name__}"
