"""AC webhook subscriptions (deliveries are `sandbox.activecampaign.webhooks`)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from sandbox.activecampaign.api.base import APIBase
from sandbox.activecampaign.api.links import (
    Linker,
)
from sandbox.activecampaign.api.listing import (
    MAX_LIMIT,
    filter_param,
    listing,
    page_params,
    public_webhook,
)
from sandbox.activecampaign.api.responses import JSONBody
from sandbox.activecampaign.errors import not_found
from sandbox.activecampaign.state.store import WEBHOOK_EVENTS


class WebhookRoutes(APIBase):
    """`/webhooks` and `/webhook/events`."""

    # -- webhooks --------------------------------------------------------------

    async def webhooks_list(self, request: Request) -> Response:
        limit, offset = page_params(request)
        name, url, listid = (filter_param(request, k) for k in ("name", "url", "listid"))
        rows = [
            public_webhook(r)
            for r in self.state.webhooks.values()
            if (name is None or r["name"] == name)
            and (url is None or r["url"] == url)
            and (listid is None or r["listid"] == listid)
        ]
        return listing("webhooks", Linker(request), rows[offset : offset + limit], len(rows))

    async def webhook_create(self, request: Request) -> Response:
        row = self.state.create_webhook(await self._json(request))
        return JSONBody({"webhook": Linker(request)("webhooks", public_webhook(row))}, status_code=201)

    async def webhook_get(self, request: Request) -> Response:
        row = self.state.webhooks.get(str(request.path_params["id"]))
        if row is None:
            raise not_found("Webhook", request.path_params["id"])
        return JSONBody({"webhook": Linker(request)("webhooks", public_webhook(row))})

    async def webhook_delete(self, request: Request) -> Response:
        self.state.delete_webhook(request.path_params["id"])
        return JSONBody({})

    async def webhook_events(self, request: Request) -> Response:
        limit, offset = page_params(request, default=MAX_LIMIT)
        return JSONBody(
            {"webhookEvents": WEBHOOK_EVENTS[offset : offset + limit], "meta": {"total": len(WEBHOOK_EVENTS)}}
        )
