"""A saved mapping row's dropdowns in headless Chromium: the page sends each row its own value
only, and the script fills in the catalog from the "Add another" template before the row can be
changed."""

from __future__ import annotations

import pytest
from django.utils import timezone

from mappings.models import Catalog, CatalogItem, CustomFieldMapping
from tests.browser.conftest import login
from tests.factories import ConnectionFactory, MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _operator_with_catalog(items: int):
    """An operator's connection whose catalog has `items` AC fields and as many Brevo attributes."""
    member = MembershipFactory(role="operator")
    connection = ConnectionFactory(tenant=member.tenant)
    catalog = Catalog.objects.create(
        tenant=member.tenant, connection=connection, discovered_at=timezone.now()
    )
    CatalogItem.objects.bulk_create(
        CatalogItem(
            tenant=member.tenant,
            catalog=catalog,
            side=side,
            kind=kind,
            external_id=f"ATTR_{n}" if kind == "attribute" else str(n),
            label=f"{kind} {n}",
            data_type="text",
        )
        for side, kind in (("ac", "field"), ("brevo", "attribute"))
        for n in range(1, items + 1)
    )
    return member, connection


def test_a_saved_row_offers_the_whole_catalog_and_saves_a_new_choice(browser, live_server) -> None:
    member, connection = _operator_with_catalog(30)
    for n in (1, 2):
        CustomFieldMapping.objects.create(
            tenant=member.tenant,
            connection=connection,
            ac_field_id=n,
            attribute=f"ATTR_{n}",
            transform="text",
        )
    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    login(page, live_server, member.user.username)
    page.goto(f"{live_server.url}/admin/connectors/connection/{connection.pk}/change/")

    box = "#id_customfieldmappings-1-attribute"
    assert page.eval_on_selector(box, "s => s.options.length") == 31  # "---------" and 30 attributes
    assert page.eval_on_selector(box, "s => s.value") == "ATTR_2"
    assert page.eval_on_selector(box, "s => s.dataset.optionsFrom === undefined")

    page.click(f"{box} + .select2 .select2-selection")
    page.fill(".select2-container--open .select2-search__field", "ATTR_17")
    page.keyboard.press("Enter")
    page.click("input[name=_continue]")
    page.wait_for_selector("text=was changed successfully")
    assert CustomFieldMapping.objects.get(connection=connection, ac_field_id=2).attribute == "ATTR_17"
    assert CustomFieldMapping.objects.get(connection=connection, ac_field_id=1).attribute == "ATTR_1"


def test_many_rows_are_listed_read_only_and_open_for_editing_on_request(browser, live_server) -> None:
    from mappings.admin import COMPACT_FROM

    member, connection = _operator_with_catalog(COMPACT_FROM + 10)
    CustomFieldMapping.objects.bulk_create(
        CustomFieldMapping(
            tenant=member.tenant,
            connection=connection,
            ac_field_id=n,
            attribute=f"ATTR_{n}",
            transform="text",
        )
        for n in range(1, COMPACT_FROM + 1)
    )
    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    login(page, live_server, member.user.username)
    page.goto(f"{live_server.url}/admin/connectors/connection/{connection.pk}/change/")

    assert page.locator("#id_customfieldmappings-0-attribute").count() == 0
    assert page.locator("#customfieldmappings-group tbody tr").count() == COMPACT_FROM
    page.click("#customfieldmappings-edit")
    box = "#id_customfieldmappings-1-attribute"
    page.wait_for_selector(box)
    assert page.eval_on_selector(box, "s => s.value") == "ATTR_2"
    page.click(f"{box} + .select2 .select2-selection")
    page.fill(".select2-container--open .select2-search__field", f"ATTR_{COMPACT_FROM + 5}")
    page.keyboard.press("Enter")
    page.click("input[name=_continue]")
    page.wait_for_selector("text=was changed successfully")
    changed = CustomFieldMapping.objects.get(connection=connection, ac_field_id=2)
    assert changed.attribute == f"ATTR_{COMPACT_FROM + 5}"
    assert CustomFieldMapping.objects.filter(connection=connection).count() == COMPACT_FROM
