"""`activecampaign.trackEvent({event, eventData})`: one event through the mapping to Brevo, one record."""

from __future__ import annotations

import pytest

from connectors.models import RunMode, SyncRecord, SyncRun
from mappings.models import EventMapping
from mappings.services import catalog_discover
from sandbox.config import SandboxConfig
from sandbox.server import SandboxServer

from .conftest import error_of

pytestmark = pytest.mark.django_db

EVENTS = "/connectors/activecampaign/events"
MAPPED = "trial_started"  # an event name the sandbox account tracks


@pytest.fixture(scope="module")
def sandbox():
    with SandboxServer(SandboxConfig.fast(contacts=0)) as server:
        yield server


@pytest.fixture
def wired(world, sandbox, redis_url):
    """The world's connection pointed at the sandbox, discovered, with one event mapping."""
    ac, brevo = world.connection.ac_account, world.connection.brevo_account
    ac.api_url, ac.api_key = sandbox.ac_api_url, sandbox.ac_key
    ac.requests_per_second = 1000.0  # the sandbox has no limit; discovery need not be paced here
    ac.save()
    brevo.api_url, brevo.api_key = sandbox.brevo_api_url, sandbox.brevo_key
    brevo.save()
    catalog_discover(connection=world.connection)
    EventMapping.objects.create(
        tenant=world.tenant,
        connection=world.connection,
        ac_event_name=MAPPED,
        brevo_event_name="order_completed",
    )
    return world


def test_mapped_event_reaches_brevo_and_is_recorded(wired, sandbox) -> None:
    email = "buyer-1@example.org"
    response = wired.operator.post(
        EVENTS, {"event": MAPPED, "eventData": {"product": "Pro plan", "amount": 99.5}, "email": email}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    record = body["record"]
    assert record["outcome"] == "created", record
    assert record["key"] == email and record["resource"] == "events"
    assert record["sent"]["event_name"] == "order_completed"
    sent = sandbox.brevo.events_for(email)
    assert len(sent) == 1
    assert sent[0]["event_name"] == "order_completed"
    assert sent[0]["event_properties"] == {"product": "Pro plan", "amount": 99.5}
    run = SyncRun.objects.get(pk=body["runId"])
    assert (run.mode, run.trigger, run.status) == (RunMode.SINGLE, "api", "succeeded")
    assert run.counters == {"events": {"read": 1, "created": 1}}
    # The forwarded event counts in the documentation's status.
    assert wired.viewer.get("/connectors/activecampaign/status").json()["eventsSynced"] == 1


def test_text_event_data_is_kept_as_eventdata(wired, sandbox) -> None:
    email = "buyer-2@example.org"
    response = wired.operator.post(EVENTS, {"event": MAPPED, "eventData": "cart:1234", "email": email})
    assert response.json()["record"]["outcome"] == "created"
    assert sandbox.brevo.events_for(email)[0]["event_properties"] == {"eventdata": "cart:1234"}


def test_an_unmapped_event_is_forwarded_under_its_own_name(wired, sandbox) -> None:
    # The documentation's trackEvent forwards any event; an event mapping only renames it.
    response = wired.operator.post(EVENTS, {"event": "plan_upgraded", "email": "buyer-3@example.org"})
    assert response.status_code == 200
    record = response.json()["record"]
    assert record["outcome"] == "created", record
    assert [e["event_name"] for e in sandbox.brevo.events_for("buyer-3@example.org")] == ["plan_upgraded"]


def test_unusable_email_is_skipped(wired, sandbox) -> None:
    record = wired.operator.post(EVENTS, {"event": MAPPED, "email": "not-an-email"}).json()["record"]
    assert record["outcome"] in ("skipped", "failed") and record["errorCode"] in ("invalid_email", "no_email")
    assert record["message"]


def test_brevo_refusal_is_a_failed_record(wired) -> None:
    brevo = wired.connection.brevo_account
    brevo.api_key = "xkeysib-wrong-0000-key"
    brevo.save()
    response = wired.operator.post(EVENTS, {"event": MAPPED, "email": "buyer-4@example.org"})
    assert response.status_code == 200
    body = response.json()
    assert body["record"]["outcome"] == "failed" and body["record"]["message"]
    assert "xkeysib-wrong-0000-key" not in response.content.decode()
    assert SyncRun.objects.get(pk=body["runId"]).status == "partial"


def test_idempotency_key_forwards_once(wired, sandbox) -> None:
    email = "buyer-5@example.org"
    payload = {"event": MAPPED, "eventData": {"n": 1}, "email": email}
    first = wired.operator.post(EVENTS, payload, headers={"Idempotency-Key": "evt-1"})
    second = wired.operator.post(EVENTS, payload, headers={"Idempotency-Key": "evt-1"})
    assert first.json() == second.json()
    assert len(sandbox.brevo.events_for(email)) == 1
    other = wired.operator.post(
        EVENTS, {**payload, "eventData": {"n": 2}}, headers={"Idempotency-Key": "evt-1"}
    )
    assert other.status_code == 422
    assert error_of(other)["code"] == "idempotency_key_reused"
    assert len(sandbox.brevo.events_for(email)) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"eventData": {}, "email": "a@example.org"}, "event"),
        ({"event": MAPPED}, "email"),
        ({"event": "", "email": "a@example.org"}, "event"),
        ({"event": 7, "email": "a@example.org"}, "event"),
        ({"event": MAPPED, "email": ["a@example.org"]}, "email"),
        ({"event": MAPPED, "email": "a@example.org", "contact": "x"}, "contact"),
        ({"event": "trial\u0000started", "email": "a@example.org"}, "event"),
        ({"event": MAPPED, "email": "a@example.org", "eventData": {"k\u0000": 1}}, "eventData"),
        (
            {"event": MAPPED, "email": "a@example.org", "eventData": [[[[[[[[[[[[1]]]]]]]]]]]]},
            "eventData",
        ),
        ({"event": "e" * 256, "email": "a@example.org"}, "event"),
    ],
)
def test_bad_input_is_400_and_sends_nothing(world, body, field) -> None:
    response = world.operator.post(EVENTS, body)
    assert response.status_code == 400, response.content
    assert error_of(response)["field"] == field
    assert not SyncRecord.objects.exists()
    assert not SyncRun.objects.exists()


def test_lone_surrogate_is_400(world) -> None:
    response = world.operator.post(
        EVENTS, raw='{"event": "trial_started", "email": "a@example.org", "eventData": "\\ud800"}'
    )
    assert response.status_code == 400
    assert error_of(response)["field"] == "eventData"
    assert not SyncRun.objects.exists()


def test_list_event_data_travels_as_eventdata_text(wired, sandbox) -> None:
    email = "buyer-6@example.org"
    response = wired.operator.post(EVENTS, {"event": MAPPED, "eventData": [1, "two"], "email": email})
    assert response.json()["record"]["outcome"] == "created"
    assert sandbox.brevo.events_for(email)[0]["event_properties"] == {"eventdata": '[1,"two"]'}


def test_connection_without_valid_mappings_is_422(world) -> None:
    # Never discovered: the mappings cannot be checked, so nothing is sent and the caller is told why.
    response = world.operator.post(EVENTS, {"event": MAPPED, "email": "a@example.org"})
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "mapping_invalid" and "discovery" in error["message"]
    assert not SyncRecord.objects.exists()


def test_disabled_connection_is_422(wired, sandbox) -> None:
    wired.connection.enabled = False
    wired.connection.save()
    response = wired.operator.post(EVENTS, {"event": MAPPED, "email": "buyer-7@example.org"})
    assert response.status_code == 422
    assert error_of(response)["code"] == "connection_disabled"
    assert sandbox.brevo.events_for("buyer-7@example.org") == []
