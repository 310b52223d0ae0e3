"""`var/demo.env`: the running demo's settings, so `manage.py` in another terminal uses the same
database and queue as the demo. Written when the demo is up, removed when it stops; a file left
by a demo that was killed is ignored (its process is gone). Never committed (`/var/` is ignored)
and never holds a secret: the demo runs on DEBUG's throwaway keys.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent
PID_KEY = "TAJO_DEMO_PID"


def default_path() -> Path:
    """var/demo.env of this checkout; TAJO_DEMO_ENV_FILE moves it (tests run a demo beside one)."""
    return Path(os.environ.get("TAJO_DEMO_ENV_FILE") or BASE_DIR / "var" / "demo.env")


def demo_values(*, redis_url: str, database: dict[str, Any]) -> dict[str, str]:
    """What a second terminal needs: the queue, the database, and the demo's development flags."""
    values = {
        "DEBUG": "true",
        "TAJO_ALLOW_PRIVATE_URLS": "true",
        "REDIS_URL": redis_url,
        PID_KEY: str(os.getpid()),
    }
    if url := os.environ.get("DATABASE_URL"):
        values["DATABASE_URL"] = url
    elif database.get("ENGINE") == "django.db.backends.sqlite3":
        values["DATABASE_URL"] = f"sqlite:///{database['NAME']}"
    return values


def write(path: Path, values: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["# Written by the running demo (manage.py tajo_demo); removed when it stops."]
    lines += [f"{key}={value}" for key, value in values.items()]
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n")
    tmp.replace(path)


def remove(path: Path) -> None:
    path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read(path: Path | None = None) -> dict[str, str]:
    """The file's values when the demo that wrote it still runs, else nothing."""
    path = path or default_path()
    try:
        text = path.read_text()
    except OSError:
        return {}
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and not key.lstrip().startswith("#"):
            values[key.strip()] = value.strip()
    pid = values.pop(PID_KEY, "")
    if not pid.isdigit() or not _alive(int(pid)):
        return {}
    return values


def apply(environ: os._Environ | dict[str, str] | None = None, path: Path | None = None) -> None:
    """Fill in the running demo's values where the environment sets none (the environment wins)."""
    environ = os.environ if environ is None else environ
    if environ.get("TAJO_DEMO_ENV", "") == "off":
        return
    for key, value in read(path).items():
        environ.setdefault(key, value)
