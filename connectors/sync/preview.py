"""Dry-run preview of one connection: a few AC contacts, the exact Brevo bodies a sync would send.

The sample covers every mapped list (one contact per list and status where AC has one), every
mapped tag and every mapped deal stage (through the deal's contact), then fills up with the
account's first contacts. Each contact is re-read the way the contacts resource reads a single
contact, mapped by the same functions (`contact_needs`, `detail_associations`, `build_source`,
`plan_contact`), and compared with its RecordState, so "would create / would update / unchanged"
is what a run would do now.

Only ActiveCampaign is read. No Brevo client is built: nothing can reach Brevo from here.
Cost: a handful of AC requests to choose the sample (one per list and status, tag and stage),
then one to three per contact (the contact, its tags, its scores, as the mapping needs).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from connectors.exceptions import ApiError
from connectors.models import Outcome
from connectors.providers.activecampaign.schemas import ContactDetail, Deal
from connectors.providers.http.factory import requests_sent
from connectors.sync.contact_plan import (
    ContactPlan,
    build_source,
    contact_needs,
    detail_associations,
    plan_contact,
)
from connectors.sync.deals import deal_sent, source_deal
from connectors.sync.recorder import load_states
from mappings.catalog import AC, BREVO, CatalogIndex
from mappings.records import ListStatus, SourceContact
from mappings.transforms import (
    CompiledMapping,
    MappingError,
    MappingSet,
    compile_mapping,
    not_sent_outcome,
    transform_deal,
)
from mappings.transforms.values import ValueRejected

if TYPE_CHECKING:
    from connectors.models import Connection
    from connectors.providers.activecampaign.client import ActiveCampaignClient

DEFAULT_SAMPLE = 20
MAX_SAMPLE = 100
PROBE_LIMIT = 5  # contacts asked per coverage probe: an already picked one covers it for free

STATUS_WORDS = {
    ListStatus.UNCONFIRMED: "unconfirmed",
    ListStatus.ACTIVE: "subscribed",
    ListStatus.UNSUBSCRIBED: "unsubscribed",
    ListStatus.BOUNCED: "bounced",
    ListStatus.REMOVED: "removed",
}
# Subscribed first: one contact per list before the rarer statuses take sample slots.
PROBED_STATUSES = (ListStatus.ACTIVE, ListStatus.UNSUBSCRIBED, ListStatus.BOUNCED, ListStatus.UNCONFIRMED)

NOT_IN_AC = {
    "list": "no contact in ActiveCampaign has it",
    "tag": "no contact in ActiveCampaign has it",
    "stage": "no deal with a contact is in this stage in ActiveCampaign",
}

VERDICTS = {
    Outcome.CREATED: "would create",
    Outcome.UPDATED: "would update",
    Outcome.UNCHANGED: "unchanged",
    Outcome.SKIPPED: "would skip",
    Outcome.FAILED: "would fail",
}


def clamp_sample_size(value: object, default: int = DEFAULT_SAMPLE) -> int:
    """A sample size from user input, bounded to 1..MAX_SAMPLE (garbage gives the default)."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return default
    return max(1, min(MAX_SAMPLE, number))


# ----------------------------------------------------------------------------- results


@dataclass
class InputValue:
    """One AC value that fed one Brevo attribute."""

    source: str
    attribute: str
    value: Any
    problem: str = ""


@dataclass
class ListChange:
    """One Brevo list the contact's lists and tags speak about, with what happens and why."""

    brevo_list: str
    action: str  # "add", "unlink" or "no change"
    reasons: list[str]


@dataclass
class PreviewRecord:
    ac_id: int
    email: str = ""
    picked_because: list[str] = field(default_factory=list)
    inputs: list[InputValue] = field(default_factory=list)
    lists: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    deal: str = ""
    payload: dict[str, Any] | None = None
    list_changes: list[ListChange] = field(default_factory=list)
    blocklist: str = ""
    errors: list[str] = field(default_factory=list)
    skip_reason: str = ""
    skip_code: str = ""
    outcome: str = ""
    verdict: str = ""

    @property
    def payload_json(self) -> str:
        return "" if self.payload is None else json.dumps(self.payload, indent=2, ensure_ascii=False)


@dataclass
class PreviewDeal:
    ac_id: int
    title: str
    contact_email: str
    stage: str
    payload: dict[str, Any] | None = None
    errors: list[str] = field(default_factory=list)
    skip_reason: str = ""
    verdict: str = ""

    @property
    def payload_json(self) -> str:
        return "" if self.payload is None else json.dumps(self.payload, indent=2, ensure_ascii=False)


@dataclass
class Coverage:
    """One mapped list status, tag or stage, and the sampled contacts that show it."""

    kind: str  # "list", "tag", "stage"
    target: str
    ac_ids: list[int] = field(default_factory=list)
    note: str = ""


@dataclass
class Preview:
    connection_id: int
    sample_size: int
    records: list[PreviewRecord] = field(default_factory=list)
    deals: list[PreviewDeal] = field(default_factory=list)
    coverage: list[Coverage] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # the mapping is invalid: nothing was mapped
    error: str = ""  # ActiveCampaign could not be read
    notes: list[str] = field(default_factory=list)
    crm_deals: bool = False
    ac_requests: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems and not self.error


# ----------------------------------------------------------------------------- names


class _Names:
    """Readable names from the discovered catalog; ids where discovery has not seen an item."""

    def __init__(self, index: CatalogIndex | None, mapping: MappingSet) -> None:
        self._index = index
        self._stages = mapping.labels.stage_titles
        self._pipelines = mapping.labels.pipeline_titles

    def label(self, side: str, kind: str, ident: object) -> str:
        entry = self._index.get(side, kind, ident) if self._index is not None else None
        return entry.label if entry is not None and entry.label else ""

    def ac_list(self, list_id: int) -> str:
        return self.label(AC, "list", list_id) or f"list {list_id}"

    def tag(self, tag_id: int) -> str:
        return self.label(AC, "tag", tag_id) or f"tag {tag_id}"

    def stage(self, stage_id: int | None) -> str:
        if stage_id is None:
            return "no stage"
        return self._stages.get(stage_id) or self.label(AC, "stage", stage_id) or f"stage {stage_id}"

    def stage_pipeline(self, stage_id: int) -> str:
        """The name of the pipeline a stage belongs to (from the catalog), or ""."""
        entry = self._index.get(AC, "stage", stage_id) if self._index is not None else None
        if entry is None or not entry.parent_id.isdigit():
            return ""
        pipeline_id = int(entry.parent_id)
        return self._pipelines.get(pipeline_id) or self.label(AC, "pipeline", pipeline_id)

    def brevo_list(self, list_id: int) -> str:
        name = self.label(BREVO, "list", list_id)
        return f"{list_id} ({name})" if name else str(list_id)

    def source(self, rule: Any) -> str:
        if rule.source == "field":
            name = self.label(AC, "field", rule.ac_field_id)
            return f'AC field {rule.ac_field_id} "{name}"' if name else f"AC field {rule.ac_field_id}"
        if rule.source == "score":
            name = self.label(AC, "score", rule.score_id)
            return f'AC score {rule.score_id} "{name}"' if name else f"AC score {rule.score_id}"
        if rule.source.startswith("deal."):
            return f"AC primary deal: {rule.source.removeprefix('deal.')}"
        return rule.describe_source()


# ----------------------------------------------------------------------------- the preview


def preview_connection(*, connection: Connection, sample_size: int = DEFAULT_SAMPLE) -> Preview:
    """Map up to `sample_size` AC contacts of `connection` as a sync would; write nothing anywhere."""
    from connectors.clients import ac_client_for
    from mappings.exceptions import MappingInvalid
    from mappings.selectors import catalog_index_for, mapping_snapshot

    size = clamp_sample_size(sample_size)
    preview = Preview(connection_id=connection.pk, sample_size=size, crm_deals=_crm_deals(connection))
    try:
        mapping = mapping_snapshot(connection=connection)
        compiled = compile_mapping(mapping)
    except MappingInvalid as exc:
        preview.problems = [problem.text() for problem in exc.problems] or [str(exc)]
        return preview
    except MappingError as exc:
        preview.problems = list(exc.problems)
        return preview
    names = _Names(catalog_index_for(connection), mapping)
    if not connection.sync_contacts:
        preview.notes.append("Contacts are switched off for this connection: a run would not send these.")
    ac = ac_client_for(connection)
    try:
        with ac:
            _fill(preview, ac, connection, mapping, compiled, names, size)
    except ApiError as exc:
        preview.error = exc.operator_message
    finally:
        preview.ac_requests = requests_sent(ac)
    return preview


def _crm_deals(connection: Connection) -> bool:
    return bool(connection.sync_deals and connection.deals_as_crm_objects)


def _fill(
    preview: Preview,
    ac: ActiveCampaignClient,
    connection: Connection,
    mapping: MappingSet,
    compiled: CompiledMapping,
    names: _Names,
    size: int,
) -> None:
    sampler = _Sampler(ac, size)
    targets = _coverage_targets(connection, mapping, names)
    sampler.cover(targets)
    sampler.fill()

    needs = contact_needs(connection, mapping)
    states = load_states(connection.pk, "contacts", [str(i) for i in sampler.picked])
    seen_emails: dict[str, str] = {}
    details: dict[int, ContactDetail] = {}
    sources: dict[int, SourceContact] = {}
    for ac_id, reasons in sampler.picked.items():
        record = PreviewRecord(ac_id=ac_id, picked_because=reasons)
        preview.records.append(record)
        try:
            detail = ac.get_contact(ac_id)
            assoc, scores = detail_associations(ac, detail, needs)
        except ApiError as exc:
            record.errors.append(f"could not read this contact from ActiveCampaign: {exc.operator_message}")
            record.verdict = "would fail"
            continue
        details[ac_id] = detail
        source = build_source(detail.contact, assoc, scores or {})
        sources[ac_id] = source
        plan = plan_contact(source, compiled, previous=states.get(str(ac_id)), seen_emails=seen_emails)
        _describe(record, source, plan, mapping, compiled, names)

    for target in targets:
        covered = [ac_id for ac_id, source in sources.items() if target.matches(source, details[ac_id])]
        target.coverage.ac_ids = covered
        if not covered and not target.coverage.note:
            target.coverage.note = "no sampled contact has it"
        preview.coverage.append(target.coverage)

    if preview.crm_deals:
        preview.deals = _deals(ac, connection, compiled, names, details, size)


# ----------------------------------------------------------------------------- choosing the sample


@dataclass
class _Target:
    """A mapped list status, tag or stage the sample should show, and how to find a contact with it."""

    coverage: Coverage
    reason: str
    kind: str
    ident: int
    status: int | None = None
    first_round: bool = True

    def matches(self, source: SourceContact, detail: ContactDetail) -> bool:
        if self.kind == "list":
            return source.lists.get(self.ident) == self.status
        if self.kind == "tag":
            return self.ident in source.tags
        return any(d.stage_id == self.ident and not d.is_disabled for d in detail.deals)


def _coverage_targets(connection: Connection, mapping: MappingSet, names: _Names) -> list[_Target]:
    targets: list[_Target] = []
    if connection.include_list_memberships:
        list_ids = list(dict.fromkeys(rule.ac_list_id for rule in mapping.lists))
        for status in PROBED_STATUSES:
            for list_id in list_ids:
                text = f"on list {names.ac_list(list_id)} ({STATUS_WORDS[status]})"
                targets.append(
                    _Target(
                        Coverage("list", text),
                        text,
                        "list",
                        list_id,
                        status=status,
                        first_round=status == ListStatus.ACTIVE,
                    )
                )
    if connection.include_tags:
        for tag_id in dict.fromkeys(rule.ac_tag_id for rule in mapping.tags):
            text = f"has tag {names.tag(tag_id)}"
            targets.append(_Target(Coverage("tag", text), text, "tag", tag_id))
    for stage_id in _stages_to_cover(mapping):
        pipeline = names.stage_pipeline(stage_id)
        text = f"deal in stage {names.stage(stage_id)}" + (f" ({pipeline})" if pipeline else "")
        targets.append(_Target(Coverage("stage", text), text, "stage", stage_id))
    return targets


def _stages_to_cover(mapping: MappingSet) -> list[int]:
    """Stages with a Brevo stage mapping; without any, the stages DEAL_* attributes can name."""
    if mapping.stages:
        return list(dict.fromkeys(rule.ac_stage_id for rule in mapping.stages))
    if any(rule.source.startswith("deal.") for rule in mapping.fields):
        return sorted(mapping.labels.stage_titles)
    return []


class _Sampler:
    """Picks contact ids in order with why each was picked; never more than `size`."""

    def __init__(self, ac: ActiveCampaignClient, size: int) -> None:
        self._ac = ac
        self.size = size
        self.picked: dict[int, list[str]] = {}

    @property
    def full(self) -> bool:
        return len(self.picked) >= self.size

    def cover(self, targets: list[_Target]) -> None:
        # Every list (subscribed), tag and stage first; the rarer list statuses after.
        for first_round in (True, False):
            for target in targets:
                if target.first_round != first_round:
                    continue
                if self.full:
                    target.coverage.note = "sample full before this was looked for"
                    continue
                ids = self._probe(target)
                if not ids:
                    target.coverage.note = NOT_IN_AC[target.kind]
                    continue
                self._take(ids, target.reason)

    def fill(self) -> None:
        if self.full:
            return
        for contact in self._ac.first_contacts(limit=min(100, self.size + len(self.picked))):
            if self.full:
                return
            self.picked.setdefault(contact.id, ["one of the first contacts"])

    def _take(self, ids: list[int], reason: str) -> None:
        already = next((i for i in ids if i in self.picked), None)
        chosen = already if already is not None else ids[0]
        self.picked.setdefault(chosen, []).append(reason)

    def _probe(self, target: _Target) -> list[int]:
        if target.kind == "stage":
            deals = self._ac.deals_in_stage(target.ident, limit=PROBE_LIMIT)
            return list(dict.fromkeys(d.contact_id for d in deals if d.contact_id and not d.is_disabled))
        if target.kind == "list":
            contacts = self._ac.first_contacts(limit=PROBE_LIMIT, list_id=target.ident, status=target.status)
        else:
            contacts = self._ac.first_contacts(limit=PROBE_LIMIT, tag_id=target.ident)
        return [contact.id for contact in contacts]


# ----------------------------------------------------------------------------- describing one record


def _describe(
    record: PreviewRecord,
    source: SourceContact,
    plan: ContactPlan,
    mapping: MappingSet,
    compiled: CompiledMapping,
    names: _Names,
) -> None:
    result = plan.result
    record.email = source.email or ""
    record.inputs = _inputs(source, mapping, compiled, names)
    mapped_lists = {rule.ac_list_id for rule in mapping.lists}
    record.lists = [
        f"{names.ac_list(list_id)}: {_status_word(status)}"
        + ("" if list_id in mapped_lists else " (not mapped)")
        for list_id, status in sorted(source.lists.items())
    ]
    mapped_tags = {rule.ac_tag_id for rule in mapping.tags}
    record.tags = [
        names.tag(tag_id) + ("" if tag_id in mapped_tags else " (not mapped)")
        for tag_id in sorted(source.tags)
    ]
    if source.deal is not None:
        deal = source.deal
        record.deal = f"deal {deal.ac_id} in stage {names.stage(deal.stage_id)}"
        if deal.value_cents is not None:
            record.deal += f", value {deal.value_cents / 100:.2f} {(deal.currency or '').upper()}".rstrip()
    record.errors.extend(f"{error.field}: {error.reason}" for error in result.errors)
    record.outcome = plan.outcome
    record.verdict = VERDICTS.get(plan.outcome, plan.outcome)
    if result.payload is None or plan.body is None:
        # Not sent at all: no email, a bad email, a duplicate email or an older version.
        record.skip_reason, record.skip_code = plan.message, plan.code
        return
    record.payload = plan.body
    record.list_changes = _list_changes(source, result.payload, mapping, names)
    if result.blacklist_reason:
        record.blocklist = f"blocklisted in Brevo: {result.blacklist_reason}"
    if plan.outcome == Outcome.UNCHANGED:
        record.verdict = "unchanged: same content as last sent, nothing would be sent"
    elif plan.problems:
        record.verdict += ", without the values listed under errors"


def _inputs(
    source: SourceContact, mapping: MappingSet, compiled: CompiledMapping, names: _Names
) -> list[InputValue]:
    values = [InputValue("AC email", "email", source.email)]
    # The compiled plans are in the rules' order: read each value exactly as the transform does.
    for rule, plan in zip(mapping.fields, compiled.fields, strict=True):
        try:
            raw = plan.extract(source)
            problem = ""
        except ValueRejected as exc:
            raw, problem = None, exc.reason
        values.append(InputValue(names.source(rule), rule.attribute, raw, problem))
    return values


def _status_word(status: int) -> str:
    try:
        return STATUS_WORDS[ListStatus(status)]
    except ValueError:
        return f"status {status}"


def _list_changes(
    source: SourceContact, payload: Any, mapping: MappingSet, names: _Names
) -> list[ListChange]:
    """Per Brevo list, the AC list statuses and tags that voted, and the result (mappings.consent)."""
    votes: dict[int, list[str]] = {}
    for rule in mapping.lists:
        status = source.lists.get(rule.ac_list_id)
        if status is not None:
            votes.setdefault(rule.brevo_list_id, []).append(
                f"{_status_word(status)} on AC list {names.ac_list(rule.ac_list_id)}"
            )
    for tag in mapping.tags:
        if tag.brevo_list_id is None:
            continue
        if tag.ac_tag_id in source.tags:
            votes.setdefault(tag.brevo_list_id, []).append(f"has tag {names.tag(tag.ac_tag_id)}")
        elif tag.unlink_when_absent:
            votes.setdefault(tag.brevo_list_id, []).append(
                f"no tag {names.tag(tag.ac_tag_id)} (its rule unlinks when absent)"
            )
    added, unlinked = set(payload.list_ids), set(payload.unlink_list_ids)
    changes = []
    for list_id in sorted(set(votes) | added | unlinked):
        reasons = list(votes.get(list_id, []))
        if list_id in added:
            action = "add"
        elif list_id in unlinked:
            action = "unlink"
            if any(r.startswith(("unsubscribed", "bounced")) for r in reasons):
                reasons.append("an opt-out wins over every other list and tag")
        else:
            action = "no change"
            if any(r.startswith("unconfirmed") for r in reasons):
                reasons.append("unconfirmed: no consent yet")
        changes.append(ListChange(names.brevo_list(list_id), action, reasons))
    return changes


# ----------------------------------------------------------------------------- CRM deals


def _deals(
    ac: ActiveCampaignClient,
    connection: Connection,
    compiled: CompiledMapping,
    names: _Names,
    details: dict[int, ContactDetail],
    size: int,
) -> list[PreviewDeal]:
    """The sampled contacts' deals as Brevo CRM deals (the deals resource's transform and hash)."""
    deals: list[Deal] = []
    seen: set[int] = set()
    for detail in details.values():
        for deal in detail.deals:
            if deal.id not in seen and len(deals) < size:
                seen.add(deal.id)
                deals.append(deal)
    contacts = {ac_id: detail.contact for ac_id, detail in details.items()}
    missing = [d.contact_id for d in deals if d.contact_id and d.contact_id not in contacts]
    if missing:
        contacts.update(ac.contacts_by_id(missing))
    states = load_states(connection.pk, "deals", [str(d.id) for d in deals])
    found = []
    for deal in deals:
        contact = contacts.get(deal.contact_id) if deal.contact_id else None
        item = PreviewDeal(
            ac_id=deal.id,
            title=deal.title,
            contact_email=(contact.email if contact is not None else "") or "",
            stage=names.stage(deal.stage_id),
        )
        found.append(item)
        if deal.is_disabled:
            item.skip_reason, item.verdict = "in a pipeline the AC API user cannot see", "would skip"
            continue
        if contact is None:
            item.skip_reason, item.verdict = "deal has no contact in ActiveCampaign", "would fail"
            continue
        result = transform_deal(source_deal(deal, contact), compiled)
        item.errors = [f"{error.field}: {error.reason}" for error in result.errors]
        if result.payload is None:
            item.skip_reason = result.skip_reason or ""
            item.verdict = f"would {'skip' if not_sent_outcome(result.skip_code) == 'skipped' else 'fail'}"
            continue
        item.payload, digest = deal_sent(result.payload)
        previous = states.get(str(deal.id))
        known = previous is not None and bool(previous.brevo_id)
        if known and previous.content_hash == digest:
            item.verdict = "unchanged"
        else:
            item.verdict = "would update" if known else "would create"
    return found
