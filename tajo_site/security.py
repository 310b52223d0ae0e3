"""Request-level safety: the caller's address for throttling, and bodies Django cannot read."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from connectors.webhooks.security import client_address


def client_ip(request: HttpRequest) -> str | None:
    """The address login and token throttling count against (django-axes' client IP hook).

    The same rule as the webhook allow-list: REMOTE_ADDR, or the right-most entry of the one
    proxy header a deployment names as trusted, never a header the caller could forge.
    """
    trusted = settings.TAJO_WEBHOOK_TRUSTED_PROXY_HEADER
    return client_address(request.META, trusted_header=trusted)


class RequestBodyMiddleware:
    """Refuses a chunked request body with 411 instead of letting it arrive empty.

    Django reads a body only up to Content-Length; with `Transfer-Encoding: chunked` and no
    length a view would see an empty body and answer as if nothing had been sent.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and not request.META.get("CONTENT_LENGTH"):
            message = "Send the request body with a Content-Length header; chunked bodies are not accepted."
            if request.path.startswith("/api/"):  # the API's error shape
                return JsonResponse({"error": {"code": "length_required", "message": message}}, status=411)
            if request.path.startswith("/hooks/"):  # the intake's
                return JsonResponse({"status": "rejected", "error": message}, status=411)
            return HttpResponse(message, status=411, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


class RequestSizeLimit:
    """ASGI wrapper: a body over `limit` bytes is answered 413 before Django spools all of it.

    Django's ASGI handler reads the whole body (to memory, then a temporary file) before any
    view runs, so the views' own limits come too late against a client that sends gigabytes.
    A declared Content-Length over the limit is refused at once; a body that grows past it
    (chunked, or lying about its length) is cut off and refused the same way.
    """

    def __init__(self, app: Callable, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            await self._refuse(send)
            return
        state = {"received": 0, "over": False, "started": False}

        async def limited_receive() -> dict:
            message = await receive()
            if message.get("type") == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > self.limit:
                    state["over"] = True
                    return {"type": "http.disconnect"}  # Django stops reading and answers nothing
            return message

        async def tracking_send(message: dict) -> None:
            if message.get("type") == "http.response.start":
                state["started"] = True
            await send(message)

        await self.app(scope, limited_receive, tracking_send)
        if state["over"] and not state["started"]:
            await self._refuse(send)

    async def _refuse(self, send: Callable) -> None:
        body = f"The request body is larger than {self.limit} bytes.".encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close")],
            }
        )
        await send({"type": "http.response.body", "body": body})
