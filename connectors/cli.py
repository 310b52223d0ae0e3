"""The `tajo` command (a console script): the connector documentation's CLI.

    tajo connectors test activecampaign
    tajo connectors sync activecampaign [--type full|incremental] [--resources contacts deals ...]
    tajo connectors status activecampaign

The tenant comes from `--tenant SLUG` or `TAJO_TENANT`; the connection is the tenant's
connection named after the connector (`--connection NAME` for another one). Every command
has `--help`; every error is one line on stderr, with exit status 1 (2 for a wrong command
line, as argparse does). The work is done by the same services as the admin and the API.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO

CONNECTORS = ("activecampaign",)
# The documentation's checklist lines, by the check names of connectors.services.connection_test.
DOCUMENTED_LINES = {
    "API connection": "API connection successful",
    "Contacts readable": "Contacts readable",
    "Deals readable": "Deals readable",
    "Automations accessible": "Automations accessible",
    "Event tracking enabled": "Event tracking enabled",
}


class CliError(Exception):
    """One line for stderr and the exit status."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tajo", description="Tajo: sync ActiveCampaign into Brevo from the command line."
    )
    commands = parser.add_subparsers(dest="group", metavar="COMMAND", required=True)
    group = commands.add_parser("connectors", help="test, sync and read the status of a connector")
    actions = group.add_subparsers(dest="action", metavar="ACTION", required=True)

    def connector_command(name: str, help_text: str) -> argparse.ArgumentParser:
        command = actions.add_parser(name, help=help_text, description=help_text)
        command.add_argument("connector", choices=CONNECTORS, help="the connector (activecampaign)")
        command.add_argument("--tenant", help="the tenant's slug (default: $TAJO_TENANT)")
        command.add_argument(
            "--connection", help="the connection's name (default: the connector's name, activecampaign)"
        )
        return command

    connector_command("test", "Check the connection: the documentation's checklist, then Brevo's.")
    sync = connector_command("sync", "Start a sync run and follow it with a progress bar.")
    sync.add_argument(
        "--type",
        choices=("full", "incremental"),
        default="full",
        help="full backfill (default) or incremental",
    )
    sync.add_argument("--resources", nargs="+", metavar="RESOURCE", help="default: what the connection syncs")
    sync.add_argument("--dry-run", action="store_true", help="read and map, write nothing to Brevo")
    sync.add_argument("--no-wait", action="store_true", help="start the run and return at once")
    sync.add_argument(
        "--inline", action="store_true", help="run the slices in this process instead of an RQ worker"
    )
    connector_command("status", "Print the documented status object as JSON.")
    return parser


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tajo_site.settings")
    import django

    django.setup()


def _connection(args: argparse.Namespace) -> Any:
    from connectors.models import Connection

    slug = args.tenant or os.environ.get("TAJO_TENANT", "")
    if not slug:
        raise CliError("no tenant: pass --tenant SLUG or set TAJO_TENANT", status=2)
    name = args.connection or args.connector
    connection = (
        Connection.objects.select_related("tenant", "ac_account", "brevo_account")
        .filter(tenant__slug=slug, name=name)
        .first()
    )
    if connection is None:
        raise CliError(
            f"tenant '{slug}' has no connection '{name}' (create it in the admin, with "
            f"`manage.py tajo_config import`, or with the API's connect)"
        )
    return connection


def _test(args: argparse.Namespace, out: TextIO) -> int:
    from connectors.services import connection_test

    results = connection_test(connection=_connection(args))
    for result in results:
        label = DOCUMENTED_LINES.get(result.name)
        if label is None:  # Brevo's checks, after the documentation's five
            out.write(
                f"{'✓' if result.ok else '✗'} {result.name}"
                + (f" ({result.detail})" if result.detail else "")
            )
        elif result.ok:
            out.write(f"✓ {label}")
        else:
            out.write(f"✗ {result.name}: {result.detail}")
        out.write("\n")
    names = {result.name for result in results}
    for skipped in [name for name in DOCUMENTED_LINES if name not in names]:
        out.write(f"✗ {skipped}: not checked (the API connection failed)\n")
    return 0 if all(result.ok for result in results) and len(names) >= len(DOCUMENTED_LINES) else 1


def _sync(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from connectors.exceptions import DomainError, UnknownResource
    from connectors.models import ACTIVE_STATUSES, RunMode, RunStatus, Trigger
    from connectors.services import sync_run_start

    connection = _connection(args)
    try:
        run = sync_run_start(
            connection=connection,
            mode=RunMode.INCREMENTAL if args.type == "incremental" else RunMode.FULL,
            resources=args.resources,
            dry_run=args.dry_run,
            trigger=Trigger.CLI,
        )
    except UnknownResource as exc:
        raise CliError(f"--resources: {exc}", status=2) from exc
    except DomainError as exc:
        raise CliError(str(exc)) from exc
    out.write(f"Run #{run.pk} started: {run.get_mode_display()}, resources {', '.join(run.resources)}\n")
    if args.no_wait:
        return 0
    if args.inline:
        from connectors.sync.engine import run_inline

        run_inline(run.pk)
    from tqdm import tqdm

    bar = tqdm(total=run.progress_total or None, unit="rec", desc=f"run #{run.pk}", file=err)
    try:
        while True:
            run.refresh_from_db()
            if run.progress_total and bar.total != run.progress_total:
                bar.total = run.progress_total
            bar.update(max(0, run.progress_done - bar.n))
            bar.set_postfix_str(run.status)
            if run.status not in ACTIVE_STATUSES:
                break
            time.sleep(0.5)
    finally:
        bar.close()
    totals = run.totals()
    out.write(
        f"Run #{run.pk} {run.status}: "
        + ", ".join(
            f"{totals.get(k, 0)} {k}"
            for k in ("read", "created", "updated", "unchanged", "skipped", "failed")
        )
        + "\n"
    )
    if run.status not in (RunStatus.SUCCEEDED, RunStatus.PARTIAL):
        raise CliError(
            f"run #{run.pk} {run.status}" + (f": {run.error.splitlines()[0]}" if run.error else "")
        )
    return 0


def status_object(connection: Any) -> dict[str, Any]:
    """The documented status object: {connected, lastSync, contactsMigrated, dealsSynced, eventsSynced}."""
    from connectors.api.selectors import connection_status

    data = connection_status(connection=connection)
    last = data["last_sync"]
    return {
        "connected": data["connected"],
        "lastSync": last.strftime("%Y-%m-%dT%H:%M:%SZ") if last is not None else None,
        "contactsMigrated": data["contacts_migrated"],
        "dealsSynced": data["deals_synced"],
        "eventsSynced": data["events_synced"],
    }


def _status(args: argparse.Namespace, out: TextIO) -> int:
    import json

    out.write(json.dumps(status_object(_connection(args)), indent=2) + "\n")
    return 0


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    args = _parser().parse_args(argv)
    try:
        _setup_django()
        if args.action == "test":
            return _test(args, out)
        if args.action == "sync":
            return _sync(args, out, err)
        return _status(args, out)
    except CliError as exc:
        err.write(f"tajo: {exc}\n")
        return exc.status
    except KeyboardInterrupt:
        err.write("tajo: interrupted\n")
        return 130
    except Exception as exc:  # one line, never a traceback; secrets are masked by the message helpers
        from connectors.providers.http.masking import mask_text

        err.write(f"tajo: {type(exc).__name__}: {mask_text(str(exc)).splitlines()[0] if str(exc) else ''}\n")
        return 1


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
