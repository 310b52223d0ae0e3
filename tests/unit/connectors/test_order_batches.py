"""A refused order batch: the order Brevo names fails alone, the rest is sent again (no HTTP, no DB)."""

from __future__ import annotations

import time
from types import SimpleNamespace

from connectors.exceptions import ValidationFailed
from connectors.sync.ecommerce import EcommerceResource, _Pending
from connectors.sync.recorder import Recorder

REFUSAL = "orders[{i}].products[0].price must be a number"


class FakeBrevo:
    def __init__(self, refuse: set[str], message: str = REFUSAL) -> None:
        self.refuse, self.message, self.calls = refuse, message, []

    def bucket_limiter(self, bucket: str):
        return None

    def create_orders_batch(self, orders, *, historical: bool) -> int:
        self.calls.append([o["id"] for o in orders])
        for i, order in enumerate(orders):
            if order["id"] in self.refuse:
                raise ValidationFailed(self.message.format(i=i), status=400)
        return len(self.calls)


def _ctx(brevo: FakeBrevo) -> SimpleNamespace:
    run = SimpleNamespace(tenant_id=1, pk=1, connection_id=1)
    recorder = Recorder(run, trigger="admin")
    return SimpleNamespace(brevo=brevo, recorder=recorder, deadline=time.monotonic() + 30)


def _pending(n: int) -> list[_Pending]:
    return [
        _Pending(str(i), f"p{i}@example.org", {"id": f"ac-{i}"}, f"h{i}", False, "", None) for i in range(n)
    ]


def _outcomes(ctx) -> dict[str, tuple[str, str]]:
    return {r.source_id: (r.outcome, r.message) for r in ctx.recorder._records}


def test_named_order_fails_alone_and_the_rest_is_sent() -> None:
    brevo = FakeBrevo(refuse={"ac-2"})
    ctx = _ctx(brevo)
    EcommerceResource()._send_batches(ctx, _pending(5), historical=True)
    outcomes = _outcomes(ctx)
    assert outcomes["2"][0] == "failed" and "price must be a number" in outcomes["2"][1]
    assert {k for k, (o, _m) in outcomes.items() if o == "created"} == {"0", "1", "3", "4"}
    assert brevo.calls == [["ac-0", "ac-1", "ac-2", "ac-3", "ac-4"], ["ac-0", "ac-1", "ac-3", "ac-4"]]
    assert "historical order batch 2" in outcomes["0"][1]
    assert set(ctx.recorder._states) == {("ecommerce", k) for k in ("0", "1", "3", "4")}


def test_unnamed_refusal_fails_the_whole_batch_with_brevos_words() -> None:
    brevo = FakeBrevo(refuse={"ac-1"}, message="Bad request")
    ctx = _ctx(brevo)
    EcommerceResource()._send_batches(ctx, _pending(3), historical=False)
    outcomes = _outcomes(ctx)
    assert all(o == "failed" and "Bad request" in m for o, m in outcomes.values())
    assert len(brevo.calls) == 1
    assert not ctx.recorder._states
