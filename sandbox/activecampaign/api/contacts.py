"""AC contacts: list (filters, orders, sideloads), create, sync, get, update, delete, and the
per-contact sub-collections."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from sandbox.activecampaign.api.base import APIBase
from sandbox.activecampaign.api.links import (
    Linker,
)
from sandbox.activecampaign.api.listing import (
    SIDELOAD_CATALOG,
    SIDELOAD_CHILDREN,
    filter_param,
    include_kinds,
    num,
    orders_param,
    page_input,
    page_params,
    sort_rows,
    take_page,
)
from sandbox.activecampaign.api.responses import JSONBody, error_response
from sandbox.activecampaign.errors import ACError, not_found
from sandbox.activecampaign.generator.catalog import Row
from sandbox.activecampaign.state.tables import Window, in_window


class ContactRoutes(APIBase):
    """`/contacts`, `/contact/sync` and `/contacts/{id}/...`."""

    # -- contacts ----------------------------------------------------------

    async def contacts_list(self, request: Request) -> Response:
        st = self.state
        q = request.query_params
        link = Linker(request)
        limit, offset = page_params(request)
        with st.lock:
            orders = orders_param(
                request, ("id", "cdate", "email", "first_name", "last_name", "name", "score")
            )
            rows, total = self._contact_query(request, orders, limit, offset)
            out_rows = []
            score_values: list[Row] = []
            includes = include_kinds(q.get("include"))
            side: dict[str, list[Row]] = {k: [] for k in includes}
            for c in rows:
                cid = int(c["id"])
                row = link("contacts", c)
                svs = st._children(cid, "scoreValues")
                row["scoreValues"] = [s["id"] for s in svs]
                score_values.extend(svs)
                for kind in includes:
                    if kind in SIDELOAD_CHILDREN:
                        kids = st._children(cid, kind)
                        row[kind] = [k["id"] for k in kids]
                        side[kind].extend(kids)
                out_rows.append(row)
            body: dict[str, Any] = {
                "scoreValues": link.many("scoreValues", score_values),
                "contacts": out_rows,
            }
            for kind, kids in side.items():
                if kind in SIDELOAD_CHILDREN:
                    body[kind] = link.many(kind, kids)
            for kind in includes:
                if kind in SIDELOAD_CATALOG:
                    child_kind, key, catalog = SIDELOAD_CATALOG[kind]
                    wanted = {k[key] for k in side.get(child_kind, [])}
                    rows_by_id = getattr(st, catalog)
                    body[catalog] = link.many(
                        catalog, [rows_by_id[i] for i in sorted(wanted, key=int) if i in rows_by_id]
                    )
            body["meta"] = {"total": str(total), "page_input": page_input(request, limit, offset)}
        return JSONBody(body)

    def _contact_query(
        self, request: Request, orders: list[tuple[str, bool]], limit: int, offset: int
    ) -> tuple[list[Row], int]:
        st = self.state
        q = request.query_params
        clock = st.clock
        preds: list[Callable[[Row], bool]] = []
        lo, hi = 1, None  # id bounds, inclusive

        def int_param(name: str) -> int | None:
            value = q.get(name)
            if value in (None, ""):
                return None
            try:
                return int(value)
            except ValueError:
                raise ACError(
                    422,
                    {
                        "errors": [
                            {
                                "title": f"Invalid value for {name}",
                                "detail": "",
                                "code": "field_invalid",
                                "source": {"pointer": f"/data/attributes/{name}"},
                            }
                        ]
                    },
                ) from None

        def date_param(name: str) -> float | None:
            value = filter_param(request, name)
            if value is None:
                return None
            try:
                return clock.parse_filter(value)
            except ValueError:
                raise ACError(
                    422,
                    {
                        "errors": [
                            {
                                "title": f"Invalid date for filters[{name}]",
                                "detail": "Use YYYY-MM-DD or an ISO 8601 datetime",
                                "code": "field_invalid",
                                "source": {"pointer": f"/data/attributes/{name}"},
                            }
                        ]
                    },
                ) from None

        greater, less = int_param("id_greater"), int_param("id_less")
        if greater is not None:
            lo = max(lo, greater + 1)
        if less is not None:
            hi = less - 1
        ids_raw = q.getlist("ids[]") + q.getlist("ids")
        explicit: list[int] | None = None
        if ids_raw:
            explicit = sorted({int(x) for raw in ids_raw for x in raw.split(",") if x.strip().isdigit()})
        email = q.get("email") or q.get("filters[email]")
        if email:
            found = st._find_by_email(email)
            explicit = found if explicit is None else sorted(set(explicit) & set(found))
        updated_after, updated_before = date_param("updated_after"), date_param("updated_before")
        created_after, created_before = date_param("created_after"), date_param("created_before")
        updated: Window = (updated_after, updated_before)
        created: Window = (created_after, created_before)
        timed = updated != (None, None) or created != (None, None)

        def time_ok(cid: int) -> bool:
            return in_window(st.udate_of(cid), updated) and in_window(st.cdate_of(cid), created)

        if q.get("email_like"):
            needle = q["email_like"].lower()
            preds.append(lambda c: needle in c["email"].lower())
        if q.get("search") and q["search"] != "null":
            needle = q["search"].lower()
            preds.append(
                lambda c: (
                    any(
                        needle in (c.get(k) or "").lower()
                        for k in ("email", "firstName", "lastName", "phone", "orgname")
                    )
                    or needle in f"{c['firstName']} {c['lastName']}".lower()
                )
            )
        if q.get("phone"):
            prefix = q["phone"]
            preds.append(lambda c: c["phone"].startswith(prefix))
        exclude = int_param("exclude")
        if exclude:
            preds.append(lambda c: int(c["id"]) != exclude)
        listid = int_param("listid")
        status = int_param("status")
        if listid:
            lid, want = str(listid), (None if status in (None, -1) else str(status))
            preds.append(
                lambda c: any(
                    m["list"] == lid and (want is None or m["status"] == want)
                    for m in st._children(int(c["id"]), "contactLists")
                )
            )
        tagid = int_param("tagid")
        if tagid:
            tid = str(tagid)
            preds.append(lambda c: any(t["tag"] == tid for t in st._children(int(c["id"]), "contactTags")))
        seriesid = int_param("seriesid")
        if seriesid:
            sid = str(seriesid)
            preds.append(
                lambda c: any(a["seriesid"] == sid for a in st._children(int(c["id"]), "contactAutomations"))
            )
        for name in ("formid", "waitid", "segmentid"):
            if int_param(name):
                preds.append(lambda c: False)  # no forms, waits or segments in the sandbox

        descending_id = bool(orders) and orders[0] == ("id", True)
        if not preds and explicit is None and (not orders or orders[0] == ("id", False)):
            # Id order with only id/time bounds: answered from the arrays, one page of work.
            ids, total = st.contact_window(
                lo=lo, hi=hi, updated=updated, created=created, offset=offset, limit=limit
            )
            return [c for c in (st._contact(i) for i in ids) if c is not None], total

        if explicit is not None:
            id_source: Iterable[int] = reversed(explicit) if descending_id else explicit
        elif descending_id:
            id_source = st.iter_contact_ids(hi if hi is not None else 2**62, descending=True)
        else:
            start = lo
            if created_after is not None:
                # Generated contacts were created in id order: skip straight to the first candidate.
                start = max(start, bisect_left(st.gen.cdate, created_after) + 1)
            id_source = st.iter_contact_ids(start)

        def matches() -> Iterator[Row]:
            # Sources run in id order, so the first id past a bound ends the walk.
            for cid in id_source:
                if cid < lo:
                    if descending_id:
                        return
                    continue
                if hi is not None and cid > hi:
                    if not descending_id:
                        return
                    continue
                if timed and not time_ok(cid):
                    continue
                c = st._contact(cid)
                if c is not None and all(p(c) for p in preds):
                    yield c

        if orders and orders[0][0] != "id":
            all_rows = list(matches())
            keys: dict[str, Callable[[Row], Any]] = {
                "id": lambda c: int(c["id"]),
                "cdate": lambda c: st.cdate_of(int(c["id"])) or 0.0,
                "email": lambda c: c["email"].lower(),
                "first_name": lambda c: c["firstName"].lower(),
                "last_name": lambda c: c["lastName"].lower(),
                "name": lambda c: f"{c['firstName']} {c['lastName']}".lower(),
                "score": self._score_key(request),
            }
            sort_rows(all_rows, orders, keys)
            return all_rows[offset : offset + limit], len(all_rows)
        return take_page(matches(), limit, offset)

    def _score_key(self, request: Request) -> Callable[[Row], Any]:
        sort_id = request.query_params.get("sortId", "1")

        def key(c: Row) -> float:
            return next(
                (
                    num(s["scoreValue"])
                    for s in self.state._children(int(c["id"]), "scoreValues")
                    if s["score"] == sort_id
                ),
                0.0,
            )

        return key

    async def contacts_create(self, request: Request) -> Response:
        body = await self._json(request)
        contact, fvs = self.state.create_contact(body)
        link = Linker(request)
        out = link("contacts", contact)
        out["fieldValues"] = [f["id"] for f in fvs]
        return JSONBody({"fieldValues": link.many("fieldValues", fvs), "contact": out}, status_code=201)

    async def contact_sync(self, request: Request) -> Response:
        body = await self._json(request)
        created, contact, fvs = self.state.sync_contact(body)
        link = Linker(request)
        out = link("contacts", contact)
        out["fieldValues"] = [f["id"] for f in fvs]
        # contact/sync answers the org fields as "" (reference quirk 16).
        out.update({"orgid": "", "orgname": "", "organization": ""})
        return JSONBody(
            {"fieldValues": link.many("fieldValues", fvs), "contact": out},
            status_code=201 if created else 200,
        )

    async def contact_get(self, request: Request) -> Response:
        st = self.state
        cid = request.path_params["id"]
        link = Linker(request)
        with st.lock:
            contact = st._contact(cid)
            if contact is None:
                raise not_found("Subscriber", cid)
            row = link("contacts", contact)
            body: dict[str, Any] = {}
            for kind in ("contactAutomations", "contactLists", "deals", "fieldValues"):
                kids = st._children(cid, kind)
                row[kind] = [k["id"] for k in kids]
                body[kind] = link.many(kind, kids)
            row["geoIps"] = []
            row["accountContacts"] = []
            body.update({"geoAddresses": [], "geoIps": [], "accountContacts": [], "contact": row})
        return JSONBody(body)

    async def contact_update(self, request: Request) -> Response:
        body = await self._json(request)
        cid = request.path_params["id"]
        contact, fvs = self.state.update_contact(cid, body)
        link = Linker(request)
        with self.state.lock:
            all_fvs = self.state._children(cid, "fieldValues")
        out = link("contacts", contact)
        out["fieldValues"] = [f["id"] for f in all_fvs]
        return JSONBody({"fieldValues": link.many("fieldValues", fvs), "contact": out})

    async def contact_delete(self, request: Request) -> Response:
        self.state.delete_contact(request.path_params["id"])
        return JSONBody({})

    async def contact_sub(self, request: Request) -> Response:
        st = self.state
        cid = request.path_params["id"]
        sub = request.url.path.rstrip("/").rsplit("/", 1)[-1]
        link = Linker(request)
        with st.lock:
            if st._contact(cid) is None:
                raise not_found("Subscriber", cid)
            if sub in (
                "contactTags",
                "contactLists",
                "fieldValues",
                "scoreValues",
                "contactAutomations",
                "trackingLogs",
                "deals",
            ):
                return JSONBody({sub: link.many(sub, st._children(cid, sub))})
            if sub in (
                "geoIps",
                "notes",
                "bounceLogs",
                "contactLogs",
                "contactGoals",
                "contactDeals",
                "accountContacts",
                "automationEntryCounts",
                "contactData",
                "plusAppend",
            ):
                return JSONBody({sub: []})
            if sub == "organization":
                return JSONBody({"organization": None})
        return error_response(404, {"message": "Not Found"})
