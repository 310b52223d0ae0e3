"""``/_sandbox/webhooks*``: the webhook sender's knobs, and automations a contact enters.

Control routes (JSON):

* ``GET  /_sandbox/webhooks``: knobs, pending count and the last deliveries
* ``POST /_sandbox/webhooks/config`` ``{"duplicates": 0.2, "reorder_window": 3, "automation_urls": [...]}``
* ``POST /_sandbox/webhooks/hold`` and ``POST /_sandbox/webhooks/release`` ``{"order": "fifo|reverse|shuffle",
  "duplicate": false}``
* ``POST /_sandbox/webhooks/flush`` ``{"timeout": 10}``
* ``POST /_sandbox/ac/contacts/{id}/automations`` ``{"automation": <id | name>, "complete": false}``
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.activecampaign.errors import ACError
from sandbox.activecampaign.webhooks import WebhookSender, automation_enrol
from sandbox.control import json_object

if TYPE_CHECKING:
    from sandbox.instance import Sandbox


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


def webhook_routes(sandbox: Sandbox) -> list[Route]:
    sender: WebhookSender = sandbox.webhooks

    def guarded(handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            try:
                return await handler(request)
            except ACError as exc:
                return _json(exc.body, exc.status)
            except (ValueError, TypeError) as exc:
                return _json({"message": str(exc)}, 422)

        return endpoint

    async def show(request: Request) -> Response:
        limit = int(request.query_params.get("limit") or 100)
        return _json(
            {
                "duplicates": sender.duplicates,
                "reorder_window": sender.reorder_window,
                "automation_urls": sender.automation_urls,
                "held": sender._held,
                "pending": sender.pending(),
                "deliveries": [d.as_dict() for d in list(sender.deliveries)[-limit:]],
            }
        )

    async def config(request: Request) -> Response:
        data = await json_object(request)
        sender.configure(
            duplicates=data.get("duplicates"),
            reorder_window=data.get("reorder_window"),
            automation_urls=data.get("automation_urls"),
        )
        return await show(request)

    async def hold(request: Request) -> Response:
        sender.hold()
        return _json({"held": True})

    async def release(request: Request) -> Response:
        data = await json_object(request)
        count = sender.release(order=str(data.get("order") or "fifo"), duplicate=bool(data.get("duplicate")))
        return _json({"released": count})

    async def flush(request: Request) -> Response:
        import anyio

        data = await json_object(request)
        ok = await anyio.to_thread.run_sync(sender.flush, float(data.get("timeout") or 10))
        return _json({"ok": ok, "pending": sender.pending()})

    async def enrol(request: Request) -> Response:
        data = await json_object(request)
        if data.get("automation") in (None, ""):
            raise ValueError("automation is required")
        row = automation_enrol(
            sandbox.ac,
            request.path_params["id"],
            str(data["automation"]),
            complete=bool(data.get("complete")),
            source=str(data.get("source") or "system"),
        )
        return _json({"contactAutomation": row})

    return [
        Route("/_sandbox/webhooks", guarded(show), methods=["GET"]),
        Route("/_sandbox/webhooks/config", guarded(config), methods=["POST"]),
        Route("/_sandbox/webhooks/hold", guarded(hold), methods=["POST"]),
        Route("/_sandbox/webhooks/release", guarded(release), methods=["POST"]),
        Route("/_sandbox/webhooks/flush", guarded(flush), methods=["POST"]),
        Route("/_sandbox/ac/contacts/{id:int}/automations", guarded(enrol), methods=["POST"]),
    ]
