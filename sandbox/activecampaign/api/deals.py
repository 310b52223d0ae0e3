"""AC deals, pipelines (deal groups) and stages."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
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
    num,
    orders_param,
    page_params,
    sort_rows,
)
from sandbox.activecampaign.api.responses import JSONBody
from sandbox.activecampaign.errors import ACError, not_found
from sandbox.activecampaign.generator.catalog import Row
from sandbox.activecampaign.state.tables import Window, in_window


class DealRoutes(APIBase):
    """`/deals`, `/dealGroups`, `/dealStages`."""

    # -- deals ---------------------------------------------------------------

    async def deals_list(self, request: Request) -> Response:
        st = self.state
        limit, offset = page_params(request)
        clock = st.clock
        conditions: list[Callable[[Row], bool]] = []
        for name, key in (
            ("stage", "stage"),
            ("group", "group"),
            ("owner", "owner"),
            ("status", "status"),
            ("contact", "contact"),
        ):
            value = filter_param(request, name)
            if value is not None:
                conditions.append(lambda r, k=key, v=value: r[k] == v)
        title = filter_param(request, "title")
        if title:
            conditions.append(lambda r: title.lower() in r["title"].lower())
        search = filter_param(request, "search")
        if search:
            conditions.append(
                lambda r: (
                    search.lower() in r["title"].lower()
                    or search.lower() in (r.get("description") or "").lower()
                )
            )
        bounds: dict[str, float | None] = {}
        for name in ("created_after", "created_before", "updated_after", "updated_before"):
            value = filter_param(request, name)
            bounds[name] = None
            if value is not None:
                try:
                    bounds[name] = clock.parse_filter(value)
                except ValueError:
                    raise ACError(
                        422,
                        {
                            "errors": [
                                {
                                    "title": f"Invalid date for filters[{name}]",
                                    "detail": "",
                                    "code": "field_invalid",
                                    "source": {"pointer": f"/data/attributes/{name}"},
                                }
                            ]
                        },
                    ) from None
        # "after" is inclusive (the reference: greater than or equal), "before" exclusive.
        created: Window = (bounds["created_after"], bounds["created_before"])
        updated: Window = (bounds["updated_after"], bounds["updated_before"])
        # Value filters are whole dollars; values are cents (reference quirk 12).
        low, high = filter_param(request, "minimum_value"), filter_param(request, "maximum_value")
        if low is not None:
            conditions.append(lambda r: int(r["value"]) >= num(low) * 100)
        if high is not None:
            conditions.append(lambda r: int(r["value"]) <= num(high) * 100)
        with st.lock:
            orders = orders_param(
                request,
                ("id", "title", "value", "cdate", "mdate", "contact_name", "contact_orgname", "next-action"),
            )
            if not conditions and all(o in (("id", False), ("cdate", False)) for o in orders):
                # Deal ids ascend with cdate: one page of work from the arrays.
                page, total = st.deal_window(created=created, updated=updated, offset=offset, limit=limit)
                sums = st.deal_currencies(created=created, updated=updated)
                meta_cur = {
                    c: {"currency": c, "total": str(n), "value": str(v)} for c, (n, v) in sums.items()
                }
                return listing(
                    "deals", Linker(request), page, total, int_total=True, meta={"currencies": meta_cur}
                )
            rows_iter: Iterator[Row] = st.tables["deals"].iter_from(1)
            conditions.append(lambda r: in_window(clock.parse_stored(r["cdate"]), created))
            conditions.append(lambda r: in_window(clock.parse_stored(r["mdate"]), updated))
            rows = [r for r in rows_iter if all(c(r) for c in conditions)]
            keys: dict[str, Callable[[Row], Any]] = {
                "id": lambda r: int(r["id"]),
                "title": lambda r: r["title"].lower(),
                "value": lambda r: int(r["value"]),
                "cdate": lambda r: r["cdate"],
                "mdate": lambda r: r["mdate"],
                "contact_name": lambda r: self._contact_name(r),
                "contact_orgname": lambda r: "",
                "next-action": lambda r: r.get("nextdate") or "",
            }
            sort_rows(rows, orders, keys)
            return listing(
                "deals",
                Linker(request),
                rows[offset : offset + limit],
                len(rows),
                int_total=True,
                meta={"currencies": self._currencies(rows)},
            )

    @staticmethod
    def _currencies(rows: Iterable[Row]) -> dict[str, dict[str, str]]:
        """``meta.currencies`` over every matching deal."""
        sums: dict[str, list[int]] = {}
        for r in rows:
            entry = sums.setdefault(r["currency"].upper(), [0, 0])
            entry[0] += 1
            entry[1] += int(r["value"])
        return {cur: {"currency": cur, "total": str(n), "value": str(v)} for cur, (n, v) in sums.items()}

    def _contact_name(self, deal: Row) -> str:
        c = self.state._contact(int(deal["contact"])) if deal.get("contact") else None
        return f"{c['firstName']} {c['lastName']}".lower() if c else ""

    async def deal_get(self, request: Request) -> Response:
        did = request.path_params["id"]
        with self.state.lock:
            row = self.state.tables["deals"].get(did)
        if row is None:
            raise not_found("Deal", did)
        return JSONBody({"deal": Linker(request)("deals", row)})

    def _deal_write_response(self, request: Request, row: Row, status: int, body: Any) -> Response:
        link = Linker(request)
        out = link("deals", row)
        out["value"] = int(out["value"])  # an int in write responses
        out["status"] = int(out["status"])
        # Custom field values sent with the deal come back with their dealId (not kept otherwise).
        fields = (body.get("deal") or {}).get("fields") if isinstance(body, dict) else None
        out["fields"] = [
            {**f, "dealId": row["id"]}
            for f in (fields if isinstance(fields, list) else [])
            if isinstance(f, dict)
        ]
        with self.state.lock:
            contact = self.state._contact(int(row["contact"]))
            stage = self.state.deal_stages.get(row["stage"])
        return JSONBody(
            {
                "contacts": [link("contacts", contact)] if contact else [],
                "deal": out,
                "dealStages": [link("dealStages", stage)] if stage else [],
            },
            status_code=status,
        )

    async def deal_create(self, request: Request) -> Response:
        body = await self._json(request)
        row = self.state.create_deal(body)
        return self._deal_write_response(request, row, 201, body)

    async def deal_update(self, request: Request) -> Response:
        body = await self._json(request)
        row = self.state.update_deal(request.path_params["id"], body)
        return self._deal_write_response(request, row, 200, body)

    async def deal_delete(self, request: Request) -> Response:
        self.state.delete_deal(request.path_params["id"])
        return JSONBody({})

    async def deal_groups_list(self, request: Request) -> Response:
        st = self.state
        limit, offset = page_params(request)
        title = filter_param(request, "title")
        have_stages = filter_param(request, "have_stages")
        with st.lock:
            rows = [
                r
                for r in st.deal_groups.values()
                if (not title or title.lower() in r["title"].lower())
                and (have_stages is None or bool(r["stages"]) == (have_stages == "1"))
            ]
            rows.sort(key=lambda r: int(r["id"]))
            sort_rows(
                rows,
                orders_param(request, ("title", "popular")),
                {"title": lambda r: r["title"].lower(), "popular": lambda r: int(r["id"])},
            )
            page = rows[offset : offset + limit]
            stages = [st.deal_stages[s] for r in page for s in r["stages"] if s in st.deal_stages]
            link = Linker(request)
            return listing(
                "dealGroups", link, page, len(rows), extra={"dealStages": link.many("dealStages", stages)}
            )

    async def deal_group_get(self, request: Request) -> Response:
        pid = str(request.path_params["id"])
        row = self.state.deal_groups.get(pid)
        if row is None:
            raise not_found("Pipeline", pid)
        link = Linker(request)
        stages = [self.state.deal_stages[s] for s in row["stages"]]
        return JSONBody({"dealGroup": link("dealGroups", row), "dealStages": link.many("dealStages", stages)})

    async def deal_stages_list(self, request: Request) -> Response:
        st = self.state
        limit, offset = page_params(request)
        title = filter_param(request, "title")
        group = filter_param(request, "d_groupid")
        with st.lock:
            rows = [
                r
                for r in st.deal_stages.values()
                if (not title or title.lower() in r["title"].lower())
                and (group is None or r["group"] == group)
            ]
            rows.sort(key=lambda r: int(r["id"]))
            sort_rows(rows, orders_param(request, ("title",)), {"title": lambda r: r["title"].lower()})
            return listing("dealStages", Linker(request), rows[offset : offset + limit], len(rows))

    async def deal_stage_get(self, request: Request) -> Response:
        sid = str(request.path_params["id"])
        row = self.state.deal_stages.get(sid)
        if row is None:
            raise not_found("DealStage", sid)
        return JSONBody({"dealStage": Linker(request)("dealStages", row)})
