"""Building an in-process Brevo simulator for tests, and the bodies they share."""

from __future__ import annotations

import time

from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from sandbox.brevo import BrevoSimulator

KEY = "xkeysib-sandbox-test-not-a-real-key"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(**kwargs) -> tuple[BrevoSimulator, TestClient]:
    sim = BrevoSimulator(api_key=KEY, **kwargs)
    app = Starlette(routes=[Mount("/v3", routes=sim.routes())])
    return sim, TestClient(app, base_url="http://sandbox/v3", headers={"api-key": KEY})

def wait_done(client: TestClient, process_id: int) -> dict:
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        process = client.get(f"/processes/{process_id}").json()
        if process["status"] == "completed":
            return process
        time.sleep(0.01)
    raise AssertionError(f"process {process_id} did not complete: {process}")


def order(order_id: str = "ORD-1", **extra) -> dict:
    return {
        "id": order_id,
        "createdAt": "2026-03-01T10:02:11Z",
        "updatedAt": "2026-03-01T10:05:40Z",
        "status": "completed",
        "amount": 87.5,
        "identifiers": {"email_id": "li@example.net"},
        "products": [
            {"productId": "P11", "variantId": "P11-RED", "quantity": 2, "price": 35.0},
            {"productId": "P20", "quantityFloat": 1.5, "price": 11.67},
        ],
        **extra,
    }
