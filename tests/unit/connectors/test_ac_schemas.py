"""AC object models: the quirks of reference §16 parse, malformed rows are refused clearly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest
from pydantic import ValidationError

from connectors.providers.activecampaign.schemas import (
    Contact,
    ContactList,
    CustomObjectRecord,
    CustomObjectSchema,
    Deal,
    EcomOrder,
    FieldValue,
    Pipeline,
    ScoreValue,
    Webhook,
)
from tests.unit.connectors.ac_fakes import contact_row, make_client

CDT = timezone(timedelta(hours=-5))


def test_contact_from_the_reference_example():
    contact = Contact.model_validate(
        contact_row(
            "2381",
            email="maria.lopez@example.org",
            firstName="Maria",
            lastName="Lopez",
            phone="+15125550143",
            bounced_hard="1",
            bounced_date="0000-00-00",
            created_timestamp="2023-03-14 09:21:07",
            scoreValues=[],
            links=[],
            unknown_new_field={"x": 1},
        )
    )
    assert contact.id == 2381
    assert (contact.first_name, contact.last_name) == ("Maria", "Lopez")
    assert contact.cdate == datetime(2023, 3, 14, 9, 21, 7, tzinfo=CDT)
    assert contact.created_timestamp == datetime(2023, 3, 14, 9, 21, 7)  # account wall clock, naive
    assert contact.bounced_hard and contact.bounced and contact.bounced_date is None
    assert contact.deleted is False


@pytest.mark.parametrize("value", [None, "", "0000-00-00", "0000-00-00 00:00:00", "not a date"])
def test_empty_zero_and_garbage_dates_become_none(value):
    assert Contact.model_validate(contact_row(1, udate=value)).udate is None


def test_z_dates_with_nanoseconds_are_truncated():
    record = CustomObjectRecord.model_validate(
        {
            "id": "1fba",
            "createdTimestamp": "2021-04-16T16:12:22.222685095Z",
            "relationships": {"primary-contact": ["14"]},
        }
    )
    assert record.created_timestamp == datetime(2021, 4, 16, 16, 12, 22, 222685, tzinfo=UTC)
    assert record.relationships == {"primary-contact": [14]}


def test_numbers_as_strings_or_ints_and_null_email():
    assert Contact.model_validate({"id": 5, "email": None}).email == ""
    member = ContactList.model_validate(
        {"id": "41", "contact": "2381", "list": 2, "status": 1, "sdate": None}
    )
    assert (member.contact_id, member.list_id, member.status) == (2381, 2, 1)
    assert ContactList.model_validate({"id": 1, "contact": 1, "list": 1, "status": "91"}).status == 91


@pytest.mark.parametrize("row", [{"email": "no-id@example.org"}, {"id": "abc"}, {"id": None}, {"id": "12x"}])
def test_contact_without_a_numeric_id_is_rejected(row):
    with pytest.raises(ValidationError) as caught:
        Contact.model_validate(row)
    assert caught.value.errors()[0]["loc"] == ("id",)


def test_field_value_keeps_raw_multi_value_strings():
    value = FieldValue.model_validate(
        {"id": "118", "contact": "2381", "field": "3", "value": "||Gold||Silver||"}
    )
    assert (value.contact_id, value.field_id, value.value) == (2381, 3, "||Gold||Silver||")
    assert FieldValue.model_validate({"id": 1, "contact": 1, "field": 1, "value": None}).value is None
    assert FieldValue.model_validate({"id": 1, "contact": 1, "field": 1, "value": 42}).value == "42"


def test_deal_value_in_cents_currency_lowercase_and_status():
    deal = Deal.model_validate(
        {
            "id": "512",
            "title": "Annual plan",
            "contact": "2381",
            "group": "2",
            "stage": "7",
            "owner": "3",
            "value": "249900",
            "currency": "USD",
            "status": "1",
            "cdate": "2024-04-02T09:00:00-05:00",
            "mdate": "2024-05-20T15:42:10-05:00",
            "edate": "0000-00-00 00:00:00",
            "isDisabled": False,
            "links": {},
        }
    )
    assert deal.value_cents == 249900 and deal.currency == "usd" and deal.status == 1
    assert (deal.contact_id, deal.pipeline_id, deal.stage_id, deal.owner_id) == (2381, 2, 7, 3)
    assert deal.edate is None
    assert Deal.model_validate({"id": 1, "value": 500}).value_cents == 500


def test_hidden_pipeline_deal_stub_parses():
    deal = Deal.model_validate({"id": "2", "isDisabled": True, "title": "Demo Requested"})
    assert deal.is_disabled and deal.value_cents == 0 and deal.stage_id is None


def test_pipeline_stage_ids_and_links_as_list():
    pipeline = Pipeline.model_validate(
        {"id": "2", "title": "Renewals", "stages": ["6", "7", "8"], "links": []}
    )
    assert pipeline.stage_ids == [6, 7, 8]


def test_score_value_is_numeric():
    score = ScoreValue.model_validate(
        {"id": "77", "score": "2", "contact": "2381", "deal": None, "scoreValue": "40"}
    )
    assert score.value == 40.0 and score.deal_id is None


def test_order_with_product_ids_or_embedded_products():
    by_ids = EcomOrder.model_validate(
        {"id": "1", "orderProducts": ["1", "2"], "currency": "usd", "totalPrice": 9111}
    )
    assert by_ids.order_product_ids == [1, 2] and by_ids.order_products == [] and by_ids.currency == "USD"
    embedded = EcomOrder.model_validate(
        {"id": "2", "orderProducts": [{"id": "3", "name": "Box", "price": "2400", "quantity": "2"}]}
    )
    assert embedded.order_product_ids == [3]
    assert embedded.order_products[0].price_cents == 2400 and embedded.order_products[0].quantity == 2
    assert EcomOrder.model_validate({"id": "3"}).order_products == []


def test_custom_object_schema_both_required_spellings():
    schema = CustomObjectSchema.model_validate(
        {
            "id": "0c7d",
            "slug": "subscription",
            "labels": {"singular": "Subscription", "plural": "Subscriptions"},
            "fields": [
                {
                    "id": "plan",
                    "type": "dropdown",
                    "isRequired": True,
                    "options": [{"id": "b2", "value": "Pro"}],
                },
                {"id": "seats", "type": "number", "required": False, "scale": 0},
            ],
            "relationships": [{"id": "primary-contact", "namespace": "contacts", "hasMany": False}],
        }
    )
    assert [f.is_required for f in schema.fields] == [True, False]
    assert schema.fields[0].options[0].value == "Pro"
    assert schema.relationships[0].namespace == "contacts"


def test_webhook_with_links_list():
    hook = Webhook.model_validate(
        {
            "id": "14",
            "name": "n",
            "url": "https://h",
            "events": ["update"],
            "sources": ["api"],
            "listid": "0",
            "links": [],
        }
    )
    assert hook.id == 14 and hook.list_id == 0


def test_get_contact_reads_the_default_sideloads():
    body = {
        "contact": contact_row(
            "2381", fieldValues=["88"], contactLists=["41"], deals=["17"], contactAutomations=["1702"]
        ),
        "fieldValues": [{"id": "88", "contact": "2381", "field": "3", "value": "Austin"}],
        "contactLists": [{"id": "41", "contact": "2381", "list": "2", "status": "1"}],
        "deals": [{"id": "17", "value": "1000", "currency": "usd", "status": "0"}],
        "contactAutomations": [{"id": "1702", "contact": "2381", "automation": "4", "status": "1"}],
        "geoIps": [],
    }
    client = make_client(lambda request: httpx.Response(200, json=body))
    detail = client.get_contact(2381)
    assert detail.contact.id == 2381
    assert [v.value for v in detail.field_values] == ["Austin"]
    assert [m.list_id for m in detail.contact_lists] == [2]
    assert [d.value_cents for d in detail.deals] == [1000]
    assert [a.automation_id for a in detail.contact_automations] == [4]
