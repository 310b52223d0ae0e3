"""One contact, read and decided: what a mapping needs of ActiveCampaign, the source record
built from a page (or a detail read), and the plan of what a sync would send to Brevo.

Pure of Brevo I/O: the sync (connectors/sync/contacts.py) and the preview
(connectors/sync/preview.py) both decide a contact's outcome here before anything is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from connectors.models import Outcome, RecordState
from connectors.sync import staging
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
    from connectors.models import Connection
    from connectors.providers.activecampaign.client import ActiveCampaignClient
    from connectors.providers.activecampaign.schemas import ContactDetail

# Mapping sources read off the contact besides mappings.transforms.rules.CONTACT_COLUMNS.
STANDARD = ("orgname", "cdate")


def contact_needs(connection: Connection, mapping: MappingSet) -> dict[str, Any]:
    """Which associations the mapping actually uses: nothing else is read."""
    fields = list(mapping.fields)
    return {
        "field_ids": sorted({r.ac_field_id for r in fields if r.source == "field" and r.ac_field_id})
        if connection.include_custom_fields
        else [],
        "tags": bool(mapping.tags or mapping.tags_attribute) and connection.include_tags,
        "lists": bool(mapping.lists) and connection.include_list_memberships,
        "deals": any(r.source.startswith("deal.") for r in fields),
        "scores": connection.include_scores and any(r.source == "score" for r in fields),
    }


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
        standard={name: _standard(contact, name) for name in STANDARD},
        field_values=assoc.field_values,
        tags=frozenset(assoc.tags),
        lists=assoc.lists,
        scores=scores,
        deal=staging.primary_deal(assoc.deals),
        automations={},
        custom_objects={},
    )


def _standard(contact: Any, name: str) -> str | None:
    """A standard column as an AC-style string (`SourceContact.standard`): dates in ISO form."""
    value = getattr(contact, name, None)
    if isinstance(value, datetime):
        return value.isoformat()
    return value or None


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
    result: ContactResult | None = None,
) -> ContactPlan:
    """Map one contact and decide create/update/unchanged/skip against its RecordState.

    `seen_emails` (email -> source id) spans the contacts written together, so a second
    contact with the same email fails instead of overwriting the first. `result` is
    `transform_contact(source, compiled)` when a helper process has already computed it
    (connectors/sync/transform_pool.py).
    """
    source_id = str(source.ac_id)
    if result is None:
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
