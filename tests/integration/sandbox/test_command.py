"""``python -m sandbox`` as a real subprocess: the two lines, serving, clean errors."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[3]
AC_LINE = re.compile(r"^ActiveCampaign: api_url=(http://127\.0\.0\.1:(\d+)) api_key=(\S+)$")
BREVO_LINE = re.compile(r"^Brevo: api_url=(http://127\.0\.0\.1:(\d+)/v3) api_key=(\S+)$")


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "sandbox", *args]


def env() -> dict[str, str]:
    return dict(os.environ, DJANGO_SETTINGS_MODULE="tajo_site.settings_test", PYTHONUNBUFFERED="1")


def test_prints_both_lines_then_serves_until_killed() -> None:
    proc = subprocess.Popen(
        command("--port", "0", "--contacts", "30", "--seed", "3", "--ac-key", "sandbox-cmd-key", "--fast"),
        cwd=ROOT,
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first, second = proc.stdout.readline().rstrip("\n"), proc.stdout.readline().rstrip("\n")
        ac, brevo = AC_LINE.match(first), BREVO_LINE.match(second)
        assert ac, first
        assert brevo, second
        assert ac[2] == brevo[2] != "0"
        assert ac[3] == "sandbox-cmd-key"
        assert brevo[3].startswith("xkeysib-sandbox")
        # The lines come before serving: the port answers right after.
        stats = httpx.get(ac[1] + "/_sandbox/stats", timeout=10).json()
        assert stats["ac"]["contacts"] == 30
        me = httpx.get(ac[1] + "/api/3/users/me", headers={"Api-Token": ac[3]}, timeout=10)
        assert me.status_code == 200
        account = httpx.get(brevo[1] + "/account", headers={"api-key": brevo[3]}, timeout=10)
        assert account.status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    assert proc.returncode is not None


def test_bad_arguments_fail_with_one_line() -> None:
    for args in (
        ["--faults", "500=2"],
        ["--port", "70000"],
        ["--brevo-rates", "crm=1/s"],
        ["--profile", "x=1"],
    ):
        done = subprocess.run(command(*args), cwd=ROOT, env=env(), capture_output=True, text=True, timeout=60)
        assert done.returncode != 0, args
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
        assert "Traceback" not in done.stderr
