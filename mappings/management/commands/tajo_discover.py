"""`manage.py tajo_discover CONNECTION`: read both accounts' catalogs and store them."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from connectors.exceptions import ApiError
from connectors.models import Connection
from mappings.exceptions import DiscoveryFailed
from mappings.selectors import connection_by_ref
from mappings.services import catalog_discover

EXIT_NOT_FOUND = 1
EXIT_PROVIDER = 3


class Command(BaseCommand):
    help = (
        "Discover what the connection's ActiveCampaign and Brevo accounts hold (fields, lists, tags, "
        "pipelines, users, automations, scores, custom objects, events; attributes, folders, lists, "
        "pipelines) and store it as the connection's catalog. Exit 1: no such connection; "
        "3: a provider could not be read."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("connection", help="TENANT_SLUG/NAME or the connection's id")

    def handle(self, *args, **options) -> None:
        try:
            connection = connection_by_ref(options["connection"])
        except Connection.DoesNotExist as exc:
            raise CommandError(str(exc), returncode=EXIT_NOT_FOUND) from exc
        try:
            catalog = catalog_discover(connection=connection)
        except (DiscoveryFailed, ApiError) as exc:
            raise CommandError(f"discovery of {connection} failed: {exc}", returncode=EXIT_PROVIDER) from exc
        self.stdout.write(f"Catalog of {connection} discovered in {catalog.duration_seconds:.1f}s:")
        for kind, count in catalog.count_items():
            self.stdout.write(f"  {kind:<28} {count}")
        for kind, error in catalog.errors.items():
            self.stderr.write(self.style.WARNING(f"  {kind}: not read ({error}); previous items kept"))
