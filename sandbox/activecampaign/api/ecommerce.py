"""AC Deep Data: connections, e-commerce customers, orders and their products."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from sandbox.activecampaign.api.base import APIBase
from sandbox.activecampaign.api.links import (
    Linker,
)
from sandbox.activecampaign.api.listing import (
    filter_param,
    listing,
    page_params,
    plain_page,
)
from sandbox.activecampaign.api.responses import JSONBody
from sandbox.activecampaign.errors import not_found
from sandbox.activecampaign.generator.catalog import Row


class EcommerceRoutes(APIBase):
    """`/connections`, `/ecomCustomers`, `/ecomOrders`, `/ecomOrderProducts`."""

    # -- e-commerce ----------------------------------------------------------

    async def connections_list(self, request: Request) -> Response:
        limit, offset = page_params(request)
        service, externalid = filter_param(request, "service"), filter_param(request, "externalid")
        rows = [
            r
            for r in self.state.connections.values()
            if (service is None or r["service"] == service)
            and (externalid is None or r["externalid"] == externalid)
        ]
        return listing("connections", Linker(request), rows[offset : offset + limit], len(rows))

    async def ecom_customers_list(self, request: Request) -> Response:
        email, externalid = filter_param(request, "email"), filter_param(request, "externalid")
        connectionid = filter_param(request, "connectionid")
        pred = None
        if email or externalid or connectionid:

            def pred(r: Row) -> bool:
                return (
                    (email is None or r["email"].lower() == email.lower())
                    and (externalid is None or r["externalid"] == externalid)
                    and (connectionid is None or r["connectionid"] == connectionid)
                )

        return self._table_listing(request, "ecomCustomers", pred)

    async def ecom_customer_get(self, request: Request) -> Response:
        rid = request.path_params["id"]
        with self.state.lock:
            row = self.state.tables["ecomCustomers"].get(rid)
        if row is None:
            raise not_found("EcomCustomer", rid)
        return JSONBody({"ecomCustomer": Linker(request)("ecomCustomers", row)})

    async def ecom_orders_list(self, request: Request) -> Response:
        wanted = {
            k: filter_param(request, k)
            for k in ("connectionid", "externalid", "externalcheckoutid", "email", "state", "customerid")
        }
        wanted = {k: v for k, v in wanted.items() if v is not None}
        pred = None
        if wanted:

            def pred(r: Row) -> bool:
                for k, v in wanted.items():
                    have = r.get(k)
                    if k == "email":
                        if (have or "").lower() != v.lower():
                            return False
                    elif str(have) != v:
                        return False
                return True

        return self._table_listing(request, "ecomOrders", pred)

    async def ecom_order_get(self, request: Request) -> Response:
        rid = request.path_params["id"]
        with self.state.lock:
            row = self.state.tables["ecomOrders"].get(rid)
        if row is None:
            raise not_found("EcomOrder", rid)
        return JSONBody({"ecomOrder": Linker(request)("ecomOrders", row)})

    async def ecom_order_products_of(self, request: Request) -> Response:
        rid = request.path_params["id"]
        st = self.state
        with st.lock:
            order = st.tables["ecomOrders"].get(rid)
            if order is None:
                raise not_found("EcomOrder", rid)
            table = st.tables["ecomOrderProducts"]
            rows = [p for p in (table.get(int(x)) for x in order["orderProducts"]) if p is not None]
        return JSONBody({"ecomOrderProducts": Linker(request).many("ecomOrderProducts", rows)})

    async def ecom_order_products_list(self, request: Request) -> Response:
        # The vendor example of this list has no meta.
        st = self.state
        limit, offset = page_params(request)
        with st.lock:
            rows = plain_page(st.tables["ecomOrderProducts"], limit, offset)
        return JSONBody({"ecomOrderProducts": Linker(request).many("ecomOrderProducts", rows)})

    async def ecom_order_product_get(self, request: Request) -> Response:
        rid = request.path_params["id"]
        with self.state.lock:
            row = self.state.tables["ecomOrderProducts"].get(rid)
        if row is None:
            raise not_found("EcomOrderProduct", rid)
        return JSONBody({"ecomOrderProduct": Linker(request)("ecomOrderProducts", row)})
