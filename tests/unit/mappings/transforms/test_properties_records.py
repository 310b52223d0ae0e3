"""Property tests for deals, orders and events: payload or reasons, never an exception."""

from datetime import datetime

import orjson
from hypothesis import given

from mappings.transforms import (
    EVENT_PROPERTIES_MAX_BYTES,
    compile_mapping,
    transform_deal,
    transform_event,
    transform_order,
)
from tests.unit.mappings.transforms.strategies import SETTINGS, deals, events, mapping_sets, orders


@SETTINGS
@given(deal=deals, mapping=mapping_sets())
def test_deal_gives_payload_or_reason(deal, mapping):
    result = transform_deal(deal, compile_mapping(mapping))
    assert (result.payload is None) != (result.skip_reason is None)
    if result.payload is not None:
        orjson.dumps(result.payload.to_brevo())
        assert 0 < len(result.payload.name) <= 255
        assert {"pipeline", "deal_stage"} <= set(result.payload.attributes)


@SETTINGS
@given(order=orders, mapping=mapping_sets())
def test_order_gives_payload_or_reason(order, mapping):
    result = transform_order(order, compile_mapping(mapping))
    assert (result.payload is None) != (result.skip_reason is None)
    if result.payload is not None:
        body = result.payload.to_brevo()
        orjson.dumps(body)
        assert body["products"]
        assert body["createdAt"].endswith("Z") and len(body["createdAt"]) == 20
        for item in body["products"]:
            assert ("quantity" in item) != ("quantityFloat" in item)
            assert item["price"] >= 0


@SETTINGS
@given(event=events, mapping=mapping_sets())
def test_event_gives_payload_or_reason_within_brevo_bounds(event, mapping):
    result = transform_event(event, compile_mapping(mapping))
    assert (result.payload is None) != (result.skip_reason is None)
    if result.payload is None:
        return
    body = result.payload.to_brevo()
    assert len(orjson.dumps(result.payload.event_properties)) <= EVENT_PROPERTIES_MAX_BYTES

    def keys_ok(value) -> bool:
        if isinstance(value, dict):
            return all(isinstance(k, str) and 0 < len(k) <= 255 and keys_ok(v) for k, v in value.items())
        if isinstance(value, list):
            return all(keys_ok(v) for v in value)
        return True

    assert keys_ok(result.payload.event_properties)
    orjson.dumps(body)
    if event.occurred_at is not None:
        assert datetime.fromisoformat(body["event_date"]).tzinfo is not None
