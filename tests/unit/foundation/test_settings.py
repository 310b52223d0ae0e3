"""Settings come from the environment; production values fail loudly when missing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    # The test settings put test values into this process's environment: start from a clean one.
    dropped = {
        "SECRET_KEY",
        "FIELD_ENCRYPTION_KEY",
        "DEBUG",
        "DJANGO_SETTINGS_MODULE",
        "SECURE_SSL_REDIRECT",
        "TAJO_ALLOW_PRIVATE_URLS",
        "ALLOWED_HOSTS",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
    }
    clean = {k: v for k, v in os.environ.items() if k not in dropped}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


def test_missing_secret_key_in_production_is_a_clear_error() -> None:
    result = _run({"DEBUG": "false", "FIELD_ENCRYPTION_KEY": "x" * 44}, "check")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_missing_encryption_key_in_production_is_a_clear_error() -> None:
    result = _run({"DEBUG": "false", "SECRET_KEY": "s" * 60}, "check")
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEY is not set" in result.stderr


def test_check_deploy_is_quiet_with_production_values() -> None:
    env = {
        "DEBUG": "false",
        "SECRET_KEY": "k3y-" + "abcdefghij" * 6,
        "FIELD_ENCRYPTION_KEY": "dGVzdC1vbmx5LWZpZWxkLWVuY3J5cHRpb24ta2V5LTA=",
        "ALLOWED_HOSTS": "tajo.example.org",
        "DATABASE_URL": "sqlite:////tmp/tajo-check.sqlite3",
    }
    result = _run(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
