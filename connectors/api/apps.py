"""The HTTP API app (/api/v1/): its tokens, their admin and their permissions under the label "api"."""

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "connectors.api"
    # The tables keep their first names (connectors_apitoken, connectors_historicalapitoken)
    # through Meta.db_table and the history's table_name.
    label = "api"
    verbose_name = "HTTP API"
    default_auto_field = "django.db.models.BigAutoField"
