"""`manage.py tajo_demo` supervises its parts: Ctrl-C stops all of them, and so does the death of
any one of them; nothing it started is left running or listening."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psutil
import pytest
from django.conf import settings

from tajo_site.embedded_queue import free_port

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(settings.BASE_DIR)


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _test_database_url() -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("the demo process shares the test database only on PostgreSQL")
    return urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path="/" + db["NAME"]))


# Ctrl-C and SIGTERM: scripts/demo-check stops the demo with each (CI runs it); here, the death of
# one part, which only this test provokes.
@pytest.mark.parametrize("ending", ["worker dies", "sandbox dies"])
def test_demo_stops_everything(tmp_path, ending) -> None:
    port, sandbox_port = free_port(), free_port()
    env_file = tmp_path / "demo.env"
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "TAJO_DEMO_ENV")}
    env.update(
        DATABASE_URL=_test_database_url(),
        DEBUG="true",
        TAJO_ALLOW_PRIVATE_URLS="true",
        TAJO_DEMO_ENV_FILE=str(env_file),
        DJANGO_SETTINGS_MODULE="tajo_site.settings",
    )
    log = tmp_path / "demo.log"
    with log.open("w") as out:
        demo = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "tajo_demo", "--port", str(port),
             "--sandbox-port", str(sandbox_port), "--contacts", "10"],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while "Tajo demo is up" not in log.read_text():
            assert demo.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.2)
        values = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
        redis_port = urlsplit(values["REDIS_URL"]).port
        assert values["TAJO_DEMO_PID"] == str(demo.pid)
        children = psutil.Process(demo.pid).children(recursive=True)
        assert len(children) >= 4, "Redis server, sandbox, worker and web server"
        if ending.endswith(" dies"):
            # The sandbox runs as `python -m sandbox`, the worker as `manage.py tajo_worker`.
            marker = {"worker dies": "tajo_worker", "sandbox dies": "sandbox"}[ending]
            part = next(c for c in psutil.Process(demo.pid).children() if marker in c.cmdline())
            part.kill()
        else:
            demo.send_signal(signal.SIGINT)
        code = demo.wait(60)
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
    text = log.read_text()
    if ending.endswith(" dies"):
        assert code != 0 and f"the demo's {ending.removesuffix(' dies')} (exit code" in text, text[-2000:]
    else:
        assert code == 0, text[-2000:]
    _, alive = psutil.wait_procs(children, timeout=10)
    assert not alive, f"left running: {[p.cmdline() for p in alive]}"
    assert not any(_listening(p) for p in (port, sandbox_port, redis_port))
    assert not env_file.exists(), "var/demo.env is removed when the demo stops"
