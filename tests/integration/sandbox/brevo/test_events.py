"""Brevo simulator events: recording, contact creation, validation, batches (reference §5)."""

from __future__ import annotations

import pytest

from tests.integration.sandbox.brevo.helpers import make

# ---------------------------------------------------------------- events


def test_event_recorded_and_contact_properties_applied(api):
    sim, client = api
    client.post("/contacts", json={"email": "li@example.net"})
    response = client.post(
        "/events",
        json={
            "event_name": "subscription_renewed",
            "event_date": "2026-02-10T08:30:00+01:00",
            "identifiers": {"email_id": "LI@example.net"},
            "contact_properties": {"FIRSTNAME": "Li"},
            "event_properties": {"amount": 49.0, "renewal": {"period": "monthly", "auto": True}},
        },
    )
    assert response.status_code == 204 and response.content == b""
    events = sim.events_for("li@example.net")
    assert len(events) == 1 and events[0]["event_properties"]["renewal"]["auto"] is True
    assert sim.contact_by_email("li@example.net")["attributes"]["FIRSTNAME"] == "Li"
    # Events are not idempotent: the same body twice is two events.
    client.post(
        "/events", json={"event_name": "subscription_renewed", "identifiers": {"email_id": "li@example.net"}}
    )
    assert len(sim.events_for("li@example.net")) == 2


def test_event_for_an_unknown_identifier_creates_the_contact_unless_configured(api):
    sim, client = api
    assert (
        client.post(
            "/events", json={"event_name": "x", "identifiers": {"email_id": "new@example.net"}}
        ).status_code
        == 204
    )
    assert sim.contact_by_email("new@example.net") is not None
    _, strict = make(events_create_contacts=False)
    response = strict.post(
        "/events", json={"event_name": "x", "identifiers": {"email_id": "new@example.net"}}
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"identifiers": {"email_id": "a@example.org"}}, "event_name"),
        ({"event_name": "has space", "identifiers": {"email_id": "a@example.org"}}, "event_name"),
        ({"event_name": "x" * 256, "identifiers": {"email_id": "a@example.org"}}, "event_name"),
        ({"event_name": "ok", "identifiers": {}}, "identifiers"),
        ({"event_name": "ok", "identifiers": {"sms": "+33612345678"}}, "identifiers"),
        ({"event_name": "ok", "identifiers": {"email_id": "nope"}}, "email_id"),
        (
            {"event_name": "ok", "identifiers": {"email_id": "a@example.org"}, "event_date": "yesterday"},
            "event_date",
        ),
        ({"event_name": "ok", "identifiers": {"ext_id": "1"}, "event_properties": {"bad key": 1}}, "keys"),
        (
            {
                "event_name": "ok",
                "identifiers": {"ext_id": "1"},
                "event_properties": {"nested": {"deep key!": 1}},
            },
            "keys",
        ),
        (
            {"event_name": "ok", "identifiers": {"ext_id": "1"}, "event_properties": {"blob": "x" * 52_000}},
            "50KB",
        ),
        (
            {"event_name": "ok", "identifiers": {"ext_id": "1"}, "contact_properties": {"LIST": [1]}},
            "contact_properties",
        ),
    ],
)
def test_event_validation(api, body, fragment):
    sim, client = api
    response = client.post("/events", json=body)
    assert response.status_code == 400 and fragment in response.json()["message"]
    assert sim.counts()["events"] == 0


def test_event_batch_accepts_both_shapes(api):
    sim, client = api
    good = {"event_name": "ok", "identifiers": {"ext_id": "1"}}
    assert client.post("/events/batch", json=[good, good]).status_code == 202
    mixed = client.post("/events/batch", json={"events": [good, {"event_name": "bad name"}]})
    assert mixed.status_code == 207
    assert mixed.json()["successful_events"] == 1 and mixed.json()["errors"][0]["eventIndex"] == [1]
    assert sim.counts()["events"] == 3
