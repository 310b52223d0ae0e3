"""Orders: an AC Deep Data order -> a Brevo order (abandoned carts are not orders)."""

from __future__ import annotations

from mappings.records import OrderState, SourceOrder, SourceOrderProduct
from mappings.transforms.compiled import CompiledMapping
from mappings.transforms.contacts import normalize_email
from mappings.transforms.results import BrevoOrderPayload, BrevoOrderProduct, FieldError, OrderResult
from mappings.transforms.values import MAX_SAFE_INTEGER, ValueRejected, clean_text, quote, utc_seconds

# Tajo's own bounds: Brevo caps `metaInfo` as a whole (20,000 characters, reference §10 item 13),
# not one value or a quantity.
ORDER_META_MAX_CHARS = 255
ORDER_QUANTITY_MAX = 1_000_000_000

# AC Deep Data order state -> Brevo order status; abandoned carts are not orders.
ORDER_STATUS = {
    OrderState.PENDING: "pending",
    OrderState.COMPLETED: "completed",
    OrderState.RECOVERED: "completed",
    OrderState.WAITING: "pending",
}


def transform_order(order: SourceOrder, mapping: CompiledMapping) -> OrderResult:
    """Map one AC Deep Data order onto a Brevo order (money in major units, UTC dates)."""

    def skip(code: str, reason: str, errors: tuple[FieldError, ...] = ()) -> OrderResult:
        return OrderResult(ac_id=order.ac_id, errors=errors, skip_reason=reason, skip_code=code)

    state = OrderState.COMPLETED if order.state is None else order.state
    if state == OrderState.ABANDONED:
        return skip("abandoned_cart", "abandoned cart: not a purchase, so it is not sent as a Brevo order")
    status = ORDER_STATUS.get(state)
    if status is None:
        return skip("unknown_state", f"order state {order.state} is unknown to Tajo")
    email, code, reason = normalize_email(order.email)
    if email is None:
        return skip(code or "no_email", reason or "")
    if order.total_cents is None:
        return skip("no_amount", "order has no total amount")
    if not 0 <= order.total_cents <= MAX_SAFE_INTEGER:
        return skip(
            "bad_amount", f"order total {quote(str(order.total_cents))} cents is negative or too large"
        )
    created = order.created_at or order.updated_at
    if created is None:
        return skip("no_date", "order has no creation date")

    try:
        created_at = utc_seconds(created)
        updated_at = utc_seconds(order.updated_at or created)
    except ValueRejected as exc:
        return skip("bad_date", f"order {exc.reason}")

    errors: list[FieldError] = []
    products: list[BrevoOrderProduct] = []
    for index, line in enumerate(order.products):
        product, problem = _order_product(line)
        if product is None:
            errors.append(FieldError(field=f"products[{index}]", reason=problem, source="AC order product"))
        else:
            products.append(product)
    if not products:
        return skip(
            "no_products",
            "order has no products Brevo can accept (Brevo orders need at least one)",
            tuple(errors),
        )

    meta: dict[str, str | float | bool] = {"ac_order_id": str(order.ac_id)}
    for key, value in (("external_id", order.external_id), ("order_number", order.order_number)):
        if value and value.strip():
            meta[key] = clean_text(value.strip())[:ORDER_META_MAX_CHARS]
    if order.currency:
        meta["currency"] = order.currency.strip().upper()[:ORDER_META_MAX_CHARS]
    coupons = tuple(sorted({clean_text(c).strip() for c in order.discount_codes if c and c.strip()}))

    payload = BrevoOrderPayload(
        # AC's own order id: unique across store connections and stable, unlike the shop's id.
        id=f"ac-{order.ac_id}",
        created_at=created_at,
        updated_at=updated_at,
        status=status,
        amount=order.total_cents / 100,
        email=email,
        products=tuple(products),
        store_id=str(order.connection_id) if order.connection_id is not None else None,
        coupons=coupons,
        meta_info=meta,
    )
    return OrderResult(ac_id=order.ac_id, payload=payload, errors=tuple(errors))


def _order_product(line: SourceOrderProduct) -> tuple[BrevoOrderProduct | None, str]:
    product_id = (line.external_id or line.sku or "").strip()
    label = quote(line.name) if line.name else quote(product_id) if product_id else "without a name"
    if not product_id:
        return None, f"product {label} has neither an external id nor a SKU"
    if line.price_cents is None or not 0 <= line.price_cents <= MAX_SAFE_INTEGER:
        return None, f"product {label} has no valid price"
    # The comparison also refuses NaN and infinities; the cap keeps it a JSON-safe integer.
    if line.quantity is None or not 0 < line.quantity <= ORDER_QUANTITY_MAX:
        return None, f"product {label} has no positive quantity"
    variant = line.sku.strip() if line.external_id and line.sku and line.sku.strip() != product_id else None
    return BrevoOrderProduct(
        product_id=clean_text(product_id)[:ORDER_META_MAX_CHARS],
        price=line.price_cents / 100,
        quantity=float(line.quantity),
        variant_id=clean_text(variant)[:ORDER_META_MAX_CHARS] if variant else None,
    ), ""


