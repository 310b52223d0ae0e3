from django.apps import AppConfig


class ConnectorsConfig(AppConfig):
    name = "connectors"
    verbose_name = "Connections and syncs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from connectors import checks  # noqa: F401  (registers the system checks)
        from connectors.providers.http.masking import install_secret_masking

        install_secret_masking()
