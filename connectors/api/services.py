"""State changes the API makes. Each view gathers input and calls one of these.

Runs are started, cancelled and retried by `connectors.services`, whose rules raise domain
errors (`connectors.exceptions`) that `connectors.api.errors` answers from one table; what is
here is only what the API adds: tokens, the documentation's `connect` (accounts + connection in
one call), the `sync` body read into a run start, and idempotent event forwarding.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import orjson
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from redis.exceptions import LockError

from connectors import queues
from connectors.api.models import ApiToken, ApiTokenRole
from connectors.exceptions import (
    ApiError,
    ConnectionDisabled,
    IdempotencyKeyReused,
    InvalidValue,
    MappingInvalid,
    MissingValue,
    RequestInProgress,
)
from connectors.models import (
    ActiveCampaignAccount,
    BrevoAccount,
    Connection,
    RunMode,
    SyncRecord,
    SyncRun,
    Trigger,
)
from connectors.services import account_upsert, connection_save, event_forward, sync_run_start
from connectors.validators import normalize_ac_api_url, normalize_brevo_api_url, validate_api_key
from tenants.models import Tenant

if TYPE_CHECKING:
    # The request shapes only: the services read their fields and never build one.
    from connectors.api.schemas import ConnectIn, SyncIn

logger = logging.getLogger(__name__)

# What the audit history says about changes made by `connect` (the token's creator is the user).
CONNECT_REASON = "API connect"

# API field name -> Connection field, for the documentation's options and the YAML sync switches.
OPTION_FIELDS = {
    "include_tags": "include_tags",
    "include_custom_fields": "include_custom_fields",
    "include_scores": "include_scores",
    "include_list_memberships": "include_list_memberships",
    "deals_as_crm_objects": "deals_as_crm_objects",
    "default_phone_country": "default_phone_country",
    "tags_attribute": "tags_attribute",
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
        raise InvalidValue(" ".join(exc.messages), field=field) from None


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
    if "tags_attribute" in options:
        options["tags_attribute"] = options["tags_attribute"].upper()
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
        existing_brevo = None
        if created and brevo_key is None:
            # The documented connect body is {apiUrl, apiKey}: the SDK adds the client's
            # brevoApiKey; without one, the tenant's only Brevo account serves.
            accounts = list(BrevoAccount.objects.filter(tenant_id=token.tenant_id)[:2])
            existing_brevo = accounts[0] if len(accounts) == 1 else None
        if created and brevo_key is None and existing_brevo is None:
            raise MissingValue(
                "'brevoApiKey' is required to create a connection (give it in the body, or as the "
                "SDK client's brevoApiKey, or add one Brevo account to the tenant first).",
                field="brevoApiKey",
            )
        ac = account_upsert(
            model=ActiveCampaignAccount,
            tenant_id=token.tenant_id,
            account=None if created else connection.ac_account,
            name=name,
            api_url=ac_url,
            api_key=ac_key,
            plan=data.plan,
            user=who,
            reason=CONNECT_REASON,
        )
        brevo = existing_brevo or account_upsert(
            model=BrevoAccount,
            tenant_id=token.tenant_id,
            account=None if created else connection.brevo_account,
            name=name,
            api_url=brevo_url,
            api_key=brevo_key,
            user=who,
            reason=CONNECT_REASON,
        )
        if created:
            connection = Connection(tenant_id=token.tenant_id, name=name)
        values: dict[str, Any] = {"ac_account": ac, "brevo_account": brevo}
        if data.enabled is not None:
            values["enabled"] = data.enabled
        values.update({OPTION_FIELDS[key]: value for key, value in options.items()})
        values.update({SWITCH_FIELDS[key]: value for key, value in switches.items()})
        connection_save(connection=connection, values=values, user=who, reason=CONNECT_REASON)
    return connection, created


def connection_discover(
    *, connection: Connection, created: bool, replicate: Iterable[str] = ()
) -> dict[str, Any]:
    """Read both catalogs after a passing connect, so that `sync` works with nothing else.

    A new connection also gets the documentation's default field mappings; `replicate`
    ("lists", "tags") maps AC's lists and tags onto Brevo lists of their names. A discovery
    that fails says why in the answer; the connection stays as stored.
    """
    from mappings.exceptions import DiscoveryFailed
    from mappings.rows import mapping_structure_replicate
    from mappings.services import catalog_discover_with_defaults, mapping_defaults_apply

    try:
        catalog, mapped = catalog_discover_with_defaults(connection=connection)
    except (DiscoveryFailed, ApiError) as exc:
        message = exc.operator_message if isinstance(exc, ApiError) else str(exc)
        return {"ok": False, "counts": {}, "errors": {"discovery": message}, "mapped": []}
    if created:
        mapping_defaults_apply(connection=connection)
    # Kinds a plan does not offer (custom objects, say) are listed in errors; the sync still works.
    errors = dict(catalog.errors or {})
    kinds = [{"lists": "list", "tags": "tag"}[name] for name in dict.fromkeys(replicate)]
    if kinds:
        try:
            mapped += mapping_structure_replicate(connection=connection, kinds=kinds, reason=CONNECT_REASON)
        except (ValueError, ApiError) as exc:
            errors["replicate"] = exc.operator_message if isinstance(exc, ApiError) else str(exc)
    return {"ok": True, "counts": dict(catalog.counts or {}), "errors": errors, "mapped": mapped}


def _country(value: str) -> str:
    import phonenumbers

    code = value.upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidValue(
            f"'{value}' is not an ISO 3166 two-letter country code.",
            field="options.defaultPhoneCountry",
        )
    return code


# ----------------------------------------------------------------------------- sync


def sync_start(*, connection: Connection, data: SyncIn, idempotency_key: str | None) -> SyncRun:
    """Start a run as the documentation's `connectors.sync(...)` does (the rules: sync_run_start).

    With an Idempotency-Key, a repeated request returns the run the first one started; the same
    key with a different request is refused rather than silently answered with another run.
    """
    options = data.options.model_dump(exclude_none=True) if data.options else {}
    return sync_run_start(
        connection=connection,
        mode=RunMode.FULL if data.type == "full" else RunMode.INCREMENTAL,
        resources=list(data.resources or []),
        dry_run=data.dry_run,
        trigger=Trigger.API,
        idempotency_key=idempotency_key or "",
        connection_options={OPTION_FIELDS[key]: value for key, value in options.items()},
    )


# ----------------------------------------------------------------------------- events

KEY_LOCK_SECONDS = 120


def event_forward_once(
    *, connection: Connection, event: str, event_data: Any, email: str, idempotency_key: str | None
) -> tuple[SyncRecord, bool]:
    """Forward one event (`connectors.services.event_forward`); returns (record, forwarded now).

    Brevo records every `POST /events` as a new event, so with an Idempotency-Key a retried
    request gets the first request's record instead of a second event. Twins racing each other
    are kept apart by a short Redis lock, never by a transaction held open across the HTTP call.
    """
    if not connection.enabled:
        raise ConnectionDisabled(connection)
    digest = _request_hash({"event": event, "email": email, "eventData": event_data})
    if not idempotency_key:
        return _forward(connection, event, event_data, email), True
    if (earlier := _keyed_run(connection, idempotency_key)) is not None:
        return _replay(earlier, digest), False
    lock = _key_lock(connection, idempotency_key)
    if not lock.acquire(blocking=False):
        raise RequestInProgress()
    try:
        if (earlier := _keyed_run(connection, idempotency_key)) is not None:
            return _replay(earlier, digest), False
        record = _forward(connection, event, event_data, email)
        run = SyncRun.objects.get(pk=record.run_id)
        run.idempotency_key = idempotency_key
        run.state = {**(run.state or {}), "request_hash": digest}
        run.save(update_fields=["idempotency_key", "state"])
        return record, True
    finally:
        # The lock may have expired meanwhile (a very slow Brevo); there is nothing left to release then.
        with contextlib.suppress(LockError):
            lock.release()


def _forward(connection: Connection, event: str, event_data: Any, email: str) -> SyncRecord:
    if event_data is not None and not isinstance(event_data, str | dict):
        event_data = orjson.dumps(event_data).decode()  # lists and numbers travel as eventdata text
    newest = (
        SyncRun.objects.filter(connection=connection).order_by("-pk").values_list("pk", flat=True).first()
    )
    record = event_forward(
        connection=connection, event=event, event_data=event_data, email=email, trigger=Trigger.API
    )
    if record is not None:
        return record
    # No record: the connection's mappings are not valid; the run that tried says why.
    failed = (
        SyncRun.objects.filter(
            connection=connection, pk__gt=newest or 0, mode=RunMode.SINGLE, trigger=Trigger.API
        )
        .order_by("-pk")
        .first()
    )
    reason = (
        failed.error if failed is not None and failed.error else "The connection's mappings are not valid."
    )
    raise MappingInvalid(reason)


def _keyed_run(connection: Connection, key: str) -> SyncRun | None:
    return SyncRun.objects.filter(connection=connection, idempotency_key=key).order_by("-pk").first()


def _replay(run: SyncRun, digest: str) -> SyncRecord:
    record = run.records.order_by("-pk").first()
    if run.mode != RunMode.SINGLE or (run.state or {}).get("request_hash") != digest or record is None:
        raise IdempotencyKeyReused(
            f"This Idempotency-Key was already used for another request (run {run.pk}); use a new key.",
            run=run,
        )
    return record


def _request_hash(request: dict[str, Any]) -> str:
    # A digest, not the body: enough to tell a retried request from a different one.
    return hashlib.sha256(orjson.dumps(request, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _key_lock(connection: Connection, key: str) -> Any:
    name = f"tajo:api:idem:{connection.pk}:{hashlib.sha256(key.encode()).hexdigest()}"
    return queues.redis_connection().lock(name, timeout=KEY_LOCK_SECONDS)
