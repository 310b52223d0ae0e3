"""Contract tests: ActiveCampaign clients nobody here wrote, run against the sandbox over loopback.

Each client lives in its own virtual environment under the repository's ignored `var/contracts/`
(their dependency pins clash with ours: the tap pins requests and backoff, the MCP server pulls
fastmcp), created on first use with pip from PyPI at the pinned version and reused afterwards.
Set TAJO_CONTRACTS_DIR to keep them elsewhere (a CI cache). Creation is serialised with a file
lock, so parallel test processes share one environment.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("TAJO_CONTRACTS_DIR") or ROOT / "var" / "contracts")


REQUIREMENTS = Path(__file__).resolve().parent / "requirements"


def contract_python(name: str) -> Path:
    """The python of a venv holding exactly `requirements/<name>.txt` (every version pinned).

    The client's own pins are open-ended (ac-mcp-server asks for fastmcp>=2.10.4, which later
    releases broke), so the whole set is pinned here, as it was when the client was current.
    """
    wanted = (REQUIREMENTS / f"{name}.txt").read_text()
    home = CACHE / name
    python = home / "bin" / "python"
    marker = home / ".installed"
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.exists() and marker.read_text() == wanted and python.exists():
            return python
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(home)], check=True, timeout=300)
        done = subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
                str(REQUIREMENTS / f"{name}.txt"),
            ],
            capture_output=True,
            text=True,
            timeout=900,
        )
        if done.returncode != 0:
            pytest.fail(f"could not install the {name} contract client:\n{done.stderr[-2000:]}")
        marker.write_text(wanted)
    return python
