"""The AC simulator's routes over one account, behind the token and rate-limit gate."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, Router

from sandbox.activecampaign.api.catalog import CatalogRoutes
from sandbox.activecampaign.api.contacts import ContactRoutes
from sandbox.activecampaign.api.deals import DealRoutes
from sandbox.activecampaign.api.ecommerce import EcommerceRoutes
from sandbox.activecampaign.api.gate import ACGate, send_json
from sandbox.activecampaign.api.imports import ImportRoutes
from sandbox.activecampaign.api.links import (
    CONTACT_LINKS,
)
from sandbox.activecampaign.api.objects import CustomObjectRoutes
from sandbox.activecampaign.api.responses import JSONBody, error_response
from sandbox.activecampaign.api.tracking import TrackingRoutes
from sandbox.activecampaign.api.webhooks import WebhookRoutes
from sandbox.activecampaign.errors import ACError

Handler = Callable[[Request], Awaitable[Response]]


class ACApi(
    ContactRoutes,
    CatalogRoutes,
    DealRoutes,
    TrackingRoutes,
    EcommerceRoutes,
    CustomObjectRoutes,
    WebhookRoutes,
    ImportRoutes,
):
    """Routes of the AC simulator over one `ACState`."""

    def app(self, *, keys: Iterable[str], rate: float, retry_after: float, legacy: bool = False) -> ACGate:
        routes = self.routes()
        if not legacy:
            # Clients check a token with `GET /api/3/` (tap-activecampaign does): 200 for a valid one.
            routes.insert(0, self._route("/", self.api_root, "GET"))
        router = Router(routes=routes, default=self._not_found)
        return ACGate(router, keys=keys, rate=rate, retry_after=retry_after, legacy=legacy)

    async def api_root(self, request: Request) -> Response:
        return JSONBody({})

    async def _not_found(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send_json(send, 404, {"message": "Not Found"})

    def routes(self) -> list[BaseRoute]:
        r = self._route
        return [
            r("/contacts", self.contacts_list, "GET"),
            r("/contacts", self.contacts_create, "POST"),
            r("/contact/sync", self.contact_sync, "POST"),
            r("/contacts/{id:int}", self.contact_get, "GET"),
            r("/contacts/{id:int}", self.contact_update, "PUT"),
            r("/contacts/{id:int}", self.contact_delete, "DELETE"),
            *(r(f"/contacts/{{id:int}}/{sub}", self.contact_sub, "GET") for sub in CONTACT_LINKS),
            r("/fields", self.fields_list, "GET"),
            r("/fields/{id:int}", self.field_get, "GET"),
            r("/fieldValues", self.field_values_list, "GET"),
            r("/fieldValues", self.field_value_create, "POST"),
            r("/fieldValues/{id:int}", self.field_value_get, "GET"),
            r("/lists", self.lists_list, "GET"),
            r("/lists/{id:int}", self.list_get, "GET"),
            r("/tags", self.tags_list, "GET"),
            r("/tags", self.tag_create, "POST"),
            r("/tags/{id:int}", self.tag_get, "GET"),
            r("/contactTags", self.contact_tags_list, "GET"),
            r("/contactTags", self.contact_tag_create, "POST"),
            r("/contactTags/{id:int}", self.contact_tag_get, "GET"),
            r("/contactTags/{id:int}", self.contact_tag_delete, "DELETE"),
            r("/contactLists", self.contact_lists_list, "GET"),
            r("/contactLists", self.contact_list_create, "POST"),
            r("/deals", self.deals_list, "GET"),
            r("/deals", self.deal_create, "POST"),
            r("/deals/{id:int}", self.deal_get, "GET"),
            r("/deals/{id:int}", self.deal_update, "PUT"),
            r("/deals/{id:int}", self.deal_delete, "DELETE"),
            r("/dealGroups", self.deal_groups_list, "GET"),
            r("/dealGroups/{id:int}", self.deal_group_get, "GET"),
            r("/dealStages", self.deal_stages_list, "GET"),
            r("/dealStages/{id:int}", self.deal_stage_get, "GET"),
            r("/users", self.users_list, "GET"),
            r("/users/me", self.user_me, "GET"),
            r("/users/email/{email}", self.user_by_email, "GET"),
            r("/users/username/{username}", self.user_by_username, "GET"),
            r("/users/{id:int}", self.user_get, "GET"),
            r("/scores", self.scores_list, "GET"),
            r("/scores/{id:int}", self.score_get, "GET"),
            r("/automations", self.automations_list, "GET"),
            r("/contactAutomations", self.contact_automations_list, "GET"),
            r("/contactAutomations/{id:int}", self.contact_automation_get, "GET"),
            r("/eventTracking", self.event_tracking_get, "GET"),
            r("/eventTracking", self.event_tracking_put, "PUT"),
            r("/eventTrackingEvents", self.event_names_list, "GET"),
            r("/eventTrackingEvents", self.event_name_create, "POST"),
            r("/connections", self.connections_list, "GET"),
            r("/ecomCustomers", self.ecom_customers_list, "GET"),
            r("/ecomCustomers/{id:int}", self.ecom_customer_get, "GET"),
            r("/ecomOrders", self.ecom_orders_list, "GET"),
            r("/ecomOrders/{id:int}", self.ecom_order_get, "GET"),
            r("/ecomOrders/{id:int}/orderProducts", self.ecom_order_products_of, "GET"),
            r("/ecomOrderProducts", self.ecom_order_products_list, "GET"),
            r("/ecomOrderProducts/{id:int}", self.ecom_order_product_get, "GET"),
            r("/customObjects/schemas", self.schemas_list, "GET"),
            r("/customObjects/schemas/{schema_id}", self.schema_get, "GET"),
            r("/customObjects/records/{schema_id}", self.records_list, "GET"),
            r("/customObjects/records/{schema_id}", self.record_upsert, "POST"),
            r("/customObjects/records/{schema_id}/{record_id}", self.record_get, "GET"),
            r("/webhooks", self.webhooks_list, "GET"),
            r("/webhooks", self.webhook_create, "POST"),
            r("/webhooks/{id:int}", self.webhook_get, "GET"),
            r("/webhooks/{id:int}", self.webhook_delete, "DELETE"),
            r("/webhook/events", self.webhook_events, "GET"),
            r("/import/bulk_import", self.bulk_import, "POST"),
            r("/import/bulk_import", self.bulk_import_status, "GET"),
            r("/import/info", self.import_info, "GET"),
        ]

    def _route(self, path: str, handler: Handler, method: str) -> Route:
        async def endpoint(request: Request) -> Response:
            try:
                return await handler(request)
            except ACError as exc:
                return error_response(exc.status, exc.body)

        return Route(path, endpoint, methods=[method], name=f"{method} {path}")
