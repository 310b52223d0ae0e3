"""The AC client against the sandbox over real loopback HTTP: paging, every endpoint, auth, logs."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from connectors.exceptions import AuthError, NotFoundError
from connectors.providers.activecampaign import ActiveCampaignClient
from connectors.providers.http.masking import install_secret_masking, mask_secret
from connectors.providers.http.ratelimit import get_limiter
from connectors.providers.http.retry import RetryPolicy
from sandbox.config import SandboxConfig
from sandbox.server import SandboxServer

CONTACTS = 250


@pytest.fixture(scope="module")
def sandbox():
    with SandboxServer(SandboxConfig.fast(contacts=CONTACTS)) as server:
        yield server


@pytest.fixture
def client(sandbox):
    httpx.post(f"{sandbox.base_url}/_sandbox/reset-stats")
    with ActiveCampaignClient(
        api_url=sandbox.ac_api_url,
        api_key=sandbox.ac_key,
        allow_private=True,
        limiter=get_limiter("tests:ac-sandbox", None),
        retry=RetryPolicy(backoff_initial=0.05),
    ) as ac:
        yield ac


def stats(sandbox) -> dict:
    return httpx.get(f"{sandbox.base_url}/_sandbox/stats").json()


def test_contacts_are_read_in_full_pages_then_a_partial_one(sandbox, client):
    pages = list(client.iter_contact_pages())
    expected = stats(sandbox)["ac"]["contacts"]
    assert expected >= CONTACTS
    sizes = [len(page.items) + len(page.invalid) for page in pages]
    assert sizes == [100] * (expected // 100) + [expected % 100]  # a multiple of 100 ends on an empty page
    ids = [contact.id for page in pages for contact in page.items]
    assert len(ids) + sum(len(p.invalid) for p in pages) == expected
    assert ids == sorted(set(ids))  # ascending, no duplicates
    assert [page.last_id for page in pages] == [max(c.id for c in page.items) for page in pages]
    requests = stats(sandbox)["requests"]["GET /api/3/contacts"]["count"]
    assert requests == -(-expected // 100) + (1 if expected % 100 == 0 else 0)
    assert sum(len(page.score_values) for page in pages) > 0  # the top-level sideload is read


def test_incremental_read_returns_only_what_changed(sandbox, client):
    cutoff = datetime.now(UTC) - timedelta(seconds=5)
    changed = [7, 42]
    for contact_id in changed:
        httpx.post(f"{sandbox.base_url}/_sandbox/ac/contacts/{contact_id}", json={"firstName": "Changed"})
    pages = list(client.iter_contact_pages(updated_after=cutoff))
    found = [c for page in pages for c in page.items]
    assert [c.id for c in found] == changed
    assert all(c.first_name == "Changed" and c.udate >= cutoff for c in found)
    # One page of changes, plus one request that learns the account's UTC offset (cursor.py);
    # the offset is kept for an hour, so the next changed-since read costs its page only.
    assert stats(sandbox)["requests"]["GET /api/3/contacts"]["count"] == 2
    assert [c.id for page in client.iter_contact_pages(updated_after=cutoff) for c in page.items] == changed
    assert stats(sandbox)["requests"]["GET /api/3/contacts"]["count"] == 3


def test_resuming_from_a_cursor_skips_what_was_read(client):
    first = next(client.iter_contact_pages())
    rest = list(client.iter_contact_pages(id_greater=first.last_id))
    assert min(c.id for page in rest for c in page.items) > first.last_id


def test_catalog_and_association_endpoints_parse_without_invalid_rows(sandbox, client):
    counts = stats(sandbox)["ac"]
    checks = {
        "fieldValues": client.iter_field_value_pages(),
        "contactTags": client.iter_contact_tag_pages(),
        "contactLists": client.iter_contact_list_pages(),
        "deals": client.iter_deal_pages(),
        "contactAutomations": client.iter_contact_automation_pages(),
        "ecomCustomers": client.iter_ecom_customer_pages(),
        "ecomOrders": client.iter_ecom_order_pages(),
        "ecomOrderProducts": client.iter_ecom_order_product_pages(),
        "lists": client.iter_list_pages(),
        "fields": client.iter_field_pages(),
        "users": client.iter_user_pages(),
        "automations": client.iter_automation_pages(),
        "dealGroups": client.iter_pipeline_pages(),
        "dealStages": client.iter_deal_stage_pages(),
    }
    for name, pages in checks.items():
        pages = list(pages)
        assert sum(len(p.invalid) for p in pages) == 0, name
        assert sum(len(p.items) for p in pages) == counts[name], name


def test_sideloads_of_fields_and_pipelines(client):
    fields = list(client.iter_field_pages())
    by_id = {f.id: f for page in fields for f in page.items}
    options = [o for page in fields for o in page.options]
    assert options and all(o.field_id in by_id for o in options)
    assert {o.id for o in options} >= {i for f in by_id.values() for i in f.option_ids}
    pipelines = list(client.iter_pipeline_pages())
    stages = [s for page in pipelines for s in page.stages]
    titles = {p.title for page in pipelines for p in page.items}
    assert {"Sales", "Renewals"} <= titles
    assert {s.title for s in stages} >= {"Qualified", "Proposal", "Won"}


def test_tags_are_contact_tags_only(client):
    everything = [t for page in client.iter_tag_pages(tag_type=None) for t in page.items]
    contact_tags = [t for page in client.iter_tag_pages() for t in page.items]
    assert {t.tag_type for t in everything} == {"contact", "template"}
    assert contact_tags == [t for t in everything if t.tag_type == "contact"]


def test_one_contact_with_its_sub_collections(client):
    contact_id = next(c.id for page in client.iter_contact_list_pages() for c in page.items if c.status == 1)
    detail = client.get_contact(contact_id)
    assert detail.contact.id == contact_id
    assert any(m.list_id for m in detail.contact_lists)
    assert all(v.contact_id == contact_id for v in detail.field_values)
    assert all(t.contact_id == contact_id for t in client.list_contact_tags(contact_id).items)
    assert all(s.contact_id == contact_id for s in client.list_contact_score_values(contact_id).items)
    logs = client.list_contact_tracking_logs(contact_id)
    assert not logs.invalid and all(log.event_name for log in logs.items)


def test_unknown_contact_is_not_found(client):
    with pytest.raises(NotFoundError, match="No Result found for Subscriber"):
        client.get_contact(987654)


def test_users_scores_events_automations(client):
    assert client.get_me().id > 0
    assert {s.name for page in client.iter_score_pages() for s in page.items} >= {"Lead score", "Engagement"}
    assert client.get_event_tracking().enabled in (True, False)
    names = [e.name for page in client.iter_event_tracking_event_pages() for e in page.items]
    assert names and all(names)
    assert "update" in client.list_webhook_events()


def test_orders_and_their_products(client):
    orders = [o for page in client.iter_ecom_order_pages() for o in page.items]
    with_products = next(o for o in orders if o.order_product_ids)
    products = client.list_ecom_order_products(with_products.id)
    assert sorted(p.id for p in products.items) == sorted(with_products.order_product_ids)
    assert all(o.currency == o.currency.upper() for o in orders)


def test_custom_object_schemas_and_records(client):
    schemas = [s for page in client.iter_custom_object_schema_pages() for s in page.items]
    assert schemas
    records = [r for page in client.iter_custom_object_record_pages(schemas[0].id) for r in page.items]
    assert records and all(r.relationships for r in records)
    assert all(r.created_timestamp is not None and r.created_timestamp.tzinfo for r in records)


def test_webhook_create_list_delete(client):
    hook = client.create_webhook(name="tajo", url="https://hooks.example.org/ac?token=abc", events=["update"])
    assert hook.id in [w.id for page in client.iter_webhook_pages() for w in page.items]
    client.delete_webhook(hook.id)
    assert hook.id not in [w.id for page in client.iter_webhook_pages() for w in page.items]


def test_bad_key_is_an_auth_error_with_the_operator_message(sandbox):
    httpx.post(f"{sandbox.base_url}/_sandbox/reset-stats")
    bad = ActiveCampaignClient(
        api_url=sandbox.ac_api_url,
        api_key="not-the-right-key-0000000000",
        allow_private=True,
        limiter=get_limiter("tests:ac-sandbox", None),
        retry=RetryPolicy(backoff_initial=0.01),
    )
    with pytest.raises(AuthError) as caught:
        bad.get_me()
    assert caught.value.operator_message == (
        "ActiveCampaign rejected the API key (403): check the key in Settings → Developer"
    )
    assert "not-the-right-key" not in str(caught.value) + caught.value.url
    assert stats(sandbox)["requests"]["GET /api/3/users/me"]["403"] == 3  # intermittent-403 retries


def test_no_key_in_captured_logs_at_debug_including_httpx(sandbox, client, caplog):
    install_secret_masking()
    for name in ("", "httpx", "httpcore"):
        caplog.set_level(logging.DEBUG, logger=name)
    list(client.iter_contact_pages())
    with pytest.raises(NotFoundError):
        client.get_contact(987654)
    logging.getLogger("connectors").warning("using key %s", sandbox.ac_key)
    assert any(r.name.startswith("httpcore") for r in caplog.records)
    assert any(r.name == "httpx" for r in caplog.records)
    assert sandbox.ac_key not in caplog.text
    assert mask_secret(sandbox.ac_key) in caplog.text
