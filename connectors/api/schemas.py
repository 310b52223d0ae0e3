"""Request and response bodies of `/api/v1/`, camelCase on the wire as in the connector documentation.

Requests are strict: unknown fields, wrong JSON types and text the database cannot store are
refused with 400 before anything happens.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pydantic.alias_generators import to_camel

from connectors.models import AcPlan, Connection, Outcome, RunStatus, SyncRecord, SyncRun
from connectors.selectors import not_configured
from connectors.sync.registry import RESOURCE_MODULES

# Nesting deeper than this in eventData is refused: Brevo drops it anyway, and bounded depth keeps
# every later step (validation, hashing, the per-record log) far from recursion limits.
MAX_JSON_DEPTH = 10


def _storable(value: str) -> str:
    """PostgreSQL text cannot hold NUL, and lone surrogates cannot be encoded: refuse both."""
    if "\x00" in value:
        raise ValueError("text must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must be valid Unicode") from None
    return value


def _storable_json(value: Any) -> Any:
    """Walk any JSON value without recursion: bounded depth, storable strings and keys."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise ValueError(f"nests deeper than {MAX_JSON_DEPTH} levels")
        if isinstance(item, str):
            _storable(item)
        elif isinstance(item, dict):
            for key, child in item.items():
                _storable(str(key))
                stack.append((child, depth + 1))
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, float) and (item != item or item in (float("inf"), float("-inf"))):
            raise ValueError("numbers must be finite")
        elif isinstance(item, int) and not isinstance(item, bool) and not -(2**63) <= item < 2**63:
            # Beyond 64 bits no JSON encoder on the way (ours, Brevo's) keeps the value exact.
            raise ValueError("whole numbers must fit in 64 bits; send larger ones as text")
    return value


def _text(max_length: int, *, min_length: int = 1, pattern: str | None = None) -> Any:
    """A string the database can store, with length bounds that also land in the OpenAPI document."""
    return Annotated[
        str,
        StringConstraints(min_length=min_length, max_length=max_length, pattern=pattern),
        AfterValidator(_storable),
    ]


UrlText = _text(300)
KeyText = _text(500)
EventName = _text(255)
EmailText = _text(320)
CountryCode = _text(2, min_length=2, pattern=r"^[A-Za-z]{2}$")
# A Brevo attribute name (any case: stored in capitals), or "" for none.
AttributeName = _text(50, min_length=0, pattern=r"^(?:[A-Za-z][A-Za-z0-9_]*)?$")


ResourceName = Literal[tuple(RESOURCE_MODULES)]  # type: ignore[valid-type]
OutcomeName = Literal[tuple(Outcome.values)]  # type: ignore[valid-type]
RunStatusName = Literal[tuple(RunStatus.values)]  # type: ignore[valid-type]
PlanName = Literal[tuple(AcPlan.values)]  # type: ignore[valid-type]
ConnectorName = Annotated[str, StringConstraints(min_length=1, max_length=60, pattern=r"^[-a-zA-Z0-9_]+$")]
# Printable ASCII without spaces: what clients put in an Idempotency-Key (UUIDs, hashes).
IdempotencyKey = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[!-~]+$")]


class ApiIn(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=False, extra="forbid", strict=True)


class ApiOut(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


# ----------------------------------------------------------------------------- connect


class SyncOptions(ApiIn):
    """The `options` of the documentation's `connectors.sync(...)`; omitted values stay as they are."""

    include_tags: bool | None = None
    include_custom_fields: bool | None = None
    include_scores: bool | None = None
    include_list_memberships: bool | None = None


class ConnectOptions(SyncOptions):
    deals_as_crm_objects: bool | None = None
    default_phone_country: CountryCode | None = None
    tags_attribute: AttributeName | None = Field(
        None,
        description="Brevo multiple-choice attribute holding each contact's tag names (new connections: "
        'TAGS); "" for none.',
    )


class SyncSwitches(ApiIn):
    """Which resources the connection syncs (the YAML `sync:` block); omitted values stay as they are."""

    contacts: bool | None = None
    deals: bool | None = None
    automations: bool | None = None
    events: bool | None = None
    ecommerce: bool | None = None
    custom_objects: bool | None = None
    lists: bool | None = None


SWITCHES = tuple(SyncSwitches.model_fields)
OPTIONS = tuple(ConnectOptions.model_fields)


class ConnectIn(ApiIn):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "apiUrl": "https://yourcompany.api-us1.com",
                    "apiKey": "your-activecampaign-api-key",
                    "brevoApiKey": "xkeysib-your-brevo-api-key",
                    "plan": "lite",
                    "options": {"includeTags": True, "includeCustomFields": True},
                }
            ]
        }
    )

    api_url: UrlText = Field(
        description="From ActiveCampaign Settings → Developer, e.g. https://yourcompany.api-us1.com"
    )
    api_key: KeyText
    brevo_api_key: KeyText | None = Field(
        None, description="Required when the connection is created; omitted on update keeps the stored key."
    )
    brevo_api_url: UrlText | None = None
    plan: PlanName | None = Field(None, description="ActiveCampaign plan; sets the request rate.")
    enabled: bool | None = None
    sync: SyncSwitches | None = None
    options: ConnectOptions | None = None
    test: bool = Field(True, description="Run the connection test and return its checklist.")
    replicate: list[Literal["lists", "tags"]] = Field(
        default_factory=list,
        description="After discovery, map every ActiveCampaign list and/or tag not mapped yet onto the "
        "Brevo list of its name (created when missing); listed in discovery.mapped.",
    )


class CheckOut(ApiOut):
    name: str
    ok: bool
    detail: str


class ConnectionOut(ApiOut):
    connector: str
    enabled: bool
    api_url: str
    api_key: str = Field(description="Masked: only the last four characters are shown.")
    brevo_api_url: str
    brevo_api_key: str = Field(description="Masked: only the last four characters are shown.")
    plan: str
    requests_per_second: float
    sync: dict[str, bool]
    options: dict[str, bool | str]
    created_at: datetime


class DiscoveryOut(ApiOut):
    ok: bool = Field(description="The catalogs were read and stored; the connection can sync.")
    counts: dict[str, int] = Field(
        description="What was found, e.g. {'ac.field': 12, 'brevo.attribute': 30}."
    )
    errors: dict[str, str] = Field(description="What could not be read, and why.")
    mapped: list[str] = Field(
        description="Default mappings of the documentation's table added onto existing Brevo attributes."
    )


class ConnectOut(ApiOut):
    created: bool
    connected: bool | None = Field(description="All checks passed; null when the test was not run.")
    checks: list[CheckOut]
    connection: ConnectionOut
    discovery: DiscoveryOut | None = Field(
        None, description="Both accounts' catalogs, read after a passing test so that sync works next."
    )


# ----------------------------------------------------------------------------- runs


class SyncIn(ApiIn):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "full",
                    "resources": ["contacts", "deals", "events"],
                    "options": {
                        "includeTags": True,
                        "includeCustomFields": True,
                        "includeScores": True,
                        "includeListMemberships": True,
                    },
                }
            ]
        }
    )

    type: Literal["full", "incremental"] = "full"
    resources: list[ResourceName] | None = Field(  # type: ignore[valid-type]
        None, max_length=20, description="Omitted or empty: every resource the connection syncs."
    )
    options: SyncOptions | None = Field(
        None, description="Saved on the connection before the run starts, like the YAML sync options."
    )
    dry_run: bool = Field(False, description="Read and map, write nothing to Brevo.")


class ProgressOut(ApiOut):
    done: int
    total: int | None
    percent: float | None


class RunOut(ApiOut):
    id: int
    connector: str
    mode: str
    resources: list[str]
    dry_run: bool
    status: str
    trigger: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    cancel_requested: bool
    progress: ProgressOut
    eta_seconds: int | None
    counters: dict[str, dict[str, int]]
    totals: dict[str, int]
    not_configured: dict[str, str] = Field(
        default_factory=dict,
        description="Resources of the run the mapping deliberately does not write, with the reason "
        "(said once here instead of a skipped record per source record).",
    )
    error: str
    retry_of: int | None
    idempotency_key: str | None


class RunPage(ApiOut):
    items: list[RunOut]
    next_cursor: str | None


class RecordOut(ApiOut):
    id: int
    run_id: int
    resource: str
    source_id: str
    key: str
    outcome: str
    error_code: str
    message: str
    sent: Any = Field(None, description="What was sent to Brevo (bounded), or null.")
    trigger: str
    created_at: datetime


class RecordPage(ApiOut):
    items: list[RecordOut]
    next_cursor: str | None


# ----------------------------------------------------------------------------- status and events


class StatusOut(ApiOut):
    """The documentation's `connectors.status(...)` answer, plus the running run's progress."""

    connector: str
    connected: bool
    last_sync: datetime | None
    contacts_migrated: int
    deals_synced: int
    events_synced: int
    current_run: RunOut | None


class ContactRef(ApiIn):
    email: EmailText


class TrackEventIn(ApiIn):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "event": "trial_started",
                    "eventData": {"plan": "pro", "seats": 5},
                    "email": "jane@example.com",
                }
            ]
        }
    )

    event: EventName
    event_data: Annotated[Any, AfterValidator(_storable_json)] = Field(
        None,
        description="Any JSON: an object becomes the Brevo event's properties, text is kept as eventdata.",
    )
    email: EmailText | None = Field(
        None, description="The contact the event belongs to (or `contact`, `visit`)."
    )
    contact: ContactRef | None = Field(None, description="The contact as {email}.")
    visit: ContactRef | None = Field(
        None, description="ActiveCampaign's Event Tracking spelling of the contact: {email}."
    )

    def identifier(self) -> str | None:
        """The contact's email, from whichever of the accepted identifiers was given."""
        for value in (
            self.email,
            self.contact.email if self.contact else None,
            self.visit.email if self.visit else None,
        ):
            if value and value.strip():
                return value.strip()
        return None


class TrackEventOut(ApiOut):
    run_id: int
    record: RecordOut


# ----------------------------------------------------------------------------- from models


def connection_out(connection: Connection) -> ConnectionOut:
    ac, brevo = connection.ac_account, connection.brevo_account
    return ConnectionOut(
        connector=connection.name,
        enabled=connection.enabled,
        api_url=ac.api_url,
        api_key=ac.api_key_masked,
        brevo_api_url=brevo.api_url,
        brevo_api_key=brevo.api_key_masked,
        plan=ac.plan,
        requests_per_second=ac.requests_per_second,
        sync={to_camel(key): getattr(connection, f"sync_{key}") for key in SWITCHES},
        options={to_camel(key): getattr(connection, key) for key in OPTIONS},
        created_at=connection.created_at,
    )


def run_out(run: SyncRun) -> RunOut:
    total = run.progress_total
    percent = round(min(100.0, 100.0 * run.progress_done / total), 1) if total else None
    return RunOut(
        id=run.pk,
        connector=run.connection.name,
        mode=run.mode,
        resources=list(run.resources or []),
        dry_run=run.dry_run,
        status=run.status,
        trigger=run.trigger,
        created_at=run.created_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        cancel_requested=run.cancel_requested,
        progress=ProgressOut(done=run.progress_done, total=total, percent=percent),
        eta_seconds=run.eta_seconds,
        counters={name: {k: int(v) for k, v in vals.items()} for name, vals in (run.counters or {}).items()},
        totals=run.totals(),
        not_configured=not_configured(run=run),
        error=run.error,
        retry_of=run.retry_of_id,
        idempotency_key=run.idempotency_key or None,
    )


def record_out(record: SyncRecord) -> RecordOut:
    return RecordOut(
        id=record.pk,
        run_id=record.run_id,
        resource=record.resource,
        source_id=record.source_id,
        key=record.key,
        outcome=record.outcome,
        error_code=record.error_code,
        message=record.message,
        sent=record.sent,
        trigger=record.trigger,
        created_at=record.created_at,
    )
