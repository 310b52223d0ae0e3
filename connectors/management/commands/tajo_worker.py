"""`manage.py tajo_worker`: an RQ worker for every tenant's queues, fair, with the watchdog."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandParser
from redis.exceptions import ConnectionError as RedisConnectionError

from connectors import queues
from connectors.sync.engine import tune_worker


class Command(BaseCommand):
    help = (
        "Run a worker on Tajo's queues (every tenant's webhook and sync queues, taken round-robin) "
        "with the watchdog thread (delayed jobs, resumes runs of dead workers, starts scheduled "
        "incremental syncs)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--burst", action="store_true", help="stop when the queues are empty")
        parser.add_argument("--worker-class", default=None, help="RQ worker class (dotted path)")
        parser.add_argument("--name", default=None, help="worker name (default: RQ's)")

    def handle(self, *args, **options) -> None:
        from django_rq.utils import reset_db_connections
        from django_rq.workers import get_worker, get_worker_class
        from rq.logutils import setup_loghandlers

        from connectors.watchdog import WatchdogThread, watchdog_round

        level = {0: "WARNING", 1: "INFO"}.get(options["verbosity"], "DEBUG")
        setup_loghandlers(level)
        tune_worker()
        worker_class = queues.fair_worker_class(get_worker_class(options["worker_class"]))
        try:
            worker = get_worker(
                queues.SHORT_QUEUE, queues.SYNC_QUEUE, worker_class=worker_class, name=options["name"]
            )
            reset_db_connections()
            if options["burst"]:
                watchdog_round(worker.connection, force=True)
            watchdog = WatchdogThread()
            watchdog.start()
            try:
                worker.work(burst=options["burst"], logging_level=level, dequeue_strategy="round_robin")
            finally:
                watchdog.stop()
        except RedisConnectionError as exc:
            self.stderr.write(f"Redis is not reachable: {exc}")
            sys.exit(1)
