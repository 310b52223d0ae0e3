"""`manage.py tajo_worker`: an RQ worker for Tajo's queues, with the scheduler and the watchdog."""

from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from connectors.services import SHORT_QUEUE, SYNC_QUEUE, schedule_watchdog
from connectors.sync.engine import tune_worker


class Command(BaseCommand):
    help = (
        "Run a worker on the sync and short queues with RQ's scheduler (delayed jobs), and make sure the "
        "watchdog (resumes runs of dead workers, starts scheduled incremental syncs) is queued."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--burst", action="store_true", help="stop when the queues are empty")
        parser.add_argument("--worker-class", default=None, help="RQ worker class (dotted path)")

    def handle(self, *args, **options) -> None:
        tune_worker()
        schedule_watchdog()
        extra = {"worker_class": options["worker_class"]} if options["worker_class"] else {}
        call_command(
            "rqworker", SYNC_QUEUE, SHORT_QUEUE, with_scheduler=True, burst=options["burst"], **extra
        )
