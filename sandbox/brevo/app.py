"""The Brevo simulator: every route group over one account, authentication, JSON decoding and
rate limits; mount `BrevoSimulator(...).routes()` at `/v3`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from sandbox.brevo.attributes import AttributeRoutes
from sandbox.brevo.contacts import ContactRoutes
from sandbox.brevo.crm import CrmRoutes
from sandbox.brevo.ecommerce import EcommerceRoutes
from sandbox.brevo.events import EventRoutes
from sandbox.brevo.imports import ImportRoutes
from sandbox.brevo.limits import (
    bucket_for,
)
from sandbox.brevo.lists import ListRoutes
from sandbox.brevo.values import (
    JSON,
    MAX_IMPORT_BYTES,
    MAX_ORDER_BATCH_BYTES,
    Fail,
    Text,
)


class BrevoSimulator(
    ContactRoutes, ImportRoutes, AttributeRoutes, ListRoutes, EventRoutes, CrmRoutes, EcommerceRoutes
):
    """State and routes of a fake Brevo account; mount `routes()` at `/v3`."""

    # ------------------------------------------------------------ routes

    def routes(self) -> list[BaseRoute]:
        """Starlette routes relative to `/v3` (more specific paths first)."""
        table: list[tuple[str, str, Callable]] = [
            ("GET", "/account", self._get_account),
            ("GET", "/contacts", self._list_contacts),
            ("POST", "/contacts", self._create_contact),
            ("POST", "/contacts/batch", self._batch_update),
            ("POST", "/contacts/import", self._import),
            ("GET", "/contacts/attributes", self._list_attributes),
            ("POST", "/contacts/attributes/{category}/{name}", self._create_attribute),
            ("PUT", "/contacts/attributes/{category}/{name}", self._update_attribute),
            ("DELETE", "/contacts/attributes/{category}/{name}", self._delete_attribute),
            ("GET", "/contacts/folders", self._list_folders),
            ("POST", "/contacts/folders", self._create_folder),
            ("GET", "/contacts/folders/{folder_id}", self._get_folder),
            ("DELETE", "/contacts/folders/{folder_id}", self._delete_folder),
            ("GET", "/contacts/folders/{folder_id}/lists", self._folder_lists),
            ("GET", "/contacts/lists", self._list_lists),
            ("POST", "/contacts/lists", self._create_list),
            ("GET", "/contacts/lists/{list_id}", self._get_list),
            ("DELETE", "/contacts/lists/{list_id}", self._delete_list),
            ("GET", "/contacts/lists/{list_id}/contacts", self._list_contacts_of_list),
            ("POST", "/contacts/lists/{list_id}/contacts/add", self._list_add),
            ("POST", "/contacts/lists/{list_id}/contacts/remove", self._list_remove),
            ("GET", "/contacts/{identifier}", self._get_contact),
            ("PUT", "/contacts/{identifier}", self._update_contact),
            ("DELETE", "/contacts/{identifier}", self._delete_contact),
            ("GET", "/processes", self._list_processes),
            ("GET", "/processes/{process_id}", self._get_process),
            ("GET", "/processes/{process_id}/reports/{name}", self._process_report),
            ("POST", "/events", self._create_event),
            ("POST", "/events/batch", self._create_events_batch),
            ("GET", "/events", self._list_events),
            ("GET", "/crm/pipeline/details/all", self._pipelines_all),
            ("GET", "/crm/pipeline/details", self._pipeline_default),
            ("GET", "/crm/pipeline/details/{pipeline_id}", self._pipeline_one),
            ("GET", "/crm/attributes/deals", self._get_deal_attributes),
            ("GET", "/crm/deals", self._list_deals),
            ("POST", "/crm/deals", self._create_deal),
            ("PATCH", "/crm/deals/link-unlink/{deal_id}", self._link_unlink_deal),
            ("GET", "/crm/deals/{deal_id}", self._get_deal),
            ("PATCH", "/crm/deals/{deal_id}", self._update_deal),
            ("DELETE", "/crm/deals/{deal_id}", self._delete_deal),
            ("POST", "/ecommerce/activate", self._activate_ecommerce),
            ("POST", "/orders/status", self._create_order),
            ("POST", "/orders/status/batch", self._create_order_batch),
            ("GET", "/orders", self._list_orders),
        ]
        # Starlette routes are per path: group the methods of one template together.
        by_path: dict[str, dict[str, Callable]] = {}
        for method, path, handler in table:
            by_path.setdefault(path, {})[method] = handler
        return [
            Route(path, self._endpoint(path, handlers), methods=list(handlers))
            for path, handlers in by_path.items()
        ]

    def _endpoint(self, template: str, handlers: dict[str, Callable]) -> Callable:
        async def endpoint(request: Request) -> Response:
            handler = handlers[request.method if request.method != "HEAD" else "GET"]
            denied = self._authenticate(request)
            if denied is not None:
                return denied
            bucket = bucket_for(request.method, template)
            headers: dict[str, str] = {}
            limiter = self._limiters.get(bucket)
            if limiter is not None:
                with self._lock:
                    allowed, headers = limiter.hit()
                if not allowed:
                    return JSON(
                        {"code": "too_many_requests", "message": "The expected rate limit is exceeded."},
                        status_code=429,
                        headers=headers,
                    )
            raw = await request.body() if request.method in ("POST", "PUT", "PATCH") else b""

            def work() -> tuple[int, Any]:
                body = self._decode(raw, template)
                with self._lock:
                    self._advance()
                    return handler(request, body)

            try:
                # Off the event loop: a 500-contact batch takes tens of milliseconds, and the loop
                # must meanwhile take ActiveCampaign requests as they arrive (AC and Brevo are two
                # servers; a request held back here would reach AC's rate window late).
                status, payload = await run_in_threadpool(work)
            except Fail as fail:
                error = {"code": fail.code, "message": fail.message}
                if fail.metadata:
                    error["metadata"] = fail.metadata
                return JSON(error, status_code=fail.status, headers=headers)
            if payload is None:
                return Response(status_code=status, headers=headers)
            if isinstance(payload, Text):
                return Response(str(payload), status_code=status, headers=headers, media_type="text/csv")
            return JSON(payload, status_code=status, headers=headers)

        return endpoint

    def _authenticate(self, request: Request) -> Response | None:
        key = request.headers.get("api-key")
        if not key:
            return JSON(
                {"message": "authentication not found in headers", "code": "unauthorized"}, status_code=401
            )
        if key != self._api_key:
            return JSON({"code": "unauthorized", "message": "Key not found"}, status_code=401)
        if self.ip_blocked:
            return JSON(
                {
                    "code": "unauthorized",
                    "message": (
                        "We have detected you are using an unrecognised IP address 127.0.0.1. "
                        "If you performed this action make sure to add the new IP address in this link: "
                        "https://app.brevo.com/security/authorised_ips"
                    ),
                },
                status_code=401,
            )
        return None

    @staticmethod
    def _decode(raw: bytes, template: str) -> Any:
        if not raw:
            return None
        if template == "/contacts/import" and len(raw) > MAX_IMPORT_BYTES:
            raise Fail(400, "invalid_parameter", "Request body exceeds the maximum size of 10MB; use fileUrl")
        if template == "/orders/status/batch" and len(raw) > MAX_ORDER_BATCH_BYTES:
            raise Fail(400, "invalid_parameter", "Request body exceeds the maximum size of 5MB")
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise Fail(400, "bad_request", "Input must be a valid JSON") from None

    # ------------------------------------------------------------ account

    def _get_account(self, request: Request, body: Any) -> tuple[int, Any]:
        return 200, self._account
