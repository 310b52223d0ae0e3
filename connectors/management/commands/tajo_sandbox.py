"""Serve the ActiveCampaign and Brevo simulators on loopback for the demo, tests and benchmarks."""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from sandbox.cli import add_arguments, config_from_options, serve


class Command(BaseCommand):
    # The simulators use nothing of the project's database or registry: start even when
    # the project itself would fail its checks (the sandbox is how such problems get found).
    requires_system_checks: list[str] = []
    help = (
        "Serve simulated ActiveCampaign (/api/3) and Brevo (/v3) APIs. Prints one line per API "
        "(api_url and api_key) before serving, then runs until interrupted."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            config = config_from_options(options)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        try:
            serve(config, self.stdout)
        except OSError as exc:
            raise CommandError(
                f"cannot listen on {config.host}:{config.port}: {exc.strerror or exc}"
            ) from None
        except KeyboardInterrupt:
            pass
