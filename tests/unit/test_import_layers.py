"""The import contracts in pyproject.toml hold: layers point one way, the product never imports
the simulators, transforms and providers stay free of the ORM.

`lint-imports` reads every import, lazy ones inside functions included, so a contract broken
by an import that only runs on some path still fails here.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def test_the_import_contracts_are_kept() -> None:
    # --no-cache: nothing is written into the working tree.
    done = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = done.stdout + done.stderr
    assert done.returncode == 0, report
    assert "0 broken" in report, report


def test_the_transforms_load_without_django() -> None:
    # The static check above sees imports; this one sees what loading the package really pulls in.
    probe = (
        "import sys, mappings.transforms\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in {'django', 'httpx', 'connectors'})\n"
        "print(','.join(loaded))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == ""
