"""Debug mode: every AC and Brevo exchange of a run in its own log (sandbox over real HTTP)."""

from __future__ import annotations

import logging

import pytest
from django.urls import reverse

from connectors.debug_log import BODY_LIMIT, masked_body
from connectors.models import RunLogEntry, RunStatus, SyncRun
from sandbox.config import SandboxConfig
from sandbox.server import SandboxServer
from tests.sandbox_helpers import connection_for_sandbox, demo_mapping, drive

# Read-ahead threads write log entries on their own database connections: they must see the run.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def sandbox():
    with SandboxServer(SandboxConfig.fast(contacts=30, seed=5)) as server:
        yield server


def _run(connection) -> SyncRun:
    run = SyncRun.objects.create(
        tenant=connection.tenant,
        connection=connection,
        resources=["contacts"],
        mapping_snapshot=demo_mapping().model_dump(mode="json"),
    )
    return drive(run)


@pytest.mark.parametrize("settings_", [{"debug": True}, {"log_level": "verbose"}])
def test_debug_mode_logs_every_exchange_into_the_run(sandbox, redis_conn, caplog, settings_) -> None:
    connection = connection_for_sandbox(sandbox, **settings_)
    with caplog.at_level(logging.INFO, logger="connectors.debug"):
        run = _run(connection)
    assert run.status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL), run.error

    entries = list(RunLogEntry.objects.filter(run=run))
    assert {e.provider for e in entries} == {"ActiveCampaign", "Brevo"}
    # One entry per request the run counted.
    assert len(entries) == run.ac_requests + run.brevo_requests
    contacts = next(e for e in entries if e.path.startswith("/api/3/contacts"))
    assert (contacts.method, contacts.status) == ("GET", 200)
    assert contacts.elapsed_ms is not None and contacts.response_body.startswith("{")
    assert all(len(e.response_body) <= BODY_LIMIT + 40 for e in entries)
    posted = [e for e in entries if e.provider == "Brevo" and e.method == "POST"]
    assert posted and posted[0].request_body
    text = " ".join(e.request_body + e.response_body + e.path for e in entries) + caplog.text
    assert sandbox.ac_key not in text and sandbox.brevo_key not in text
    # The worker's log has the same lines.
    assert f"run {run.pk} " in caplog.text and "ActiveCampaign GET /api/3/contacts" in caplog.text


def test_without_debug_mode_nothing_is_logged(sandbox, redis_conn) -> None:
    run = _run(connection_for_sandbox(sandbox))
    assert run.status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL)
    assert not RunLogEntry.objects.filter(run=run).exists()


def test_the_run_page_shows_the_log(sandbox, redis_conn, admin_client) -> None:
    run = _run(connection_for_sandbox(sandbox, debug=True))
    page = admin_client.get(reverse("admin:connectors_syncrun_change", args=[run.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="run-log"' in html and "GET /api/3/contacts" in html


def test_bodies_are_masked_and_capped() -> None:
    body = b'{"api_key": "xkeysib-abc", "contact": {"email": "a@example.org", "token": "t"}}'
    assert masked_body(body) == '{"api_key":"****","contact":{"email":"a@example.org","token":"****"}}'
    long = masked_body(b"x" * (BODY_LIMIT + 10))
    assert long.startswith("x" * BODY_LIMIT) and long.endswith("(10 more characters)")
