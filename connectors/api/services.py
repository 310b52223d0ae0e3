"""State changes the API makes. Each view gathers input and calls one of these.

Runs are started, cancelled and retried by `connectors.services`; what is here is only what the
API adds: tokens, the documentation's `connect` (accounts + connection in one call), the run
options and idempotency rules of `sync`, and the answers for runs that cannot be cancelled or
retried.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import orjson
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from connectors.api.errors import ApiProblem
from connectors.api.schemas import ConnectIn, SyncIn, SyncOptions
from connectors.api_models import ApiToken, ApiTokenRole
from connectors.models import (
    ACTIVE_STATUSES,
    PLAN_RATES,
    ActiveCampaignAccount,
    BrevoAccount,
    Connection,
    Outcome,
    RunMode,
    RunStatus,
    SyncRecord,
    SyncRun,
    Trigger,
)
from connectors.services import RunAlreadyActive, sync_run_cancel, sync_run_retry_failed, sync_run_start
from connectors.sync.registry import RESOURCE_MODULES, UnknownResource
from connectors.validators import normalize_ac_api_url, normalize_brevo_api_url, validate_api_key
from tenants.models import Tenant

logger = logging.getLogger(__name__)

# API field name -> Connection field, for the documentation's options and the YAML sync switches.
OPTION_FIELDS = {
    "include_tags": "include_tags",
    "include_custom_fields": "include_custom_fields",
    "include_scores": "include_scores",
    "include_list_memberships": "include_list_memberships",
    "deals_as_crm_objects": "deals_as_crm_objects",
    "default_phone_country": "default_phone_country",
}
SWITCH_FIELDS = {
    "contacts": "sync_contacts",
    "deals": "sync_deals",
    "automations": "sync_automations",
    "events": "sync_events",
    "ecommerce": "sync_ecommerce",
    "custom_objects": "sync_custom_objects",
    "lists": "sync_lists",
}


# ----------------------------------------------------------------------------- tokens


def api_token_create(
    *, tenant: Tenant, name: str, role: str = ApiTokenRole.VIEWER, user: Any = None
) -> tuple[ApiToken, str]:
    """Create a token and return it with its clear value, which is never stored and never shown again."""
    token = ApiToken(tenant=tenant, name=name, role=role, created_by=user if _real_user(user) else None)
    raw = token.issue()
    token.save()
    return token, raw


def api_token_issue(*, token: ApiToken, user: Any = None) -> str:
    """Give an unsaved token (from the admin form) its value and save it; returns the clear value."""
    raw = token.issue()
    if token.created_by_id is None and _real_user(user):
        token.created_by = user
    token.save()
    return raw


def api_token_revoke(*, token: ApiToken) -> bool:
    """Revoke a token at once; False when it was already revoked."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    return True


def _real_user(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False))


# ----------------------------------------------------------------------------- connect


def _checked(field: str, check, *args: Any, **kwargs: Any) -> Any:
    try:
        return check(*args, **kwargs)
    except ValidationError as exc:
        raise ApiProblem(400, "invalid_field", " ".join(exc.messages), field=field) from None


def connection_connect(*, token: ApiToken, name: str, data: ConnectIn) -> tuple[Connection, bool]:
    """Create or update the tenant's connection `name` with its two accounts; returns (connection, created).

    Nothing is written unless every value is valid. On update, omitted values stay as they are.
    """
    allow_private = settings.TAJO_ALLOW_PRIVATE_URLS
    ac_url = _checked("apiUrl", normalize_ac_api_url, data.api_url, allow_private=allow_private)
    ac_key = _checked("apiKey", validate_api_key, data.api_key, service="ActiveCampaign")
    brevo_key = (
        _checked("brevoApiKey", validate_api_key, data.brevo_api_key, service="Brevo")
        if data.brevo_api_key
        else None
    )
    brevo_url = (
        _checked("brevoApiUrl", normalize_brevo_api_url, data.brevo_api_url, allow_private=allow_private)
        if data.brevo_api_url
        else None
    )
    options = data.options.model_dump(exclude_none=True) if data.options else {}
    if "default_phone_country" in options:
        options["default_phone_country"] = _country(options["default_phone_country"])
    switches = data.sync.model_dump(exclude_none=True) if data.sync else {}
    who = token.created_by

    with transaction.atomic():
        connection = (
            Connection.objects.select_for_update()
            .select_related("ac_account", "brevo_account")
            .filter(tenant_id=token.tenant_id, name=name)
            .first()
        )
        created = connection is None
        if created:
            if brevo_key is None:
                raise ApiProblem(
                    400,
                    "missing_field",
                    "'brevoApiKey' is required to create a connection.",
                    field="brevoApiKey",
                )
            plan = data.plan or "lite"
            ac = ActiveCampaignAccount(
                tenant_id=token.tenant_id,
                name=_free_name(ActiveCampaignAccount, token.tenant_id, name),
                api_url=ac_url,
                api_key=ac_key,
                plan=plan,
                requests_per_second=PLAN_RATES[plan],
            )
            brevo = BrevoAccount(
                tenant_id=token.tenant_id,
                name=_free_name(BrevoAccount, token.tenant_id, name),
                api_key=brevo_key,
                **({"api_url": brevo_url} if brevo_url else {}),
            )
            connection = Connection(tenant_id=token.tenant_id, name=name)
            _save(ac, who)
            _save(brevo, who)
            connection.ac_account, connection.brevo_account = ac, brevo
        else:
            ac, brevo = connection.ac_account, connection.brevo_account
            ac.api_url, ac.api_key = ac_url, ac_key
            if data.plan:
                ac.plan, ac.requests_per_second = data.plan, PLAN_RATES[data.plan]
            _save(ac, who)
            if brevo_key or brevo_url:
                brevo.api_key = brevo_key or brevo.api_key
                brevo.api_url = brevo_url or brevo.api_url
                _save(brevo, who)
        if data.enabled is not None:
            connection.enabled = data.enabled
        for key, value in options.items():
            setattr(connection, OPTION_FIELDS[key], value)
        for key, value in switches.items():
            setattr(connection, SWITCH_FIELDS[key], value)
        _save(connection, who)
    return connection, created


def _save(instance: Any, user: Any) -> None:
    # The audit history shows who made a change; through the API that is the token's creator.
    if user is not None:
        instance._history_user = user
    instance.save()


def _country(value: str) -> str:
    import phonenumbers

    code = value.upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ApiProblem(
            400,
            "invalid_field",
            f"'{value}' is not an ISO 3166 two-letter country code.",
            field="options.defaultPhoneCountry",
        )
    return code


def _free_name(model: type, tenant_id: int, base: str) -> str:
    taken = set(
        model.objects.filter(tenant_id=tenant_id, name__startswith=base).values_list("name", flat=True)
    )
    if base not in taken:
        return base
    number = 2
    while f"{base} ({number})" in taken:
        number += 1
    return f"{base} ({number})"


# ----------------------------------------------------------------------------- sync


def _ordered(names: list[str]) -> list[str]:
    return [name for name in RESOURCE_MODULES if name in set(names)]


def sync_start(*, connection: Connection, data: SyncIn, idempotency_key: str | None) -> tuple[SyncRun, bool]:
    """Start a run as the documentation's `connectors.sync(...)` does; returns (run, started now).

    With an Idempotency-Key, a repeated request returns the run the first one started; the same
    key with a different request is refused (422) rather than silently answered with another run.
    """
    mode = RunMode.FULL if data.type == "full" else RunMode.INCREMENTAL
    wanted = _ordered(list(data.resources or connection.enabled_resources()))
    key = idempotency_key or ""
    if key:
        existing = SyncRun.objects.select_related("connection").filter(
            connection=connection, idempotency_key=key
        )
        if (run := existing.first()) is not None:
            _same_request(run, mode=mode, resources=wanted, dry_run=data.dry_run)
            return run, False
    if not connection.enabled:
        raise ApiProblem(
            422, "connection_disabled", f"Connector '{connection.name}' is disabled; enable it first."
        )
    if not wanted:
        raise ApiProblem(
            422,
            "nothing_to_sync",
            "The connection syncs no resource; name resources or switch some on.",
            field="resources",
        )
    try:
        with transaction.atomic():
            run = sync_run_start(
                connection=connection,
                mode=mode,
                resources=wanted,
                dry_run=data.dry_run,
                trigger=Trigger.API,
                idempotency_key=key,
            )
            if data.options:
                _apply_options(connection, data.options)
    except RunAlreadyActive as exc:
        if key and exc.run.idempotency_key == key:  # a concurrent twin of this request won the race
            return exc.run, False
        raise ApiProblem(409, "run_in_progress", str(exc)) from None
    except UnknownResource as exc:
        raise ApiProblem(400, "unknown_resource", str(exc), field="resources") from None
    return run, True


def _same_request(run: SyncRun, *, mode: str, resources: list[str], dry_run: bool) -> None:
    if run.mode == mode and list(run.resources) == resources and run.dry_run == dry_run:
        return
    raise ApiProblem(
        422,
        "idempotency_key_reused",
        f"This Idempotency-Key already started run {run.pk} with other parameters; use a new key.",
        field="Idempotency-Key",
    )


def _apply_options(connection: Connection, options: SyncOptions) -> None:
    changed = []
    for key, value in options.model_dump(exclude_none=True).items():
        attr = OPTION_FIELDS[key]
        if getattr(connection, attr) != value:
            setattr(connection, attr, value)
            changed.append(attr)
    if changed:
        connection.save(update_fields=changed)


def run_cancel(*, run: SyncRun) -> SyncRun:
    if run.status == RunStatus.CANCELLED:
        return run  # cancelling twice is not an error: a retried request gets the same answer
    if run.status not in ACTIVE_STATUSES:
        raise ApiProblem(
            409, "run_not_active", f"Run {run.pk} has already finished ({run.status}); nothing to cancel."
        )
    return sync_run_cancel(run=run)


def run_retry(*, run: SyncRun) -> SyncRun:
    if run.status in ACTIVE_STATUSES:
        raise ApiProblem(
            409,
            "run_in_progress",
            f"Run {run.pk} is still {run.status}; retry its failed records when it ends.",
        )
    if not run.records.filter(outcome=Outcome.FAILED).exists():
        raise ApiProblem(422, "nothing_to_retry", f"Run {run.pk} has no failed records to retry.")
    try:
        return sync_run_retry_failed(run=run, trigger=Trigger.API)
    except RunAlreadyActive as exc:
        raise ApiProblem(409, "run_in_progress", str(exc)) from None


# ----------------------------------------------------------------------------- events


def event_forward_once(
    *, connection: Connection, event: str, event_data: Any, email: str, idempotency_key: str | None
) -> tuple[SyncRecord, bool]:
    """Forward one event unless this Idempotency-Key already did; returns (record, forwarded now).

    Brevo records every `POST /events` as a new event, so a retried request must not send twice.
    """
    if not connection.enabled:
        raise ApiProblem(
            422, "connection_disabled", f"Connector '{connection.name}' is disabled; enable it first."
        )
    request = _event_request(event, event_data, email)
    if not idempotency_key:
        return _event_send(_event_run(connection, request, Trigger.API, ""), request), True
    with transaction.atomic():
        # Serialises requests carrying a key on this connection, so two twins cannot both send.
        Connection.objects.select_for_update().filter(pk=connection.pk).first()
        earlier = (
            SyncRun.objects.filter(connection=connection, idempotency_key=idempotency_key)
            .order_by("-pk")
            .first()
        )
        if earlier is None:
            run = _event_run(connection, request, Trigger.API, idempotency_key)
    if earlier is None:
        return _event_send(run, request), True
    if earlier.mode != RunMode.SINGLE or (earlier.state or {}).get("request_hash") != _request_hash(request):
        raise ApiProblem(
            422,
            "idempotency_key_reused",
            f"This Idempotency-Key was already used for another request (run {earlier.pk}); use a new key.",
            field="Idempotency-Key",
        )
    record = earlier.records.order_by("-pk").first()
    if record is None:
        raise ApiProblem(
            409, "request_in_progress", "A request with this Idempotency-Key is still being processed."
        )
    return record, False


def event_forward(
    *,
    connection: Connection,
    event: str,
    event_data: Any,
    email: str,
    trigger: str = Trigger.API,
    idempotency_key: str = "",
) -> SyncRecord:
    """Map one tracked event through the connection's event mapping and send it to Brevo.

    It gets a short run of its own (mode "single") and one SyncRecord, like a webhook's record:
    created when Brevo took it, skipped when the event is not mapped or the email is unusable,
    failed with Brevo's reason otherwise.
    """
    request = _event_request(event, event_data, email)
    return _event_send(_event_run(connection, request, trigger, idempotency_key), request)


def _event_request(event: str, event_data: Any, email: str) -> dict[str, Any]:
    return {"event": event, "email": email, "eventData": event_data}


def _request_hash(request: dict[str, Any]) -> str:
    # A digest, not the body: enough to tell a retried request from a different one.
    return hashlib.sha256(orjson.dumps(request, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _event_run(
    connection: Connection, request: dict[str, Any], trigger: str, idempotency_key: str
) -> SyncRun:
    now = timezone.now()
    return SyncRun.objects.create(
        tenant_id=connection.tenant_id,
        connection=connection,
        mode=RunMode.SINGLE,
        resources=["events"],
        trigger=trigger,
        status=RunStatus.RUNNING,
        started_at=now,
        heartbeat_at=now,
        progress_total=1,
        idempotency_key=idempotency_key,
        state={"request_hash": _request_hash(request)},
    )


def _event_send(run: SyncRun, request: dict[str, Any]) -> SyncRecord:
    from connectors.exceptions import ApiError
    from connectors.services import brevo_client_for
    from connectors.sync.recorder import Recorder
    from mappings.records import SourceEvent
    from mappings.transforms import MappingSet, compile_mapping, transform_event

    connection = run.connection
    event, email, data = request["event"], request["email"], request["eventData"]
    recorder = Recorder(run, trigger=run.trigger)
    source_id = f"api-{run.pk}"
    mapping = MappingSet(events=tuple(_event_rules(connection, event)))
    if isinstance(data, str):
        text, properties = data, {}
    else:
        text, properties = (
            None,
            data if isinstance(data, dict) else ({} if data is None else {"eventdata": data}),
        )
    source = SourceEvent(
        kind="tracked",
        email=email,
        occurred_at=run.started_at,
        name=event,
        data=text,
        properties=properties,
        source_id=source_id,
    )
    result = transform_event(source, compile_mapping(mapping))
    if result.payload is None:
        recorder.record(
            "events",
            source_id,
            Outcome.SKIPPED,
            key=email,
            code=result.skip_code or "skipped",
            message=result.skip_reason or "",
        )
    else:
        body = result.payload.to_brevo()
        notes = "; ".join(f"{error.field}: {error.reason}" for error in result.errors)
        try:
            with brevo_client_for(connection) as brevo:
                brevo.create_event(
                    body["event_name"],
                    body["identifiers"],
                    event_properties=body.get("event_properties"),
                    event_date=body.get("event_date"),
                )
        except ApiError as exc:
            code = exc.code or type(exc).__name__
            recorder.record(
                "events",
                source_id,
                Outcome.FAILED,
                key=email,
                code=code,
                message=exc.operator_message,
                sent=body,
            )
        except Exception:  # one record's outcome, like a sync's: recorded, never a crashed request
            logger.exception("forwarding event of run %s failed", run.pk)
            recorder.record(
                "events",
                source_id,
                Outcome.FAILED,
                key=email,
                code="unexpected_error",
                message="Tajo could not send the event; the error has been logged.",
                sent=body,
            )
        else:
            recorder.record("events", source_id, Outcome.CREATED, key=email, message=notes, sent=body)
    failed = any(values.get("failed") for values in recorder.counters.values())
    with transaction.atomic():
        recorder.flush()
        run.counters = recorder.merged_counters(run.counters)
        run.progress_done = 1
        run.status = RunStatus.PARTIAL if failed else RunStatus.SUCCEEDED
        run.finished_at = timezone.now()
        run.save(update_fields=["counters", "progress_done", "status", "finished_at"])
    return run.records.order_by("-pk").first()


def _event_rules(connection: Connection, event: str) -> list[Any]:
    from mappings.models import EventMapping
    from mappings.transforms import EventRule

    rules = []
    for row in EventMapping.objects.filter(connection=connection, ac_event_name=event):
        try:
            rules.append(EventRule(ac_event_name=row.ac_event_name, brevo_event_name=row.brevo_event_name))
        except ValueError:
            # A row with an invalid Brevo name is reported by mapping validation; here it maps nothing.
            logger.warning("event mapping %s has an invalid Brevo event name", row.pk)
    return rules
