"""Pydantic models of ActiveCampaign API v3 objects, tolerant of AC's quirks (reference §16).

* numbers arrive as strings or ints; ids are parsed to int, and a row whose id is missing or
  not numeric is rejected (the page keeps it in `invalid` with the reason);
* dates: ISO with offset, offset-less `YYYY-MM-DD HH:MM:SS` (account wall clock, kept naive),
  `Z` with nanoseconds (truncated to microseconds), "" / null / MySQL zero-dates -> None, and an
  unparseable date -> None rather than losing the whole row;
* `links` may be `{}` or `[]` (ignored, like every field we do not model).

Relations are exposed with an `_id` suffix (`contact_id`, `list_id`, `pipeline_id` for AC's deal
`group`, ...) so that they never shadow builtins and read the same everywhere.
Validators are plain functions run before pydantic's own (fast) parsing: thousands of rows/s.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field


def _datetime(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or text.startswith("0000-00-00"):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    # Python 3.11 refuses more than 6 fractional digits (custom objects send nanoseconds).
    match = _LONG_FRACTION.match(text)
    if match:
        try:
            return datetime.fromisoformat(match.group(1) + match.group(2)[:6] + match.group(3))
        except ValueError:
            return None
    return None


_LONG_FRACTION = re.compile(r"^(.*?\.)(\d{7,})(.*)$")


def _blank_to_none(value: Any) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return value


def _text(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def _optional_text(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def _flag(value: Any) -> bool:
    if value is None or value == "":
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "yes"):
            return True
        if lowered in ("false", "no"):
            return False
        try:
            return float(lowered) != 0
        except ValueError:
            return False
    return bool(value)


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


def _id_list(value: Any) -> Any:
    """AC relation arrays: id strings, ints, or embedded objects with an `id`."""
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [item.get("id") if isinstance(item, dict) else item for item in value]
    return value


def _dict_list(value: Any) -> Any:
    if value is None:
        return []
    if isinstance(value, list):
        return [item for item in value if isinstance(item, dict)]
    return value


OptDatetime = Annotated[datetime | None, BeforeValidator(_datetime)]
OptInt = Annotated[int | None, BeforeValidator(_blank_to_none)]
OptFloat = Annotated[float | None, BeforeValidator(_blank_to_none)]
Text = Annotated[str, BeforeValidator(_text)]
OptText = Annotated[str | None, BeforeValidator(_optional_text)]
Flag = Annotated[bool, BeforeValidator(_flag)]
LowerText = Annotated[str, BeforeValidator(_text), BeforeValidator(_lower)]
UpperText = Annotated[str, BeforeValidator(_text), BeforeValidator(_upper)]
IdList = Annotated[list[int], BeforeValidator(_id_list)]
IntOrZero = Annotated[int, BeforeValidator(lambda v: 0 if v is None or v == "" else v)]


class AcModel(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


# --- contacts --------------------------------------------------------------------------------


class Contact(AcModel):
    id: int
    email: Text = ""
    first_name: Text = Field("", alias="firstName")
    last_name: Text = Field("", alias="lastName")
    phone: Text = ""
    orgname: Text = ""
    cdate: OptDatetime = None
    udate: OptDatetime = None
    created_timestamp: OptDatetime = None
    updated_timestamp: OptDatetime = None
    deleted: Flag = False
    anonymized: Flag = False
    bounced_hard: Flag = False
    bounced_soft: Flag = False
    bounced_date: OptDatetime = None
    email_empty: Flag = False

    @property
    def bounced(self) -> bool:
        return self.bounced_hard or self.bounced_soft


# The *Ref models read only what a sync joins on; a contacts page sideloads hundreds of these
# rows, and parsing their timestamps would cost more than the rest of the page.


class FieldValueRef(AcModel):
    id: int
    contact_id: int = Field(alias="contact")
    field_id: int = Field(alias="field")
    value: OptText = None


class FieldValue(FieldValueRef):
    cdate: OptDatetime = None
    udate: OptDatetime = None


class ContactListRef(AcModel):
    """A contact's membership of a list. Status: 0 unconfirmed, 1 active, 2 unsubscribed,
    3 bounced, 91 removed (legacy overwrite)."""

    id: int
    contact_id: int = Field(alias="contact")
    list_id: int = Field(alias="list")
    status: int


class ContactList(ContactListRef):
    sdate: OptDatetime = None
    udate: OptDatetime = None
    unsubreason: OptText = None
    updated_timestamp: OptDatetime = None


class ContactTagRef(AcModel):
    id: int
    contact_id: int = Field(alias="contact")
    tag_id: int = Field(alias="tag")


class ContactTag(ContactTagRef):
    cdate: OptDatetime = None
    updated_timestamp: OptDatetime = None


class ScoreValue(AcModel):
    id: int
    score_id: int = Field(alias="score")
    contact_id: OptInt = Field(None, alias="contact")
    deal_id: OptInt = Field(None, alias="deal")
    value: OptFloat = Field(None, alias="scoreValue")
    cdate: OptDatetime = None
    mdate: OptDatetime = None


class TrackingLog(AcModel):
    """One entry of a contact's site/event tracking history (shape undocumented; tolerant)."""

    id: int
    contact_id: OptInt = Field(None, validation_alias=AliasChoices("contact", "subscriberid"))
    type: OptText = None
    name: OptText = Field(None, validation_alias=AliasChoices("name", "event", "eventName"))
    value: OptText = None
    data: OptText = Field(None, validation_alias=AliasChoices("data", "eventdata"))
    tstamp: OptDatetime = Field(None, validation_alias=AliasChoices("tstamp", "cdate", "timestamp"))

    @property
    def event_name(self) -> str | None:
        """The tracked event's name (AC puts it in `type` on some accounts, `name` on others)."""
        return self.name or self.type


# --- custom fields ---------------------------------------------------------------------------


class CustomField(AcModel):
    """A contact custom field (`/fields`). `type`: text, textarea, date, datetime, dropdown,
    listbox, radio, checkbox, hidden, number, or "" on very old fields."""

    id: int
    title: Text = ""
    type: LowerText = ""
    perstag: Text = ""
    description: OptText = Field(None, alias="descript")
    default_value: OptText = Field(None, alias="defval")
    is_required: Flag = Field(False, alias="isrequired")
    visible: Flag = True
    ordernum: OptInt = None
    option_ids: IdList = Field(default_factory=list, alias="options")
    relation_ids: IdList = Field(default_factory=list, alias="relations")
    cdate: OptDatetime = None
    udate: OptDatetime = None


class FieldOption(AcModel):
    id: int
    field_id: int = Field(alias="field")
    value: Text = ""
    label: Text = ""
    orderid: OptInt = None
    is_default: Flag = Field(False, alias="isdefault")


class FieldRel(AcModel):
    """Attaches a field to a list (`list_id` 0: all lists)."""

    id: int
    field_id: int = Field(alias="field")
    list_id: int = Field(0, alias="relid")


# --- lists, tags -----------------------------------------------------------------------------


class MailingList(AcModel):
    id: int
    name: Text = ""
    stringid: Text = ""
    cdate: OptDatetime = None
    udate: OptDatetime = None


class Tag(AcModel):
    id: int
    name: Text = Field("", alias="tag")
    tag_type: LowerText = Field("contact", alias="tagType")
    description: Text = ""
    cdate: OptDatetime = None


# --- deals -----------------------------------------------------------------------------------


class Deal(AcModel):
    """A deal. `value_cents` is AC's `value` (cents); `currency` lower-case; `status` 0 open,
    1 won, 2 lost. Deals in pipelines the key cannot see come back as stubs with
    `is_disabled` set and little else."""

    id: int
    title: Text = ""
    description: OptText = None
    contact_id: OptInt = Field(None, alias="contact")
    account_id: OptInt = Field(None, alias="account")
    pipeline_id: OptInt = Field(None, alias="group")
    stage_id: OptInt = Field(None, alias="stage")
    owner_id: OptInt = Field(None, alias="owner")
    value_cents: IntOrZero = Field(0, alias="value")
    currency: LowerText = ""
    status: IntOrZero = 0
    percent: OptFloat = None
    cdate: OptDatetime = None
    mdate: OptDatetime = None
    edate: OptDatetime = None
    is_disabled: Flag = Field(False, alias="isDisabled")


class Pipeline(AcModel):
    """An AC deal group (pipeline); `stage_ids` in AC's order."""

    id: int
    title: Text = ""
    currency: LowerText = ""
    stage_ids: IdList = Field(default_factory=list, alias="stages")
    autoassign: Flag = False
    allusers: Flag = False
    cdate: OptDatetime = None
    udate: OptDatetime = None


class DealStage(AcModel):
    id: int
    pipeline_id: OptInt = Field(None, alias="group")
    title: Text = ""
    order: OptInt = None
    color: Text = ""
    cdate: OptDatetime = None
    udate: OptDatetime = None


class User(AcModel):
    id: int
    username: Text = ""
    first_name: Text = Field("", alias="firstName")
    last_name: Text = Field("", alias="lastName")
    email: Text = ""
    phone: Text = ""


# --- scores, automations, events -------------------------------------------------------------


class Score(AcModel):
    id: int
    name: Text = ""
    reltype: LowerText = "contact"
    description: OptText = Field(None, alias="descript")
    status: OptInt = None
    cdate: OptDatetime = None
    mdate: OptDatetime = None


class Automation(AcModel):
    """Status: 1 active, 2 inactive."""

    id: int
    name: Text = ""
    status: OptInt = None
    entered: OptInt = None
    exited: OptInt = None
    hidden: Flag = False
    cdate: OptDatetime = None
    mdate: OptDatetime = None


class ContactAutomation(AcModel):
    """A contact's enrolment in an automation. Status: 1 running, 2 finished or removed."""

    id: int
    contact_id: int = Field(alias="contact")
    automation_id: int = Field(validation_alias=AliasChoices("automation", "seriesid"))
    status: OptInt = None
    adddate: OptDatetime = None
    remdate: OptDatetime = None
    lastdate: OptDatetime = None
    completed: Flag = False
    complete_value: OptFloat = Field(None, alias="completeValue")


class EventTrackingEvent(AcModel):
    """A tracked event name declared in the account (no id in AC)."""

    name: str


class EventTrackingStatus(AcModel):
    enabled: Flag = False


# --- e-commerce ------------------------------------------------------------------------------


class EcomCustomer(AcModel):
    """A Deep Data customer; `connection_id` 0 rows hold the cross-store aggregate of an email.
    Money in cents."""

    id: int
    connection_id: OptInt = Field(None, alias="connectionid")
    external_id: OptText = Field(None, alias="externalid")
    email: Text = ""
    accepts_marketing: Flag = Field(False, alias="acceptsMarketing")
    total_revenue_cents: OptInt = Field(None, alias="totalRevenue")
    total_orders: OptInt = Field(None, alias="totalOrders")
    total_products: OptInt = Field(None, alias="totalProducts")
    avg_revenue_per_order_cents: OptInt = Field(None, alias="avgRevenuePerOrder")
    avg_product_category: OptText = Field(None, alias="avgProductCategory")
    tstamp: OptDatetime = None


class EcomOrderProduct(AcModel):
    """A product line; `price_cents` per unit."""

    id: OptInt = None
    order_id: OptInt = Field(None, validation_alias=AliasChoices("orderid", "ecomOrder"))
    connection_id: OptInt = Field(None, alias="connectionid")
    external_id: OptText = Field(None, alias="externalid")
    sku: OptText = None
    name: Text = ""
    description: OptText = None
    price_cents: IntOrZero = Field(0, alias="price")
    quantity: IntOrZero = 1
    category: OptText = None
    image_url: OptText = Field(None, alias="imageUrl")
    product_url: OptText = Field(None, alias="productUrl")
    created_date: OptDatetime = Field(None, alias="createdDate")
    updated_date: OptDatetime = Field(None, alias="updatedDate")


class EcomOrder(AcModel):
    """A Deep Data order. Money in cents; `currency` upper-case; `state` 0 pending, 1 completed,
    2 abandoned, 3 recovered, 4 waiting; `source` 1 real-time, 0 historical.
    AC lists products as ids (`order_product_ids`, fetch them with the product endpoints) or,
    from some sources, embedded (`order_products`)."""

    id: int
    external_id: OptText = Field(None, alias="externalid")
    external_checkout_id: OptText = Field(None, alias="externalcheckoutid")
    source: OptInt = None
    email: Text = ""
    currency: UpperText = ""
    connection_id: OptInt = Field(None, validation_alias=AliasChoices("connectionid", "connection"))
    customer_id: OptInt = Field(None, validation_alias=AliasChoices("customerid", "customer"))
    order_number: OptText = Field(None, alias="orderNumber")
    order_url: OptText = Field(None, alias="orderUrl")
    shipping_method: OptText = Field(None, alias="shippingMethod")
    total_price_cents: IntOrZero = Field(0, alias="totalPrice")
    shipping_amount_cents: IntOrZero = Field(0, alias="shippingAmount")
    tax_amount_cents: IntOrZero = Field(0, alias="taxAmount")
    discount_amount_cents: IntOrZero = Field(0, alias="discountAmount")
    total_products: OptInt = Field(None, alias="totalProducts")
    state: OptInt = None
    external_created_date: OptDatetime = Field(None, alias="externalCreatedDate")
    external_updated_date: OptDatetime = Field(None, alias="externalUpdatedDate")
    abandoned_date: OptDatetime = Field(None, alias="abandonedDate")
    order_date: OptDatetime = Field(None, alias="orderDate")
    created_date: OptDatetime = Field(None, alias="createdDate")
    updated_date: OptDatetime = Field(None, validation_alias=AliasChoices("updatedDate", "updated_date"))
    tstamp: OptDatetime = None
    order_product_ids: Annotated[list[int], BeforeValidator(_id_list)] = Field(
        default_factory=list, alias="orderProducts"
    )
    order_products: Annotated[list[EcomOrderProduct], BeforeValidator(_dict_list)] = Field(
        default_factory=list, alias="orderProducts"
    )


# --- custom objects --------------------------------------------------------------------------


class Labels(AcModel):
    singular: Text = ""
    plural: Text = ""


class CustomObjectOption(AcModel):
    id: Text = ""
    value: Text = ""


class CustomObjectField(AcModel):
    """A schema field; ids are slugs (`plan`), types text, textarea, number, decimal, date,
    datetime, dropdown, multiselect, currency. Both `required` and `isRequired` occur."""

    id: str
    labels: Labels = Field(default_factory=Labels)
    type: LowerText = ""
    is_required: Flag = Field(False, validation_alias=AliasChoices("isRequired", "required"))
    options: Annotated[list[CustomObjectOption], BeforeValidator(_dict_list)] = Field(default_factory=list)
    scale: OptInt = None
    default_currency: OptText = Field(None, alias="defaultCurrency")
    status: OptText = None


class CustomObjectRelationship(AcModel):
    id: str
    labels: Labels = Field(default_factory=Labels)
    namespace: Text = ""
    has_many: Flag = Field(False, alias="hasMany")


class CustomObjectSchema(AcModel):
    id: str
    slug: Text = ""
    visibility: Text = ""
    labels: Labels = Field(default_factory=Labels)
    description: OptText = None
    fields: Annotated[list[CustomObjectField], BeforeValidator(_dict_list)] = Field(default_factory=list)
    relationships: Annotated[list[CustomObjectRelationship], BeforeValidator(_dict_list)] = Field(
        default_factory=list
    )
    created_timestamp: OptDatetime = Field(None, alias="createdTimestamp")
    updated_timestamp: OptDatetime = Field(None, alias="updatedTimestamp")


class CustomObjectFieldValue(AcModel):
    id: str
    value: Any = None


def _relationships(value: Any) -> Any:
    if not value:
        return {}
    if isinstance(value, dict):
        return {
            key: [v for v in (ids if isinstance(ids, list) else [ids]) if v not in (None, "")]
            for key, ids in value.items()
        }
    return value


class CustomObjectRecord(AcModel):
    """A record of a custom object; `relationships` maps a relationship id (e.g. `primary-contact`)
    to the related AC ids."""

    id: str
    external_id: OptText = Field(None, alias="externalId")
    schema_id: OptText = Field(None, alias="schemaId")
    fields: Annotated[list[CustomObjectFieldValue], BeforeValidator(_dict_list)] = Field(default_factory=list)
    relationships: Annotated[dict[str, list[int]], BeforeValidator(_relationships)] = Field(
        default_factory=dict
    )
    created_timestamp: OptDatetime = Field(None, alias="createdTimestamp")
    updated_timestamp: OptDatetime = Field(None, alias="updatedTimestamp")

    @property
    def values(self) -> dict[str, Any]:
        return {item.id: item.value for item in self.fields}


# --- webhooks --------------------------------------------------------------------------------


class Webhook(AcModel):
    id: int
    name: Text = ""
    url: Text = ""
    events: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    list_id: int = Field(0, alias="listid")
    cdate: OptDatetime = None


# --- composite results -----------------------------------------------------------------------


class ContactDetail(AcModel):
    """`GET /contacts/{id}` with its default sideloads. (Tags are not sideloaded by AC: use
    `list_contact_tags`.)"""

    contact: Contact
    field_values: list[FieldValue] = Field(default_factory=list)
    contact_lists: list[ContactList] = Field(default_factory=list)
    deals: list[Deal] = Field(default_factory=list)
    contact_automations: list[ContactAutomation] = Field(default_factory=list)
