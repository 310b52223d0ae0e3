"""Pydantic models of the Brevo API v3 payloads Tajo sends and reads.

Responses are parsed leniently (unknown fields ignored, open-ended enums kept as strings);
request models forbid unknown fields so a typo fails here rather than being silently
ignored by Brevo. Request models serialise with `dump()` (Brevo's camelCase names, no
unset fields).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer, model_validator

# ---------------------------------------------------------------- shared bases


class BrevoModel(BaseModel):
    """A response body: tolerant of fields Brevo adds later."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class BrevoRequest(BaseModel):
    """A request body: unknown fields are a programming error."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def dump(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def brevo_datetime(value: datetime | str) -> str:
    """`YYYY-MM-DDTHH:mm:ss.SSSZ` (contacts' modifiedSince and friends); strings pass through."""
    if isinstance(value, str):
        return value
    value = _utc(value)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def order_datetime(value: datetime | str) -> str:
    """`YYYY-MM-DDTHH:mm:ssZ` as the order routes document it; strings pass through."""
    if isinstance(value, str):
        return value
    return _utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")


class IdentifierType(StrEnum):
    """`identifierType` of the single-contact routes (reference §2.3)."""

    EMAIL = "email_id"
    CONTACT_ID = "contact_id"
    EXT_ID = "ext_id"
    PHONE = "phone_id"
    WHATSAPP = "whatsapp_id"
    LANDLINE = "landline_number_id"


# ---------------------------------------------------------------- account


class Plan(BrevoModel):
    type: str
    credits_type: str | None = Field(default=None, alias="creditsType")
    credits: float | None = None


class Account(BrevoModel):
    email: str | None = None
    first_name: str | None = Field(default=None, alias="firstName")
    last_name: str | None = Field(default=None, alias="lastName")
    company_name: str | None = Field(default=None, alias="companyName")
    organization_id: str | None = None
    enterprise: bool = False
    plan: list[Plan] = Field(default_factory=list)


# ---------------------------------------------------------------- contacts


class Contact(BrevoModel):
    id: int
    email: str | None = None
    email_blacklisted: bool = Field(default=False, alias="emailBlacklisted")
    sms_blacklisted: bool = Field(default=False, alias="smsBlacklisted")
    created_at: datetime | None = Field(default=None, alias="createdAt")
    modified_at: datetime | None = Field(default=None, alias="modifiedAt")
    list_ids: list[int] = Field(default_factory=list, alias="listIds")
    list_unsubscribed: list[int] = Field(default_factory=list, alias="listUnsubscribed")
    attributes: dict[str, Any] = Field(default_factory=dict)


class ContactPage(BrevoModel):
    contacts: list[Contact] = Field(default_factory=list)
    count: int = 0


AttributeValue = str | int | float | bool | list[str] | None


class ContactCreate(BrevoRequest):
    """`POST /contacts`; with `update_enabled` an existing contact is updated (204, no id)."""

    email: str | None = None
    ext_id: str | None = None
    attributes: dict[str, AttributeValue] | None = None
    email_blacklisted: bool | None = Field(default=None, alias="emailBlacklisted")
    sms_blacklisted: bool | None = Field(default=None, alias="smsBlacklisted")
    list_ids: list[int] | None = Field(default=None, alias="listIds")
    update_enabled: bool = Field(default=False, alias="updateEnabled")
    smtp_blacklist_sender: list[str] | None = Field(default=None, alias="smtpBlacklistSender")


class ContactUpdate(BrevoRequest):
    """`PUT /contacts/{identifier}`.

    `list_ids` adds memberships, `unlink_list_ids` removes them; EMAIL or SMS inside
    `attributes` change the contact's email or phone.
    """

    attributes: dict[str, AttributeValue] | None = None
    ext_id: str | None = None
    email_blacklisted: bool | None = Field(default=None, alias="emailBlacklisted")
    sms_blacklisted: bool | None = Field(default=None, alias="smsBlacklisted")
    list_ids: list[int] | None = Field(default=None, alias="listIds")
    unlink_list_ids: list[int] | None = Field(default=None, alias="unlinkListIds")
    smtp_blacklist_sender: list[str] | None = Field(default=None, alias="smtpBlacklistSender")


class BatchContactUpdate(ContactUpdate):
    """One item of `POST /contacts/batch`: exactly one of email, id or sms picks the contact."""

    email: str | None = None
    id: int | None = None
    sms: str | None = None

    @model_validator(mode="after")
    def _one_identifier(self) -> BatchContactUpdate:
        given = [name for name in ("email", "id", "sms") if getattr(self, name) not in (None, "")]
        if len(given) != 1:
            raise ValueError("a batch contact update needs exactly one of email, id or sms")
        return self


class ContactCreated(BrevoModel):
    """Outcome of `POST /contacts`: `created` with the new id, or updated in place (id unknown)."""

    created: bool
    id: int | None = None


class BatchUpdateResult(BrevoModel):
    """Outcome of `POST /contacts/batch`.

    `applied` False means nothing was written because the items at `missing_indexes` (0-based)
    are not in Brevo (the all-or-nothing 404). With the older 207 answer, `applied` is True and
    `success_ids`/`failure_ids` say which went through.
    """

    applied: bool
    missing_indexes: list[int] = Field(default_factory=list)
    success_ids: list[int | str] = Field(default_factory=list)
    failure_ids: list[int | str] = Field(default_factory=list)


class ImportRow(BrevoRequest):
    """One `jsonBody` row of an import; SMS/EXT_ID/WHATSAPP/LANDLINE_NUMBER go in `attributes`."""

    email: str | None = None
    attributes: dict[str, AttributeValue] = Field(default_factory=dict)


# ---------------------------------------------------------------- processes


class ImportCounters(BrevoModel):
    invalid_emails: int = 0
    duplicate_contact_id: int = 0
    duplicate_ext_id: int = 0
    duplicate_email_id: str | int | None = None  # a CSV URL on Brevo (reference §2.9)
    duplicate_phone_id: int = 0
    duplicate_whatsapp_id: int = 0
    duplicate_landline_number_id: int = 0


class ProcessInfo(BrevoModel):
    import_: ImportCounters | None = Field(default=None, alias="import")
    export: dict[str, Any] | None = None


class Process(BrevoModel):
    id: int
    name: str | None = None
    status: str  # queued | in_process | processing | completed | failed | cancelled (open-ended)
    error: str | None = None
    export_url: str | None = None
    created_at: datetime | None = None
    completed_at: datetime | None = None
    info: ProcessInfo | None = None

    @property
    def finished(self) -> bool:
        return self.status in ("completed", "failed", "cancelled")

    @property
    def import_counters(self) -> ImportCounters | None:
        return self.info.import_ if self.info else None


# ---------------------------------------------------------------- attributes, folders, lists


class EnumOption(BrevoModel):
    value: int
    label: str


class Attribute(BrevoModel):
    name: str
    category: str
    type: str | None = None
    enumeration: list[EnumOption] = Field(default_factory=list)
    multi_category_options: list[str] = Field(default_factory=list, alias="multiCategoryOptions")
    calculated_value: str | None = Field(default=None, alias="calculatedValue")


AttributeCategory = Literal["normal", "transactional", "category", "calculated", "global"]


class Folder(BrevoModel):
    id: int
    name: str


class FolderPage(BrevoModel):
    folders: list[Folder] = Field(default_factory=list)
    count: int = 0


class ContactList(BrevoModel):
    id: int
    name: str
    folder_id: int | None = Field(default=None, alias="folderId")


class ListPage(BrevoModel):
    lists: list[ContactList] = Field(default_factory=list)
    count: int = 0


class ListMembershipReport(BrevoModel):
    """Per-identifier outcome of list add/remove (201 even when some failed).

    `failure` holds identifiers unknown to Brevo or already in (add) / not in (remove) the list.
    With `all: true` only `total` and `process_id` are set.
    """

    success: list[int | str] = Field(default_factory=list)
    failure: list[int | str] = Field(default_factory=list)
    total: int | None = None
    process_id: int | None = Field(default=None, alias="processId")

    @model_validator(mode="before")
    @classmethod
    def _unwrap(cls, data: Any) -> Any:
        # The reference nests the report under "contacts"; some OpenAPI examples show it flat.
        if isinstance(data, dict) and isinstance(data.get("contacts"), dict):
            return data["contacts"]
        return data

    def merge(self, other: ListMembershipReport) -> ListMembershipReport:
        return ListMembershipReport(
            success=[*self.success, *other.success], failure=[*self.failure, *other.failure]
        )


# ---------------------------------------------------------------- events


class EventIdentifiers(BrevoRequest):
    """Who an event is about; `contact_id` wins over the others (reference §5.1)."""

    email_id: str | None = None
    ext_id: str | None = None
    phone_id: str | None = None
    whatsapp_id: str | None = None
    landline_number_id: str | None = None
    contact_id: int | None = None

    @model_validator(mode="after")
    def _at_least_one(self) -> EventIdentifiers:
        if not any(v not in (None, "") for v in self.__dict__.values()):
            raise ValueError("an event needs at least one identifier")
        return self


class Event(BrevoRequest):
    event_name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,255}$")
    identifiers: EventIdentifiers
    event_date: datetime | str | None = None
    contact_properties: dict[str, str | int | float | bool] | None = None
    event_properties: dict[str, Any] | None = None

    @field_serializer("event_date")
    def _date(self, value: datetime | str | None) -> str | None:
        if value is None or isinstance(value, str):
            return value
        return _utc(value).isoformat()


# ---------------------------------------------------------------- CRM


class PipelineStage(BrevoModel):
    id: str
    name: str


class Pipeline(BrevoModel):
    id: str = Field(alias="pipeline")
    name: str = Field(default="", alias="pipeline_name")
    stages: list[PipelineStage] = Field(default_factory=list)


class DealAttributeOption(BrevoModel):
    key: str | int | None = None
    value: str | int | None = None


class DealAttribute(BrevoModel):
    internal_name: str = Field(alias="internalName")
    label: str = ""
    attribute_type_name: str | None = Field(default=None, alias="attributeTypeName")
    is_required: bool = Field(default=False, alias="isRequired")
    is_value_readonly: bool = Field(default=False, alias="isValueReadonly")
    attribute_options: list[DealAttributeOption] = Field(default_factory=list, alias="attributeOptions")


class Deal(BrevoModel):
    id: str
    attributes: dict[str, Any] = Field(default_factory=dict)
    linked_contacts_ids: list[int] = Field(default_factory=list, alias="linkedContactsIds")
    linked_companies_ids: list[str] = Field(default_factory=list, alias="linkedCompaniesIds")


class DealCreate(BrevoRequest):
    """`POST /crm/deals`. Attributes use internal names (`deal_stage`, `pipeline`, `amount`, `deal_owner`)."""

    name: str = Field(min_length=1)
    attributes: dict[str, Any] | None = None
    linked_contacts_ids: list[int] | None = Field(default=None, alias="linkedContactsIds")
    linked_companies_ids: list[str] | None = Field(default=None, alias="linkedCompaniesIds")


class DealUpdate(BrevoRequest):
    """`PATCH /crm/deals/{id}`; linked id arrays given here *replace* the current ones."""

    name: str | None = None
    attributes: dict[str, Any] | None = None
    linked_contacts_ids: list[int] | None = Field(default=None, alias="linkedContactsIds")
    linked_companies_ids: list[str] | None = Field(default=None, alias="linkedCompaniesIds")


# ---------------------------------------------------------------- e-commerce


class OrderProduct(BrevoRequest):
    product_id: str = Field(alias="productId")
    price: float
    quantity: int | None = None
    quantity_float: float | None = Field(default=None, alias="quantityFloat")
    variant_id: str | None = Field(default=None, alias="variantId")

    @model_validator(mode="after")
    def _one_quantity(self) -> OrderProduct:
        if (self.quantity is None) == (self.quantity_float is None):
            raise ValueError("an order product needs exactly one of quantity or quantity_float")
        return self


class OrderIdentifiers(BrevoRequest):
    email_id: str | None = None
    phone_id: str | None = None
    ext_id: str | None = None
    loyalty_subscription_id: str | None = None


class OrderBilling(BrevoRequest):
    address: str | None = None
    city: str | None = None
    region: str | None = None
    country: str | None = None
    country_code: str | None = Field(default=None, alias="countryCode")
    post_code: str | None = Field(default=None, alias="postCode")
    phone: str | None = None
    payment_method: str | None = Field(default=None, alias="paymentMethod")


class Order(BrevoRequest):
    """`POST /orders/status` (and an item of the batch); re-posting an `id` updates that order."""

    id: str = Field(min_length=1)
    created_at: datetime | str = Field(alias="createdAt")
    updated_at: datetime | str = Field(alias="updatedAt")
    status: str
    amount: float
    products: list[OrderProduct]
    identifiers: OrderIdentifiers
    billing: OrderBilling | None = None
    coupons: list[str] | None = None
    store_id: str | None = Field(default=None, alias="storeId")
    meta_info: dict[str, str | int | float | bool] | None = Field(default=None, alias="metaInfo")

    @field_serializer("created_at", "updated_at")
    def _dates(self, value: datetime | str) -> str:
        return order_datetime(value)

    @model_validator(mode="after")
    def _identified(self) -> Order:
        if not any(v not in (None, "") for v in self.identifiers.__dict__.values()):
            raise ValueError("an order needs at least one identifier (email_id, phone_id, ext_id, ...)")
        return self


class StoredOrder(BrevoModel):
    """An order as `GET /orders` returns it."""

    id: str
    status: str | None = None
    amount: float | None = None
    created_at: str | None = Field(default=None, alias="createdAt")
    updated_at: str | None = Field(default=None, alias="updatedAt")
    contact_id: int | None = None
    email: str | None = None
    products: list[dict[str, Any]] = Field(default_factory=list)


class OrderPage(BrevoModel):
    orders: list[StoredOrder] = Field(default_factory=list)
    count: int = 0


# ---------------------------------------------------------------- rate-limit budget


class RateBudget(BrevoModel):
    """The last `x-sib-ratelimit-*` values seen for one bucket; `reset` is seconds from `seen_at`."""

    limit: int | None = None
    remaining: int | None = None
    reset: float | None = None
    seen_at: datetime
