"""`/api/v1/`: the HTTP API the connector documentation's `connectors.*` calls stand on."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, path, re_path
from ninja import NinjaAPI
from pydantic.alias_generators import to_camel

from connectors.api.auth import TokenAuth
from connectors.api.errors import error_response, install_handlers
from connectors.api.throttle import TokenThrottle
from connectors.api.views import connectors_router, runs_router

DESCRIPTION = """\
Drive Tajo from code: connect an ActiveCampaign account to Brevo, start syncs, read their
status, runs and per-record outcomes, and forward tracked events.

Authenticate with `Authorization: Bearer <token>`; tokens are created in the admin (API tokens),
belong to one tenant and are either *operator* (may change things) or *viewer* (read only).
Every error has the shape `{"error": {"code", "message", "field"}}`.
"""


def max_body_bytes() -> int:
    return settings.TAJO_API_MAX_BODY_BYTES


def _guarded(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Refuse oversized bodies before anything reads them, and answer 405 in the API's error shape."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return error_response(400, "invalid_header", "Content-Length is not a number.")
        limit = max_body_bytes()
        if length > limit:
            return error_response(413, "body_too_large", f"The request body is larger than {limit} bytes.")
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and response.get("Content-Type", "").startswith("text/"):
            allowed = response.get("Allow", "")
            response = error_response(
                405, "method_not_allowed", f"{request.method} is not allowed here; allowed: {allowed}."
            )
            response["Allow"] = allowed
        return response

    return wrapper


def _not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return error_response(404, "not_found", f"There is no API endpoint at {request.path}.")


_not_found.csrf_exempt = True  # type: ignore[attr-defined]


class TajoApi(NinjaAPI):
    """NinjaAPI whose every URL answers in the API's error shape, even for unknown paths and methods."""

    def get_openapi_operation_id(self, operation: Any) -> str:
        # listRuns, trackEvent, ...: stable names for generated clients.
        return to_camel(operation.view_func.__name__)

    def _get_urls(self) -> list[URLResolver | URLPattern]:
        urls = super()._get_urls()
        for pattern in urls:
            if isinstance(pattern, URLPattern):
                pattern.callback = _guarded(pattern.callback)
        return [*urls, re_path(r"^.*$", _not_found)]


api = TajoApi(
    title="Tajo API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api-v1",
    auth=TokenAuth(),
    throttle=TokenThrottle(),
)
install_handlers(api)
api.add_router("", connectors_router)
api.add_router("", runs_router)

# Mounted under /api/v1/ by the site's URLconf; every name lives in the api-v1 namespace.
urlpatterns = [path("", api.urls)]
