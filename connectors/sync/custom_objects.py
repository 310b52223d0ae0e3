"""Custom objects: mapped fields of AC custom object records become attributes of the related contact.

For each schema with mapped fields (FieldRule source "custom_object"), the records are read
(`GET /customObjects/records/{schemaId}`, 100 per request, offset, resumable), each record's
contact is taken from the schema's relationship to contacts (e.g. `primary-contact`), the
contacts' emails come from one `GET /contacts?ids[]=...` per page, the values are mapped with
that schema's field rules only, and the attributes are written with the contacts writer
(batch update; a contact Brevo does not know yet is created). One outcome per record.

A contact related to several records of one schema gets the values of the most recently
updated record; the others are skipped with the reason. RecordState
`"{schema}:contact:{contact id}"` remembers the winning record across pages and runs.
AC has no changed-since filter here: every run reads all records; incremental runs record
only records updated since the cursor.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from connectors.exceptions import BadResponse, NotFoundError
from connectors.models import Outcome, RunMode
from connectors.providers.activecampaign.schemas import Contact, CustomObjectRecord
from connectors.sync.automations import changed_since
from connectors.sync.base import RequestEstimate, Resource, SliceResult, SyncContext, Volumes
from connectors.sync.brevo_contacts import PendingContact, slice_writer
from connectors.sync.cost import page_writes, pages
from connectors.sync.recorder import as_warnings, load_states
from connectors.sync.registry import register
from mappings.records import SourceContact
from mappings.transforms import CompiledMapping, MappingSet, compile_mapping, content_hash, transform_contact

CONTACTS_NAMESPACE = "contacts"
DEFAULT_RELATIONSHIP = "primary-contact"


def schema_rules(mapping: MappingSet) -> dict[str, list[Any]]:
    """Field rules per custom object schema id."""
    rules: dict[str, list[Any]] = {}
    for rule in mapping.fields:
        if rule.source == "custom_object" and rule.object_schema_id:
            rules.setdefault(rule.object_schema_id, []).append(rule)
    return rules


def _newer(a: datetime | None, b: datetime | None) -> bool:
    """a strictly newer than b; unknown times never win."""
    if a is None:
        return False
    if b is None:
        return True
    try:
        return a > b
    except TypeError:  # one naive, one aware: AC sends UTC "Z" stamps here, compare as such
        return a.replace(tzinfo=None) > b.replace(tzinfo=None)


@register
class CustomObjectsResource(Resource):
    name = "custom_objects"
    label = "Custom objects"
    connection_flag = "sync_custom_objects"
    after = ("contacts",)

    def __init__(self) -> None:
        self._compiled: dict[str, CompiledMapping] = {}
        self._relationships: dict[str, list[str] | None] = {}

    def estimate_requests(self, counts: Volumes) -> RequestEstimate:
        """Per mapped schema: its definition, record pages and a contacts read per page; per page an
        import and its read-back."""
        estimate = RequestEstimate()
        for schema_id in schema_rules(counts.mapping):
            records = counts.total(f"customObjectRecords:{schema_id}")
            estimate.ac += 1 + 2 * pages(records)
            for bucket, requests in page_writes(records).items():
                estimate.brevo[bucket] = estimate.brevo.get(bucket, 0.0) + requests
        return estimate

    def run_slice(self, ctx: SyncContext, state: dict[str, Any]) -> SliceResult:
        rules = schema_rules(ctx.mapping)
        if ctx.mode == RunMode.RETRY:
            return self._retry_slice(ctx, state, rules)
        positions: dict[str, Any] = state.setdefault("schemas", {})
        for schema_id in sorted(rules):
            position = positions.setdefault(schema_id, {"offset": 0, "done": False})
            if position["done"]:
                continue
            relationships = self._contact_relationships(ctx, schema_id)
            if relationships is None:
                position["done"] = True
                continue
            for page in ctx.ac.iter_custom_object_record_pages(schema_id, offset=int(position["offset"])):
                if page.total is not None and ctx.since is None:
                    position["total"] = page.total
                ctx.recorder.record_invalid(self.name, page.invalid, prefix=f"{schema_id}:")
                self._process(ctx, schema_id, relationships, page.items, state)
                position["offset"] = page.next_offset
                if ctx.out_of_time():
                    return SliceResult(state, done=False, total=self._total(state))
            position["done"] = True
        cursor = datetime.fromisoformat(state["max_date"]) if state.get("max_date") else None
        return SliceResult(state, done=True, total=self._total(state), next_cursor=cursor)

    @staticmethod
    def _total(state: dict[str, Any]) -> int | None:
        totals = [p.get("total") for p in (state.get("schemas") or {}).values() if p.get("total") is not None]
        return sum(int(t) for t in totals) if totals else None

    def _retry_slice(
        self, ctx: SyncContext, state: dict[str, Any], rules: dict[str, list[Any]]
    ) -> SliceResult:
        wanted = sorted(s for s in ctx.only_ids.get(self.name, set()) if ":" in s)
        state.setdefault("total", len(wanted))
        done: list[str] = state.setdefault("done_ids", [])
        for source_id in wanted:
            if source_id in done:
                continue
            if ctx.out_of_time():
                return SliceResult(state, done=False, total=state["total"])
            schema_id, _, record_id = source_id.partition(":")
            relationships = self._contact_relationships(ctx, schema_id) if schema_id in rules else None
            if relationships is not None:
                try:
                    record = ctx.ac.get_custom_object_record(schema_id, record_id)
                except (NotFoundError, BadResponse):
                    ctx.recorder.record(
                        self.name,
                        source_id,
                        Outcome.FAILED,
                        code="not_found",
                        message="the custom object record no longer exists in ActiveCampaign",
                    )
                else:
                    self._process(ctx, schema_id, relationships, [record], state)
            done.append(source_id)
        return SliceResult(state, done=True, total=state["total"])

    # -- schema -------------------------------------------------------------------------------

    def _contact_relationships(self, ctx: SyncContext, schema_id: str) -> list[str] | None:
        """The schema's relationship ids that point at contacts; None (and a record) if it is gone."""
        if schema_id in self._relationships:
            return self._relationships[schema_id]
        try:
            schema = ctx.ac.get_custom_object_schema(schema_id)
        except (NotFoundError, BadResponse):
            ctx.recorder.record(
                self.name,
                f"schema:{schema_id}",
                Outcome.FAILED,
                code="schema_missing",
                message=f"custom object schema {schema_id} no longer exists in ActiveCampaign: "
                "run discovery and remove its field mappings",
            )
            self._relationships[schema_id] = None
            return None
        found = [r.id for r in schema.relationships if r.namespace.lower() == CONTACTS_NAMESPACE]
        self._relationships[schema_id] = found or [DEFAULT_RELATIONSHIP]
        return self._relationships[schema_id]

    def _mapping_for(self, ctx: SyncContext, schema_id: str) -> CompiledMapping:
        if schema_id not in self._compiled:
            subset = MappingSet(
                default_country=ctx.mapping.default_country,
                fields=tuple(schema_rules(ctx.mapping).get(schema_id, ())),
                labels=ctx.mapping.labels,
            )
            self._compiled[schema_id] = compile_mapping(subset)
        return self._compiled[schema_id]

    # -- one page of records ------------------------------------------------------------------

    def _process(
        self,
        ctx: SyncContext,
        schema_id: str,
        relationships: list[str],
        records: list[CustomObjectRecord],
        state: dict[str, Any],
    ) -> None:
        winners: dict[int, CustomObjectRecord] = {}
        losers: list[tuple[CustomObjectRecord, int, CustomObjectRecord]] = []
        record_states = load_states(ctx.connection.pk, self.name, [f"{schema_id}:{r.id}" for r in records])
        for record in records:
            source_id = f"{schema_id}:{record.id}"
            stamp = record.updated_timestamp
            if stamp and (not state.get("max_date") or stamp.isoformat() > state["max_date"]):
                state["max_date"] = stamp.isoformat()
            if ctx.since is not None and not changed_since([_aware(stamp)], ctx.since):
                continue
            contact_id = _related_contact(record, relationships)
            if contact_id is None:
                ctx.recorder.record(
                    self.name,
                    source_id,
                    Outcome.SKIPPED,
                    code="no_contact",
                    message="the record is not related to a contact, so its values have no Brevo contact",
                )
                continue
            current = winners.get(contact_id)
            if current is None:
                winners[contact_id] = record
            elif _newer(stamp, current.updated_timestamp):
                losers.append((current, contact_id, record))
                winners[contact_id] = record
            else:
                losers.append((record, contact_id, current))
        owners = load_states(ctx.connection.pk, self.name, [f"{schema_id}:contact:{cid}" for cid in winners])
        for contact_id, record in list(winners.items()):
            owner = owners.get(f"{schema_id}:contact:{contact_id}")
            if (
                owner is not None
                and owner.brevo_id
                and owner.brevo_id != record.id
                and _newer(owner.source_modified_at, _aware(record.updated_timestamp))
            ):
                self._record_older(ctx, schema_id, record, contact_id, owner.brevo_id)
                del winners[contact_id]
        for loser, contact_id, winner in losers:
            self._record_older(ctx, schema_id, loser, contact_id, winner.id)
        if winners:
            self._write(ctx, schema_id, winners, record_states)

    def _record_older(
        self, ctx: SyncContext, schema_id: str, record: CustomObjectRecord, contact_id: int, winner: str
    ) -> None:
        ctx.recorder.record(
            self.name,
            f"{schema_id}:{record.id}",
            Outcome.SKIPPED,
            code="older_record",
            message=f"contact {contact_id} has a more recently updated record ({winner}) of this object; "
            "its values are the ones in Brevo",
        )

    def _write(
        self,
        ctx: SyncContext,
        schema_id: str,
        winners: dict[int, CustomObjectRecord],
        record_states: dict[str, Any],
    ) -> None:
        contacts = ctx.ac.contacts_by_id(winners)
        mapping = self._mapping_for(ctx, schema_id)
        pending: list[PendingContact] = []
        meta: dict[str, tuple[str, str, int, CustomObjectRecord]] = {}
        for contact_id, record in winners.items():
            source_id = f"{schema_id}:{record.id}"
            contact = contacts.get(contact_id)
            if contact is None:
                ctx.recorder.record(
                    self.name,
                    source_id,
                    Outcome.FAILED,
                    code="no_contact",
                    message=f"contact {contact_id} no longer exists in ActiveCampaign",
                )
                continue
            result = transform_contact(_source(contact, schema_id, record), mapping)
            key = (contact.email or "").strip().lower()
            if result.payload is None:
                ctx.recorder.record_not_sent(self.name, source_id, result, key=key)
                continue
            body = result.payload.to_brevo()
            problems = "; ".join(f"{e.field}: {e.reason}" for e in result.errors)
            if not body.get("attributes") and not problems:
                ctx.recorder.record(
                    self.name,
                    source_id,
                    Outcome.SKIPPED,
                    key=key,
                    code="no_values",
                    message="the record has none of the mapped fields filled",
                )
                continue
            digest = content_hash(body)
            previous = record_states.get(source_id)
            if previous is not None and previous.content_hash == digest:
                ctx.recorder.record(self.name, source_id, Outcome.UNCHANGED, key=key)
                continue
            pending.append(
                PendingContact(
                    source_id=source_id, email=body["email"], body=body, known=previous is not None
                )
            )
            meta[source_id] = (digest, problems, contact_id, record)
        if not pending:
            return
        if ctx.dry_run:
            for item in pending:
                _digest, problems, _cid, _record = meta[item.source_id]
                ctx.recorder.record(
                    self.name,
                    item.source_id,
                    Outcome.UPDATED,
                    key=item.email,
                    code="with_warnings" if problems else "",
                    message="would update the contact's attributes"
                    + (f"; not sent: {problems}" if problems else ""),
                    sent=item.body,
                    warnings=as_warnings(problems),
                )
            return
        writer = slice_writer(ctx)
        outcomes = writer.write(pending)
        ctx.recorder.note_imports(writer.processes)
        for item in pending:
            written = outcomes.get(item.source_id)
            digest, problems, contact_id, record = meta[item.source_id]
            # As for contacts: an import Brevo has not confirmed is not remembered, so it is re-sent.
            if (
                not ctx.recorder.record_written(self.name, item, written, problems=problems)
                or not written.confirmed
            ):
                continue
            stamp = _aware(record.updated_timestamp)
            ctx.recorder.remember(self.name, item.source_id, content_hash=digest, modified_at=stamp)
            ctx.recorder.remember(
                self.name,
                f"{schema_id}:contact:{contact_id}",
                content_hash="",
                brevo_id=record.id,
                modified_at=stamp,
            )


def _related_contact(record: CustomObjectRecord, relationships: list[str]) -> int | None:
    for relationship in relationships:
        for contact_id in record.relationships.get(relationship) or ():
            try:
                return int(contact_id)
            except (TypeError, ValueError):
                continue
    return None


def _aware(moment: datetime | None) -> datetime | None:
    """Custom object stamps are UTC ("Z"); a naive one is read as UTC too."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _source(contact: Contact, schema_id: str, record: CustomObjectRecord) -> SourceContact:
    return SourceContact.model_construct(
        ac_id=contact.id,
        email=contact.email or None,
        first_name=None,
        last_name=None,
        phone=None,
        udate=None,
        standard={},
        field_values={},
        tags=frozenset(),
        lists={},
        scores={},
        deal=None,
        automations={},
        custom_objects={schema_id: record.values},
    )
