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
    # Carried by contact bodies since the 2026 SDK 5.x (reference §0); absent on older answers.
    whatsapp_blacklisted: bool = Field(default=False, alias="whatsappBlacklisted")
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


class ContactCreated(BrevoModel):
    """Outcome of `POST /contacts`: `created` with the new id, or updated in place (id unknown)."""

    created: bool
    id: int | None = None


class ImportRow(BrevoRequest):
    """One `jsonBody` row of an import; SMS/EXT_ID/WHATSAPP/LANDLINE_NUMBER go in `attributes`."""

    email: str | None = None
    attributes: dict[str, AttributeValue] = Field(default_factory=dict)


# ---------------------------------------------------------------- processes


REPORT_FIELDS = (
    "invalid_emails",
    "duplicate_contact_id",
    "duplicate_ext_id",
    "duplicate_email_id",
    "duplicate_phone_id",
    "duplicate_whatsapp_id",
    "duplicate_landline_number_id",
)


class ImportReports(BrevoModel):
    """`info.import` of a process: since the 2026-04-17 spec each field is the URL of a CSV report
    or null (reference §0). Older answers carried counters here; a number is no URL, so it reads
    as None. Tajo shows these links to operators and never depends on them for outcomes."""

    invalid_emails: str | None = None
    duplicate_contact_id: str | None = None
    duplicate_ext_id: str | None = None
    duplicate_email_id: str | None = None
    duplicate_phone_id: str | None = None
    duplicate_whatsapp_id: str | None = None
    duplicate_landline_number_id: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _urls_only(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return {}
        return {k: (v if isinstance(v, str) and v else None) for k, v in data.items() if k in REPORT_FIELDS}

    def links(self) -> dict[str, str]:
        """Report name -> URL, for the reports Brevo produced."""
        return {name: url for name in REPORT_FIELDS if (url := getattr(self, name))}


class ProcessInfo(BrevoModel):
    import_: ImportReports | None = Field(default=None, alias="import")


RUNNING_STATUSES = frozenset({"queued", "in_process", "processing"})
TERMINAL_STATUSES = frozenset({"completed", "failed", "cancelled"})


class Process(BrevoModel):
    """`GET /processes/{id}` in the 2026 shape: `error`, `created_at`, `completed_at` are gone.

    `status` is open-ended: every value but the terminal three counts as still running
    (brevo-node 5.0.4 still answers the legacy `in_process` beside `processing`).
    """

    id: int
    name: str | None = None
    status: str = Field(min_length=1)
    export_url: str | None = None
    info: ProcessInfo | None = None

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def succeeded(self) -> bool:
        return self.status == "completed"

    @property
    def reports(self) -> dict[str, str]:
        return self.info.import_.links() if self.info and self.info.import_ else {}


class ImportReceipt(BrevoModel):
    """What `POST /contacts/import` answered: the process, and Brevo's clock when it accepted it
    (the `Date` header), so a read-back asks `modifiedSince` in Brevo's time, not ours."""

    process_id: int
    accepted_at: datetime
    brevo_clock: bool = True  # False: no Date header, `accepted_at` is our clock after the answer
    rows: int = 0
    bytes: int = 0


# ---------------------------------------------------------------- attributes, folders, lists


class EnumOption(BrevoModel):
    """One option of a category attribute. Since 2026-05 `valueStr` carries the real value and
    `value` is 0 for a non-numeric option ("en", "fr"): read `valueStr` first (reference §0)."""

    value: int | float | str | None = None
    value_str: str | None = Field(default=None, alias="valueStr")
    label: str = ""

    @property
    def option(self) -> str:
        """The option's real value as text: `valueStr`, else the legacy numeric `value`."""
        if self.value_str not in (None, ""):
            return str(self.value_str)
        if isinstance(self.value, float) and self.value.is_integer():
            return str(int(self.value))
        return "" if self.value is None else str(self.value)


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


# ---------------------------------------------------------------- rate-limit budget


class EventBatchError(BrevoModel):
    event_index: list[int] = Field(default_factory=list, alias="eventIndex")
    message: str = ""

    @model_validator(mode="before")
    @classmethod
    def _index_list(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("eventIndex"), int):
            return {**data, "eventIndex": [data["eventIndex"]]}
        return data


class EventBatchResult(BrevoModel):
    """`POST /events/batch`: 202 when every event was accepted, 207 with per-event errors."""

    status: str | None = None
    total_events: int | None = None
    successful_events: int | None = None
    failed_events: int | None = None
    errors: list[EventBatchError] = Field(default_factory=list)

    def failures(self) -> dict[int, str]:
        """0-based index of each refused event -> Brevo's message."""
        out: dict[int, str] = {}
        for error in self.errors:
            for index in error.event_index:
                out.setdefault(index, error.message or "refused by Brevo")
        return out


class RateBudget(BrevoModel):
    """The last `x-sib-ratelimit-*` values seen for one bucket; `reset` is seconds from `seen_at`."""

    limit: int | None = None
    remaining: int | None = None
    reset: float | None = None
    seen_at: datetime
