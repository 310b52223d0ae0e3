"""Deals: an AC deal -> a Brevo CRM deal in a mapped pipeline stage."""

from __future__ import annotations

from typing import Any

from mappings.records import SourceDeal
from mappings.transforms.compiled import CompiledMapping
from mappings.transforms.contacts import normalize_email
from mappings.transforms.results import BrevoDealPayload, DealResult, FieldError
from mappings.transforms.rules import MappingLabels
from mappings.transforms.values import MAX_SAFE_INTEGER, clean_text, quote

# Tajo's own bound: Brevo publishes no cap for a deal name, and a title must be cut somewhere.
DEAL_NAME_MAX_CHARS = 255


def transform_deal(deal: SourceDeal, mapping: CompiledMapping) -> DealResult:
    """Map one AC deal onto a Brevo CRM deal (amount in major units, mapped stage and owner)."""
    errors: list[FieldError] = []
    if deal.stage_id is None:
        return DealResult(
            ac_id=deal.ac_id,
            skip_reason="deal has no stage, so it cannot be placed in a Brevo pipeline",
            skip_code="no_stage",
        )
    stage = mapping.stages.get(deal.stage_id)
    if stage is None or (
        stage.ac_pipeline_id is not None
        and deal.pipeline_id is not None
        and stage.ac_pipeline_id != deal.pipeline_id
    ):
        return DealResult(
            ac_id=deal.ac_id,
            skip_reason=f"{_describe_stage(deal, mapping.labels)} has no Brevo stage mapping: "
            "map it to a Brevo pipeline stage to sync this deal",
            skip_code="unmapped_stage",
        )
    attributes: dict[str, Any] = {"pipeline": stage.brevo_pipeline_id, "deal_stage": stage.brevo_stage_id}

    name = clean_text(deal.title or "").strip()
    if not name:
        name = f"ActiveCampaign deal {deal.ac_id}"
    elif len(name) > DEAL_NAME_MAX_CHARS:
        # Brevo needs a name, so an oversize title is cut (and said) rather than dropped.
        errors.append(
            FieldError(
                field="name",
                reason=f"deal title of {len(name)} characters was cut to {DEAL_NAME_MAX_CHARS}",
                source="AC deal title",
            )
        )
        name = name[: DEAL_NAME_MAX_CHARS - 1] + "…"

    if deal.value_cents is not None:
        if deal.value_cents < 0 or deal.value_cents > MAX_SAFE_INTEGER:
            errors.append(
                FieldError(
                    field="amount",
                    reason=f"deal value {quote(str(deal.value_cents))} cents is negative or too large",
                    source="AC deal value",
                )
            )
        else:
            attributes["amount"] = deal.value_cents / 100

    if deal.owner_id is not None:
        owner = mapping.owners.get(deal.owner_id)
        if owner is None:
            who = mapping.labels.owner_names.get(deal.owner_id)
            label = f"AC user {deal.owner_id}" + (f" ({who})" if who else "")
            errors.append(
                FieldError(
                    field="deal_owner",
                    reason=f"{label} has no Brevo owner mapping; the deal is sent without an owner",
                    source="AC deal owner",
                )
            )
        else:
            attributes["deal_owner"] = owner

    contact_email = None
    if deal.contact_email:
        contact_email, _code, reason = normalize_email(deal.contact_email)
        if contact_email is None:
            errors.append(
                FieldError(
                    field="linkedContactsIds",
                    reason=f"{reason}; the deal is sent without a linked contact",
                    source="AC deal contact",
                )
            )

    payload = BrevoDealPayload(name=name, attributes=attributes, contact_email=contact_email)
    return DealResult(ac_id=deal.ac_id, payload=payload, errors=tuple(errors))


def _describe_stage(deal: SourceDeal, labels: MappingLabels) -> str:
    text = f"stage {deal.stage_id}"
    if title := labels.stage_titles.get(deal.stage_id):
        text += f" {quote(title)}"
    if deal.pipeline_id is not None:
        text += f" of pipeline {deal.pipeline_id}"
        if title := labels.pipeline_titles.get(deal.pipeline_id):
            text += f" {quote(title)}"
    return text


