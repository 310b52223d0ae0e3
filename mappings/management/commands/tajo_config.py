"""`manage.py tajo_config import FILE --tenant SLUG` and `tajo_config export --tenant SLUG`.

Import: the connector documentation's YAML (see docs/configuration.md). Every problem is
printed as `FILE:LINE: dotted.key: message`; nothing is written unless the whole file is
valid. Exit codes: 0 done, 1 invalid file or unknown tenant/connection, 2 bad arguments.
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mappings.exceptions import ConfigError
from tajo_config import config_export, config_import
from tenants.models import Tenant

EXIT_INVALID = 1


class Command(BaseCommand):
    help = "Import or export a tenant's connections and mappings as YAML (connector documentation format)."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{import,export}")
        importer = actions.add_parser("import", help="import a YAML file ('-' reads standard input)")
        importer.add_argument("file", help="the YAML file")
        importer.add_argument("--tenant", required=True, help="tenant slug")
        importer.add_argument(
            "--create-tenant", action="store_true", help="create the tenant if it does not exist"
        )
        importer.add_argument(
            "--create-missing",
            action="store_true",
            help="create Brevo attributes and lists the file names but Brevo lacks (with the right type)",
        )
        importer.add_argument("--dry-run", action="store_true", help="check everything, write nothing")
        exporter = actions.add_parser("export", help="print the tenant's configuration as YAML")
        exporter.add_argument("--tenant", required=True, help="tenant slug")
        exporter.add_argument("--connection", help="only this connection (its name)")
        exporter.add_argument("--output", "-o", help="write to this file instead of standard output")

    def handle(self, *args, **options) -> None:
        if options["action"] == "import":
            self._import(options)
        else:
            self._export(options)

    def _import(self, options: dict) -> None:
        name = options["file"]
        try:
            text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"{name}: cannot read the file ({exc})", returncode=EXIT_INVALID) from exc
        try:
            report = config_import(
                text=text,
                filename="<stdin>" if name == "-" else name,
                tenant_slug=options["tenant"],
                create_tenant=options["create_tenant"],
                create_missing=options["create_missing"],
                dry_run=options["dry_run"],
            )
        except ConfigError as exc:
            for line in exc.errors:
                self.stderr.write(line)
            raise CommandError(
                f"{len(exc.errors)} problem(s) in {name}; nothing was imported", returncode=EXIT_INVALID
            ) from exc
        for line in report.lines():
            self.stdout.write(self.style.SUCCESS(line))

    def _export(self, options: dict) -> None:
        tenant = Tenant.objects.filter(slug=options["tenant"]).first()
        if tenant is None:
            raise CommandError(f"tenant '{options['tenant']}' does not exist", returncode=EXIT_INVALID)
        try:
            text = config_export(tenant=tenant, connection_name=options.get("connection"))
        except ConfigError as exc:
            raise CommandError(str(exc), returncode=EXIT_INVALID) from exc
        if options.get("output"):
            Path(options["output"]).write_text(text, encoding="utf-8")
        else:
            self.stdout.write(text, ending="")
