"""ActiveCampaign webhook bodies: PHP-style bracketed form fields into pydantic models.

AC posts one `application/x-www-form-urlencoded` body per event (reference §14.3): `type`,
`date_time`, `initiated_from`, `initiated_by`, `list`, a `contact[...]` block whose custom
fields are keyed by field id (`contact[fields][27]`), tags as one comma-separated string, and
`deal[...]`, `task[...]` or `automation[...]` blocks for those events. Every value is a string.

The keys are parsed here by hand: generic `qs`-style parsers turn numeric keys into arrays and
lose the field ids. Nothing in this module touches the database or the network.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import parse_qsl

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

MAX_FIELDS = 1000  # AC sends a few dozen; a contact with hundreds of custom fields still fits
MAX_DEPTH = 4  # contact[fields][27] is three levels; campaign[message][subject] too
MAX_KEY_CHARS = 200

# Events Tajo syncs, and the AC events it knows but does not sync (reference §14.2). The two
# automation events are not AC webhook events: they come from an automation's "Webhook" action
# pointed at the intake URL with `?type=automation_contact_add&automation=<id>` (docs/webhooks.md).
AC_IGNORED_EVENTS = frozenset(
    {
        "subscriber_note",
        "contact_task_add",
        "list_add",
        "sent",
        "open",
        "click",
        "reply",
        "forward",
        "share",
        "bounce",
        "deal_note_add",
        "deal_pipeline_add",
        "deal_stage_add",
        "deal_task_complete",
        "deal_tasktype_add",
        "account_add",
        "account_update",
        "account_contact_add",
        "account_contact_update",
        "sms_sent",
        "sms_reply",
        "sms_unsub",
    }
)

# What "Register webhooks" subscribes to by default: every AC event that Tajo syncs.
REGISTRABLE_EVENTS = (
    "subscribe",
    "update",
    "unsubscribe",
    "contact_tag_added",
    "contact_tag_removed",
    "deal_add",
    "deal_update",
    "deal_task_add",
)
WEBHOOK_SOURCES = ("public", "admin", "api", "system")

# The connector documentation's names for AC webhook events (Tajo's names), with AC's own name
# for each (reference §14.2). Both are accepted wherever events are chosen; AC is always sent
# its own name; Brevo receives Tajo's (see `tajo_event_name`), so a Brevo workflow can start
# on `contact_add`. `deal_tasktype_add` is AC's name for a new *task type* (an account event
# with no deal); the documentation uses it for a task added to a deal, so a body of that type
# that carries a deal is read as `deal_task_add`, and one without a deal stays ignored.
TAJO_EVENT_NAMES: dict[str, str] = {
    "contact_add": "subscribe",
    "contact_update": "update",
    "contact_tag_added": "contact_tag_added",
    "contact_tag_removed": "contact_tag_removed",
    "deal_add": "deal_add",
    "deal_update": "deal_update",
    "deal_tasktype_add": "deal_task_add",
    "automation_contact_add": "automation_contact_add",
    "automation_contact_complete": "automation_contact_complete",
}
_AC_TO_TAJO = {ac: tajo for tajo, ac in TAJO_EVENT_NAMES.items()}


def ac_event_name(name: str) -> str:
    """AC's name for an event given by Tajo's name or AC's own (unknown names come back as given)."""
    text = (name or "").strip()
    return TAJO_EVENT_NAMES.get(text.lower(), text)


def tajo_event_name(name: str) -> str:
    """The documentation's name for an AC event (`subscribe` -> `contact_add`); others unchanged."""
    return _AC_TO_TAJO.get(name, name)


def registrable_event(name: str) -> str | None:
    """AC's name of an event "Register webhooks" may subscribe to, given either spelling, else None."""
    ac = ac_event_name(name)
    return ac if ac in REGISTRABLE_EVENTS else None


class WebhookParseError(ValueError):
    """The body is not a usable AC webhook; `reason` says why in words an operator can act on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --------------------------------------------------------------------------- form decoding

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_PART = re.compile(r"\[([^\[\]]*)\]")


def decode_form(body: bytes) -> list[tuple[str, str]]:
    """The (key, value) pairs of a form body; raises WebhookParseError for anything malformed."""
    if not body.strip():
        raise WebhookParseError("empty body")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise WebhookParseError("body is not UTF-8 text") from None
    try:
        pairs = parse_qsl(
            text.strip(),
            keep_blank_values=True,
            strict_parsing=True,
            max_num_fields=MAX_FIELDS,
            errors="strict",
        )
    except UnicodeDecodeError:
        raise WebhookParseError("a percent-encoded value is not UTF-8") from None
    except ValueError as exc:
        if "Max number of fields" in str(exc):
            raise WebhookParseError(f"more than {MAX_FIELDS} form fields") from None
        # strict parsing refuses a pair without '=': a truncated or non-form body
        raise WebhookParseError("not a form-encoded body (a field has no '='; truncated?)") from None
    return pairs


def _key_parts(key: str) -> list[str]:
    if len(key) > MAX_KEY_CHARS:
        raise WebhookParseError(f"field name longer than {MAX_KEY_CHARS} characters")
    match = _KEY.match(key)
    if not match:
        raise WebhookParseError(f"malformed field name {key[:60]!r}")
    parts = [match.group(1), *_PART.findall(match.group(2))]
    if len(parts) > MAX_DEPTH:
        raise WebhookParseError(f"field name {key[:60]!r} is nested deeper than {MAX_DEPTH} levels")
    return parts


def nest_fields(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """`contact[fields][27]=Austin` -> `{"contact": {"fields": {"27": "Austin"}}}`.

    Keys stay strings (a numeric key is a field id, never a list index). `x[]=a&x[]=b` gives a
    list. A key given twice, or used both as a value and as a group, is refused: AC never sends
    either, and guessing which one wins would make the hint lie.
    """
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = _key_parts(key)
        node = root
        for depth, part in enumerate(parts[:-1]):
            if parts[depth + 1] == "" and depth + 1 == len(parts) - 1:
                existing = node.setdefault(part, [])
                if not isinstance(existing, list):
                    raise WebhookParseError(f"field {key!r} conflicts with another field of the same name")
                existing.append(value)
                break
            if part == "":
                raise WebhookParseError(f"malformed field name {key[:60]!r}")
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise WebhookParseError(f"field {key!r} conflicts with another field of the same name")
            node = child
        else:
            last = parts[-1]
            if last == "" or last in node:
                raise WebhookParseError(f"field {key!r} is given more than once")
            node[last] = value
    return root


def dedup_key(pairs: list[tuple[str, str]]) -> str:
    """Same fields and values, in any order -> same key: AC's re-deliveries are byte-identical."""
    digest = hashlib.sha256()
    for key, value in sorted(pairs):
        digest.update(key.encode())
        digest.update(b"\x00")
        digest.update(value.encode())
        digest.update(b"\x01")
    return digest.hexdigest()


# --------------------------------------------------------------------------- value types


def _numeric_id(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip()
        if not text.isdigit() or int(text) <= 0:
            raise ValueError(f"expected a numeric id, got {value[:40]!r}")
        return int(text)
    return value


def _optional_id(value: Any) -> Any:
    if value is None or (isinstance(value, str) and value.strip() in ("", "0")):
        return None
    return _numeric_id(value)


def _when(value: Any) -> Any:
    if value is None or isinstance(value, datetime):
        return value
    text = str(value).strip()
    if not text or text.startswith("0000-00-00"):
        return None
    try:
        # Offset-less values are kept naive: the account's zone is not known here.
        return datetime.fromisoformat(text.replace(" ", "T", 1) if "T" not in text else text)
    except ValueError:
        raise ValueError(f"not a date and time: {text[:40]!r}") from None


def _text(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        raise ValueError("expected a single value, got a group of fields")
    return value


def _tags(value: Any) -> Any:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    if isinstance(value, dict):
        raise ValueError("expected a comma-separated string")
    return [t.strip() for t in str(value).split(",") if t.strip()]


def _fields(value: Any) -> Any:
    if value is None or value == "":
        return {}
    if not isinstance(value, dict):
        raise ValueError("expected contact[fields][<id>] entries")
    if any(isinstance(v, dict | list) for v in value.values()):
        raise ValueError("a custom field value must be a single string")
    return value


Id = Annotated[int, BeforeValidator(_numeric_id)]
OptId = Annotated[int | None, BeforeValidator(_optional_id)]
When = Annotated[datetime | None, BeforeValidator(_when)]
Text = Annotated[str, BeforeValidator(_text)]


class _Block(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class ContactBlock(_Block):
    id: Id
    email: Text = ""
    first_name: Text = ""
    last_name: Text = ""
    phone: Text = ""
    ip: Text = ""
    tags: Annotated[list[str], BeforeValidator(_tags)] = Field(default_factory=list)
    orgname: Text = ""
    customer_acct_name: Text = ""
    # Custom field values by field id (or by perstag when an automation webhook sends them).
    fields: Annotated[dict[str, str], BeforeValidator(_fields)] = Field(default_factory=dict)


class DealBlock(_Block):
    id: Id
    title: Text = ""
    create_date: When = None
    orgid: OptId = None
    orgname: Text = ""
    stageid: OptId = None
    stage_title: Text = ""
    pipelineid: OptId = None
    pipeline_title: Text = ""
    value: Text = ""
    currency: Text = ""
    currency_symbol: Text = ""
    owner: OptId = None
    owner_firstname: Text = ""
    owner_lastname: Text = ""
    contactid: OptId = None
    contact_email: Text = ""
    contact_firstname: Text = ""
    contact_lastname: Text = ""
    status: Text = ""


class TaskBlock(_Block):
    id: OptId = None
    title: Text = ""
    note: Text = ""
    type: Text = ""
    duedate: When = None
    edate: When = None


class AutomationBlock(_Block):
    id: Id
    name: Text = ""


# --------------------------------------------------------------------------- events


class WebhookPayload(_Block):
    """Keys every AC webhook carries. Subclasses add their blocks and say what to re-read."""

    resource: ClassVar[str] = ""

    type: str
    date_time: When = None
    initiated_from: Text = ""
    initiated_by: Text = ""
    list_id: OptId = Field(None, alias="list")
    customer_acct_name: Text = ""
    customer_acct_id: OptId = None
    orgname: Text = ""

    @property
    def source_id(self) -> str:
        return ""

    @property
    def key(self) -> str:
        """Natural key shown beside the event (usually the contact's email)."""
        contact = getattr(self, "contact", None)
        return contact.email if contact is not None else ""

    def hint(self) -> dict[str, Any]:
        """What the body says, for the engine: a hint only, the record is re-read from AC."""
        when = self.date_time
        return {
            "event": self.type,
            # Only an instant with an offset can be ordered against AC's udate/mdate.
            "modified_at": when.isoformat() if when is not None and when.tzinfo is not None else None,
            "source": self.initiated_from,
        }


class _ContactEvent(WebhookPayload):
    resource: ClassVar[str] = "contacts"
    contact: ContactBlock

    @property
    def source_id(self) -> str:
        return str(self.contact.id)

    def hint(self) -> dict[str, Any]:
        return {**super().hint(), "list_id": self.list_id, "email": self.contact.email}


class ContactAdded(_ContactEvent):
    type: Literal["subscribe"]


class ContactUpdated(_ContactEvent):
    type: Literal["update"]


class UnsubscribeBlock(_Block):
    reason: Text = ""


class ContactUnsubscribed(_ContactEvent):
    type: Literal["unsubscribe"]
    unsubscribe: UnsubscribeBlock | None = None

    def hint(self) -> dict[str, Any]:
        # The engine must not leave the contact subscribed in Brevo whatever the re-read says.
        return {**super().hint(), "unsubscribed": True}


class _TagEvent(_ContactEvent):
    tag: Text

    def hint(self) -> dict[str, Any]:
        return {**super().hint(), "tag": self.tag}


class TagAdded(_TagEvent):
    type: Literal["contact_tag_added"]


class TagRemoved(_TagEvent):
    type: Literal["contact_tag_removed"]


class _DealEvent(WebhookPayload):
    resource: ClassVar[str] = "deals"
    deal: DealBlock
    contact: ContactBlock | None = None

    @property
    def source_id(self) -> str:
        return str(self.deal.id)

    @property
    def key(self) -> str:
        return self.deal.contact_email or (self.contact.email if self.contact else "")

    def hint(self) -> dict[str, Any]:
        return {
            **super().hint(),
            "deal_id": self.deal.id,
            "contact_id": self.deal.contactid or (self.contact.id if self.contact else None),
            "stage_id": self.deal.stageid,
            "pipeline_id": self.deal.pipelineid,
        }


class DealAdded(_DealEvent):
    type: Literal["deal_add"]


class DealUpdated(_DealEvent):
    type: Literal["deal_update"]


class DealTaskAdded(_DealEvent):
    type: Literal["deal_task_add"]
    task: TaskBlock | None = None


class _AutomationEvent(WebhookPayload):
    resource: ClassVar[str] = "automations"
    completed: ClassVar[bool] = False
    automation: AutomationBlock
    contact: ContactBlock

    @property
    def source_id(self) -> str:
        return f"{self.contact.id}:{self.automation.id}"

    def hint(self) -> dict[str, Any]:
        return {
            **super().hint(),
            "contact_id": self.contact.id,
            "automation_id": self.automation.id,
            "completed": self.completed,
            "email": self.contact.email,
        }


class AutomationContactAdded(_AutomationEvent):
    type: Literal["automation_contact_add"]


class AutomationContactCompleted(_AutomationEvent):
    type: Literal["automation_contact_complete"]
    completed: ClassVar[bool] = True


class IgnoredEvent(WebhookPayload):
    """An AC event Tajo knows but does not sync (campaign opens, notes, SMS...)."""


EVENT_MODELS: dict[str, type[WebhookPayload]] = {
    model.model_fields["type"].annotation.__args__[0]: model  # type: ignore[union-attr]
    for model in (
        ContactAdded,
        ContactUpdated,
        ContactUnsubscribed,
        TagAdded,
        TagRemoved,
        DealAdded,
        DealUpdated,
        DealTaskAdded,
        AutomationContactAdded,
        AutomationContactCompleted,
    )
}
HANDLED_EVENTS = tuple(EVENT_MODELS)
KNOWN_EVENTS = frozenset(EVENT_MODELS) | AC_IGNORED_EVENTS


# --------------------------------------------------------------------------- entry point


class ParsedWebhook(BaseModel):
    """One parsed body: the event model, the nested fields and the key that deduplicates it."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    event: WebhookPayload
    fields: dict[str, Any]
    dedup_key: str

    @property
    def handled(self) -> bool:
        return not isinstance(self.event, IgnoredEvent)


def _complete_from_query(fields: dict[str, Any], query: dict[str, str]) -> None:
    """An automation's Webhook action posts the contact only; the URL names the event and automation."""
    qtype = (query.get("type") or "").strip()
    if qtype and not fields.get("type"):
        fields["type"] = qtype
    automation = (query.get("automation") or "").strip() or str(fields.get("seriesid") or "").strip()
    if automation and fields.get("type", "").startswith("automation_") and "automation" not in fields:
        fields["automation"] = {"id": automation}


def _describe(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors()[:3]:
        where = "".join(
            f"[{p}]" if i else str(p) for i, p in enumerate(error["loc"]) if not isinstance(p, int)
        )
        message = error["msg"].removeprefix("Value error, ")
        problems.append(f"{where}: {'missing' if error['type'] == 'missing' else message}")
    return "; ".join(problems)


def parse_webhook(body: bytes, *, query: dict[str, str] | None = None) -> ParsedWebhook:
    """Parse one AC webhook body. Raises WebhookParseError with the reason when it is unusable."""
    pairs = decode_form(body)
    if any("\x00" in name or "\x00" in value for name, value in pairs):
        # PostgreSQL text cannot hold NUL, and no ActiveCampaign field contains one.
        raise WebhookParseError("the body contains NUL characters (%00)")
    fields = nest_fields(pairs)
    if query:
        _complete_from_query(fields, query)
        pairs = [*pairs, *sorted((f"?{k}", v) for k, v in query.items() if k in ("type", "automation"))]
    event_type = fields.get("type")
    if not isinstance(event_type, str) or not event_type.strip():
        raise WebhookParseError("no event type (the 'type' field is missing)")
    event_type = event_type.strip()
    if event_type == "deal_tasktype_add" and isinstance(fields.get("deal"), dict):
        event_type = "deal_task_add"
    elif event_type in TAJO_EVENT_NAMES and event_type != "deal_tasktype_add":
        event_type = TAJO_EVENT_NAMES[event_type]
    if event_type not in KNOWN_EVENTS:
        raise WebhookParseError(f"unknown event type {event_type[:60]!r}")
    model = EVENT_MODELS.get(event_type, IgnoredEvent)
    try:
        event = model.model_validate({**fields, "type": event_type})
    except ValidationError as exc:
        raise WebhookParseError(f"{event_type}: {_describe(exc)}") from None
    return ParsedWebhook(event=event, fields=fields, dedup_key=dedup_key(pairs))
