from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from tajo_site import queue_admin


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


admin.site.site_header = "Tajo"
admin.site.site_title = "Tajo"
admin.site.index_title = "ActiveCampaign → Brevo"
# Before admin.site.urls is read: the job dashboard must only ever exist in its guarded form.
queue_admin.install(admin.site)

# Webhook events and API tokens were first admin pages of the connectors app; links and
# bookmarks to those pages lead to the same pages of their own apps.
MOVED_ADMIN_PAGES = [
    re_path(
        rf"^admin/connectors/(?P<page>{model}/.*)$",
        RedirectView.as_view(url=f"/admin/{app_label}/%(page)s", query_string=True, permanent=True),
    )
    for model, app_label in (("webhookevent", "webhooks"), ("apitoken", "api"))
]

urlpatterns = [
    path("healthz", healthz),
    *MOVED_ADMIN_PAGES,
    path("admin/", admin.site.urls),
    path("hooks/", include("connectors.webhooks.urls")),
    path("api/v1/", include("connectors.api.urls")),
]
