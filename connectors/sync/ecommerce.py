"""E-commerce (AC Deep Data): customers become Brevo contacts, orders with their products Brevo orders.

Three phases, each resumable by offset:

1. customers (`/ecomCustomers`, 100 per request): each customer's email becomes a Brevo
   contact through the contacts writer (batch update; the ones Brevo does not know are
   created). Nothing is invented: Deep Data aggregates (revenue, order count) are not written
   as attributes. A customer already in Brevo is "unchanged". The `connectionid` 0 rows (AC's
   cross-store summary of an email) are skipped with the reason.
2. products (full runs only): every order line (`/ecomOrderProducts`, 100 per request) is
   parked in StagedRow keyed by order id, instead of one request per order. Incremental runs
   read the lines of changed orders only (`/ecomOrders/{id}/orderProducts`).
3. orders (`/ecomOrders`, 100 per request): `transform_order`, skip unchanged (content hash in
   RecordState), and send in batches of up to 1,000 (`POST /orders/status/batch`, one request
   of Brevo's ~100-per-hour bucket per 1,000 orders). Brevo upserts orders by our id
   (`ac-<AC order id>`), so a repeated batch never duplicates an order. Full runs send
   `historical: true` (no Brevo workflow fires for old orders). Incremental runs send live
   orders: a batch when there are many and the hourly bucket has a slot, otherwise one
   `POST /orders/status` each (orders bucket, 5 a second).

Outcomes: orders without products fail (Brevo needs at least one line); abandoned carts
(state 2) are not purchases and Brevo's order API has no cart, so each is sent once as the
Brevo custom event `cart_abandoned` (`cart_event`; events bucket, deduplicated by
RecordState). AC has no changed-since filter on Deep Data, so every run reads all customers
and orders; incremental runs record only the ones changed since the cursor (records that
failed come back with "retry failed" or a full run).
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from connectors.exceptions import BadResponse, NotFoundError, ValidationFailed
from connectors.models import Outcome, RunMode, StagedRow
from connectors.providers.activecampaign.schemas import EcomCustomer, EcomOrder, EcomOrderProduct
from connectors.sync import staging
from connectors.sync.automations import changed_since
from connectors.sync.base import RequestEstimate, Resource, SliceResult, SyncContext, Volumes
from connectors.sync.brevo_contacts import PendingContact, slice_writer
from connectors.sync.cost import page_writes, pages
from connectors.sync.deals import hourly_budget
from connectors.sync.event_delivery import deliver_event
from connectors.sync.recorder import load_states
from connectors.sync.registry import register
from mappings.records import SourceOrder, SourceOrderProduct
from mappings.transforms import (
    BrevoEventPayload,
    EventResult,
    content_hash,
    normalize_email,
    not_sent_outcome,
    transform_order,
)
from mappings.transforms.values import cents_to_major, iso_datetime

ORDER_LINE = "o"  # StagedRow.kind of a parked order line; its contact_id column holds the order id
MAX_BATCH = 1000  # Brevo's cap per order batch
BATCH_MIN = 100  # live orders: fewer than this go one by one rather than spend an hourly slot
BATCH_ATTEMPTS = 5  # a refused batch is re-sent without the order Brevo named, at most this often
CUSTOMERS, PRODUCTS, ORDERS = "customers", "products", "orders"
_ORDER_INDEX = re.compile(r"orders\[(\d+)\]")


@dataclass
class _Pending:
    source_id: str
    key: str
    body: dict[str, Any]
    digest: str
    known: bool
    problems: str
    modified_at: datetime | None


@dataclass
class _Buffer:
    """Orders read but not yet written, with the outcomes of their pages, committed together."""

    pending: list[_Pending] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    next_offset: int = 0


@register
class EcommerceResource(Resource):
    name = "ecommerce"
    label = "E-commerce (customers and orders)"
    connection_flag = "sync_ecommerce"
    after = ("contacts",)

    def estimate_requests(self, counts: Volumes) -> RequestEstimate:
        """Customers, order lines and orders by page; customers imported and read back a page at a
        time, orders in batches of 1,000."""
        customers, orders = counts.total("ecomCustomers"), counts.total("ecomOrders")
        ac = pages(customers) + pages(counts.total("ecomOrderProducts")) + pages(orders)
        brevo = page_writes(customers)
        if orders:
            brevo["other"] = float(math.ceil(orders / MAX_BATCH))
        return RequestEstimate(ac=ac, brevo=brevo)

    def run_slice(self, ctx: SyncContext, state: dict[str, Any]) -> SliceResult:
        if ctx.mode == RunMode.RETRY:
            return self._retry_slice(ctx, state)
        phase = state.get("phase") or CUSTOMERS
        if phase == CUSTOMERS:
            if not self._customers(ctx, state):
                return self._result(state, done=False)
            phase = PRODUCTS if ctx.since is None else ORDERS
        if phase == PRODUCTS:
            state["phase"] = PRODUCTS
            if not self._stage_products(ctx, state):
                return self._result(state, done=False)
            phase = ORDERS
        state["phase"] = ORDERS
        if not self._orders(ctx, state):
            return self._result(state, done=False)
        cursor = datetime.fromisoformat(state["max_date"]) if state.get("max_date") else None
        return SliceResult(state, done=True, total=self._total(state), next_cursor=cursor)

    def _result(self, state: dict[str, Any], *, done: bool) -> SliceResult:
        return SliceResult(state, done=done, total=self._total(state))

    @staticmethod
    def _total(state: dict[str, Any]) -> int | None:
        parts = [state.get("customers_total"), state.get("orders_total")]
        known = [int(p) for p in parts if p is not None]
        return sum(known) if known else None

    def _track(self, state: dict[str, Any], moment: datetime | None) -> None:
        if moment and moment.tzinfo and (not state.get("max_date") or moment.isoformat() > state["max_date"]):
            state["max_date"] = moment.isoformat()

    # -- customers ----------------------------------------------------------------------------

    def _customers(self, ctx: SyncContext, state: dict[str, Any]) -> bool:
        offset = int(state.get("customers_offset") or 0)
        for page in ctx.ac.iter_ecom_customer_pages(offset=offset):
            if page.total is not None and ctx.since is None:
                state["customers_total"] = page.total
            ctx.recorder.record_invalid(self.name, page.invalid, prefix="customer:")
            self._write_customers(ctx, page.items, state)
            state["customers_offset"] = page.next_offset
            if ctx.out_of_time():
                return False
        return True

    def _write_customers(
        self, ctx: SyncContext, customers: list[EcomCustomer], state: dict[str, Any]
    ) -> None:
        states = load_states(ctx.connection.pk, self.name, [f"customer:{c.id}" for c in customers])
        pending: list[PendingContact] = []
        digests: dict[str, tuple[str, datetime | None]] = {}
        seen: dict[str, str] = {}
        for customer in customers:
            source_id = f"customer:{customer.id}"
            previous = states.get(source_id)
            self._track(state, customer.tstamp)
            if ctx.since is not None and not changed_since([customer.tstamp], ctx.since):
                continue
            if customer.connection_id == 0:
                ctx.recorder.record(
                    self.name,
                    source_id,
                    Outcome.SKIPPED,
                    key=customer.email.lower(),
                    code="aggregate",
                    message="ActiveCampaign's cross-store summary of this email (connection 0); "
                    "the per-store customer rows are synced",
                )
                continue
            email, code, reason = normalize_email(customer.email)
            if email is None:
                outcome = Outcome.SKIPPED if code == "no_email" else Outcome.FAILED
                ctx.recorder.record(self.name, source_id, outcome, code=code or "", message=reason or "")
                continue
            if email in seen:
                ctx.recorder.record(
                    self.name,
                    source_id,
                    Outcome.UNCHANGED,
                    key=email,
                    message=f"same email as customer {seen[email]} of another store: one Brevo contact",
                )
                continue
            seen[email] = str(customer.id)
            body: dict[str, Any] = {"email": email, "attributes": {}}
            digest = content_hash(body)
            if previous is not None and previous.content_hash == digest:
                ctx.recorder.record(self.name, source_id, Outcome.UNCHANGED, key=email)
                continue
            pending.append(
                PendingContact(source_id=source_id, email=email, body=body, known=previous is not None)
            )
            digests[source_id] = (digest, customer.tstamp)
        if not pending:
            return
        if ctx.dry_run:
            for item in pending:
                ctx.recorder.record(
                    self.name,
                    item.source_id,
                    Outcome.UNCHANGED if item.known else Outcome.CREATED,
                    key=item.email,
                    message="would make sure the contact exists in Brevo",
                    sent=item.body,
                )
            return
        writer = slice_writer(ctx)
        outcomes = writer.write(pending)
        ctx.recorder.note_imports(writer.processes)
        for item in pending:
            written = outcomes.get(item.source_id)
            if written is None:
                ctx.recorder.record_lost(self.name, item)
                continue
            if ctx.recorder.record_refused(self.name, item, written):
                continue
            digest, tstamp = digests[item.source_id]
            ctx.recorder.remember(self.name, item.source_id, content_hash=digest, modified_at=tstamp)
            if written.outcome == Outcome.CREATED:
                ctx.recorder.record(
                    self.name,
                    item.source_id,
                    Outcome.CREATED,
                    key=item.email,
                    message=written.message,
                    sent=item.body,
                )
            else:
                # An empty update changed nothing: the contact was already in Brevo.
                ctx.recorder.record(
                    self.name, item.source_id, Outcome.UNCHANGED, key=item.email, message="already in Brevo"
                )

    # -- order lines --------------------------------------------------------------------------

    def _stage_products(self, ctx: SyncContext, state: dict[str, Any]) -> bool:
        offset = int(state.get("products_offset") or 0)
        for page in ctx.ac.iter_ecom_order_product_pages(offset=offset):
            rows = [
                (ORDER_LINE, line.order_id, line.id or 0, orjson.dumps(_line_blob(line)).decode())
                for line in page.items
                if line.order_id
            ]
            staging.write_rows(ctx.run.pk, rows)
            state["products_offset"] = page.next_offset
            if ctx.out_of_time():
                return False
        return True

    def _staged_lines(self, ctx: SyncContext, order_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
        found: dict[int, list[dict[str, Any]]] = {}
        if not order_ids:
            return found
        rows = StagedRow.objects.filter(run_id=ctx.run.pk, kind=ORDER_LINE, contact_id__in=order_ids)
        for order_id, line_id, value in rows.values_list("contact_id", "key", "value"):
            found.setdefault(order_id, []).append({**orjson.loads(value), "_id": line_id})
        return found

    def _lines_of(
        self, ctx: SyncContext, order: EcomOrder, staged: dict[int, list[dict[str, Any]]]
    ) -> list[dict]:
        if order.order_products:
            return [_line_blob(line) for line in order.order_products]
        lines = staged.get(order.id, [])
        listed = set(order.order_product_ids)
        if lines and (not listed or listed <= {line["_id"] for line in lines}):
            return lines
        if not listed and ctx.since is None:
            return lines
        # Not parked (incremental run, or added while we read): one request for this order.
        return [_line_blob(line) for line in ctx.ac.list_ecom_order_products(order.id).items]

    # -- orders -------------------------------------------------------------------------------

    def _orders(self, ctx: SyncContext, state: dict[str, Any]) -> bool:
        offset = int(state.get("orders_offset") or 0)
        buffer = _Buffer(next_offset=offset)
        orders_rate = _per_second(ctx.brevo.bucket_limiter("orders"))
        for page in ctx.ac.iter_ecom_order_pages(offset=offset):
            if page.total is not None and ctx.since is None:
                state["orders_total"] = page.total
            for raw, reason in page.invalid:
                source_id = raw.get("id", "?") if isinstance(raw, dict) else "?"
                buffer.records.append(
                    {
                        "source_id": source_id,
                        "outcome": Outcome.FAILED,
                        "message": reason,
                        "code": "malformed",
                    }
                )
            self._prepare(ctx, page.items, buffer, state)
            buffer.next_offset = page.next_offset
            left = ctx.deadline - time.monotonic()
            singles_time = len(buffer.pending) / orders_rate if ctx.since is not None else 0.0
            if len(buffer.pending) >= MAX_BATCH or ctx.out_of_time() or left - singles_time < 2.0:
                if not self._flush(ctx, buffer, state):
                    return False
                if ctx.out_of_time():
                    return False
        return self._flush(ctx, buffer, state)

    def _prepare(
        self, ctx: SyncContext, orders: list[EcomOrder], buffer: _Buffer, state: dict[str, Any]
    ) -> None:
        states = load_states(ctx.connection.pk, self.name, [str(o.id) for o in orders])
        changed: list[EcomOrder] = []
        for order in orders:
            modified = order.updated_date or order.tstamp
            self._track(state, modified)
            if ctx.since is not None and not changed_since([modified], ctx.since):
                continue
            changed.append(order)
        staged = self._staged_lines(ctx, [o.id for o in changed]) if ctx.since is None else {}
        for order in changed:
            source_id = str(order.id)
            previous = states.get(source_id)
            key = (order.email or "").strip().lower()
            try:
                lines = self._lines_of(ctx, order, staged)
            except NotFoundError:
                buffer.records.append(_gone(source_id, key))
                continue
            source = _source(order, lines)
            result = transform_order(source, ctx.compiled)
            if result.skip_code == "abandoned_cart":
                # Not a purchase, and Brevo's order API has no cart: the cart becomes an event.
                deliver_event(ctx, self.name, source_id, cart_event(source), previous=previous, key=key)
                continue
            if result.payload is None:
                buffer.records.append(
                    {
                        "source_id": source_id,
                        "outcome": not_sent_outcome(result.skip_code),
                        "key": key,
                        "code": result.skip_code or "",
                        "message": result.skip_reason or "",
                    }
                )
                continue
            body = result.payload.to_brevo()
            digest = content_hash(body)
            if previous is not None and previous.content_hash == digest:
                buffer.records.append({"source_id": source_id, "outcome": Outcome.UNCHANGED, "key": key})
                continue
            buffer.pending.append(
                _Pending(
                    source_id=source_id,
                    key=result.payload.email,
                    body=body,
                    digest=digest,
                    known=previous is not None,
                    problems="; ".join(f"{e.field}: {e.reason}" for e in result.errors),
                    modified_at=order.updated_date or order.tstamp,
                )
            )

    def _flush(self, ctx: SyncContext, buffer: _Buffer, state: dict[str, Any]) -> bool:
        """Write the buffered orders and record their pages; False: no Brevo slot in this slice."""
        pending = buffer.pending
        if pending and not ctx.dry_run:
            live = ctx.since is not None
            wait = _other_wait(ctx)
            slot = wait <= max(0.0, ctx.deadline - time.monotonic())
            if live and (len(pending) < BATCH_MIN or not slot):
                self._send_singly(ctx, pending)
            elif slot:
                self._send_batches(ctx, pending, historical=not live)
            else:
                # Old orders must go in a historical batch (no workflows): wait for the hourly slot.
                ctx.resume_after = wait
                return False
        for record in buffer.records:
            ctx.recorder.record(self.name, record.pop("source_id"), record.pop("outcome"), **record)
        if ctx.dry_run:
            for item in pending:
                self._record_order(ctx, item, "would update" if item.known else "would create")
        state["orders_offset"] = buffer.next_offset
        buffer.pending, buffer.records = [], []
        return True

    def _send_batches(self, ctx: SyncContext, pending: list[_Pending], *, historical: bool) -> None:
        for start in range(0, len(pending), MAX_BATCH):
            chunk = pending[start : start + MAX_BATCH]
            for attempt in range(BATCH_ATTEMPTS):
                if not chunk:
                    break
                if attempt and not _slot_in_time(ctx):
                    break  # another attempt would wait for the hourly bucket past this slice
                try:
                    batch_id = ctx.brevo.create_orders_batch(
                        [item.body for item in chunk], historical=historical
                    )
                except ValidationFailed as exc:
                    bad = _named_order(exc, len(chunk))
                    if bad is None:
                        for item in chunk:
                            self._fail(ctx, item, f"Brevo refused the order batch: {exc.operator_message}")
                        chunk = []
                        break
                    self._fail(ctx, chunk[bad], f"Brevo rejected the order: {exc.operator_message}")
                    chunk = chunk[:bad] + chunk[bad + 1 :]
                    continue
                kind = "historical " if historical else ""
                for item in chunk:
                    self._written(ctx, item, f"sent in Brevo {kind}order batch {batch_id}")
                chunk = []
            for item in chunk:
                self._fail(
                    ctx,
                    item,
                    "not sent: Brevo refused its batch because of other orders; retry the failed records",
                )

    def _send_singly(self, ctx: SyncContext, pending: list[_Pending]) -> None:
        for item in pending:
            try:
                ctx.brevo.create_order(item.body)
            except ValidationFailed as exc:
                self._fail(ctx, item, f"Brevo rejected the order: {exc.operator_message}")
                continue
            self._written(ctx, item, "")

    def _written(self, ctx: SyncContext, item: _Pending, note: str) -> None:
        ctx.recorder.remember(
            self.name, item.source_id, content_hash=item.digest, modified_at=item.modified_at
        )
        self._record_order(ctx, item, note)

    def _record_order(self, ctx: SyncContext, item: _Pending, note: str) -> None:
        outcome = Outcome.UPDATED if item.known else Outcome.CREATED
        if item.problems:
            ctx.recorder.record(
                self.name,
                item.source_id,
                Outcome.FAILED,
                key=item.key,
                code="field_rejected",
                message=f"{note or outcome}, but these lines were not sent: {item.problems}",
                sent=item.body,
            )
            return
        ctx.recorder.record(self.name, item.source_id, outcome, key=item.key, message=note, sent=item.body)

    def _fail(self, ctx: SyncContext, item: _Pending, message: str) -> None:
        ctx.recorder.record(
            self.name,
            item.source_id,
            Outcome.FAILED,
            key=item.key,
            code="brevo_invalid",
            message=message,
            sent=item.body,
        )

    # -- retries ------------------------------------------------------------------------------

    def _retry_slice(self, ctx: SyncContext, state: dict[str, Any]) -> SliceResult:
        """Failed orders are read again one by one (customers come back with the next full run)."""
        ids = sorted(
            {int(s) for s in ctx.only_ids.get(self.name, set()) if s.isdigit()}
            - set(state.get("done_ids", []))
        )
        state.setdefault("total", len(ids))
        done: list[int] = state.setdefault("done_ids", [])
        buffer = _Buffer()
        for order_id in ids:
            if ctx.out_of_time():
                break
            try:
                order = ctx.ac.get_ecom_order(order_id)
            except (NotFoundError, BadResponse):
                buffer.records.append(_gone(str(order_id), ""))
            else:
                self._prepare(ctx, [order], buffer, state)
            done.append(order_id)
        if buffer.pending and not ctx.dry_run:
            self._send_singly(ctx, buffer.pending)
            buffer.pending = []
        for record in buffer.records:
            ctx.recorder.record(self.name, record.pop("source_id"), record.pop("outcome"), **record)
        remaining = set(ids) - set(done)
        return SliceResult(state, done=not remaining, total=state["total"])


def _gone(source_id: str, key: str) -> dict[str, Any]:
    return {
        "source_id": source_id,
        "outcome": Outcome.FAILED,
        "key": key,
        "code": "not_found",
        "message": "the order no longer exists in ActiveCampaign",
    }


def _line_blob(line: EcomOrderProduct) -> dict[str, Any]:
    return {
        "external_id": line.external_id,
        "sku": line.sku,
        "name": line.name,
        "price_cents": line.price_cents,
        "quantity": line.quantity,
        "category": line.category,
    }


CART_EVENT = "cart_abandoned"  # the Brevo event an abandoned Deep Data cart becomes


def cart_event(order: SourceOrder) -> EventResult:
    """An abandoned cart (Deep Data state 2) as the Brevo custom event `cart_abandoned`.

    Properties: the cart's id, checkout id, total in major units, currency, and its lines
    (name, SKU, quantity, price), so a Brevo cart-recovery workflow can start on it.
    """
    email, code, reason = normalize_email(order.email)
    if email is None:
        return EventResult(skip_code=code, skip_reason=reason, source_id=str(order.ac_id))
    properties: dict[str, Any] = {"cart_id": order.external_id or str(order.ac_id)}
    if order.external_checkout_id:
        properties["checkout_id"] = order.external_checkout_id
    if order.total_cents is not None:
        properties["total"] = cents_to_major(order.total_cents)
    if order.currency:
        properties["currency"] = order.currency.upper()
    properties["products"] = [
        {
            key: value
            for key, value in (
                ("name", line.name),
                ("sku", line.sku),
                ("quantity", line.quantity),
                ("price", cents_to_major(line.price_cents) if line.price_cents is not None else None),
            )
            if value is not None
        }
        for line in order.products[:50]
    ]
    when = order.updated_at or order.created_at
    return EventResult(
        payload=BrevoEventPayload(
            event_name=CART_EVENT,
            email=email,
            event_date=iso_datetime(when) if when is not None else None,
            event_properties=properties,
        ),
        source_id=str(order.ac_id),
    )


def _source(order: EcomOrder, lines: list[dict[str, Any]]) -> SourceOrder:
    return SourceOrder(
        ac_id=order.id,
        connection_id=order.connection_id,
        external_id=order.external_id,
        external_checkout_id=order.external_checkout_id,
        order_number=order.order_number,
        email=order.email or None,
        state=order.state,
        total_cents=order.total_price_cents,
        currency=order.currency or None,
        created_at=order.external_created_date or order.order_date or order.created_date,
        updated_at=order.external_updated_date or order.updated_date,
        products=tuple(
            SourceOrderProduct(
                external_id=line.get("external_id"),
                sku=line.get("sku"),
                name=line.get("name") or None,
                price_cents=line.get("price_cents"),
                quantity=line.get("quantity"),
                category=line.get("category"),
            )
            for line in lines
        ),
    )


def _other_wait(ctx: SyncContext) -> float:
    """Seconds until Brevo's hourly bucket (order batches) has a free slot."""
    limiter = ctx.brevo.bucket_limiter("other")
    return limiter.peek() if limiter is not None else 0.0


def _slot_in_time(ctx: SyncContext) -> bool:
    return _other_wait(ctx) <= max(0.0, ctx.deadline - time.monotonic())


def _per_second(limiter: Any) -> float:
    per_hour = hourly_budget(limiter)
    return float("inf") if per_hour is None else per_hour / 3600.0


def _named_order(exc: ValidationFailed, size: int) -> int | None:
    """The index of the order Brevo named in its refusal of a batch, when it names one."""
    texts = [exc.operator_message, *(str(d) for d in exc.details)]
    for text in texts:
        match = _ORDER_INDEX.search(text or "")
        if match and int(match.group(1)) < size:
            return int(match.group(1))
    return None
