"""The django-rq job dashboard, for platform admins only.

Queues are shared by every tenant: a job list shows every tenant's jobs, and emptying a queue
or stopping a job acts on all of them. django-rq itself only asks for `is_staff`, and every
tenant user is staff (that is how they reach the admin), so the dashboard is re-registered here
with a superuser check in front of every one of its views, its JSON stats included. Tenants
follow their own work through the runs pages, which are scoped to their tenant.

An index past the configured queues is a 404 (django-rq answers it with an IndexError).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django_rq.admin import QueueAdmin
from django_rq.models import Dashboard
from django_rq.queues import get_queues_list
from django_rq.settings import get_api_token

_INDEX_KWARGS = ("queue_index", "scheduler_index", "connection_index")


def _is_platform_admin(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_active and user.is_superuser)


def _check_indexes(kwargs: dict[str, Any]) -> None:
    count = len(get_queues_list())
    for name in _INDEX_KWARGS:
        if name in kwargs and not 0 <= int(kwargs[name]) < count:
            raise Http404("No such queue.")


def platform_admin_only(view: Callable[..., HttpResponse], *, token_allowed: bool = False):
    """Wrap a django-rq view: superusers only (or, for stats/metrics, django-rq's API token)."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # Logged-in tenant staff never reach the queues; anonymous callers may still use
        # django-rq's own bearer-token check on the JSON/metrics views.
        token_caller = token_allowed and get_api_token() and not request.user.is_authenticated
        if not _is_platform_admin(request) and not token_caller:
            raise PermissionDenied("The job queues are for platform administrators.")
        _check_indexes(kwargs)
        return view(request, *args, **kwargs)

    return guarded


class PlatformQueueAdmin(QueueAdmin):
    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_platform_admin(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_platform_admin(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_platform_admin(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_platform_admin(request)

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None):
        if not _is_platform_admin(request):
            raise PermissionDenied("The job queues are for platform administrators.")
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        patterns = super().get_urls()
        token_views = {"django_rq_home_json", "django_rq_metrics"}
        for pattern in patterns:
            name = getattr(pattern, "name", None) or ""
            if name.startswith("django_rq_"):
                pattern.callback = platform_admin_only(pattern.callback, token_allowed=name in token_views)
        return patterns


def install(site: admin.AdminSite) -> None:
    """Replace django-rq's registration (if any) with the platform-admin one. Idempotent."""
    if site.is_registered(Dashboard):
        if isinstance(site._registry[Dashboard], PlatformQueueAdmin):
            return
        site.unregister(Dashboard)
    site.register(Dashboard, PlatformQueueAdmin)
