from django.urls import path

from connectors.webhooks import views

app_name = "webhooks"

# No trailing slash: AC posts to exactly the registered URL, and APPEND_SLASH must never answer a
# wrong secret with a redirect.
urlpatterns = [
    path("ac/<int:connection_id>/<str:secret>", views.intake, name="intake"),
]
