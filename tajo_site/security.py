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
    trusted = getattr(settings, "TAJO_WEBHOOK_TRUSTED_PROXY_HEADER", "")
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
