"""Normalised source records: what the sync engine hands to the pure transforms.

The engine builds these from ActiveCampaign (AC) data after joining the bulk-read
collections locally. They deliberately do not depend on the AC client's schemas: values
arrive already parsed into plain Python types, and anything AC gets wrong (numeric strings,
zero-dates) is the engine's normalisation job, except raw custom-field strings, which the
transforms interpret according to the mapping.

All models are frozen so one record can be shared safely between the transform, the hash
and the per-record log.
"""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

_FROZEN = ConfigDict(frozen=True, extra="forbid")

# A custom-object field value as AC returns it (custom objects carry real JSON types).
ObjectValue = str | int | float | bool | list[str] | None


class ListStatus(IntEnum):
    """AC `contactList.status` values (reference §5.4)."""

    UNCONFIRMED = 0
    ACTIVE = 1
    UNSUBSCRIBED = 2
    BOUNCED = 3
    REMOVED = 91


class DealStatus(IntEnum):
    """AC `deal.status` values (reference §6.2)."""

    OPEN = 0
    WON = 1
    LOST = 2


class OrderState(IntEnum):
    """AC Deep Data `ecomOrder.state` values (reference §11.3)."""

    PENDING = 0
    COMPLETED = 1
    ABANDONED = 2
    RECOVERED = 3
    WAITING = 4


class DealSummary(BaseModel):
    """The contact's primary deal, flattened so deal data can ride on contact attributes."""

    model_config = _FROZEN

    ac_id: int | None = None
    value_cents: int | None = None
    currency: str | None = None
    stage_id: int | None = None
    pipeline_id: int | None = None
    owner_id: int | None = None
    status: int | None = None


class SourceContact(BaseModel):
    """One AC contact with its custom fields, tags, list memberships, scores and deal joined."""

    model_config = _FROZEN

    ac_id: int
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    udate: datetime | None = None
    # Other standard contact columns (orgname, cdate, ...) as AC strings, keyed by AC name.
    standard: dict[str, str | None] = Field(default_factory=dict)
    # AC custom field id -> raw AC string; multi-values look like "||a||b||".
    field_values: dict[int, str | None] = Field(default_factory=dict)
    tags: frozenset[int] = frozenset()
    # AC list id -> contactList status (see ListStatus); unknown codes are kept as given.
    lists: dict[int, int] = Field(default_factory=dict)
    # The `lists` of other AC contacts with the same email address merged into this one: their
    # opt-outs are kept (mappings.consent), their other values are not used.
    duplicate_lists: tuple[dict[int, int], ...] = ()
    scores: dict[int, float] = Field(default_factory=dict)
    deal: DealSummary | None = None
    # AC automation id -> contactAutomation status (1 running, 2 finished).
    automations: dict[int, int] = Field(default_factory=dict)
    # Custom object schema id -> field id -> value, for the record related to this contact.
    custom_objects: dict[str, dict[str, ObjectValue]] = Field(default_factory=dict)


class SourceDeal(BaseModel):
    """One AC deal (CRM) with its primary contact's email already resolved."""

    model_config = _FROZEN

    ac_id: int
    title: str | None = None
    description: str | None = None
    value_cents: int | None = None
    currency: str | None = None
    pipeline_id: int | None = None
    stage_id: int | None = None
    owner_id: int | None = None
    status: int | None = None
    contact_email: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class SourceOrderProduct(BaseModel):
    """One line of an AC Deep Data order; money in cents like AC."""

    model_config = _FROZEN

    external_id: str | None = None
    sku: str | None = None
    name: str | None = None
    price_cents: int | None = None
    quantity: float | None = None
    category: str | None = None


class SourceOrder(BaseModel):
    """One AC Deep Data order (`ecomOrder`) with its products; money in cents like AC."""

    model_config = _FROZEN

    ac_id: int
    connection_id: int | None = None
    external_id: str | None = None
    external_checkout_id: str | None = None
    order_number: str | None = None
    email: str | None = None
    state: int | None = None
    total_cents: int | None = None
    currency: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    discount_codes: tuple[str, ...] = ()
    products: tuple[SourceOrderProduct, ...] = ()


EventKind = Literal["tracked", "automation_entered", "automation_completed"]


class SourceEvent(BaseModel):
    """A tracked AC event, or a contact entering/completing an AC automation."""

    model_config = _FROZEN

    kind: EventKind
    email: str | None = None
    occurred_at: datetime | None = None
    # Tracked events: the AC event name and its free-text `eventdata`.
    name: str | None = None
    data: str | None = None
    # Automation events: the AC automation id.
    automation_id: int | None = None
    # Extra properties the engine wants on the Brevo event (already JSON-shaped).
    properties: dict[str, object] = Field(default_factory=dict)
    # Stable id of the source occurrence, so the engine can deduplicate (Brevo events are not).
    source_id: str | None = None


class SourceCustomer(BaseModel):
    """An AC Deep Data customer (per store connection) with its revenue aggregates in cents."""

    model_config = _FROZEN

    ac_id: int
    connection_id: int | None = None
    external_id: str | None = None
    email: str | None = None
    accepts_marketing: bool | None = None
    total_revenue_cents: int | None = None
    total_orders: int | None = None
