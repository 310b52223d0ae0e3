"""Contacts: the email identity check and the AC contact -> Brevo contact upsert."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from email_validator import EmailNotValidError, validate_email

from mappings.consent import decide_lists
from mappings.records import SourceContact
from mappings.transforms.compiled import CompiledMapping
from mappings.transforms.results import BrevoContactPayload, ContactResult, FieldError
from mappings.transforms.values import MULTI_OPTION_MAX_CHARS, ValueRejected, quote

_LOCAL_PART_RE = re.compile(r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*")


def _check_email(email: str) -> None:
    validate_email(email, check_deliverability=False, allow_smtputf8=False, test_environment=True)


@lru_cache(maxsize=65_536)
def _domain_problem(domain: str) -> str | None:
    """Domains repeat across contacts (gmail.com, ...), so their costly IDNA check is cached."""
    try:
        _check_email("a@" + domain)
    except EmailNotValidError as exc:
        return str(exc)
    return None


def normalize_email(raw: str | None) -> tuple[str | None, str | None, str | None]:
    """(email, skip_code, reason): lowercased and trimmed, or why it cannot identify a contact."""
    if raw is None or not raw.strip():
        return None, "no_email", "no email address: contact cannot be matched in Brevo"
    email = raw.strip().lower()
    local, at, domain = email.rpartition("@")
    if at and len(local) <= 64 and len(email) <= 254 and _LOCAL_PART_RE.fullmatch(local):
        problem = _domain_problem(domain)
    else:
        try:
            _check_email(email)
            problem = None
        except EmailNotValidError as exc:
            problem = str(exc)
    if problem is not None:
        return None, "invalid_email", f"email {quote(raw)} is not a valid address: {problem}"
    return email, None, None


def transform_contact(contact: SourceContact, mapping: CompiledMapping) -> ContactResult:
    """Map one AC contact onto a Brevo contact upsert, or say why it cannot be sent."""
    email, skip_code, reason = normalize_email(contact.email)
    if email is None:
        return ContactResult.model_construct(
            ac_id=contact.ac_id,
            payload=None,
            errors=(),
            skip_reason=reason,
            skip_code=skip_code,
            blacklist_reason=None,
        )

    attributes: dict[str, Any] = {}
    errors: list[FieldError] = []
    for plan in mapping.fields:
        try:
            raw = plan.extract(contact)
            if raw is None:
                continue
            if plan.normalize is not None and isinstance(raw, str):
                raw, left_out = plan.normalize(raw)
                if left_out is not None:
                    errors.append(
                        FieldError.model_construct(
                            field=plan.attribute,
                            reason=f"{left_out} for attribute {plan.attribute}",
                            source=plan.source,
                        )
                    )
                if raw is None:
                    continue
            value = plan.convert(raw)
        except ValueRejected as exc:
            errors.append(
                FieldError.model_construct(
                    field=plan.attribute,
                    reason=f"{exc.reason} for attribute {plan.attribute}",
                    source=plan.source,
                )
            )
            continue
        if value is not None:
            attributes[plan.attribute] = value

    tags = contact.tags
    if mapping.tag_attributes:
        _apply_tag_attributes(mapping.tag_attributes, tags, attributes)
    if mapping.tags_attribute:
        # Every tag the contact has now, so a removed tag leaves the attribute too.
        names = mapping.labels.tag_names
        attributes[mapping.tags_attribute] = sorted(
            {names[t][:MULTI_OPTION_MAX_CHARS] for t in tags if t in names}
        )

    tag_adds = [list_id for tag_id, list_id, _ in mapping.tag_lists if tag_id in tags]
    tag_removes = [list_id for tag_id, list_id, unlink in mapping.tag_lists if unlink and tag_id not in tags]
    decision = decide_lists(
        contact.lists,
        mapping.list_map,
        tag_adds=tag_adds,
        tag_removes=tag_removes,
        duplicates=contact.duplicate_lists,
    )

    payload = BrevoContactPayload.model_construct(
        email=email,
        attributes=attributes,
        list_ids=decision.list_ids,
        unlink_list_ids=decision.unlink_list_ids,
        email_blacklisted=decision.email_blacklisted,
    )
    return ContactResult.model_construct(
        ac_id=contact.ac_id,
        payload=payload,
        errors=tuple(errors),
        skip_reason=None,
        skip_code=None,
        blacklist_reason=decision.blacklist_reason,
    )


def consent_payload(contact: SourceContact, mapping: CompiledMapping) -> BrevoContactPayload | None:
    """Only the list changes and blocklist flag for a contact's merged list statuses.

    For an AC contact merged into a newer one with the same email that was written before:
    its values are not sent (the newer contact's are in Brevo), its opt-outs must be. Tags are
    left out: they are values of the newer contact. None when the email cannot be sent.
    """
    email, _code, _reason = normalize_email(contact.email)
    if email is None:
        return None
    decision = decide_lists(contact.lists, mapping.list_map, duplicates=contact.duplicate_lists)
    return BrevoContactPayload.model_construct(
        email=email,
        attributes={},
        list_ids=decision.list_ids,
        unlink_list_ids=decision.unlink_list_ids,
        email_blacklisted=decision.email_blacklisted,
    )


def _apply_tag_attributes(
    rules: tuple[tuple[int, str, object, object], ...], tags: frozenset[int], attributes: dict[str, Any]
) -> None:
    """Present tags set their value (first rule in order wins); absent-values fill the rest."""
    set_by_tag: set[str] = set()
    for tag_id, attribute, value, _absent in rules:
        if tag_id in tags and attribute not in set_by_tag:
            attributes[attribute] = value
            set_by_tag.add(attribute)
    for tag_id, attribute, _value, absent in rules:
        if absent is not None and tag_id not in tags and attribute not in set_by_tag:
            attributes.setdefault(attribute, absent)
