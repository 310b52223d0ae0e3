"""An abandoned Deep Data cart as the Brevo event `cart_abandoned`. Pure: no DB, no HTTP."""

from __future__ import annotations

from datetime import UTC, datetime

from connectors.sync.ecommerce import CART_EVENT, cart_event
from mappings.records import SourceOrder, SourceOrderProduct


def test_a_cart_becomes_an_event_with_its_lines() -> None:
    cart = SourceOrder(
        ac_id=7,
        external_id="cart-1",
        external_checkout_id="chk-9",
        email="Buyer@Example.org",
        state=2,
        total_cents=4599,
        currency="eur",
        updated_at=datetime(2026, 5, 1, 12, 0, tzinfo=UTC),
        products=(SourceOrderProduct(name="Mug", sku="M-1", price_cents=1533, quantity=3),),
    )
    result = cart_event(cart)
    body = result.payload.to_brevo()
    assert body["event_name"] == CART_EVENT == "cart_abandoned"
    assert body["identifiers"] == {"email_id": "buyer@example.org"}
    assert body["event_properties"] == {
        "cart_id": "cart-1",
        "checkout_id": "chk-9",
        "total": 45.99,
        "currency": "EUR",
        "products": [{"name": "Mug", "sku": "M-1", "quantity": 3.0, "price": 15.33}],
    }


def test_a_cart_without_a_usable_email_is_not_sent() -> None:
    result = cart_event(SourceOrder(ac_id=8, email="not-an-email", state=2))
    assert result.payload is None and result.skip_code
