"""The webhook parser on every named sample, and on bodies that must be refused with a reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.webhooks.parsing import (
    EVENT_MODELS,
    MAX_FIELDS,
    AutomationContactAdded,
    AutomationContactCompleted,
    ContactAdded,
    ContactUnsubscribed,
    ContactUpdated,
    DealAdded,
    DealTaskAdded,
    DealUpdated,
    IgnoredEvent,
    TagAdded,
    TagRemoved,
    WebhookParseError,
    decode_form,
    dedup_key,
    nest_fields,
    parse_webhook,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "webhooks"
CDT = timezone(timedelta(hours=-5))


def sample(name: str) -> bytes:
    return (FIXTURES / f"{name}.txt").read_bytes()


def test_every_handled_event_has_a_sample() -> None:
    names = {p.stem for p in FIXTURES.glob("*.txt")}
    assert set(EVENT_MODELS) <= names


@pytest.mark.parametrize("name", sorted(p.stem for p in FIXTURES.glob("*.txt")))
def test_every_sample_parses(name: str) -> None:
    query = {"type": "automation_contact_add"} if name == "automation_webhook_action" else None
    parsed = parse_webhook(sample(name), query=query)
    assert parsed.event.type
    assert len(parsed.dedup_key) == 64


def test_update_sample_is_the_reference_example() -> None:
    event = parse_webhook(sample("update")).event
    assert isinstance(event, ContactUpdated)
    assert event.date_time == datetime(2024, 5, 21, 10, 14, 32, tzinfo=CDT)
    assert event.initiated_from == "admin" and event.initiated_by == "admin"
    assert event.list_id is None  # "0" = not list-scoped
    assert event.customer_acct_id == 44
    contact = event.contact
    assert contact.id == 2381
    assert contact.email == "maria.lopez@example.org"
    assert contact.phone == "+15125550143"
    assert contact.tags == ["vip", "wholesale"]  # one comma-separated string on the wire
    # Custom fields stay keyed by field id (a qs-style parser would have made a list of them).
    assert contact.fields == {"3": "Austin", "5": "Gold", "7": "2024-05-01"}
    assert event.resource == "contacts" and event.source_id == "2381"
    assert event.hint() == {
        "event": "update",
        "modified_at": "2024-05-21T10:14:32-05:00",
        "source": "admin",
        "list_id": None,
        "email": "maria.lopez@example.org",
    }


def test_subscribe_is_list_scoped() -> None:
    event = parse_webhook(sample("subscribe")).event
    assert isinstance(event, ContactAdded)
    assert event.list_id == 3
    assert event.hint()["list_id"] == 3


def test_unsubscribe_hint_says_unsubscribed() -> None:
    event = parse_webhook(sample("unsubscribe")).event
    assert isinstance(event, ContactUnsubscribed)
    assert event.unsubscribe is not None and event.unsubscribe.reason == "Too many emails"
    assert event.hint()["unsubscribed"] is True
    assert event.hint()["list_id"] == 3
    assert event.initiated_from == "public"


@pytest.mark.parametrize(
    ("name", "model", "tag"),
    [
        ("contact_tag_added", TagAdded, "vip"),
        ("contact_tag_removed", TagRemoved, "wholesale"),
    ],
)
def test_tag_events_carry_the_tag_name(name: str, model: type, tag: str) -> None:
    event = parse_webhook(sample(name)).event
    assert isinstance(event, model)
    assert event.tag == tag
    assert event.hint()["tag"] == tag
    assert event.resource == "contacts" and event.source_id == "2381"


def test_deal_events() -> None:
    added = parse_webhook(sample("deal_add")).event
    assert isinstance(added, DealAdded)
    assert added.resource == "deals" and added.source_id == "412"
    deal = added.deal
    assert (deal.stageid, deal.stage_title, deal.pipelineid, deal.pipeline_title) == (
        2,
        "Proposal",
        1,
        "Sales",
    )
    assert deal.value == "250000" and deal.currency == "usd"  # cents, as AC's API
    assert deal.owner == 1 and deal.contactid == 2381
    assert deal.create_date == datetime(2024, 5, 20, 9, 12)  # offset-less: kept naive
    assert added.key == "maria.lopez@example.org"
    assert added.hint()["stage_id"] == 2 and added.hint()["contact_id"] == 2381

    updated = parse_webhook(sample("deal_update")).event
    assert isinstance(updated, DealUpdated)
    assert updated.deal.stageid == 3 and updated.deal.stage_title == "Won"

    task = parse_webhook(sample("deal_task_add")).event
    assert isinstance(task, DealTaskAdded)
    assert task.task is not None and task.task.title == "Call back" and task.task.id == 88
    assert task.source_id == "412"


@pytest.mark.parametrize(
    ("name", "model", "completed"),
    [
        ("automation_contact_add", AutomationContactAdded, False),
        ("automation_contact_complete", AutomationContactCompleted, True),
    ],
)
def test_automation_events(name: str, model: type, completed: bool) -> None:
    event = parse_webhook(sample(name)).event
    assert isinstance(event, model)
    assert event.resource == "automations"
    assert event.source_id == "2381:4"
    assert event.automation.name == "Welcome series"
    assert event.hint()["completed"] is completed
    assert event.hint()["automation_id"] == 4


def test_automation_webhook_action_takes_event_and_automation_from_the_url() -> None:
    body = sample("automation_webhook_action")
    with pytest.raises(WebhookParseError, match="no event type"):
        parse_webhook(body)
    event = parse_webhook(body, query={"type": "automation_contact_complete", "automation": "9"}).event
    assert isinstance(event, AutomationContactCompleted)
    assert event.source_id == "2381:9"
    # Without ?automation= the body's seriesid names it.
    event = parse_webhook(body, query={"type": "automation_contact_add"}).event
    assert event.source_id == "2381:4"


def test_query_type_never_overrides_the_body() -> None:
    event = parse_webhook(sample("update"), query={"type": "unsubscribe"}).event
    assert isinstance(event, ContactUpdated)


def test_known_but_unsynced_event_is_ignored_not_refused() -> None:
    parsed = parse_webhook(sample("open"))
    assert isinstance(parsed.event, IgnoredEvent)
    assert not parsed.handled
    assert parsed.fields["campaign"]["message"]["subject"] == "Fresh bread"


def test_perstag_fields_and_offsetless_date() -> None:
    event = parse_webhook(sample("update_perstag_fields")).event
    assert event.contact.fields == {"member_id": "A-77", "plan_tier": "gold"}
    assert event.contact.tags == []
    assert event.date_time == datetime(2024, 5, 21, 10, 14, 32)
    # A naive instant cannot be ordered against AC's udate: no modified_at in the hint.
    assert event.hint()["modified_at"] is None


def test_utc_date_is_kept_aware() -> None:
    body = b"type=update&date_time=2024-05-21T15%3A14%3A32Z&contact%5Bid%5D=7"
    assert parse_webhook(body).event.date_time == datetime(2024, 5, 21, 15, 14, 32, tzinfo=UTC)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty body"),
        (b"   \n", "empty body"),
        (b"\xff\xfe\x00", "not UTF-8"),
        (b"type=update&contact%5Bid%5D=1&contact%5Bem", "has no '='"),  # truncated mid-key
        (b'{"type": "update"}', "has no '='"),  # JSON is not what AC sends
        (b"contact%5Bid%5D=1", "no event type"),
        (b"type=&contact%5Bid%5D=1", "no event type"),
        (b"type=contact_deleted&contact%5Bid%5D=1", "unknown event type 'contact_deleted'"),
        (b"type=update", "contact: missing"),
        (b"type=update&contact%5Bemail%5D=a%40b.c", "contact[id]: missing"),
        (b"type=update&contact%5Bid%5D=abc", "contact[id]: expected a numeric id"),
        (b"type=update&contact%5Bid%5D=-4", "expected a numeric id"),
        (b"type=update&contact%5Bid%5D=1&date_time=yesterday", "date_time: not a date and time"),
        (b"type=update&type=subscribe&contact%5Bid%5D=1", "given more than once"),
        (b"type=update&contact=1&contact%5Bid%5D=1", "conflicts"),
        (b"type=update&contact%5Bid%5D=1&contact%5Bid%5D%5Bx%5D=2", "conflicts"),
        (b"type=update&contact%5Bid=1", "malformed field name"),
        (b"type=update&contact%5Bid%5D=1&a%5Bb%5D%5Bc%5D%5Bd%5D%5Be%5D=1", "nested deeper"),
        (b"type=contact_tag_added&contact%5Bid%5D=1", "tag: missing"),
        (b"type=deal_update&deal%5Btitle%5D=x", "deal[id]: missing"),
        (b"type=automation_contact_add&contact%5Bid%5D=1", "automation: missing"),
        (b"type=update&contact%5Bid%5D=1&contact%5Bfields%5D=flat", "expected contact[fields]"),
        (b"type=update&contact%5Bid%5D=1&contact%5Bfields%5D%5B3%5D%5Bx%5D=1", "single string"),
    ],
)
def test_bad_bodies_are_refused_with_a_reason(body: bytes, reason: str) -> None:
    with pytest.raises(WebhookParseError) as info:
        parse_webhook(body)
    assert reason in info.value.reason


def test_too_many_fields() -> None:
    body = "&".join(f"contact%5Bfields%5D%5B{i}%5D=x" for i in range(MAX_FIELDS + 1)).encode()
    with pytest.raises(WebhookParseError, match="more than"):
        parse_webhook(b"type=update&contact%5Bid%5D=1&" + body)


def test_nest_fields_keeps_numeric_keys_and_builds_lists() -> None:
    nested = nest_fields(
        [("contact[fields][27]", "a"), ("contact[fields][3]", "b"), ("x[]", "1"), ("x[]", "2")]
    )
    assert nested == {"contact": {"fields": {"27": "a", "3": "b"}}, "x": ["1", "2"]}


def test_dedup_key_ignores_field_order_but_not_values() -> None:
    pairs = decode_form(sample("update"))
    assert dedup_key(pairs) == dedup_key(list(reversed(pairs)))
    changed = [(k, "Dallas" if k == "contact[fields][3]" else v) for k, v in pairs]
    assert dedup_key(changed) != dedup_key(pairs)
    assert parse_webhook(sample("update")).dedup_key == parse_webhook(sample("update")).dedup_key


# NUL is refused as a whole body (PostgreSQL cannot store it); that has its own test.
_text = st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=30)


@given(
    fields=st.dictionaries(st.from_regex(r"[0-9a-z_]{1,12}", fullmatch=True), _text, max_size=20),
    tags=st.lists(st.from_regex(r"[a-z][a-z0-9 ]{0,10}[a-z0-9]", fullmatch=True), max_size=5),
    email=_text,
)
def test_round_trip_of_any_contact(fields: dict[str, str], tags: list[str], email: str) -> None:
    pairs = [
        ("type", "update"),
        ("contact[id]", "12"),
        ("contact[email]", email),
        ("contact[tags]", ", ".join(tags)),
    ] + [(f"contact[fields][{k}]", v) for k, v in fields.items()]
    event = parse_webhook(urlencode(pairs).encode()).event
    assert event.contact.fields == fields
    assert event.contact.email == email
    assert event.contact.tags == [t.strip() for t in tags if t.strip()]


@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_crash(body: bytes) -> None:
    try:
        parse_webhook(body)
    except WebhookParseError as exc:
        assert exc.reason


@pytest.mark.parametrize(
    ("tajo", "ac"),
    [
        ("contact_add", "subscribe"),
        ("contact_update", "update"),
        ("contact_tag_added", "contact_tag_added"),
        ("contact_tag_removed", "contact_tag_removed"),
        ("deal_add", "deal_add"),
        ("deal_update", "deal_update"),
    ],
)
def test_the_documentations_event_names_parse_as_acs(tajo: str, ac: str) -> None:
    from connectors.webhooks.parsing import ac_event_name, tajo_event_name

    body = f"type={tajo}&contact[id]=7&contact[email]=a%40example.org&tag=vip&deal[id]=3".encode()
    parsed = parse_webhook(body)
    assert parsed.handled and parsed.event.type == ac
    assert (ac_event_name(tajo), tajo_event_name(ac)) == (ac, tajo)


def test_deal_tasktype_add_with_a_deal_is_a_deal_task_and_without_one_is_ignored() -> None:
    with_deal = parse_webhook(b"type=deal_tasktype_add&deal[id]=3&task[title]=Call")
    assert with_deal.handled and with_deal.event.type == "deal_task_add"
    account_event = parse_webhook(b"type=deal_tasktype_add&tasktype[title]=Call")
    assert not account_event.handled


def test_registration_takes_either_name() -> None:
    from connectors.webhooks.parsing import registrable_event

    assert registrable_event("contact_add") == "subscribe"
    assert registrable_event("deal_tasktype_add") == "deal_task_add"
    assert registrable_event("subscribe") == "subscribe"
    assert registrable_event("automation_contact_add") is None  # sent by an automation action
    assert registrable_event("open") is None
