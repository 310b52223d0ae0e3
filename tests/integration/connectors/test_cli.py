"""The `tajo` console script against the sandbox (in-process, and once as the installed script)."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from connectors.cli import main
from mappings.services import catalog_discover, mapping_defaults_apply
from sandbox.config import SandboxConfig
from sandbox.server import SandboxServer
from tests.sandbox_helpers import connection_for_sandbox

pytestmark = pytest.mark.django_db(transaction=True)

DOCUMENTED = [
    "✓ API connection successful",
    "✓ Contacts readable",
    "✓ Deals readable",
    "✓ Automations accessible",
    "✓ Event tracking enabled",
]


@pytest.fixture(scope="module")
def sandbox():
    with SandboxServer(SandboxConfig.fast(contacts=20, seed=3)) as server:
        yield server


@pytest.fixture
def connection(sandbox, redis_conn):
    return connection_for_sandbox(sandbox, name="activecampaign")


def tajo(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(list(argv), out=out, err=err)
    return status, out.getvalue(), err.getvalue()


def test_connectors_test_prints_the_documentations_five_lines_then_brevos(connection) -> None:
    status, out, err = tajo("connectors", "test", "activecampaign", "--tenant", connection.tenant.slug)
    lines = out.splitlines()
    assert (status, err) == (0, "")
    assert lines[:5] == DOCUMENTED
    assert lines[5].startswith("✓ Brevo account reachable") and lines[6].startswith(
        "✓ Brevo contacts writable"
    )


def test_a_failing_check_is_a_cross_with_the_reason(connection, monkeypatch) -> None:
    account = connection.ac_account
    account.api_key = "wrong-key-0000"
    account.save()
    monkeypatch.setenv("TAJO_TENANT", connection.tenant.slug)
    status, out, _ = tajo("connectors", "test", "activecampaign")
    lines = out.splitlines()
    assert status == 1
    assert lines[0].startswith("✗ API connection: ")
    # The documentation's troubleshooting advice for a 403, where the problem shows.
    assert "check the API URL" in lines[0] and "and the API key" in lines[0]
    assert "✗ Contacts readable: not checked (the API connection failed)" in lines
    assert "wrong-key-0000" not in out


def test_sync_with_a_progress_bar_then_the_documented_status(connection) -> None:
    catalog_discover(connection=connection)
    mapping_defaults_apply(connection=connection)
    slug = connection.tenant.slug
    status, out, err = tajo(
        "connectors",
        "sync",
        "activecampaign",
        "--tenant",
        slug,
        "--type",
        "full",
        "--resources",
        "contacts",
        "--inline",
    )
    assert status == 0, err
    assert out.splitlines()[0].startswith("Run #") and "resources contacts" in out
    assert "rec" in err  # the progress bar
    assert "succeeded" in out.splitlines()[-1] or "partial" in out.splitlines()[-1]

    # `connected` is the last connection test's verdict (docs/api.md): test first, as the docs do.
    assert tajo("connectors", "test", "activecampaign", "--tenant", slug)[0] == 0
    status, out, _ = tajo("connectors", "status", "activecampaign", "--tenant", slug)
    body = json.loads(out)
    assert status == 0
    assert list(body) == ["connected", "lastSync", "contactsMigrated", "dealsSynced", "eventsSynced"]
    assert body["connected"] is True and body["lastSync"].endswith("Z") and body["contactsMigrated"] > 0


@pytest.mark.parametrize(
    ("argv", "status", "message"),
    [
        (
            ["connectors", "status", "activecampaign"],
            2,
            "tajo: no tenant: pass --tenant SLUG or set TAJO_TENANT\n",
        ),
        (
            ["connectors", "status", "activecampaign", "--tenant", "nobody"],
            1,
            "tajo: tenant 'nobody' has no connection 'activecampaign' (create it in the admin, with "
            "`manage.py tajo_config import`, or with the API's connect)\n",
        ),
    ],
)
def test_errors_are_one_line(argv, status, message, monkeypatch) -> None:
    monkeypatch.delenv("TAJO_TENANT", raising=False)
    assert tajo(*argv) == (status, "", message)


def test_unknown_resource_is_one_line(connection) -> None:
    status, _, err = tajo(
        "connectors", "sync", "activecampaign", "--tenant", connection.tenant.slug, "--resources", "contactz"
    )
    assert status == 2 and err.startswith("tajo: --resources: ") and err.count("\n") == 1


def test_the_console_script_is_installed_with_help_everywhere() -> None:
    script = shutil.which("tajo", path=str(Path(sys.executable).parent))
    assert script, "the tajo console script is not installed (pip install -e .)"
    for argv in (
        [],
        ["connectors"],
        ["connectors", "test"],
        ["connectors", "sync"],
        ["connectors", "status"],
    ):
        done = subprocess.run(
            [script, *argv, "--help"], capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0 and "usage: tajo" in done.stdout, (argv, done.stderr)
