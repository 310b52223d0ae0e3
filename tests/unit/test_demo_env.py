"""var/demo.env: what a second terminal takes from the running demo, and what it ignores."""

from __future__ import annotations

import os
import subprocess
import sys

from tajo_site import demo_env


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_values_of_a_running_demo_fill_in_what_the_environment_lacks(tmp_path) -> None:
    path = tmp_path / "demo.env"
    values = demo_env.demo_values(
        redis_url="redis://127.0.0.1:40001/0",
        database={"ENGINE": "django.db.backends.sqlite3", "NAME": "/tmp/x.sqlite3"},
    )
    demo_env.write(path, values)
    environ = {"DATABASE_URL": "postgres://elsewhere/db"}
    demo_env.apply(environ, path)
    assert environ["REDIS_URL"] == "redis://127.0.0.1:40001/0"
    assert environ["DEBUG"] == "true" and environ["TAJO_ALLOW_PRIVATE_URLS"] == "true"
    assert environ["DATABASE_URL"] == "postgres://elsewhere/db", "the environment wins"
    assert demo_env.PID_KEY not in environ


def test_sqlite_database_is_written_as_a_url(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    values = demo_env.demo_values(
        redis_url="redis://127.0.0.1:1/0",
        database={"ENGINE": "django.db.backends.sqlite3", "NAME": "/srv/tajo/var/tajo.sqlite3"},
    )
    assert values["DATABASE_URL"] == "sqlite:////srv/tajo/var/tajo.sqlite3"
    assert values[demo_env.PID_KEY] == str(os.getpid())
    assert not any("SECRET" in key or "KEY" in key for key in values if key != demo_env.PID_KEY)


def test_file_of_a_demo_that_is_gone_is_ignored(tmp_path) -> None:
    path = tmp_path / "demo.env"
    path.write_text(f"REDIS_URL=redis://127.0.0.1:40001/0\n{demo_env.PID_KEY}={_dead_pid()}\n")
    assert demo_env.read(path) == {}
    path.write_text("REDIS_URL=redis://127.0.0.1:40001/0\n")  # no pid: not written by a demo
    assert demo_env.read(path) == {}


def test_off_switch_and_missing_file(tmp_path) -> None:
    path = tmp_path / "demo.env"
    assert demo_env.read(path) == {}
    demo_env.write(path, {"REDIS_URL": "redis://127.0.0.1:40001/0", demo_env.PID_KEY: str(os.getpid())})
    environ = {"TAJO_DEMO_ENV": "off"}
    demo_env.apply(environ, path)
    assert environ == {"TAJO_DEMO_ENV": "off"}
    demo_env.remove(path)
    assert not path.exists()
