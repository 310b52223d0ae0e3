"""transform_deal, transform_order, transform_event."""

from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest

from mappings.records import SourceDeal, SourceEvent, SourceOrder, SourceOrderProduct
from mappings.transforms import (
    EVENT_PROPERTIES_MAX_BYTES,
    AutomationRule,
    EventRule,
    MappingLabels,
    MappingSet,
    OwnerRule,
    StageRule,
    compile_mapping,
    transform_deal,
    transform_event,
    transform_order,
)

CDT = timezone(timedelta(hours=-5))
MAPPING = compile_mapping(
    MappingSet(
        stages=(
            StageRule(ac_pipeline_id=2, ac_stage_id=7, brevo_pipeline_id="pipe-1", brevo_stage_id="stage-a"),
        ),
        owners=(OwnerRule(ac_user_id=3, brevo_owner="sales.lead@example.com"),),
        automations=(
            AutomationRule(
                ac_automation_id=4,
                brevo_event_entered="welcome_entered",
                brevo_event_completed="welcome_completed",
            ),
            AutomationRule(ac_automation_id=5, brevo_event_entered="nurture_entered"),
        ),
        events=(EventRule(ac_event_name="trial started", brevo_event_name="trial_started"),),
        labels=MappingLabels(
            stage_titles={7: "Proposal sent", 8: "Won"},
            pipeline_titles={2: "Renewals"},
            owner_names={9: "Jae Kim"},
            automation_names={4: "Welcome series"},
        ),
    )
)


def deal(**kwargs) -> SourceDeal:
    base = dict(
        ac_id=512,
        title="Annual plan — Lopez Bakery",
        value_cents=249900,
        currency="usd",
        pipeline_id=2,
        stage_id=7,
        owner_id=3,
        status=0,
        contact_email="Maria.Lopez@Example.org",
    )
    base.update(kwargs)
    return SourceDeal(**base)


class TestDeal:
    def test_full_deal(self):
        result = transform_deal(deal(), MAPPING)
        assert result.errors == ()
        assert result.payload.to_brevo() == {
            "name": "Annual plan — Lopez Bakery",
            "attributes": {
                "pipeline": "pipe-1",
                "deal_stage": "stage-a",
                "amount": 2499.0,
                "deal_owner": "sales.lead@example.com",
            },
        }
        assert result.payload.contact_email == "maria.lopez@example.org"

    def test_unmapped_stage_skips_the_deal_with_readable_reason(self):
        result = transform_deal(deal(stage_id=8), MAPPING)
        assert result.payload is None
        assert result.skip_code == "unmapped_stage"
        assert result.skip_reason == (
            "stage 8 'Won' of pipeline 2 'Renewals' has no Brevo stage mapping: "
            "map it to a Brevo pipeline stage to sync this deal"
        )

    def test_stage_of_another_pipeline_is_not_reused(self):
        assert transform_deal(deal(pipeline_id=3), MAPPING).skip_code == "unmapped_stage"

    def test_no_stage(self):
        result = transform_deal(deal(stage_id=None), MAPPING)
        assert result.skip_code == "no_stage"

    def test_unmapped_owner_is_a_field_error(self):
        result = transform_deal(deal(owner_id=9), MAPPING)
        assert "deal_owner" not in result.payload.attributes
        assert result.errors[0].reason == (
            "AC user 9 (Jae Kim) has no Brevo owner mapping; the deal is sent without an owner"
        )

    @pytest.mark.parametrize("cents", [-5, 2**80])
    def test_impossible_value(self, cents):
        result = transform_deal(deal(value_cents=cents), MAPPING)
        assert "amount" not in result.payload.attributes
        assert result.errors[0].field == "amount"
        assert result.errors[0].reason.endswith("cents is negative or too large")

    def test_missing_title_gets_a_findable_name(self):
        assert transform_deal(deal(title="  "), MAPPING).payload.name == "ActiveCampaign deal 512"

    def test_oversize_title_is_cut_and_said(self):
        result = transform_deal(deal(title="t" * 400), MAPPING)
        assert len(result.payload.name) == 255
        assert result.errors[0].reason == "deal title of 400 characters was cut to 255"

    def test_invalid_contact_email(self):
        result = transform_deal(deal(contact_email="nope"), MAPPING)
        assert result.payload.contact_email is None
        assert result.errors[0].field == "linkedContactsIds"

    def test_no_value_no_owner(self):
        result = transform_deal(deal(value_cents=None, owner_id=None, contact_email=None), MAPPING)
        assert result.payload.attributes == {"pipeline": "pipe-1", "deal_stage": "stage-a"}
        assert result.errors == ()


def product(**kwargs) -> SourceOrderProduct:
    base = dict(
        external_id="SKU-CROIS-12", sku="CROIS-12", name="Croissant box (12)", price_cents=2400, quantity=2
    )
    base.update(kwargs)
    return SourceOrderProduct(**base)


def order(**kwargs) -> SourceOrder:
    base = dict(
        ac_id=901,
        connection_id=3,
        external_id="ORD-100045",
        order_number="100045",
        email="Maria.Lopez@example.org",
        state=1,
        total_cents=5100,
        currency="usd",
        created_at=datetime(2024, 5, 21, 10, 2, tzinfo=CDT),
        updated_at=datetime(2024, 5, 21, 10, 5, 30, tzinfo=CDT),
        discount_codes=("SPRING5", "SPRING5", " "),
        products=(product(),),
    )
    base.update(kwargs)
    return SourceOrder(**base)


class TestOrder:
    def test_full_order(self):
        result = transform_order(order(), MAPPING)
        assert result.errors == ()
        assert result.payload.to_brevo() == {
            "id": "ac-901",
            "createdAt": "2024-05-21T15:02:00Z",
            "updatedAt": "2024-05-21T15:05:30Z",
            "status": "completed",
            "amount": 51.0,
            "identifiers": {"email_id": "maria.lopez@example.org"},
            "products": [
                {"productId": "SKU-CROIS-12", "price": 24.0, "quantity": 2, "variantId": "CROIS-12"}
            ],
            "storeId": "3",
            "coupons": ["SPRING5"],
            "metaInfo": {
                "ac_order_id": "901",
                "external_id": "ORD-100045",
                "order_number": "100045",
                "currency": "USD",
            },
        }

    @pytest.mark.parametrize(
        ("state", "status"),
        [(0, "pending"), (1, "completed"), (3, "completed"), (4, "pending"), (None, "completed")],
    )
    def test_state_mapping(self, state, status):
        assert transform_order(order(state=state), MAPPING).payload.status == status

    def test_abandoned_cart_is_not_an_order(self):
        result = transform_order(order(state=2), MAPPING)
        assert result.payload is None
        assert result.skip_code == "abandoned_cart"

    def test_unknown_state(self):
        result = transform_order(order(state=17), MAPPING)
        assert (result.skip_code, result.skip_reason) == (
            "unknown_state",
            "order state 17 is unknown to Tajo",
        )

    def test_order_without_products(self):
        result = transform_order(order(products=()), MAPPING)
        assert result.skip_code == "no_products"
        assert result.skip_reason == "order has no products Brevo can accept (Brevo orders need at least one)"

    def test_bad_products_are_dropped_with_reasons(self):
        lines = (
            product(external_id=None, sku=None, name="Mystery"),
            product(price_cents=None),
            product(quantity=0),
            product(external_id="P2", sku=None, quantity=1.5, price_cents=1167),
        )
        result = transform_order(order(products=lines), MAPPING)
        assert [e.reason for e in result.errors] == [
            "product 'Mystery' has neither an external id nor a SKU",
            "product 'Croissant box (12)' has no valid price",
            "product 'Croissant box (12)' has no positive quantity",
        ]
        assert [e.field for e in result.errors] == ["products[0]", "products[1]", "products[2]"]
        assert result.payload.to_brevo()["products"] == [
            {"productId": "P2", "price": 11.67, "quantityFloat": 1.5}
        ]

    @pytest.mark.parametrize("quantity", [float("nan"), float("inf"), 1e300, -1.0])
    def test_impossible_quantities(self, quantity):
        result = transform_order(
            order(products=(product(quantity=quantity), product(external_id="P2"))), MAPPING
        )
        assert result.errors[0].reason == "product 'Croissant box (12)' has no positive quantity"
        orjson.dumps(result.payload.to_brevo())

    @pytest.mark.parametrize("cents", [2**80, -1])
    def test_impossible_amounts(self, cents):
        assert transform_order(order(total_cents=cents), MAPPING).skip_code == "bad_amount"
        priced = transform_order(
            order(products=(product(price_cents=cents), product(external_id="P2"))), MAPPING
        )
        assert priced.errors[0].reason == "product 'Croissant box (12)' has no valid price"

    def test_all_products_bad_skips_with_the_product_errors(self):
        result = transform_order(order(products=(product(quantity=None),)), MAPPING)
        assert result.skip_code == "no_products"
        assert len(result.errors) == 1

    def test_sku_only_product(self):
        result = transform_order(order(products=(product(external_id=None),)), MAPPING)
        assert result.payload.products[0].product_id == "CROIS-12"
        assert result.payload.products[0].variant_id is None

    @pytest.mark.parametrize(("email", "code"), [(None, "no_email"), ("bad@", "invalid_email")])
    def test_email_required(self, email, code):
        assert transform_order(order(email=email), MAPPING).skip_code == code

    def test_amount_required(self):
        assert transform_order(order(total_cents=None), MAPPING).skip_code == "no_amount"

    def test_date_outside_the_calendar_in_utc(self):
        result = transform_order(order(created_at=datetime.max.replace(tzinfo=CDT)), MAPPING)
        assert result.skip_code == "bad_date"
        assert result.skip_reason.startswith("order date '9999-12-31T23:59:59.999999-05:00'")

    def test_dates(self):
        assert transform_order(order(created_at=None, updated_at=None), MAPPING).skip_code == "no_date"
        only_updated = transform_order(order(created_at=None), MAPPING).payload
        assert only_updated.created_at == only_updated.updated_at == "2024-05-21T15:05:30Z"
        naive = transform_order(order(created_at=datetime(2024, 1, 1, 8), updated_at=None), MAPPING).payload
        assert (naive.created_at, naive.updated_at) == ("2024-01-01T08:00:00Z", "2024-01-01T08:00:00Z")


def event(**kwargs) -> SourceEvent:
    base = dict(
        kind="tracked",
        name="trial started",
        email="Maria.Lopez@example.org",
        occurred_at=datetime(2026, 2, 10, 8, 30, tzinfo=UTC),
        data="plan=pro",
        source_id="ev-1",
    )
    base.update(kwargs)
    return SourceEvent(**base)


class TestEvent:
    def test_tracked_event(self):
        result = transform_event(event(), MAPPING)
        assert result.errors == ()
        assert result.source_id == "ev-1"
        assert result.payload.to_brevo() == {
            "event_name": "trial_started",
            "identifiers": {"email_id": "maria.lopez@example.org"},
            "event_date": "2026-02-10T08:30:00+00:00",
            "event_properties": {"eventdata": "plan=pro"},
        }

    def test_unmapped_tracked_event(self):
        result = transform_event(event(name="page visit"), MAPPING)
        assert (result.skip_code, result.skip_reason) == (
            "unmapped_event",
            "AC event 'page visit' is not mapped to a Brevo event",
        )

    def test_automation_entered_and_completed(self):
        entered = transform_event(
            event(kind="automation_entered", automation_id=4, name=None, data=None), MAPPING
        )
        assert entered.payload.event_name == "welcome_entered"
        assert entered.payload.event_properties == {"automation_id": 4, "automation_name": "Welcome series"}
        completed = transform_event(event(kind="automation_completed", automation_id=4), MAPPING)
        assert completed.payload.event_name == "welcome_completed"

    def test_completion_not_mapped(self):
        result = transform_event(event(kind="automation_completed", automation_id=5), MAPPING)
        assert result.skip_reason == "completion of AC automation 5 is not mapped"

    def test_unknown_automation(self):
        result = transform_event(event(kind="automation_entered", automation_id=99), MAPPING)
        assert result.skip_reason == "AC automation 99 is not mapped to a Brevo event"

    def test_event_without_date_lets_brevo_date_it(self):
        assert "event_date" not in transform_event(event(occurred_at=None), MAPPING).payload.to_brevo()

    def test_offset_is_kept(self):
        payload = transform_event(
            event(occurred_at=datetime(2024, 5, 21, 10, 14, 33, tzinfo=CDT)), MAPPING
        ).payload
        assert payload.event_date == "2024-05-21T10:14:33-05:00"

    @pytest.mark.parametrize(("email", "code"), [(None, "no_email"), ("x@", "invalid_email")])
    def test_email_required(self, email, code):
        assert transform_event(event(email=email), MAPPING).skip_code == code

    def test_bad_property_keys_and_values_are_dropped_with_reasons(self):
        props = {
            "ok": 1,
            "bad key": 2,
            "k" * 256: 3,
            "nested": {"fine": [1, "two", {"deep": True}], "nan": float("nan")},
            "when": datetime(2024, 1, 1, tzinfo=UTC),
            "weird": {1, 2},
        }
        result = transform_event(event(properties=props, data=None), MAPPING)
        assert result.payload.event_properties == {
            "ok": 1,
            "nested": {"fine": [1, "two", {"deep": True}]},
            "when": "2024-01-01T00:00:00+00:00",
        }
        fields = [error.field for error in result.errors]
        assert fields[0] == "event_properties.'bad key'"
        assert fields[2] == "event_properties.nested.nan"
        assert fields[3] == "event_properties.weird"
        assert len(fields) == 4

    def test_huge_integers_are_dropped(self):
        result = transform_event(event(properties={"big": 2**70, "fine": 2**40}, data=None), MAPPING)
        assert result.payload.event_properties == {"fine": 2**40}
        assert result.errors[0].field == "event_properties.big"

    def test_too_deep_nesting_is_dropped(self):
        deep: dict = {"leaf": 1}
        for _ in range(12):
            deep = {"n": deep}
        result = transform_event(event(properties={"d": deep}, data=None), MAPPING)
        assert any("nests deeper than 10" in error.reason for error in result.errors)

    def test_oversize_properties_are_dropped_but_event_is_sent(self):
        result = transform_event(event(data="x" * (EVENT_PROPERTIES_MAX_BYTES + 10)), MAPPING)
        assert result.payload is not None
        assert result.payload.event_properties == {}
        assert result.errors[0].field == "event_properties"
        assert "over Brevo's 50000" in result.errors[0].reason

    def test_properties_just_under_the_limit_are_kept(self):
        data = "x" * (EVENT_PROPERTIES_MAX_BYTES - 100)
        result = transform_event(event(data=data), MAPPING)
        assert result.payload.event_properties == {"eventdata": data}
        assert len(orjson.dumps(result.payload.event_properties)) <= EVENT_PROPERTIES_MAX_BYTES
