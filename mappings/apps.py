from django.apps import AppConfig


class MappingsConfig(AppConfig):
    name = "mappings"
    verbose_name = "Mappings"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from connectors.models import Connection
        from mappings.signals import seed_default_mappings

        post_save.connect(
            seed_default_mappings, sender=Connection, dispatch_uid="mappings.seed_default_mappings"
        )
