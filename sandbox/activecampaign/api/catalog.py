"""AC fields and field values, lists and tags, with the contacts' tags and list memberships."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from sandbox.activecampaign.api.base import APIBase
from sandbox.activecampaign.api.links import (
    Linker,
)
from sandbox.activecampaign.api.listing import (
    filter_param,
    listing,
    op_matches,
    orders_param,
    page_params,
    plain_page,
    sort_rows,
    take_page,
)
from sandbox.activecampaign.api.responses import JSONBody
from sandbox.activecampaign.errors import not_found
from sandbox.activecampaign.generator.catalog import Row


class CatalogRoutes(APIBase):
    """`/fields`, `/fieldValues`, `/lists`, `/tags`, `/contactTags`, `/contactLists`."""

    # -- fields and values ---------------------------------------------------

    async def fields_list(self, request: Request) -> Response:
        st = self.state
        link = Linker(request)
        limit, offset = page_params(request, default=100)
        perstag = filter_param(request, "perstag")
        with st.lock:
            rows = [f for f in st.fields.values() if perstag is None or f["perstag"] == perstag.upper()]
            rows.sort(key=lambda f: int(f["id"]))
            page = rows[offset : offset + limit]
            wanted = {f["id"] for f in page}
            options = [o for o in st.field_options.values() if o["field"] in wanted]
            rels = [r for r in st.field_rels.values() if r["field"] in wanted]
            return listing(
                "fields",
                link,
                page,
                len(rows),
                extra={
                    "fieldOptions": link.many("fieldOptions", options),
                    "fieldRels": link.many("fieldRels", rels),
                },
            )

    async def field_get(self, request: Request) -> Response:
        fid = str(request.path_params["id"])
        row = self.state.fields.get(fid)
        if row is None:
            raise not_found("Field", fid)
        return JSONBody({"field": Linker(request)("fields", row)})

    async def field_values_list(self, request: Request) -> Response:
        fieldid = filter_param(request, "fieldid")
        val = filter_param(request, "val")
        contact = filter_param(request, "contactid") or filter_param(request, "contact")
        pred = None
        if fieldid or val is not None or contact:

            def pred(r: Row) -> bool:
                return (
                    (fieldid is None or r["field"] == fieldid)
                    and (val is None or r["value"] == val)
                    and (contact is None or r["contact"] == contact)
                )

        return self._table_listing(request, "fieldValues", pred)

    async def field_value_create(self, request: Request) -> Response:
        body = await self._json(request)
        row = self.state.set_field_value(body)
        link = Linker(request)
        out = link("fieldValues", row)
        for key in ("contact", "field", "owner"):
            out[key] = int(out[key])  # ints in this write response, strings in GETs
        contact = self.state.get_contact(int(row["contact"]))
        return JSONBody({"contacts": [link("contacts", contact)] if contact else [], "fieldValue": out})

    async def field_value_get(self, request: Request) -> Response:
        rid = request.path_params["id"]
        with self.state.lock:
            row = self.state.tables["fieldValues"].get(rid)
        if row is None:
            raise not_found("FieldValue", rid, status=403)  # AC answers 403 here
        return JSONBody({"fieldValue": Linker(request)("fieldValues", row)})

    # -- lists and tags ------------------------------------------------------

    async def lists_list(self, request: Request) -> Response:
        st = self.state
        limit, offset = page_params(request)
        q = request.query_params
        name_eq = q.get("filters[name]")
        ops = {k[len("filters[name][") : -1]: v for k, v in q.multi_items() if k.startswith("filters[name][")}
        with st.lock:
            rows = [
                r
                for r in st.lists.values()
                if (name_eq is None or r["name"] == name_eq)
                and all(op_matches(r["name"], o, v) for o, v in ops.items())
            ]
            orders = orders_param(request, ("name",))
            rows.sort(key=lambda r: int(r["id"]))
            sort_rows(rows, orders, {"name": lambda r: r["name"].lower()})
            return listing("lists", Linker(request), rows[offset : offset + limit], len(rows))

    async def list_get(self, request: Request) -> Response:
        lid = str(request.path_params["id"])
        row = self.state.lists.get(lid)
        if row is None:
            raise not_found("_List", lid)
        return JSONBody({"list": Linker(request)("lists", row)})

    async def tags_list(self, request: Request) -> Response:
        st = self.state
        limit, offset = page_params(request)
        q = request.query_params
        search = q.get("search") or q.get("filters[search]")
        ops = {
            k[len("filters[search][") : -1]: v for k, v in q.multi_items() if k.startswith("filters[search][")
        }
        with st.lock:
            rows = [
                r
                for r in st.tags.values()
                if (not search or search.lower() in r["tag"].lower())
                and all(op_matches(r["tag"], o, v) for o, v in ops.items())
            ]
            rows.sort(key=lambda r: int(r["id"]))
            sort_rows(rows, orders_param(request, ("search",)), {"search": lambda r: r["tag"].lower()})
            return listing("tags", Linker(request), rows[offset : offset + limit], len(rows))

    async def tag_create(self, request: Request) -> Response:
        row = self.state.create_tag(await self._json(request))
        return JSONBody({"tag": Linker(request)("tags", row)}, status_code=201)

    async def tag_get(self, request: Request) -> Response:
        tid = str(request.path_params["id"])
        row = self.state.tags.get(tid)
        if row is None:
            raise not_found("Tag", tid)
        return JSONBody({"tag": Linker(request)("tags", row)})

    async def contact_tags_list(self, request: Request) -> Response:
        tag = filter_param(request, "tag")
        contact = filter_param(request, "contact")
        pred = None
        if tag or contact:

            def pred(r: Row) -> bool:
                return (tag is None or r["tag"] == tag) and (contact is None or r["contact"] == contact)

        return self._table_listing(request, "contactTags", pred)

    async def contact_tag_create(self, request: Request) -> Response:
        row, _created = self.state.add_contact_tag(await self._json(request))
        return JSONBody({"contactTag": Linker(request)("contactTags", row)}, status_code=201)

    async def contact_tag_get(self, request: Request) -> Response:
        rid = request.path_params["id"]
        with self.state.lock:
            row = self.state.tables["contactTags"].get(rid)
        if row is None:
            raise not_found("SubscriberTag", rid)
        return JSONBody({"contactTag": Linker(request)("contactTags", row)})

    async def contact_tag_delete(self, request: Request) -> Response:
        self.state.remove_contact_tag(request.path_params["id"])
        return JSONBody({})

    async def contact_lists_list(self, request: Request) -> Response:
        lst = filter_param(request, "list") or filter_param(request, "listid")
        status = filter_param(request, "status")
        contact = filter_param(request, "contact")
        pred = None
        if lst or status is not None or contact:

            def pred(r: Row) -> bool:
                return (
                    (lst is None or r["list"] == lst)
                    and (status is None or r["status"] == status)
                    and (contact is None or r["contact"] == contact)
                )

        return self._table_listing(request, "contactLists", pred)

    async def contact_list_create(self, request: Request) -> Response:
        row = self.state.set_list_status(await self._json(request))
        link = Linker(request)
        out = link("contactLists", row)
        out["status"] = int(out["status"])  # an int in this write response, a string in GETs
        contact = self.state.get_contact(int(row["contact"]))
        return JSONBody({"contacts": [link("contacts", contact)] if contact else [], "contactList": out})

    # -- generic per-contact table listing ------------------------------------

    def _table_listing(
        self,
        request: Request,
        kind: str,
        pred: Callable[[Row], bool] | None,
        *,
        int_total: bool = False,
        meta: dict[str, Any] | None = None,
    ) -> Response:
        st = self.state
        limit, offset = page_params(request)
        with st.lock:
            table = st.tables[kind]
            orders = orders_param(request, ("id",))
            descending = bool(orders) and orders[0][1]
            if pred is None and not descending:
                rows, total = plain_page(table, limit, offset), table.count()
            else:
                rows_iter: Iterator[Row] = table.iter_from(1)
                if pred is not None:
                    rows_iter = (r for r in rows_iter if pred(r))
                if descending:
                    all_rows = list(rows_iter)
                    all_rows.reverse()
                    rows, total = all_rows[offset : offset + limit], len(all_rows)
                else:
                    rows, total = take_page(rows_iter, limit, offset)
            return listing(kind, Linker(request), rows, total, int_total=int_total, meta=meta)
