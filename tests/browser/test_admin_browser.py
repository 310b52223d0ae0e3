"""The admin in headless Chromium (Debian's package, driven by Playwright; no browser download).

An operator signs in, tests the connection against the sandbox, starts a dry run and a backfill,
reads the run's outcomes and failure groups, and cannot see another tenant's connection.
Set TAJO_SCREENSHOTS=DIR to keep screenshots (the README's come from here).
"""

from __future__ import annotations

import pytest

from connectors.models import SyncRun
from sandbox.config import SandboxConfig
from sandbox.server import SandboxServer
from tests.browser.conftest import login, shot
from tests.factories import ConnectionFactory, MembershipFactory, TenantFactory
from tests.sandbox_helpers import connection_for_sandbox, demo_mapping, drive

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def sandbox():
    with SandboxServer(SandboxConfig.fast(contacts=120, seed=3)) as server:
        yield server


def test_operator_tests_runs_and_reads_outcomes(browser, live_server, sandbox, redis_conn) -> None:
    member = MembershipFactory(role="operator")
    connection = connection_for_sandbox(sandbox, tenant=member.tenant)
    other = ConnectionFactory(tenant=TenantFactory(name="Other client"), name="hidden-conn")
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    login(page, live_server, member.user.username)

    page.goto(f"{live_server.url}/admin/connectors/connection/")
    assert "hidden-conn" not in page.content()
    page.check(f"input[name=_selected_action][value='{connection.pk}']")
    page.select_option("select[name=action]", "test_connection")
    page.click("button[name=index]")
    messages = page.inner_text("ul.messagelist")
    assert "✓ API connection" in messages and "✓ Brevo account reachable" in messages, messages
    shot(page, "connection-test")

    page.check(f"input[name=_selected_action][value='{connection.pk}']")
    page.select_option("select[name=action]", "run_full")
    page.click("button[name=index]")
    assert "queued" in page.inner_text("ul.messagelist")
    run = SyncRun.objects.get(connection=connection)
    # The worker's part, in this process: the page must show what a worker wrote.
    run.mapping_snapshot = demo_mapping().model_dump(mode="json")
    run.save(update_fields=["mapping_snapshot"])
    drive(run)

    page.goto(f"{live_server.url}/admin/connectors/syncrun/")
    assert "Partial" in page.inner_text("#result_list") or "Succeeded" in page.inner_text("#result_list")
    page.goto(f"{live_server.url}/admin/connectors/syncrun/{run.pk}/change/")
    summary = page.inner_text("#run-summary")
    assert "contacts" in summary and "created" in summary
    groups = page.inner_text("#failure-groups")
    assert "invalid_email" in groups or "no_email" in groups
    shot(page, "run-detail")

    page.click("#failure-groups a >> nth=0")
    page.wait_for_selector("#result_list")
    assert page.locator("#result_list tbody tr").count() >= 1

    assert other.name not in page.content()
    page.goto(f"{live_server.url}/admin/connectors/connection/{other.pk}/change/")
    assert "hidden-conn" not in page.content()
    page.close()


def test_viewer_gets_read_only_pages(browser, live_server) -> None:
    member = MembershipFactory(role="viewer")
    connection = ConnectionFactory(tenant=member.tenant)
    page = browser.new_page()
    login(page, live_server, member.user.username)
    page.goto(f"{live_server.url}/admin/connectors/connection/{connection.pk}/change/")
    assert page.locator("input[name=_save]").count() == 0
    assert "Add connection" not in page.content()
    page.close()
