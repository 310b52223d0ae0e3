"""The dry-run preview in headless Chromium: a viewer opens it from the connection page and reads payloads."""

from __future__ import annotations

import json

import pytest

from sandbox.config import SandboxConfig
from sandbox.server import SandboxServer
from tests.browser.conftest import login, shot
from tests.factories import MembershipFactory
from tests.preview_helpers import import_demo_connection

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def sandbox():
    with SandboxServer(SandboxConfig.fast(contacts=40, seed=5)) as server:
        yield server


def test_viewer_opens_preview_and_reads_payloads(browser, live_server, sandbox, redis_conn) -> None:
    connection = import_demo_connection(sandbox, tenant_slug="preview-browser", crm_deals=True)
    viewer = MembershipFactory(tenant=connection.tenant, role="viewer")
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    login(page, live_server, viewer.user.username)

    page.goto(f"{live_server.url}/admin/connectors/connection/{connection.pk}/change/")
    page.click("#tajo-preview-link")
    page.wait_for_selector("#tajo-preview-records")
    assert "Nothing was written to Brevo" in page.inner_text("#tajo-preview-summary")
    rows = page.locator("#tajo-preview-records tr.tajo-preview-record")
    assert 0 < rows.count() <= 20
    payloads = page.locator("#tajo-preview-records pre.tajo-payload")
    assert payloads.count() >= 1
    body = json.loads(payloads.first.inner_text())
    assert body["email"] and "attributes" in body
    coverage = page.inner_text("#tajo-preview-coverage")
    assert "on list Main List (subscribed)" in coverage and "has tag vip" in coverage
    assert "deal in stage Proposal (Sales)" in coverage
    assert page.locator("#tajo-preview-deals pre.tajo-payload").count() >= 1
    shot(page, "preview")

    page.fill("#id_n", "3")
    page.click(".tajo-preview-form input[type=submit]")
    page.wait_for_selector("#tajo-preview-records")
    assert page.locator("#tajo-preview-records tr.tajo-preview-record").count() <= 3
    assert page.input_value("#id_n") == "3"
    page.close()
