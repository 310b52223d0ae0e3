"""The webhooks app: its own label, so its model, admin and permissions read as "Webhooks"."""

from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "connectors.webhooks"
    # The label names the content types and admin URLs (admin:webhooks_webhookevent_...); the
    # table keeps its first name (connectors_webhookevent) through Meta.db_table.
    label = "webhooks"
    verbose_name = "Webhooks"
    default_auto_field = "django.db.models.BigAutoField"
