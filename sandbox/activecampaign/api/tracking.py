"""AC users, scores, automations and event tracking."""

from __future__ import annotations

from urllib.parse import unquote

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
)
from sandbox.activecampaign.api.responses import JSONBody
from sandbox.activecampaign.errors import ACError, not_found
from sandbox.activecampaign.generator.catalog import Row


class TrackingRoutes(APIBase):
    """`/users`, `/scores`, `/automations`, `/contactAutomations`, `/eventTracking...`."""

    # -- users, scores, automations ----------------------------------------

    async def users_list(self, request: Request) -> Response:
        limit, offset = page_params(request)
        rows = sorted(self.state.users.values(), key=lambda r: int(r["id"]))
        return listing("users", Linker(request), rows[offset : offset + limit], len(rows))

    async def user_me(self, request: Request) -> Response:
        return JSONBody({"user": Linker(request)("users", self.state.users["1"])})

    async def user_get(self, request: Request) -> Response:
        row = self.state.users.get(str(request.path_params["id"]))
        if row is None:
            raise not_found("User", request.path_params["id"])
        return JSONBody({"user": Linker(request)("users", row)})

    async def user_by_email(self, request: Request) -> Response:
        email = unquote(request.path_params["email"]).lower()
        row = next((u for u in self.state.users.values() if u["email"].lower() == email), None)
        if row is None:
            raise not_found("User", email)
        return JSONBody({"user": Linker(request)("users", row)})

    async def user_by_username(self, request: Request) -> Response:
        name = request.path_params["username"]
        row = next((u for u in self.state.users.values() if u["username"] == name), None)
        if row is None:
            raise not_found("User", name)
        return JSONBody({"user": Linker(request)("users", row)})

    async def scores_list(self, request: Request) -> Response:
        limit, offset = page_params(request)
        rows = sorted(self.state.scores.values(), key=lambda r: int(r["id"]))
        return listing("scores", Linker(request), rows[offset : offset + limit], len(rows))

    async def score_get(self, request: Request) -> Response:
        row = self.state.scores.get(str(request.path_params["id"]))
        if row is None:
            raise not_found("Score", request.path_params["id"])
        return JSONBody({"score": Linker(request)("scores", row)})

    async def automations_list(self, request: Request) -> Response:
        limit, offset = page_params(request)
        rows = sorted(self.state.automations.values(), key=lambda r: int(r["id"]))
        starts = [{"id": str(n), "series": r["id"], "type": "subscribe"} for n, r in enumerate(rows, start=1)]
        return listing(
            "automations",
            Linker(request),
            rows[offset : offset + limit],
            len(rows),
            meta={"starts": starts, "filtered": False, "smsLogs": []},
        )

    async def contact_automations_list(self, request: Request) -> Response:
        automation = filter_param(request, "seriesid") or filter_param(request, "automation")
        contact = filter_param(request, "contact")
        status = filter_param(request, "status")
        pred = None
        if automation or contact or status is not None:

            def pred(r: Row) -> bool:
                return (
                    (automation is None or r["seriesid"] == automation)
                    and (contact is None or r["contact"] == contact)
                    and (status is None or r["status"] == status)
                )

        return self._table_listing(request, "contactAutomations", pred, meta={"showcase_stats": []})

    async def contact_automation_get(self, request: Request) -> Response:
        rid = request.path_params["id"]
        with self.state.lock:
            row = self.state.tables["contactAutomations"].get(rid)
        if row is None:
            raise not_found("SubscriberSeries", rid, status=403)
        return JSONBody({"contactAutomation": Linker(request)("contactAutomations", row)})

    # -- event tracking ------------------------------------------------------

    async def event_tracking_get(self, request: Request) -> Response:
        return JSONBody({"eventTracking": {"enabled": self.state.event_tracking_enabled}})

    async def event_tracking_put(self, request: Request) -> Response:
        body = await self._json(request)
        data = body.get("eventTracking") if isinstance(body, dict) else None
        if not isinstance(data, dict) or "enabled" not in data:
            raise ACError(
                422,
                {
                    "errors": [
                        {
                            "status": 422,
                            "title": "Missing attribute",
                            "source": {"pointer": "/data/attributes/eventTracking"},
                        }
                    ]
                },
            )
        self.state.event_tracking_enabled = bool(data["enabled"])
        return JSONBody({"eventTracking": {"enabled": self.state.event_tracking_enabled}})

    async def event_names_list(self, request: Request) -> Response:
        limit, offset = page_params(request)
        names = self.state.event_names
        rows = [{"name": n} for n in names[offset : offset + limit]]
        return JSONBody({"eventTrackingEvents": rows, "meta": {"total": len(names)}})

    async def event_name_create(self, request: Request) -> Response:
        body = await self._json(request)
        data = body.get("eventTrackingEvent") if isinstance(body, dict) else None
        name = str((data or {}).get("name") or "").strip()
        if not name:
            raise ACError(
                422,
                {
                    "errors": [
                        {
                            "status": 422,
                            "title": "Missing attribute",
                            "source": {"pointer": "/data/attributes/name"},
                        }
                    ]
                },
            )
        if len(name) > 32:
            raise ACError(
                422,
                {
                    "errors": [
                        {
                            "title": "Event name must be at most 32 characters",
                            "detail": "",
                            "code": "field_invalid",
                            "source": {"pointer": "/data/attributes/name"},
                        }
                    ]
                },
            )
        with self.state.lock:
            if name not in self.state.event_names:
                self.state.event_names.append(name)
        return JSONBody({"eventTrackingEvent": {"name": name}}, status_code=201)
