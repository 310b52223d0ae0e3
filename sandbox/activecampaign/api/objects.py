"""AC custom objects: schemas and records."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from sandbox.activecampaign.api.base import APIBase
from sandbox.activecampaign.api.links import (
    Linker,
)
from sandbox.activecampaign.api.listing import (
    page_params,
    plain_page,
    take_page,
)
from sandbox.activecampaign.api.responses import JSONBody, error_response


class CustomObjectRoutes(APIBase):
    """`/customObjects/schemas` and `/customObjects/records`."""

    # -- custom objects --------------------------------------------------------

    async def schemas_list(self, request: Request) -> Response:
        limit, offset = page_params(request)
        rows = list(self.state.schemas.values())
        page = rows[offset : offset + limit]
        return JSONBody(
            {
                "schemas": page,
                "meta": {"total": len(rows), "count": len(page), "limit": limit, "offset": offset},
            }
        )

    async def schema_get(self, request: Request) -> Response:
        row = self.state.schemas.get(request.path_params["schema_id"])
        if row is None:
            return error_response(404, {"message": "Not Found"})
        return JSONBody({"schema": row})

    async def records_list(self, request: Request) -> Response:
        st = self.state
        schema_id = request.path_params["schema_id"]
        if schema_id not in st.schemas:
            return error_response(404, {"message": "Not Found"})
        limit, offset = page_params(request)
        q = request.query_params
        contact = q.get("filters[relationships.primary-contact][eq]") or q.get(
            "filters[relationships.primary-contact]"
        )
        external = q.get("filters[externalId]") or q.get("filters[externalId][eq]")
        link = Linker(request)
        with st.lock:
            table = st.tables["records"]
            if contact:
                try:
                    rows_all = st._children(int(contact), "records") if st._contact(int(contact)) else []
                except ValueError:
                    rows_all = []
                rows, total = rows_all[offset : offset + limit], len(rows_all)
            elif external:
                rows, total = take_page(
                    (r for r in table.iter_from(1) if r["externalId"] == external), limit, offset
                )
            else:
                rows, total = plain_page(table, limit, offset), table.count()
            page = link.many("records", rows)
        return JSONBody(
            {"records": page, "meta": {"total": total, "count": len(page), "limit": limit, "offset": offset}}
        )

    async def record_upsert(self, request: Request) -> Response:
        schema_id = request.path_params["schema_id"]
        if schema_id not in self.state.schemas:
            return error_response(404, {"message": "Not Found"})
        row, _created = self.state.upsert_record(schema_id, await self._json(request))
        return JSONBody({"record": Linker(request)("records", row)}, status_code=201)

    async def record_get(self, request: Request) -> Response:
        if request.path_params["schema_id"] not in self.state.schemas:
            return error_response(404, {"message": "Not Found"})
        row = self.state.record_by_id(request.path_params["record_id"])
        if row is None:
            return error_response(404, {"message": "Not Found"})
        return JSONBody({"record": Linker(request)("records", row)})
