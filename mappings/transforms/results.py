"""What a transform returns: Brevo payloads, per-field errors, and the outcome of one record.

Payload models know their Brevo body (`to_brevo`), which is also what `content_hash`
digests, so an unchanged record is recognised by the exact content it would send.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field

_FROZEN = ConfigDict(frozen=True, extra="forbid")

AttributeValue = str | float | int | bool | list[str]


class FieldError(BaseModel):
    """One value that was not sent; `field` names the Brevo side, `reason` says what to fix."""

    model_config = _FROZEN

    field: str
    reason: str
    source: str | None = None


class BrevoContactPayload(BaseModel):
    """A Brevo contact upsert. `email_blacklisted` None means: leave Brevo's flag as it is."""

    model_config = _FROZEN

    email: str
    attributes: dict[str, AttributeValue] = Field(default_factory=dict)
    list_ids: tuple[int, ...] = ()
    unlink_list_ids: tuple[int, ...] = ()
    email_blacklisted: bool | None = None

    def to_brevo(self) -> dict[str, Any]:
        """The body of a `PUT /contacts/{email}` / `POST /contacts/batch` item (reference §2.3)."""
        body: dict[str, Any] = {"email": self.email, "attributes": self.attributes}
        if self.list_ids:
            body["listIds"] = list(self.list_ids)
        if self.unlink_list_ids:
            body["unlinkListIds"] = list(self.unlink_list_ids)
        if self.email_blacklisted is not None:
            body["emailBlacklisted"] = self.email_blacklisted
        return body


class ContactResult(BaseModel):
    """Outcome of mapping one contact: a payload (maybe with field errors) or a skip reason.

    `skip_code`: "no_email" (nothing to match on in Brevo: record as skipped) or
    "invalid_email" (bad data an operator should fix: record as failed).
    """

    model_config = _FROZEN

    ac_id: int
    payload: BrevoContactPayload | None = None
    errors: tuple[FieldError, ...] = ()
    skip_reason: str | None = None
    skip_code: str | None = None
    blacklist_reason: str | None = None


class BrevoDealPayload(BaseModel):
    """A Brevo CRM deal; the engine turns `contact_email` into `linkedContactsIds`."""

    model_config = _FROZEN

    name: str
    attributes: dict[str, Any] = Field(default_factory=dict)
    contact_email: str | None = None

    def to_brevo(self) -> dict[str, Any]:
        """The body of `POST /crm/deals` / `PATCH /crm/deals/{id}` without linked ids (§6.1)."""
        return {"name": self.name, "attributes": self.attributes}


class DealResult(BaseModel):
    """Outcome of mapping one deal. `skip_code`: "no_stage", "unmapped_stage"."""

    model_config = _FROZEN

    ac_id: int
    payload: BrevoDealPayload | None = None
    errors: tuple[FieldError, ...] = ()
    skip_reason: str | None = None
    skip_code: str | None = None


class BrevoOrderProduct(BaseModel):
    model_config = _FROZEN

    product_id: str
    price: float
    quantity: float
    variant_id: str | None = None

    def to_brevo(self) -> dict[str, Any]:
        item: dict[str, Any] = {"productId": self.product_id, "price": self.price}
        if self.quantity.is_integer():
            item["quantity"] = int(self.quantity)
        else:
            item["quantityFloat"] = self.quantity
        if self.variant_id:
            item["variantId"] = self.variant_id
        return item


class BrevoOrderPayload(BaseModel):
    """A Brevo order for `POST /orders/status` or one item of `/orders/status/batch` (§7.3)."""

    model_config = _FROZEN

    id: str
    created_at: str
    updated_at: str
    status: str
    amount: float
    email: str
    products: tuple[BrevoOrderProduct, ...]
    store_id: str | None = None
    coupons: tuple[str, ...] = ()
    meta_info: dict[str, str | float | bool] = Field(default_factory=dict)

    def to_brevo(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "status": self.status,
            "amount": self.amount,
            "identifiers": {"email_id": self.email},
            "products": [product.to_brevo() for product in self.products],
        }
        if self.store_id:
            body["storeId"] = self.store_id
        if self.coupons:
            body["coupons"] = list(self.coupons)
        if self.meta_info:
            body["metaInfo"] = self.meta_info
        return body


class OrderResult(BaseModel):
    """Outcome of mapping one order. `skip_code`: "abandoned_cart", "unknown_state",
    "no_email", "invalid_email", "no_amount", "bad_amount", "no_date", "bad_date", "no_products"."""

    model_config = _FROZEN

    ac_id: int
    payload: BrevoOrderPayload | None = None
    errors: tuple[FieldError, ...] = ()
    skip_reason: str | None = None
    skip_code: str | None = None


class BrevoEventPayload(BaseModel):
    """A Brevo custom event for `POST /events` (reference §5.1)."""

    model_config = _FROZEN

    event_name: str
    email: str
    event_date: str | None = None
    event_properties: dict[str, Any] = Field(default_factory=dict)

    def to_brevo(self) -> dict[str, Any]:
        body: dict[str, Any] = {"event_name": self.event_name, "identifiers": {"email_id": self.email}}
        if self.event_date:
            body["event_date"] = self.event_date
        if self.event_properties:
            body["event_properties"] = self.event_properties
        return body


class EventResult(BaseModel):
    """Outcome of mapping one event. `skip_code`: "unmapped_event", "no_email", "invalid_email"."""

    model_config = _FROZEN

    payload: BrevoEventPayload | None = None
    errors: tuple[FieldError, ...] = ()
    skip_reason: str | None = None
    skip_code: str | None = None
    source_id: str | None = None


# Reasons a record is not sent that are nobody's mistake to fix (it simply has no place in
# Brevo); every other reason is a failure an operator should look at.
NOT_APPLICABLE_CODES = frozenset({"no_email", "unmapped_stage", "unmapped_event", "abandoned_cart"})


def not_sent_outcome(skip_code: str | None) -> str:
    """ "skipped" or "failed" for a result without payload: one rule for every resource."""
    return "skipped" if skip_code in NOT_APPLICABLE_CODES else "failed"


def content_hash(payload: BaseModel | Mapping[str, Any]) -> str:
    """Stable digest of what would be sent: same content -> same hash, in any key order.

    Payload models hash their Brevo body (`to_brevo()`); list ids are already sorted there,
    and JSON object keys are sorted here. The version prefix lets a change of canonical form
    invalidate stored hashes deliberately rather than by accident.
    """
    body = payload.to_brevo() if hasattr(payload, "to_brevo") else payload
    if isinstance(body, BaseModel):
        body = body.model_dump(mode="json")
    data = orjson.dumps(body, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    return hashlib.blake2b(b"tajo-payload-v1\x00" + data, digest_size=16).hexdigest()
