"""Mapping a field in headless Chromium: discover, pick from searchable catalog dropdowns, fix, save.

Set TAJO_SCREENSHOTS=DIR to keep screenshots.
"""

from __future__ import annotations

import pytest

from mappings.models import CustomFieldMapping
from sandbox.config import SandboxConfig
from sandbox.server import SandboxServer
from tests.browser.conftest import shot
from tests.factories import MembershipFactory
from tests.sandbox_helpers import connection_for_sandbox

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _pick(page, select_id: str, search: str) -> None:
    """Open a Select2 box, type into its search field and take the highlighted option."""
    page.click(f"#{select_id} + .select2 .select2-selection")
    page.fill(".select2-container--open .select2-search__field", search)
    page.keyboard.press("Enter")


def test_operator_maps_a_custom_field_from_the_catalog(browser, live_server, redis_conn) -> None:
    with SandboxServer(SandboxConfig.fast(contacts=5, seed=4)) as sandbox:
        member = MembershipFactory(role="operator")
        connection = connection_for_sandbox(sandbox, tenant=member.tenant, name="activecampaign")
        page = browser.new_page(viewport={"width": 1500, "height": 1000})
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", member.user.username)
        page.fill("#id_password", "pw-123456")
        page.click("input[type=submit]")

        page.goto(f"{live_server.url}/admin/connectors/connection/{connection.pk}/change/")
        assert "not discovered yet" in page.inner_text("#tajo-catalog")
        page.click("text=Discover catalog")
        page.wait_for_selector("text=Discovered")
        assert "ac.field: 12" in page.inner_text("#tajo-catalog")

        page.click("#customfieldmappings-group .add-row a")
        _pick(page, "id_customfieldmappings-0-ac_field_id", "plan")
        assert "Plan tier" in page.inner_text("#customfieldmappings-group")
        _pick(page, "id_customfieldmappings-0-attribute", "PLAN_TIER")  # a new name: tags mode
        shot(page, "mapping-new-row")
        page.click("input[name=_continue]")

        row = page.inner_text("#customfieldmappings-group")
        assert "Brevo has no attribute PLAN_TIER" in row
        shot(page, "mapping-missing-attribute")
        with page.context.expect_page() as created:
            page.click("text=Create PLAN_TIER in Brevo as text")
        confirm = created.value
        confirm.click("input[type=submit]")
        confirm.wait_for_selector("text=Created the Brevo attribute PLAN_TIER")
        assert sandbox.brevo._attributes["PLAN_TIER"]["type"] == "text"

        page.click("input[name=_continue]")
        page.wait_for_selector("text=was changed successfully")
        assert CustomFieldMapping.objects.get(connection=connection).ac_field_id == 3
        assert "✓ custom field 3" in page.inner_text("#customfieldmappings-group")
        shot(page, "mapping-saved")
