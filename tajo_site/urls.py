from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import include, path

from tajo_site import queue_admin


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


admin.site.site_header = "Tajo"
admin.site.site_title = "Tajo"
admin.site.index_title = "ActiveCampaign → Brevo"
# Before admin.site.urls is read: the job dashboard must only ever exist in its guarded form.
queue_admin.install(admin.site)

urlpatterns = [
    path("healthz", healthz),
    path("admin/", admin.site.urls),
    path("hooks/", include("connectors.webhooks.urls")),
    path("api/v1/", include("connectors.api.urls")),
]
