"""Brevo simulator orders: upsert, batches, validation, caps and activation (reference §7)."""

from __future__ import annotations

import pytest

from tests.integration.sandbox.brevo.helpers import make, order


def test_orders_upsert_batch_and_read_back(api):
    sim, client = api
    client.post("/contacts", json={"email": "li@example.net"})
    assert client.post("/orders/status", json=order()).status_code == 204
    assert client.post("/orders/status", json=order(status="refunded")).status_code == 204
    assert sim.counts()["orders"] == 1 and sim.orders()[0]["status"] == "refunded"
    batch = client.post(
        "/orders/status/batch", json={"orders": [order(f"B-{i}") for i in range(3)], "historical": True}
    )
    assert batch.status_code == 202
    assert isinstance(batch.json()["batch_id"], int) and batch.json()["count"] == 3
    listed = client.get("/orders", params={"limit": 2}).json()
    assert listed["count"] == 4 and len(listed["orders"]) == 2
    assert listed["orders"][0]["contact_id"] == 1 and listed["orders"][0]["email"] == "li@example.net"
    assert client.get("/orders", params={"limit": 101}).status_code == 400


@pytest.mark.parametrize(
    "broken",
    [
        {"amount": None},
        {"createdAt": "soon"},
        {"identifiers": {}},
        {"products": [{"productId": "P", "price": 1, "quantity": 1, "quantityFloat": 1.0}]},
        {"products": [{"productId": "P", "price": 1}]},
        {"products": [{"price": 1, "quantity": 1}]},
        {"id": 7},
    ],
)
def test_order_validation(api, broken):
    sim, client = api
    assert client.post("/orders/status", json=order(**broken)).status_code == 400
    response = client.post("/orders/status/batch", json={"orders": [order("ok"), order("bad", **broken)]})
    assert response.status_code == 400 and "orders[1]" in response.json()["message"]
    assert sim.counts()["orders"] == 0  # a refused batch stores nothing


def test_order_batch_cap_and_ecommerce_activation():
    _sim, client = make(ecommerce_enabled=False)
    refused = client.post("/orders/status", json=order())
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    assert client.post("/ecommerce/activate").status_code == 200
    assert client.post("/orders/status", json=order()).status_code == 204
    too_many = client.post("/orders/status/batch", json={"orders": [order(f"o{i}") for i in range(1001)]})
    assert too_many.status_code == 400
