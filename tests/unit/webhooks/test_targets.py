"""Which records one event is applied to, and the hint each gets (no database)."""

from __future__ import annotations

from connectors.models import Connection
from connectors.webhooks.models import WebhookEvent
from connectors.webhooks.services import _hint_for, event_targets

HINT = {
    "event": "deal_update",
    "modified_at": "2024-05-22T08:01:10-05:00",
    "contact_id": 2381,
    "deal_id": 412,
}


def deal_event() -> WebhookEvent:
    return WebhookEvent(event_type="deal_update", resource="deals", source_id="412")


def test_contact_events_touch_one_record() -> None:
    event = WebhookEvent(event_type="update", resource="contacts", source_id="7")
    assert event_targets(event, Connection(), {"contact_id": None}) == [("contacts", "7")]
    automation = WebhookEvent(event_type="automation_contact_add", resource="automations", source_id="7:4")
    assert event_targets(automation, Connection(), {}) == [("automations", "7:4")]


def test_deal_event_writes_the_contacts_deal_attributes_then_the_crm_deal_where_configured() -> None:
    assert event_targets(deal_event(), Connection(deals_as_crm_objects=False), HINT) == [("contacts", "2381")]
    assert event_targets(deal_event(), Connection(deals_as_crm_objects=True), HINT) == [
        ("contacts", "2381"),
        ("deals", "412"),
    ]
    # No contact to write (or contacts off): the deal itself records where its data went.
    assert event_targets(deal_event(), Connection(), {**HINT, "contact_id": None}) == [("deals", "412")]
    assert event_targets(deal_event(), Connection(sync_contacts=False), HINT) == [("deals", "412")]


def test_the_deal_time_is_not_passed_as_the_contacts_modification_time() -> None:
    contact_hint = _hint_for("contacts", deal_event(), HINT)
    assert contact_hint["modified_at"] is None
    assert contact_hint["deal_modified_at"] == HINT["modified_at"]
    assert _hint_for("deals", deal_event(), HINT) is HINT
