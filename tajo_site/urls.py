from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import include, path

from connectors.api.app import api


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


admin.site.site_header = "Tajo"
admin.site.site_title = "Tajo"
admin.site.index_title = "ActiveCampaign → Brevo"

urlpatterns = [
    path("healthz", healthz),
    path("admin/", admin.site.urls),
    path("hooks/", include("connectors.webhooks.urls")),
    path("api/v1/", api.urls),
]
