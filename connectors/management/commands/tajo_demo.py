"""`manage.py tajo_demo`: everything a newcomer needs on one machine, with no servers installed.

Starts the ActiveCampaign and Brevo sandbox (`python -m sandbox`, its own process: the product
never imports the simulators, which come with the `demo` install extra), a Redis server of its own
(unless REDIS_URL is set; see `tajo_site.embedded_queue`), migrates the database, seeds a demo
tenant whose connection
points at the sandbox, writes `var/demo.env` so that `manage.py` in another terminal talks to the
same database and queue, then runs the web server and a worker until Ctrl-C or SIGTERM. When
one of its parts dies, it stops the others and exits with an error.
"""

from __future__ import annotations

import os
import queue
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

DEMO_YAML = Path(__file__).resolve().parents[3] / "docs" / "examples" / "demo.yaml"


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(settings.BASE_DIR))
    except ValueError:
        return str(path)


# The two lines `python -m sandbox` prints once it accepts connections.
_ANNOUNCED = re.compile(r"^(ActiveCampaign|Brevo): api_url=(\S+) api_key=(\S+)$")
SANDBOX_START_SECONDS = 60.0


@dataclass(frozen=True)
class SandboxProcess:
    """The sandbox the demo runs: its process and the URLs and keys it announced."""

    process: subprocess.Popen
    ac_api_url: str
    ac_key: str
    brevo_api_url: str
    brevo_key: str


def sandbox_start(*, port: int, contacts: int, options: dict) -> SandboxProcess:
    """Start `python -m sandbox` and wait for its two address lines; CommandError if none come."""
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", str(port), "--contacts", str(contacts), "--ac-rate", "5"],
        cwd=settings.BASE_DIR,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
        # Its errors reach the demo's terminal; a pipe nobody reads could fill up and stall it.
        stdout=subprocess.PIPE,
        text=True,
        **options,
    )
    lines: queue.Queue[str] = queue.Queue()

    def read_two() -> None:
        # A thread, not select(): the text pipe's buffer may already hold both lines.
        for _ in range(2):
            lines.put(process.stdout.readline())

    threading.Thread(target=read_two, daemon=True, name="sandbox-announce").start()
    announced: dict[str, tuple[str, str]] = {}
    deadline = time.monotonic() + SANDBOX_START_SECONDS
    # A sandbox that never answers (a missing extra, a port taken meanwhile) must not hang the demo.
    while len(announced) < 2:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            break
        if not (found := _ANNOUNCED.match(line.strip())):
            break
        announced[found[1]] = (found[2], found[3])
    if len(announced) < 2:
        process.kill()
        process.wait()
        raise CommandError(
            f"the sandbox did not start (exit code {process.returncode}); see its message above"
        )
    return SandboxProcess(
        process=process,
        ac_api_url=announced["ActiveCampaign"][0],
        ac_key=announced["ActiveCampaign"][1],
        brevo_api_url=announced["Brevo"][0],
        brevo_key=announced["Brevo"][1],
    )


class _Stop(Exception):
    """SIGTERM or SIGINT reached the demo."""


def _raise_stop(signum: int, _frame: object) -> None:
    raise _Stop(signal.Signals(signum).name)


class Command(BaseCommand):
    help = (
        "Run the Tajo demo: sandbox APIs, a Redis server (unless REDIS_URL is set), seeded tenant, "
        "admin web server and a worker. Writes var/demo.env for manage.py in another terminal."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000, help="admin web server port (default 8000)")
        parser.add_argument("--sandbox-port", type=int, default=8025, help="sandbox API port (default 8025)")
        parser.add_argument("--contacts", type=int, default=500, help="generated contacts in the sandbox")
        parser.add_argument("--seed-only", action="store_true", help="seed and exit (no servers)")

    def handle(self, *args, **options) -> None:
        from tajo_site import demo_env
        from tajo_site.embedded_queue import (
            EmbeddedQueueError,
            EmbeddedRedis,
            child_process_options,
            free_port,
        )

        var = Path(settings.BASE_DIR) / "var"
        var.mkdir(exist_ok=True)
        if options["contacts"] < 0:
            raise CommandError("--contacts must be 0 or more")
        if not options["seed_only"] and free_port(options["port"]) != options["port"]:
            raise CommandError(
                f"port {options['port']} is in use (another demo?); stop it or pass --port"
            )
        # From here on SIGTERM unwinds like Ctrl-C, so every part started below is stopped.
        previous = {sig: signal.signal(sig, _raise_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        redis: EmbeddedRedis | None = None
        sandbox: SandboxProcess | None = None
        children: dict[str, subprocess.Popen] = {}
        env_file = demo_env.default_path()
        try:
            redis_url = settings.REDIS_URL
            if not redis_url:
                try:
                    redis = EmbeddedRedis(var / "redis").start()
                except EmbeddedQueueError as exc:
                    raise CommandError(str(exc)) from None
                redis_url = redis.url
                # This process too (lost-run check below) talks to the demo's queue from now on.
                settings.REDIS_URL = redis_url
                for queue in settings.RQ_QUEUES.values():
                    queue["URL"] = redis_url
                self.stdout.write(f"Queue: Redis at {redis_url} ({redis.binary.source} {redis.binary.path})")
            sandbox = sandbox_start(
                port=free_port(options["sandbox_port"]),
                contacts=options["contacts"],
                options=child_process_options(),
            )
            self.stdout.write(
                f"Sandbox: ActiveCampaign {sandbox.ac_api_url} · Brevo {sandbox.brevo_api_url}"
            )
            call_command("migrate", interactive=False, verbosity=0)
            if redis is not None:
                # A fresh queue holds no job of an earlier demo: its queued runs would wait forever.
                from connectors.services import sync_runs_mark_lost

                sync_runs_mark_lost(grace_seconds=0)
            password = self._seed(sandbox)
            if options["seed_only"]:
                return
            values = demo_env.demo_values(redis_url=redis_url, database=settings.DATABASES["default"])
            env = dict(os.environ, **values)
            demo_env.write(env_file, values)
            manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
            children["worker"] = subprocess.Popen(
                [*manage, "tajo_worker"], env=env, **child_process_options()
            )
            children["web server"] = subprocess.Popen(
                [*manage, "runserver", f"127.0.0.1:{options['port']}", "--noreload"],
                env=env,
                **child_process_options(),
            )
            url = f"http://127.0.0.1:{options['port']}/admin/"
            self.stdout.write(
                self.style.SUCCESS(
                    f"\nTajo demo is up: {url}\n"
                    f"  login: admin / {password}   (operator of the demo tenant: ops / {password})\n"
                    "  Connections → demo/activecampaign → Test connection, then Run now: full backfill,\n"
                    "  and watch the run under 'Sync runs'.\n"
                    f"  In another terminal ({_shown(env_file)} points manage.py "
                    "at this demo):\n"
                    "    ./scripts/tajo tajo_sync demo/activecampaign --wait\n"
                    "  Ctrl-C stops everything.\n"
                )
            )
            self.stdout.flush()
            dead = self._watch(children, redis, sandbox)
            raise CommandError(f"the demo's {dead} stopped; the demo stopped everything else")
        except _Stop:
            self.stdout.write("Stopping the demo…")
        finally:
            # Stopping is not interrupted by a second Ctrl-C; the children die with us anyway.
            for sig in previous:
                signal.signal(sig, signal.SIG_IGN)
            demo_env.remove(env_file)
            self._stop_children(children)
            if sandbox is not None:
                # After the worker (a slice in flight still reaches the sandbox), before Redis.
                self._stop_children({"sandbox": sandbox.process})
            if redis is not None:
                redis.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _watch(self, children: dict[str, subprocess.Popen], redis, sandbox: SandboxProcess) -> str:
        """Block until one part of the demo is gone; returns its name."""
        while True:
            for name, child in {**children, "sandbox": sandbox.process}.items():
                if child.poll() is not None:
                    return f"{name} (exit code {child.returncode})"
            if redis is not None and not redis.alive():
                return "Redis server"
            time.sleep(0.2)

    def _stop_children(self, children: dict[str, subprocess.Popen]) -> None:
        """Web server first (no new runs), then the worker: its first SIGTERM lets the current slice
        finish, a second one stops it at once. Redis goes last, so nothing loses its connection."""
        for child in children.values():
            if child.poll() is None:
                child.terminate()
        for name, child in children.items():
            try:
                child.wait(timeout=10 if name == "worker" else 5)
            except subprocess.TimeoutExpired:
                child.terminate()
                try:
                    child.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()

    def _seed(self, sandbox: SandboxProcess) -> str:
        """Users and the demo tenant; its connection and mapping come from docs/examples/demo.yaml."""
        from tajo_config import config_import
        from tenants.models import Membership, Role, Tenant

        password = secrets.token_urlsafe(9)
        users = get_user_model()
        admin, _ = users.objects.get_or_create(username="admin", defaults={"email": "admin@example.org"})
        admin.is_staff = admin.is_superuser = True
        admin.set_password(password)
        admin.save()
        ops, _ = users.objects.get_or_create(username="ops", defaults={"email": "ops@example.org"})
        ops.is_staff = True
        ops.set_password(password)
        ops.save()
        tenant, _ = Tenant.objects.get_or_create(slug="demo", defaults={"name": "Demo organisation"})
        Membership.objects.update_or_create(user=ops, tenant=tenant, defaults={"role": Role.OPERATOR})
        env = {
            **os.environ,
            "AC_API_URL": sandbox.ac_api_url,
            "AC_API_KEY": sandbox.ac_key,
            "BREVO_API_URL": sandbox.brevo_api_url,
            "BREVO_API_KEY": sandbox.brevo_key,
        }
        report = config_import(
            text=DEMO_YAML.read_text(),
            filename=str(DEMO_YAML),
            tenant_slug="demo",
            create_missing=True,
            env=env,
        )
        self.stdout.write(f"Demo tenant 'demo': {report}")
        return password
