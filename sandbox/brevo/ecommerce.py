"""Brevo e-commerce: activation and orders, one or a batch (reference §7)."""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request

from sandbox.brevo.state import BrevoState
from sandbox.brevo.values import (
    Fail,
    parse_ts,
    qint,
    since_param,
    valid_email,
)


class EcommerceRoutes(BrevoState):
    """`/ecommerce/activate` and `/orders/status`."""

    # ------------------------------------------------------------ e-commerce

    def _activate_ecommerce(self, request: Request, body: Any) -> tuple[int, Any]:
        self.ecommerce_enabled = True
        return 200, {"message": "Ecommerce activation in process"}

    def _require_ecommerce(self) -> None:
        if not self.ecommerce_enabled:
            raise Fail(
                403,
                "permission_denied",
                "Ecommerce is not activated on this account: call POST /ecommerce/activate",
            )

    def _validate_order(self, order: Any, where: str = "") -> dict:
        def fail(message: str, code: str = "invalid_parameter") -> Fail:
            return Fail(400, code, f"{where}{message}")

        if not isinstance(order, dict):
            raise fail("order must be an object", "bad_request")
        for key in ("id", "createdAt", "updatedAt", "status", "amount", "products"):
            if order.get(key) in (None, ""):
                raise fail(f"{key} is mandatory", "missing_parameter")
        if not isinstance(order["id"], str):
            raise fail("id must be a string")
        for key in ("createdAt", "updatedAt"):
            if not isinstance(order[key], str):
                raise fail(f"{key} must be a UTC date-time string (YYYY-MM-DDTHH:mm:ssZ)")
            parse_ts(order[key], f"{where}{key}")
        if isinstance(order["amount"], bool) or not isinstance(order["amount"], int | float):
            raise fail("amount must be a number")
        products = order["products"]
        if not isinstance(products, list):
            raise fail("products must be an array")
        for i, product in enumerate(products):
            if not isinstance(product, dict) or product.get("productId") in (None, ""):
                raise fail(f"products[{i}].productId is mandatory", "missing_parameter")
            if isinstance(product.get("price"), bool) or not isinstance(product.get("price"), int | float):
                raise fail(f"products[{i}].price is mandatory and must be a number")
            has_q, has_qf = product.get("quantity") is not None, product.get("quantityFloat") is not None
            if has_q == has_qf:
                raise fail(f"products[{i}]: pass exactly one of quantity or quantityFloat")
        identifiers = order.get("identifiers") or {}
        if not isinstance(identifiers, dict):
            raise fail("identifiers must be an object")
        email = identifiers.get("email_id") or order.get("email")
        if email is not None and not valid_email(email):
            raise fail("identifiers.email_id is not a valid email address")
        if not (
            email
            or identifiers.get("phone_id")
            or identifiers.get("ext_id")
            or identifiers.get("loyalty_subscription_id")
            or (order.get("billing") or {}).get("phone")
        ):
            raise fail(
                "identifiers must contain email_id, phone_id, ext_id or loyalty_subscription_id",
                "missing_parameter",
            )
        return order

    def _store_order(self, order: dict) -> None:
        identifiers = order.get("identifiers") or {}
        cid = None
        for key, kind in (("email_id", "EMAIL"), ("ext_id", "EXT_ID"), ("phone_id", "SMS")):
            if cid is None and identifiers.get(key):
                cid = self._find(kind, identifiers[key])
        if cid is None and order.get("email"):
            cid = self._find("EMAIL", order["email"])
        stored = dict(order)
        stored["contact_id"] = cid
        stored["email"] = (
            self._contacts[cid]["email"] if cid else (identifiers.get("email_id") or order.get("email"))
        )
        stored["_received"] = time.time()
        previous = self._orders.get(order["id"])
        stored["_created"] = previous["_created"] if previous else stored["_received"]
        self._orders[order["id"]] = stored  # re-posting an id updates the order

    def _create_order(self, request: Request, body: Any) -> tuple[int, Any]:
        self._require_ecommerce()
        self._store_order(self._validate_order(body))
        return 204, None

    def _create_order_batch(self, request: Request, body: Any) -> tuple[int, Any]:
        self._require_ecommerce()
        orders = body.get("orders") if isinstance(body, dict) else None
        if not isinstance(orders, list) or not orders:
            raise Fail(400, "missing_parameter", "orders is mandatory and must be a non-empty array")
        if len(orders) > 1000:
            raise Fail(400, "invalid_parameter", "A batch accepts at most 1000 orders")
        validated = [self._validate_order(o, f"orders[{i}].") for i, o in enumerate(orders)]
        for order in validated:
            self._store_order(order)
        batch_id = self._next_batch
        self._next_batch += 1
        self._order_batches.append(
            {
                "batchId": batch_id,
                "count": len(validated),
                "historical": body.get("historical", True) is not False,
                "notifyUrl": body.get("notifyUrl"),
            }
        )
        return 202, {("batchId" if self.legacy else "batch_id"): batch_id, "count": len(validated)}

    def _list_orders(self, request: Request, body: Any) -> tuple[int, Any]:
        self._require_ecommerce()
        params = request.query_params
        limit = qint(params, "limit", 50, 100)
        offset = qint(params, "offset", 0)
        modified, created = since_param(params, "modifiedSince"), since_param(params, "createdSince")
        rows = [
            o
            for o in self._orders.values()
            if (modified is None or o["_received"] >= modified)
            and (created is None or o["_created"] >= created)
        ]
        if params.get("sort", "desc") == "desc":
            rows.reverse()
        page = [{k: v for k, v in o.items() if not k.startswith("_")} for o in rows[offset : offset + limit]]
        return 200, {"orders": page, "count": len(rows)}
