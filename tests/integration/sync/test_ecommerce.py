"""E-commerce (Deep Data customers and orders) end to end: sandbox over real HTTP, PostgreSQL, the engine."""

from __future__ import annotations

import httpx
import pytest

from connectors.models import Outcome, RecordState, RunMode, RunStatus, SyncRecord, SyncRun
from connectors.providers.brevo.client import GENERAL_BUDGETS
from sandbox.config import SandboxConfig
from sandbox.server import SandboxServer
from tests.sandbox_helpers import connection_for_sandbox, demo_mapping, drive

pytestmark = pytest.mark.django_db(transaction=True)

OUTCOMES = ("created", "updated", "unchanged", "skipped", "failed")


@pytest.fixture(scope="module")
def sandbox():
    with SandboxServer(SandboxConfig.fast(contacts=60, seed=9)) as server:
        yield server


def _run(connection, **kwargs) -> SyncRun:
    return SyncRun.objects.create(
        tenant=connection.tenant,
        connection=connection,
        resources=["ecommerce"],
        mapping_snapshot=demo_mapping().model_dump(mode="json"),
        **kwargs,
    )


def _stats(sandbox) -> dict:
    return httpx.get(f"{sandbox.base_url}/_sandbox/stats").json()


def _requests(stats: dict, prefix: str) -> int:
    return sum(v["count"] for k, v in stats["requests"].items() if k.split(" ", 1)[1].startswith(prefix))


def _change_order(sandbox, order_id: int, **changes) -> None:
    """Edit a generated order in place (the sandbox API has no Deep Data writes)."""
    st = sandbox.ac
    with st.lock:
        st._materialise(st.gen.owner_of("ecomOrders", order_id) + 1)
        st.tables["ecomOrders"].rows[order_id].update(changes)


def _ac_orders(sandbox) -> list[dict]:
    return httpx.get(
        f"{sandbox.ac_api_url}/api/3/ecomOrders", params={"limit": 100}, headers={"Api-Token": sandbox.ac_key}
    ).json()["ecomOrders"]


def test_customers_and_orders_backfill_then_idempotent(sandbox, redis_conn) -> None:
    orders = _ac_orders(sandbox)
    abandoned = next(o for o in orders if o["orderProducts"])
    _change_order(sandbox, int(abandoned["id"]), state=2, externalcheckoutid="cart-77")
    connection = connection_for_sandbox(sandbox)
    counts_before = sandbox.brevo.counts()
    before = _stats(sandbox)
    run = drive(_run(connection))
    after = _stats(sandbox)

    assert run.status == RunStatus.PARTIAL, run.error
    counters = run.counters["ecommerce"]
    assert counters["read"] == sum(counters.get(k, 0) for k in OUTCOMES)
    assert counters["read"] == SyncRecord.objects.filter(run=run).count()

    customers = SyncRecord.objects.filter(run=run, source_id__startswith="customer:")
    assert customers.count() == sandbox.ac.counts()["ecomCustomers"]
    made = customers.filter(outcome__in=[Outcome.CREATED, Outcome.UNCHANGED]).exclude(key="")
    assert made.exists()
    for record in made[:5]:
        assert sandbox.brevo.contact_by_email(record.key) is not None, record.key

    order_records = SyncRecord.objects.filter(run=run).exclude(source_id__startswith="customer:")
    assert order_records.count() == len(orders)
    no_products = [o for o in orders if not o["orderProducts"]]
    failed = order_records.filter(error_code="no_products")
    assert failed.count() == len(no_products) > 0
    assert all(r.outcome == Outcome.FAILED for r in failed)
    cart = order_records.get(source_id=abandoned["id"])
    # Not an order: the cart reached Brevo as the event cart_abandoned, with its lines.
    assert cart.outcome == Outcome.CREATED, cart.message
    sent = [e for e in sandbox.brevo.events() if e["event_name"] == "cart_abandoned"]
    assert len(sent) == 1 and sent[0]["event_properties"]["checkout_id"] == "cart-77"
    assert sent[0]["event_properties"]["products"]

    created = order_records.filter(outcome=Outcome.CREATED).exclude(source_id=abandoned["id"])
    assert created.count() > 10
    counts = sandbox.brevo.counts()
    assert counts["order_batches"] - counts_before["order_batches"] == 1, "orders must go in one batch"
    stored = {o["id"]: o for o in sandbox.brevo.orders()}
    some = created.first()
    assert f"ac-{some.source_id}" in stored
    assert stored[f"ac-{some.source_id}"]["products"], "order lines reached Brevo"
    assert "historical" in some.message
    # Order lines are read in bulk, not one request per order.
    per_order = _requests(after, "/api/3/ecomOrders/") - _requests(before, "/api/3/ecomOrders/")
    assert per_order == 0, per_order

    rerun = drive(_run(connection))
    again = rerun.counters["ecommerce"]
    assert again.get("created", 0) == 0 and again.get("updated", 0) == 0
    assert sandbox.brevo.counts()["order_batches"] == counts["order_batches"]
    assert len(sandbox.brevo.orders()) == len(stored)
    assert RecordState.objects.filter(connection=connection, resource="ecommerce").count() == (
        created.count() + made.count() + 1  # + the cart, sent once as an event
    )

    # A changed order is sent again, one by one on an incremental run, as the same Brevo order.
    changed = int(some.source_id)
    _change_order(
        sandbox,
        changed,
        totalPrice=99999,
        updatedDate="2030-01-01T10:00:00-05:00",
        tstamp="2030-01-01T10:00:00-05:00",
    )
    incremental = drive(_run(connection, mode=RunMode.INCREMENTAL))
    record = SyncRecord.objects.get(run=incremental, source_id=str(changed))
    assert record.outcome == Outcome.UPDATED, record.message
    assert next(o for o in sandbox.brevo.orders() if o["id"] == f"ac-{changed}")["amount"] == 999.99
    assert incremental.counters["ecommerce"]["read"] < counters["read"] / 2
    assert sandbox.brevo.counts()["order_batches"] == counts["order_batches"], (
        "one order spent an hourly slot"
    )


def test_backfill_waits_for_an_hourly_slot_instead_of_sending_live_orders(
    sandbox, redis_conn, monkeypatch
) -> None:
    """Historical orders must not trigger Brevo workflows: no single POSTs when the batch slot is gone."""
    from connectors.sync.engine import execute_slice

    monkeypatch.setitem(GENERAL_BUDGETS, "other", (None, 1))
    connection = connection_for_sandbox(sandbox, brevo_budget="general")
    first = _run(connection)
    drive(first)  # spends the one slot of the hour
    assert first.__class__.objects.get(pk=first.pk).status == RunStatus.PARTIAL
    RecordState.objects.filter(connection=connection, resource="ecommerce").exclude(
        source_id__startswith="customer:"
    ).delete()

    before = _stats(sandbox)
    run = _run(connection)
    assert execute_slice(run.pk, slice_seconds=5) == "continue"
    run.refresh_from_db()
    after = _stats(sandbox)
    assert _requests(after, "/v3/orders") == _requests(before, "/v3/orders")
    assert run.state["ecommerce"]["done"] is False
    # (an abandoned cart is an event, on the events bucket: it does not wait for the order slot)
    assert not (
        SyncRecord.objects.filter(run=run)
        .exclude(source_id__startswith="customer:")
        .exclude(message="event cart_abandoned")
        .exists()
    )


def test_tiny_slices_resume_without_losing_or_repeating(sandbox, redis_conn, settings) -> None:
    settings.TAJO_SYNC_SLICE_RECORDS = 5
    connection = connection_for_sandbox(sandbox)
    run = drive(_run(connection))
    counters = run.counters["ecommerce"]
    expected = sandbox.ac.counts()["ecomCustomers"] + sandbox.ac.counts()["ecomOrders"]
    assert counters["read"] == expected
    assert SyncRecord.objects.filter(run=run).values("source_id").distinct().count() == expected
