"""tap-activecampaign 1.3.1 (singer-io, PyPI) extracts what Tajo syncs from the sandbox without error.

The tap checks its token with `GET /api/3/`, pages every stream with `limit`/`offset`, filters
contacts by `filters[updated_after]` and validates every record against its own JSON schemas
(singer's transformer), so a sandbox answer of the wrong shape or type fails here by stream.
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from sandbox.config import SandboxConfig
from sandbox.server import SandboxServer
from tests.contracts.conftest import contract_python

DRIVER = Path(__file__).with_name("tap_driver.py")

# Tap stream -> the endpoint it reads (for failure messages).
STREAMS = {
    "contacts": "GET /api/3/contacts",
    "contact_lists": "GET /api/3/contactLists",
    "contact_tags": "GET /api/3/contactTags",
    "contact_custom_field_values": "GET /api/3/fieldValues",
    "deals": "GET /api/3/deals",
    "deal_stages": "GET /api/3/dealStages",
    "lists": "GET /api/3/lists",
    "tags": "GET /api/3/tags",
}


@pytest.fixture(scope="module")
def tap_python() -> Path:
    return contract_python("tap-activecampaign")


def _run(python: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(python), str(DRIVER), *args], capture_output=True, text=True, timeout=600)


def _problem(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if "CRITICAL" in line or "Error" in line]
    return "\n".join(lines[-8:]) or stderr[-1500:]


def test_tap_extracts_every_stream_tajo_syncs(tap_python: Path, tmp_path: Path) -> None:
    with SandboxServer(SandboxConfig.fast(contacts=40, seed=5)) as server:
        config = tmp_path / "config.json"
        config.write_text(
            json.dumps(
                {
                    "api_url": server.ac_api_url,
                    "api_token": server.ac_key,
                    "start_date": "2000-01-01T00:00:00Z",
                    "user_agent": "tajo-contract-tests",
                }
            )
        )
        discovered = _run(tap_python, "--config", str(config), "--discover")
        assert discovered.returncode == 0, (
            f"discovery (GET /api/3/ token check): {_problem(discovered.stderr)}"
        )
        catalog = json.loads(discovered.stdout)
        for stream in catalog["streams"]:
            if stream["tap_stream_id"] in STREAMS:
                for entry in stream["metadata"]:
                    if entry["breadcrumb"] == []:
                        entry["metadata"]["selected"] = True
        selected = tmp_path / "catalog.json"
        selected.write_text(json.dumps(catalog))
        synced = _run(tap_python, "--config", str(config), "--catalog", str(selected))

    counts: Counter[str] = Counter()
    for line in synced.stdout.splitlines():
        message = json.loads(line)
        if message.get("type") == "RECORD":
            counts[message["stream"]] += 1
    if synced.returncode != 0:
        failing = next((s for s in reversed(list(STREAMS)) if f"Syncing: {s}" in synced.stderr), "?")
        pytest.fail(f"tap failed on {failing} ({STREAMS.get(failing, '?')}): {_problem(synced.stderr)}")
    empty = [f"{name} ({endpoint})" for name, endpoint in STREAMS.items() if not counts[name]]
    assert empty == [], f"streams that extracted nothing: {empty}"
    assert counts["contacts"] == server.ac.gen.n  # every contact, none twice


def test_tap_fails_on_a_sandbox_without_the_token_check(tap_python: Path, tmp_path: Path) -> None:
    """The contract test can fail: the pre-2026 sandbox answered `GET /api/3/` with 404."""
    with SandboxServer(SandboxConfig.fast(contacts=5, ac_legacy=True)) as server:
        config = tmp_path / "config.json"
        config.write_text(
            json.dumps(
                {
                    "api_url": server.ac_api_url,
                    "api_token": server.ac_key,
                    "start_date": "2000-01-01T00:00:00Z",
                    "user_agent": "tajo-contract-tests",
                }
            )
        )
        discovered = _run(tap_python, "--config", str(config), "--discover")
    assert discovered.returncode != 0
    assert "404" in discovered.stderr
