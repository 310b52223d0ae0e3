"""The operations of `/api/v1/`. Each gathers input, checks the token's role, and calls one service."""

from __future__ import annotations

from typing import Annotated

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Header, Path, Query, Router, Status

from connectors.api import selectors, services
from connectors.api.auth import TokenAuth, require_operator, token_of
from connectors.api.errors import READ_ERRORS, WRITE_ERRORS, ApiProblem, error_responses
from connectors.api.schemas import (
    CheckOut,
    ConnectIn,
    ConnectionOut,
    ConnectorName,
    ConnectOut,
    DiscoveryOut,
    IdempotencyKey,
    OutcomeName,
    RecordPage,
    RunOut,
    RunPage,
    RunStatusName,
    StatusOut,
    SyncIn,
    TrackEventIn,
    TrackEventOut,
    connection_out,
    record_out,
    run_out,
)
from connectors.models import Trigger
from connectors.services import connection_test, sync_run_cancel, sync_run_retry_failed

# Operations that change something: a viewer token is refused (403) before its request is read.
WRITE = TokenAuth(write=True)

connectors_router = Router(tags=["connectors"], by_alias=True)
runs_router = Router(tags=["runs"], by_alias=True)

Connector = Annotated[ConnectorName, Path(description="The connection's name, e.g. activecampaign.")]
RunId = Annotated[int, Path(ge=1, le=selectors.MAX_ID, description="A run id.")]
IdemKey = Annotated[
    IdempotencyKey,
    Header(
        None,
        alias="Idempotency-Key",
        description="Repeat a request with the same key to get the first answer instead of a second run.",
    ),
]
# Optional parameters are typed without `| None`: absent or a string, never `null` in the OpenAPI document.
ResourceFilter = Annotated[str, Query(None, max_length=30, pattern=r"^[a-z_]+$", description="e.g. contacts")]
RunLimit = Annotated[int, Query(50, ge=1, le=selectors.MAX_PAGE, description="Runs per page.")]
RecordLimit = Annotated[int, Query(100, ge=1, le=selectors.MAX_PAGE, description="Records per page.")]
Cursor = Annotated[
    str,
    Query(
        None, max_length=100, pattern=r"^[A-Za-z0-9_-]+$", description="`nextCursor` of the previous page."
    ),
]


def _location(response: HttpResponse, run_id: int) -> None:
    response["Location"] = reverse("api-v1:run", kwargs={"run_id": run_id})


# ----------------------------------------------------------------------------- connectors


@connectors_router.get("/connectors", response={200: list[ConnectionOut], **error_responses(READ_ERRORS)})
def list_connectors(request: HttpRequest) -> list[ConnectionOut]:
    """The tenant's connections (keys masked)."""
    return [connection_out(c) for c in selectors.connections_for(tenant_id=token_of(request).tenant_id)]


@connectors_router.post(
    "/connectors/{connector}/connect",
    response={200: ConnectOut, 201: ConnectOut, **error_responses(WRITE_ERRORS)},
    auth=WRITE,
)
def connect(request: HttpRequest, connector: Connector, payload: ConnectIn) -> Status[ConnectOut]:
    """`connectors.connect('activecampaign', {...})`: store the credentials and run the connection test.

    Creates the connection (201) or updates it (200). The checklist is the admin's "test
    connection"; `connected` is true when every check passed.
    """
    token = require_operator(request)
    connection, created = services.connection_connect(token=token, name=connector, data=payload)
    checks = connection_test(connection=connection) if payload.test else []
    connected = all(c.ok for c in checks) if payload.test else None
    discovery = (
        services.connection_discover(connection=connection, created=created, replicate=payload.replicate)
        if connected
        else None
    )
    body = ConnectOut(
        created=created,
        connected=connected,
        checks=[CheckOut(name=c.name, ok=c.ok, detail=c.detail) for c in checks],
        connection=connection_out(connection),
        discovery=DiscoveryOut(**discovery) if discovery is not None else None,
    )
    return Status(201 if created else 200, body)


@connectors_router.post(
    "/connectors/{connector}/sync", response={202: RunOut, **error_responses(WRITE_ERRORS)}, auth=WRITE
)
def sync(
    request: HttpRequest,
    connector: Connector,
    payload: SyncIn,
    response: HttpResponse,
    idempotency_key: IdemKey = None,
) -> Status[RunOut]:
    """`connectors.sync('activecampaign', {type, resources, options})`: start a run in the background.

    Answers 202 with the run; follow it at `/runs/{id}`. 409 while another run of the connection
    is queued or running.
    """
    token = require_operator(request)
    connection = selectors.connection_for(tenant_id=token.tenant_id, name=connector)
    run = services.sync_start(connection=connection, data=payload, idempotency_key=idempotency_key)
    _location(response, run.pk)
    return Status(202, run_out(run))


@connectors_router.get(
    "/connectors/{connector}/status", response={200: StatusOut, **error_responses(READ_ERRORS)}
)
def status(request: HttpRequest, connector: Connector) -> StatusOut:
    """`connectors.status('activecampaign')`: the documentation's numbers plus the running run."""
    connection = selectors.connection_for(tenant_id=token_of(request).tenant_id, name=connector)
    data = selectors.connection_status(connection=connection)
    current = data["current_run"]
    return StatusOut(
        connector=connection.name,
        connected=data["connected"],
        last_sync=data["last_sync"],
        contacts_migrated=data["contacts_migrated"],
        deals_synced=data["deals_synced"],
        events_synced=data["events_synced"],
        current_run=run_out(current) if current is not None else None,
    )


@connectors_router.post(
    "/connectors/{connector}/events",
    response={200: TrackEventOut, **error_responses(WRITE_ERRORS)},
    auth=WRITE,
)
def track_event(
    request: HttpRequest, connector: Connector, payload: TrackEventIn, idempotency_key: IdemKey = None
) -> TrackEventOut:
    """`activecampaign.trackEvent({event, eventData})`: forward one event to Brevo through the event mapping.

    The answer carries the record's outcome, as for any synced record: `created` (Brevo took it),
    `skipped` (event not mapped, or the email is unusable: see `message`) or `failed` (Brevo's
    reason). With an Idempotency-Key a retried request is not sent twice.
    """
    token = require_operator(request)
    email = payload.identifier()
    if email is None:
        raise ApiProblem(
            400,
            "missing_field",
            "trackEvent needs the contact the event belongs to: give 'email' "
            "(or 'contact': {email}, or ActiveCampaign's 'visit': {email}).",
            field="email",
        )
    connection = selectors.connection_for(tenant_id=token.tenant_id, name=connector)
    record, _ = services.event_forward_once(
        connection=connection,
        event=payload.event,
        event_data=payload.event_data,
        email=email,
        idempotency_key=idempotency_key,
    )
    return TrackEventOut(run_id=record.run_id, record=record_out(record))


# ----------------------------------------------------------------------------- runs


@runs_router.get("/runs", response={200: RunPage, **error_responses(READ_ERRORS)})
def list_runs(
    request: HttpRequest,
    connector: Annotated[ConnectorName, Query(None, description="Only this connection's runs.")] = None,
    status: Annotated[RunStatusName, Query(None, description="Only runs in this status.")] = None,
    limit: RunLimit = 50,
    cursor: Cursor = None,
) -> RunPage:
    """Runs of the tenant, newest first."""
    page = selectors.runs_page(
        tenant_id=token_of(request).tenant_id, connector=connector, status=status, limit=limit, cursor=cursor
    )
    return RunPage(items=[run_out(r) for r in page.items], next_cursor=page.next_cursor)


@runs_router.get("/runs/{run_id}", response={200: RunOut, **error_responses(READ_ERRORS)}, url_name="run")
def get_run(request: HttpRequest, run_id: RunId) -> RunOut:
    """A run's status, progress and counters per resource and outcome."""
    return run_out(selectors.run_for(tenant_id=token_of(request).tenant_id, run_id=run_id))


@runs_router.get("/runs/{run_id}/records", response={200: RecordPage, **error_responses(READ_ERRORS)})
def list_records(
    request: HttpRequest,
    run_id: RunId,
    outcome: Annotated[OutcomeName, Query(None, description="Only records with this outcome.")] = None,
    resource: ResourceFilter = None,
    limit: RecordLimit = 100,
    cursor: Cursor = None,
) -> RecordPage:
    """One row per record of the run, oldest first, filtered by outcome and resource."""
    run = selectors.run_for(tenant_id=token_of(request).tenant_id, run_id=run_id)
    page = selectors.records_page(run=run, outcome=outcome, resource=resource, limit=limit, cursor=cursor)
    return RecordPage(items=[record_out(r) for r in page.items], next_cursor=page.next_cursor)


@runs_router.post(
    "/runs/{run_id}/cancel", response={200: RunOut, **error_responses(WRITE_ERRORS)}, auth=WRITE
)
def cancel_run(request: HttpRequest, run_id: RunId) -> RunOut:
    """Stop a queued or running run (within one slice). 409 when it has already finished."""
    token = require_operator(request)
    run = selectors.run_for(tenant_id=token.tenant_id, run_id=run_id)
    return run_out(sync_run_cancel(run=run))


@runs_router.post("/runs/{run_id}/retry", response={202: RunOut, **error_responses(WRITE_ERRORS)}, auth=WRITE)
def retry_run(request: HttpRequest, run_id: RunId, response: HttpResponse) -> Status[RunOut]:
    """Start a run that syncs again only the records that failed in this one."""
    token = require_operator(request)
    run = selectors.run_for(tenant_id=token.tenant_id, run_id=run_id)
    retry = sync_run_retry_failed(run=run, trigger=Trigger.API)
    _location(response, retry.pk)
    return Status(202, run_out(retry))
