"""BrevoClient against the Brevo simulator over real loopback HTTP (sandbox.server)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from connectors.exceptions import AuthError, NotFoundError, RateLimited, ValidationFailed
from connectors.providers.brevo import BrevoClient, brevo_limiters
from connectors.providers.brevo.errors import IP_BLOCKED, KEY_REJECTED
from connectors.providers.http.retry import RetryPolicy
from sandbox.config import SandboxConfig
from sandbox.server import SandboxServer
from sandbox.stats import max_in_window


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxConfig.fast(contacts=0)) as sandbox:
        yield sandbox


@pytest.fixture
def sb(server: SandboxServer) -> Iterator[SandboxServer]:
    server.brevo.set_limits(None)
    server.brevo.ip_blocked = False
    yield server
    server.brevo.set_limits(None)
    server.brevo.ip_blocked = False


def client_for(sb: SandboxServer, **kwargs) -> BrevoClient:
    kwargs.setdefault("retry", RetryPolicy(max_attempts=4, max_total_wait=10))
    return BrevoClient(api_url=sb.brevo_api_url, api_key=sb.brevo_key, allow_private=True, **kwargs)


def test_connection_and_auth_failures(sb):
    with client_for(sb) as client:
        account = client.get_account()
        assert account.email and account.plan
    with BrevoClient(api_url=sb.brevo_api_url, api_key="xkeysib-wrong-key-000000", allow_private=True) as bad:
        with pytest.raises(AuthError) as info:
            bad.get_account()
        assert info.value.operator_message == KEY_REJECTED and info.value.code == "unauthorized"
    sb.brevo.ip_blocked = True
    with client_for(sb) as client, pytest.raises(AuthError) as info:
        client.get_account()
    assert info.value.operator_message == IP_BLOCKED


def test_private_urls_are_refused_unless_allowed(sb):
    from connectors.exceptions import UnsafeURL

    with pytest.raises(UnsafeURL):
        BrevoClient(api_url=sb.brevo_api_url, api_key=sb.brevo_key)


def test_create_upsert_duplicates_and_plus_addresses(sb):
    email = f"ana+{time.monotonic_ns()}@example.org"
    with client_for(sb) as client:
        created = client.create_contact(
            {"email": email, "attributes": {"FIRSTNAME": "Ana"}, "list_ids": [50]}
        )
        assert created.created and isinstance(created.id, int)
        with pytest.raises(ValidationFailed) as info:
            client.create_contact({"email": email.upper()})
        assert info.value.code == "duplicate_parameter"
        assert info.value.metadata == {"duplicate_identifiers": ["email"]}
        upsert = client.create_contact(
            {"email": email, "update_enabled": True, "attributes": {"LASTNAME": "S"}}
        )
        assert upsert.created is False and upsert.id is None
        client.update_contact(email, {"attributes": {"FIRSTNAME": "Ana Maria"}, "list_ids": [51]})
        contact = client.get_contact(email)
        assert contact.id == created.id and contact.email == email
        assert contact.attributes == {"FIRSTNAME": "Ana Maria", "LASTNAME": "S"}
        assert contact.list_ids == [50, 51]
    assert sb.brevo.contact_by_email(email)["attributes"]["FIRSTNAME"] == "Ana Maria"


def test_invalid_email_sms_and_unknown_contact(sb):
    with client_for(sb) as client:
        with pytest.raises(ValidationFailed) as info:
            client.create_contact({"email": "not-an-email"})
        assert info.value.code == "invalid_parameter" and "Invalid email" in info.value.operator_message
        with pytest.raises(ValidationFailed) as info:
            client.create_contact({"email": "sms@example.org", "attributes": {"SMS": "0612345678"}})
        assert "91xxxxxxxxxx" in info.value.operator_message
        assert sb.brevo.contact_by_email("sms@example.org") is None  # a bad phone fails the whole call
        with pytest.raises(NotFoundError) as info:
            client.get_contact("nobody@example.org")
        assert info.value.code == "document_not_found"
        with pytest.raises(NotFoundError):
            client.update_contact("42424242", {"attributes": {"FIRSTNAME": "X"}}, identifier_type="ext_id")


def test_lists_folders_and_membership_report(sb):
    emails = [f"member{i}-{time.monotonic_ns()}@example.org" for i in range(3)]
    with client_for(sb) as client:
        for email in emails[:2]:
            client.create_contact({"email": email})
        pages = list(client.iter_lists(page_size=2))
        assert {50, 51, 52} <= {li.id for page in pages for li in page.lists}
        folder_id = client.create_folder("Tajo")
        list_id = client.create_list("Synced", folder_id)
        report = client.add_contacts_to_list(list_id, emails=emails)
        assert report.success == emails[:2] and report.failure == emails[2:]
        again = client.add_contacts_to_list(list_id, emails=emails[:1])
        assert again.success == [] and again.failure == emails[:1]  # already in the list
        removed = client.remove_contacts_from_list(list_id, emails=emails)
        assert removed.success == emails[:2] and removed.failure == emails[2:]
        with pytest.raises(NotFoundError):
            client.add_contacts_to_list(999_999, emails=emails[:1])
        assert client.list_folders().count >= 2


def test_attributes(sb):
    with client_for(sb) as client:
        client.create_attribute("normal", "deal_value", type="float")
        client.create_attribute(
            "category",
            "TIER",
            type="category",
            enumeration=[{"value": 1, "label": "Gold"}, {"value": 2, "label": "Silver"}],
        )
        attributes = {a.name: a for a in client.list_attributes()}
        assert attributes["DEAL_VALUE"].type == "float"
        assert [e.label for e in attributes["TIER"].enumeration] == ["Gold", "Silver"]
        with pytest.raises(ValidationFailed) as info:
            client.create_attribute("normal", "DEAL_VALUE", type="float")
        assert info.value.code == "duplicate_parameter"


def test_import_and_process_polling(sb):
    tag = time.monotonic_ns()
    rows = [{"email": f"imp{i}-{tag}@example.org", "attributes": {"FIRSTNAME": f"I{i}"}} for i in range(300)]
    rows += [{"email": "broken"}, {"email": f"imp0-{tag}@example.org"}]
    with client_for(sb) as client:
        receipt = client.import_contacts(json_body=rows, list_ids=[52])
        process_id = receipt.process_id
        process = client.get_process(process_id)
        assert process.status in ("queued", "processing", "completed")
        deadline = time.monotonic() + 5
        while not process.finished and time.monotonic() < deadline:
            time.sleep(0.05)
            process = client.get_process(process_id)
        assert process.status == "completed"
        reports = process.reports
        assert set(reports) == {"invalid_emails", "duplicate_email_id"}
        assert "broken" in httpx.get(reports["invalid_emails"], headers={"api-key": sb.brevo_key}).text
        contact = client.get_contact(f"imp299-{tag}@example.org")
        assert contact.attributes["FIRSTNAME"] == "I299" and contact.list_ids == [52]
        back = client.list_contacts(modified_since=receipt.accepted_at, limit=1000)
        assert back.count >= 300


def test_the_deprecated_batch_update_answers_as_removed(sb):
    response = httpx.post(
        f"{sb.brevo_api_url}/contacts/batch", json={"contacts": []}, headers={"api-key": sb.brevo_key}
    )
    assert response.status_code == 404 and "contacts/import" in response.json()["message"]


def test_events_deals_and_orders(sb):
    email = f"buyer-{time.monotonic_ns()}@example.org"
    with client_for(sb) as client:
        contact_id = client.create_contact({"email": email}).id
        client.create_event(
            "plan_upgraded",
            {"email_id": email},
            event_properties={"plan": "pro"},
            contact_properties={"FIRSTNAME": "Buyer"},
        )
        events = sb.brevo.events_for(email)
        assert [e["event_name"] for e in events] == ["plan_upgraded"]
        assert events[0]["event_properties"] == {"plan": "pro"}

        pipeline = client.list_pipelines()[0]
        assert {a.internal_name for a in client.list_deal_attributes()} >= {
            "deal_stage",
            "pipeline",
            "amount",
        }
        deal_id = client.create_deal(
            "Annual plan",
            attributes={"amount": 1200, "pipeline": pipeline.id, "deal_stage": pipeline.stages[1].id},
            linked_contacts_ids=[contact_id],
        )
        client.update_deal(deal_id, attributes={"deal_stage": pipeline.stages[4].id})
        client.link_deal_contacts(deal_id, unlink_contact_ids=[contact_id])
        deal = client.get_deal(deal_id)
        assert deal.attributes["deal_stage"] == pipeline.stages[4].id and deal.linked_contacts_ids == []
        assert any(d.id == deal_id for d in client.list_deals(deal_name="Annual plan"))

        orders = [
            {
                "id": f"ORD-{i}-{email}",
                "created_at": "2026-03-01T10:00:00Z",
                "updated_at": "2026-03-01T10:00:00Z",
                "status": "completed",
                "amount": 10.0 * i,
                "products": [{"product_id": "P1", "price": 10.0, "quantity": i}],
                "identifiers": {"email_id": email},
            }
            for i in range(1, 4)
        ]
        batch_id = client.create_orders_batch(orders)
        assert isinstance(batch_id, int)
        client.create_order({**orders[0], "status": "refunded"})
        stored = {o["id"]: o for o in sb.brevo.orders() if o["email"] == email}
        assert len(stored) == 3 and stored[orders[0]["id"]]["status"] == "refunded"
        assert stored[orders[1]["id"]]["contact_id"] == contact_id


def test_sandbox_429_is_waited_out_using_the_reset_header(sb):
    sb.brevo.set_limits({"contacts": (2, None)})
    with client_for(sb) as client:
        started = time.monotonic()
        for _ in range(4):
            client.list_contacts(limit=1)
        elapsed = time.monotonic() - started
        budget = client.budget("contacts")
    assert 0.9 <= elapsed < 5  # at least one wait of ~1 s (the reset), never an endless loop
    assert budget.limit == 2 and budget.remaining in (0, 1) and budget.reset == 1.0


def test_with_the_bucket_limiter_the_sandbox_never_answers_429(sb):
    # The client paces a little under the server's 5/s, as a deployment would: loopback jitter
    # must not turn two requests one window apart into two in the same window.
    sb.brevo.set_limits({"contacts": (5, None), "events": (5, None)})
    limiters = brevo_limiters(
        f"test-{time.monotonic_ns()}", budgets={"contacts": (4, None), "events": (4, None)}
    )
    since = time.monotonic()
    with client_for(sb, limiters=limiters, retry=RetryPolicy(max_attempts=1)) as client:
        for i in range(12):
            client.list_contacts(limit=1)
            client.create_event("tick", {"ext_id": str(i)})
    entries = sb.stats.entries(since=since, api="brevo")
    assert not [e for e in entries if e.status == "429"]
    contacts_times = [e.t for e in entries if e.path.startswith("/v3/contacts")]
    assert len(contacts_times) == 12 and max_in_window(contacts_times) <= 5


def test_the_hourly_bucket_is_not_waited_inside_a_call(sb):
    sb.brevo.set_limits({"other": (None, 2)})
    with client_for(sb) as client:
        client.get_account()
        client.get_account()
        started = time.monotonic()
        with pytest.raises(RateLimited) as info:
            client.get_account()
    assert time.monotonic() - started < 2
    assert info.value.retry_after is not None and info.value.retry_after > 3000
