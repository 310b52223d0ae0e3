"""`manage.py tajo_demo`: everything a newcomer needs on one machine, with no servers installed.

Starts the ActiveCampaign and Brevo sandbox, an embedded queue (unless REDIS_URL is set),
migrates the database, seeds a demo tenant whose connection points at the sandbox, then runs
the web server and a background worker until Ctrl-C.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

DEMO_YAML = Path(__file__).resolve().parents[3] / "docs" / "examples" / "demo.yaml"


class Command(BaseCommand):
    help = "Run the Tajo demo: sandbox APIs, seeded tenant, admin web server and a worker."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000, help="admin web server port (default 8000)")
        parser.add_argument("--sandbox-port", type=int, default=8025, help="sandbox API port (default 8025)")
        parser.add_argument("--contacts", type=int, default=500, help="generated contacts in the sandbox")
        parser.add_argument("--seed-only", action="store_true", help="seed and exit (no servers)")

    def handle(self, *args, **options) -> None:
        from connectors.sandbox.config import SandboxConfig
        from connectors.sandbox.server import SandboxServer
        from tajo_site.embedded_queue import free_port, start_embedded_redis

        Path(settings.BASE_DIR / "var").mkdir(exist_ok=True)
        if options["contacts"] < 0:
            raise CommandError("--contacts must be 0 or more")
        env = dict(os.environ, DEBUG="true", TAJO_ALLOW_PRIVATE_URLS="true")
        redis_url = settings.REDIS_URL
        if not redis_url:
            redis_url, _server = start_embedded_redis(free_port(6399))
            self.stdout.write(f"Queue: embedded (no REDIS_URL set) at {redis_url}")
        env["REDIS_URL"] = redis_url

        sandbox_config = SandboxConfig(
            port=free_port(options["sandbox_port"]), contacts=options["contacts"], ac_rate=5.0
        )
        sandbox = SandboxServer(sandbox_config).start()
        self.stdout.write(f"Sandbox: ActiveCampaign {sandbox.ac_api_url} · Brevo {sandbox.brevo_api_url}")

        call_command("migrate", interactive=False, verbosity=0)
        password = self._seed(sandbox)
        if options["seed_only"]:
            sandbox.stop()
            return

        manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
        children = [
            subprocess.Popen(
                [*manage, "tajo_worker", "--worker-class", "tajo_site.embedded_queue.EmbeddedWorker"], env=env
            ),
            subprocess.Popen([*manage, "runserver", f"127.0.0.1:{options['port']}", "--noreload"], env=env),
        ]
        url = f"http://127.0.0.1:{options['port']}/admin/"
        self.stdout.write(
            self.style.SUCCESS(
                f"\nTajo demo is up: {url}\n"
                f"  login: admin / {password}   (operator of the demo tenant: ops / {password})\n"
                "  Connections → demo/activecampaign → action 'Test connection', then\n"
                "  'Run now: full backfill', and watch the run under 'Sync runs'. Ctrl-C stops everything.\n"
            )
        )
        stop = False

        def _stop(*_: object) -> None:
            nonlocal stop
            stop = True

        signal.signal(signal.SIGTERM, _stop)
        try:
            while not stop and all(child.poll() is None for child in children):
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            for child in children:
                child.terminate()
            for child in children:
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    child.kill()
            sandbox.stop()

    def _seed(self, sandbox) -> str:
        """Users and the demo tenant; its connection and mapping come from docs/examples/demo.yaml."""
        from mappings.yaml_config import config_import
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
