"""`manage.py tajo_sync TENANT/NAME [--resources ...] [--full|--incremental] [--dry-run] [--wait]`."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from connectors.exceptions import DomainError, UnknownResource
from connectors.models import ACTIVE_STATUSES, Connection, RunMode, RunStatus, SyncRun, Trigger
from connectors.selectors import COUNTER_KEYS, run_summary
from connectors.services import sync_run_start
from mappings.selectors import connection_by_ref


class Command(BaseCommand):
    help = (
        "Start a sync run for a connection. With --wait, show a progress bar and a summary; exit 0 when "
        "the run succeeded or finished partial, 1 when it failed or was cancelled."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("connection", help="TENANT_SLUG/NAME or the connection's id")
        parser.add_argument(
            "--resources", nargs="+", metavar="RESOURCE", help="default: what the connection syncs"
        )
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--full", action="store_true", help="full backfill (default)")
        mode.add_argument("--incremental", action="store_true", help="only what changed since the last run")
        parser.add_argument("--dry-run", action="store_true", help="read and map, write nothing to Brevo")
        parser.add_argument("--wait", action="store_true", help="wait for the run, with a progress bar")
        parser.add_argument(
            "--inline", action="store_true", help="run the slices in this process instead of an RQ worker"
        )

    def handle(self, *args, **options) -> None:
        from django.db import DatabaseError
        from redis.exceptions import RedisError

        try:
            self._handle(options)
        except RedisError as exc:  # lost the queue mid-way: one line, not a traceback
            raise CommandError(f"the job queue stopped answering ({type(exc).__name__}: {exc})") from None
        except DatabaseError as exc:
            raise CommandError(f"the database cannot be used ({type(exc).__name__}: {exc})") from None

    def _handle(self, options: dict) -> None:
        try:
            connection = connection_by_ref(options["connection"])
        except Connection.DoesNotExist as exc:
            raise CommandError(str(exc)) from exc
        try:
            run = sync_run_start(
                connection=connection,
                mode=RunMode.INCREMENTAL if options["incremental"] else RunMode.FULL,
                resources=options["resources"],
                dry_run=options["dry_run"],
                trigger=Trigger.CLI,
            )
        except UnknownResource as exc:
            raise CommandError(f"--resources: {exc}") from exc
        except DomainError as exc:
            raise CommandError(f"{connection}: {exc}") from None
        self.stdout.write(
            f"Run #{run.pk} queued: {run.get_mode_display()}, resources {', '.join(run.resources)}"
        )
        if options["inline"]:
            from connectors.sync.engine import run_inline

            run_inline(run.pk)
        if not (options["wait"] or options["inline"]):
            return
        run = self._follow(run)
        self._summary(run)
        if run.status not in (RunStatus.SUCCEEDED, RunStatus.PARTIAL):
            raise CommandError(
                f"run #{run.pk} {run.status}" + (f": {run.error}" if run.error else ""), returncode=1
            )

    def _follow(self, run: SyncRun) -> SyncRun:
        bar = tqdm(total=run.progress_total or None, unit="rec", desc=f"run #{run.pk}", file=self.stderr._out)
        waiting_since = time.monotonic()
        hinted = False
        try:
            while True:
                run.refresh_from_db()
                if run.status == RunStatus.QUEUED and not hinted and time.monotonic() - waiting_since > 20:
                    hinted = True
                    bar.write(
                        f"run #{run.pk} is still queued: no worker has taken it yet "
                        "(is ./scripts/demo or manage.py tajo_worker running on this queue?)",
                        file=self.stderr._out,
                    )
                if run.progress_total and bar.total != run.progress_total:
                    bar.total = run.progress_total
                bar.update(max(0, run.progress_done - bar.n))
                bar.set_postfix_str(run.status)
                if run.status not in ACTIVE_STATUSES:
                    return run
                time.sleep(0.5)
        finally:
            bar.close()

    def _summary(self, run: SyncRun) -> None:
        totals = run.totals()
        summary = run_summary(run=run)
        self.stdout.write(
            f"Run #{run.pk} {run.status}: "
            + ", ".join(f"{totals.get(k, 0)} {k}" for k in COUNTER_KEYS)
            # Written, but with values Brevo does not hold: each one named on its record.
            + (f" ({totals['with_warnings']} with warnings)" if totals.get("with_warnings") else "")
        )
        for resource, reason in summary["not_configured"].items():
            self.stdout.write(f"  {resource}: not configured: {reason}")
        for group in summary["failures"][:10]:
            self.stdout.write(
                f"  {group['count']:>6} {group['outcome']} {group['resource']} "
                f"[{group['error_code'] or '-'}]: {group['example'][:120]}"
            )
