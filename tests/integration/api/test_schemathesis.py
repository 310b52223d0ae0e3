"""Property-based test of the whole API against its own OpenAPI document.

Schemathesis reads `/api/v1/openapi.json` (exactly as served) and sends generated requests,
valid and invalid, over real HTTP to a live server backed by PostgreSQL, with an operator
token. For every operation it checks: no 5xx, only documented status codes and content types,
every body matches the documented schema, invalid input is refused, valid input is not refused
except with the API's documented business answers, and unsupported methods get 405.

Kept bounded: a few examples per operation. The connection is discovered once against the
sandbox (so its mappings are valid and events can be forwarded); afterwards every outbound call
to ActiveCampaign or Brevo goes to an in-process transport that answers at once, and enqueueing
run jobs is switched off: the subject is Tajo's own API, not the providers or the workers.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis.config._checks import (
    POSITIVE_DATA_ACCEPTANCE_EXPECTED_STATUSES,
    PositiveDataAcceptanceConfig,
)

from connectors import clients as connector_clients
from connectors import services as connector_services
from connectors.api.services import api_token_create
from connectors.models import Outcome, RunStatus
from mappings.models import EventMapping
from mappings.services import catalog_discover
from sandbox.config import SandboxConfig
from sandbox.server import SandboxServer
from tests.factories import ConnectionFactory, SyncRecordFactory, SyncRunFactory, TenantFactory

pytestmark = pytest.mark.django_db(transaction=True)

MAX_EXAMPLES = 8

# The document exactly as served; it needs no database, so it is read once at collection.
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
# Valid-looking input can still be refused on meaning: an API URL that is not an ActiveCampaign
# host or a cursor Tajo never issued (400); a disabled connection or an Idempotency-Key reused for
# another request (422).
schema.config.checks.positive_data_acceptance = PositiveDataAcceptanceConfig(
    expected_statuses=[*POSITIVE_DATA_ACCEPTANCE_EXPECTED_STATUSES, "400", "422"]
)


def _provider(request: httpx.Request) -> httpx.Response:
    if request.method == "POST" and request.url.path.endswith("/events"):
        return httpx.Response(204)
    return httpx.Response(401, json={"code": "unauthorized", "message": "Key not found"})


@dataclass
class Seeded:
    token: str
    run_ids: list[int]


@pytest.fixture(scope="module")
def sandbox():
    with SandboxServer(SandboxConfig.fast(contacts=0)) as server:
        yield server


@pytest.fixture
def seeded(monkeypatch, settings, sandbox, redis_url) -> Seeded:
    settings.TAJO_API_RATE_LIMIT = 100_000
    tenant = TenantFactory(name="Schema tenant")
    connection = ConnectionFactory(tenant=tenant, name="activecampaign")
    ac, brevo = connection.ac_account, connection.brevo_account
    ac.api_url, ac.api_key, ac.requests_per_second = sandbox.ac_api_url, sandbox.ac_key, 1000.0
    ac.save()
    brevo.api_url, brevo.api_key = sandbox.brevo_api_url, sandbox.brevo_key
    brevo.save()
    catalog_discover(connection=connection)
    EventMapping.objects.create(
        tenant=tenant, connection=connection, ac_event_name="trial_started", brevo_event_name="trial_started"
    )
    partial = SyncRunFactory(
        tenant=tenant,
        connection=connection,
        status=RunStatus.PARTIAL,
        resources=["contacts"],
        counters={"contacts": {"read": 2, "created": 1, "failed": 1}},
    )
    SyncRecordFactory(tenant=tenant, run=partial, outcome=Outcome.CREATED)
    SyncRecordFactory(tenant=tenant, run=partial, outcome=Outcome.FAILED)
    succeeded = SyncRunFactory(tenant=tenant, connection=connection, status=RunStatus.SUCCEEDED)
    _, raw = api_token_create(tenant=tenant, name="fuzz", role="operator")

    transport = httpx.MockTransport(_provider)
    real_ac, real_brevo = connector_clients.ac_client_for, connector_clients.brevo_client_for
    monkeypatch.setattr(
        connector_clients, "ac_client_for", lambda c, **kw: real_ac(c, transport=transport, **kw)
    )
    monkeypatch.setattr(
        connector_clients, "brevo_client_for", lambda c, **kw: real_brevo(c, transport=transport, **kw)
    )
    monkeypatch.setattr(connector_services, "enqueue_slice", lambda run_id, **kw: None)
    return Seeded(token=raw, run_ids=[partial.pk, succeeded.pk])


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case, live_server, seeded: Seeded) -> None:
    # Generated names and ids rarely hit the seeded objects; valid cases are steered onto them so
    # the operations' logic runs, not only their 404 answers.
    params = case.path_parameters or {}
    if case.meta.generation.mode.is_positive:
        if "connector" in params:
            params["connector"] = "activecampaign"
        if isinstance(params.get("run_id"), int):
            params["run_id"] = seeded.run_ids[params["run_id"] % len(seeded.run_ids)]
    case.call_and_validate(base_url=live_server.url, headers={"Authorization": f"Bearer {seeded.token}"})
