"""The connector documentation's SDK examples, run with `node` against a live Tajo and the sandbox.

The examples (`examples/*.mjs`) are the documentation's code; the only additions are the
`baseUrl` option and, at run time, the sandbox's URL in place of `https://yourcompany.api-us1.com`
(and `BREVO_API_URL` in the environment, which the client sends with the Brevo key).
`import { TajoClient } from '@tajo/sdk'` resolves to `sdk/js` through a `node_modules` link.
`capture.mjs` (loaded with `node --import`) records what the examples log and receive.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from connectors.api.models import ApiTokenRole
from connectors.api.services import api_token_create
from connectors.models import Connection, RunStatus, SyncRun
from mappings.models import Catalog, ScoreMapping, StandardFieldMapping
from sandbox.config import SandboxConfig
from sandbox.server import SandboxServer
from tests.factories import TenantFactory
from tests.sandbox_helpers import drive

pytestmark = pytest.mark.django_db(transaction=True)

HERE = Path(__file__).parent
EXAMPLES = HERE / "examples"
SDK_JS = HERE.parents[2] / "sdk" / "js"
SDK_PY = HERE.parents[2] / "sdk" / "python"
NODE = shutil.which("node")


@pytest.fixture(scope="module")
def sandbox():
    with SandboxServer(SandboxConfig.fast(contacts=25, seed=9)) as server:
        yield server


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    scope = tmp_path / "node_modules" / "@tajo"
    scope.mkdir(parents=True)
    (scope / "sdk").symlink_to(SDK_JS, target_is_directory=True)
    return tmp_path


def _run_example(name: str, workdir: Path, sandbox, env: dict[str, str]) -> tuple[list, list]:
    source = (EXAMPLES / name).read_text().replace("https://yourcompany.api-us1.com", sandbox.ac_api_url)
    script = workdir / name
    script.write_text(source)
    shutil.copy(EXAMPLES / "capture.mjs", workdir / "capture.mjs")
    done = subprocess.run(
        [NODE, "--import", "./capture.mjs", name],
        cwd=workdir,
        env={"PATH": os.environ.get("PATH", ""), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    logs, answers = [], []
    for line in done.stderr.splitlines():
        if line.startswith("@log "):
            logs.append(json.loads(line[5:]))
        elif line.startswith("@answer "):
            answers.append(json.loads(line[8:]))
    return logs, answers


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_the_documentations_examples_connect_sync_and_report(
    live_server, sandbox, redis_conn, workdir
) -> None:
    tenant = TenantFactory()
    _token, raw = api_token_create(tenant=tenant, name="docs", role=ApiTokenRole.OPERATOR)
    env = {
        "TAJO_API_KEY": raw,
        "BREVO_API_KEY": sandbox.brevo_key,
        "AC_API_KEY": sandbox.ac_key,
        "TAJO_BASE_URL": f"{live_server.url}/api/v1",
        # Read by the client like TAJO_BASE_URL: keeps Brevo at the sandbox, never the real host.
        "BREVO_API_URL": sandbox.brevo_api_url,
    }

    _, answers = _run_example("connect_and_sync.mjs", workdir, sandbox, env)

    connect, sync = answers[0]["answer"], answers[1]["answer"]
    assert connect["connected"] is True and connect["created"] is True
    assert [c["name"] for c in connect["checks"]][:5] == [
        "API connection",
        "Contacts readable",
        "Deals readable",
        "Automations accessible",
        "Event tracking enabled",
    ]
    # connect took the client's brevoApiKey, tested and discovered: the sync needs nothing else.
    connection = Connection.objects.get(tenant=tenant, name="activecampaign")
    assert connection.brevo_account.api_key == sandbox.brevo_key
    assert connect["discovery"]["ok"] is True and connect["discovery"]["counts"]["ac.field"] > 0
    assert Catalog.objects.filter(connection=connection).exists()
    assert StandardFieldMapping.objects.filter(connection=connection, attribute="FIRSTNAME").exists()
    assert sync["status"] == "queued" and sync["resources"] == ["contacts", "deals", "events"]

    connection.ac_account.requests_per_second = 1000.0  # tests measure behaviour, not pacing
    connection.ac_account.save(update_fields=["requests_per_second"])
    run = drive(SyncRun.objects.get(pk=sync["id"]))  # what a worker would do
    assert run.status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL), run.error

    logs, answers = _run_example("status_and_track_event.mjs", workdir, sandbox, env)

    status = logs[0][0]
    assert {"connected", "lastSync", "contactsMigrated", "dealsSynced", "eventsSynced"} <= set(status)
    assert status["connected"] is True
    assert status["lastSync"].endswith("Z")
    assert status["contactsMigrated"] == run.counters["contacts"].get("created", 0) + run.counters[
        "contacts"
    ].get("updated", 0)
    assert status["contactsMigrated"] > 0
    tracked = answers[-1]["answer"]["record"]
    assert tracked["outcome"] == "created", tracked
    assert "purchase_completed" in {e["event_name"] for e in sandbox.brevo.events_for("customer@example.com")}


def test_the_python_client_makes_the_same_calls(live_server, sandbox, redis_conn, monkeypatch) -> None:
    monkeypatch.syspath_prepend(str(SDK_PY))
    from tajo_sdk import TajoClient, TajoError

    tenant = TenantFactory()
    _token, raw = api_token_create(tenant=tenant, name="py", role=ApiTokenRole.OPERATOR)
    tajo = TajoClient(
        api_key=raw,
        brevo_api_key=sandbox.brevo_key,
        brevo_api_url=sandbox.brevo_api_url,
        base_url=f"{live_server.url}/api/v1",
    )
    assert raw not in repr(tajo)

    # Brevo attributes the documentation's default table maps onto, where the account has them.
    for name, kind in (("LEAD_SCORE", "float"), ("DEAL_VALUE", "float"), ("COMPANY", "text")):
        created = httpx.post(
            f"{sandbox.brevo_api_url}/contacts/attributes/normal/{name}",
            json={"type": kind},
            headers={"api-key": sandbox.brevo_key},
        )
        assert created.status_code in (201, 204), created.text

    answer = tajo.connectors.connect(
        "activecampaign", {"apiUrl": sandbox.ac_api_url, "apiKey": sandbox.ac_key}
    )
    assert answer["connected"] is True and answer["discovery"]["ok"] is True
    assert {"score → LEAD_SCORE", "deal.value → DEAL_VALUE", "fieldValues.company → COMPANY"} <= set(
        answer["discovery"]["mapped"]
    )
    connection = Connection.objects.get(tenant=tenant, name="activecampaign")
    assert ScoreMapping.objects.filter(connection=connection, ac_score_id=1, attribute="LEAD_SCORE").exists()
    status = tajo.connectors.status("activecampaign")
    assert (status["connected"], status["lastSync"], status["contactsMigrated"]) == (True, None, 0)

    tracked = tajo.activecampaign.trackEvent(
        {"event": "contact_add", "eventData": {"source": "sdk"}, "visit": {"email": "visitor@example.com"}}
    )
    assert tracked["record"]["outcome"] == "created"

    with pytest.raises(TajoError) as caught:
        tajo.activecampaign.track_event({"event": "purchase_completed", "eventData": {"amount": 1}})
    assert (caught.value.status, caught.value.code, caught.value.field) == (400, "missing_field", "email")
    assert (
        "'email'" in str(caught.value) and "'contact'" in str(caught.value) and "'visit'" in str(caught.value)
    )

    with pytest.raises(TajoError) as caught:
        TajoClient(api_key="tajo_wrong", base_url=f"{live_server.url}/api/v1").connectors.status(
            "activecampaign"
        )
    assert caught.value.status == 401
