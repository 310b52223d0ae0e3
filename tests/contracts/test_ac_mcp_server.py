"""ActiveCampaign's own MCP server (ac-mcp-server 0.12.0, PyPI) succeeds against the sandbox for every
endpoint Tajo reads that it has a tool for.

Driven in process through fastmcp's client (`mcp_driver.py`, run by the package's own venv), with
`AC_API_URL`/`AC_API_TOKEN` pointing at the sandbox as its README configures it. A failed call is
reported with its tool, the endpoint it reads, and the server's own error text.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from sandbox.config import SandboxConfig
from sandbox.server import SandboxServer
from tests.contracts.conftest import contract_python

DRIVER = Path(__file__).with_name("mcp_driver.py")


@pytest.fixture(scope="module")
def mcp_python() -> Path:
    return contract_python("ac-mcp-server")


def _calls(server: SandboxServer) -> list[tuple[str, str, dict]]:
    """(endpoint Tajo reads, tool, arguments) with ids of rows the sandbox holds."""
    ac = server.ac
    contact = next(cid for cid in range(1, ac.gen.n + 1) if ac.children_of(cid, "fieldValues"))
    field_value = ac.children_of(contact, "fieldValues")[0]
    automation = next(
        ac.children_of(cid, "contactAutomations")[0]
        for cid in range(1, ac.gen.n + 1)
        if ac.children_of(cid, "contactAutomations")
    )
    tag = min(ac.tags, key=int)
    field = min(ac.fields, key=int)
    mailing_list = min(ac.lists, key=int)
    return [
        (
            "GET /contacts (keyset, changed since)",
            "list_contacts",
            {
                "params": {
                    "limit": 100,
                    "id_greater": 0,
                    "orders": {"id": "ASC"},
                    "filters": {"updated_after": "2000-01-01T00:00:00+00:00"},
                }
            },
        ),
        ("GET /contacts (by list)", "list_contacts", {"params": {"listid": int(mailing_list), "limit": 20}}),
        ("GET /contacts/{id}", "get_contact", {"contact_id": contact}),
        ("GET /tags", "list_tags", {"params": {"limit": 100}}),
        ("GET /tags/{id}", "get_tag", {"tag_id": int(tag)}),
        ("GET /fields", "list_contact_custom_fields", {"params": {"limit": 100}}),
        ("GET /fields/{id}", "get_contact_custom_field", {"field_id": int(field)}),
        ("GET /fieldValues", "list_contact_field_values", {"params": {"limit": 100}}),
        (
            "GET /fieldValues?filters[fieldid]",
            "list_contact_field_values",
            {"params": {"filters": {"fieldid": int(field_value["field"])}, "limit": 100}},
        ),
        ("GET /fieldValues/{id}", "get_contact_field_value", {"field_value_id": int(field_value["id"])}),
        ("GET /lists", "list_lists", {"params": {"limit": 100}}),
        ("GET /lists/{id}", "get_list", {"list_id": int(mailing_list)}),
        ("GET /automations", "list_automations", {"params": {"limit": 100}}),
        ("GET /contactAutomations", "list_contact_automations", {"params": {"limit": 100}}),
        (
            "GET /contactAutomations/{id}",
            "get_contact_automation",
            {"contact_automation_id": int(automation["id"])},
        ),
    ]


# The collection key each answer must hold (what Tajo parses).
EXPECTED_KEYS = {
    "list_contacts": "contacts",
    "get_contact": "contact",
    "list_tags": "tags",
    "get_tag": "tag",
    "list_contact_custom_fields": "fields",
    "get_contact_custom_field": "field",
    "list_contact_field_values": "fieldValues",
    "get_contact_field_value": "fieldValue",
    "list_lists": "lists",
    "get_list": "list",
    "list_automations": "automations",
    "list_contact_automations": "contactAutomations",
    "get_contact_automation": "contactAutomation",
}


def test_every_tool_for_an_endpoint_tajo_reads_succeeds(mcp_python: Path, tmp_path: Path) -> None:
    with SandboxServer(SandboxConfig.fast(contacts=60, seed=9)) as server:
        calls = _calls(server)
        plan = tmp_path / "calls.json"
        plan.write_text(json.dumps([{"tool": tool, "arguments": args} for _, tool, args in calls]))
        env = dict(os.environ, AC_API_URL=server.ac_api_url, AC_API_TOKEN=server.ac_key)
        done = subprocess.run(
            [str(mcp_python), str(DRIVER), str(plan)], env=env, capture_output=True, text=True, timeout=300
        )
    assert done.returncode == 0, done.stderr[-2000:]
    results = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(results) == len(calls), done.stderr[-2000:]
    failures = [
        f"{endpoint} via {result['tool']}: {result['error'] or 'no ' + EXPECTED_KEYS[result['tool']]}"
        for (endpoint, _tool, _args), result in zip(calls, results, strict=True)
        if not result["ok"] or EXPECTED_KEYS[result["tool"]] not in result["keys"]
    ]
    assert failures == []
