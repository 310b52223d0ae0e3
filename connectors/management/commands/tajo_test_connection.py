"""`manage.py tajo_test_connection TENANT/NAME`: the connection checklist, exit 1 on any ✗."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from connectors.models import Connection
from connectors.services import connection_test
from mappings.selectors import connection_by_ref


class Command(BaseCommand):
    help = "Check a connection: ActiveCampaign API, contacts, deals, automations, event tracking, and Brevo."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("connection", help="TENANT_SLUG/NAME or the connection's id")

    def handle(self, *args, **options) -> None:
        try:
            connection = connection_by_ref(options["connection"])
        except Connection.DoesNotExist as exc:
            raise CommandError(str(exc)) from exc
        results = connection_test(connection=connection)
        for result in results:
            style = self.style.SUCCESS if result.ok else self.style.ERROR
            self.stdout.write(style(result.line()))
        if not all(r.ok for r in results):
            raise CommandError("some checks failed", returncode=1)
