"""Mapping inlines on the connection page: catalog dropdowns, checks next to rows, fixes, history."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from mappings.models import CatalogItem, CustomFieldMapping, StageMapping, StandardFieldMapping
from mappings.selectors import events_without_mapping
from mappings.services import catalog_discover
from tests.admin_forms import admin_form_data
from tests.factories import ACAccountFactory, BrevoAccountFactory, ConnectionFactory, MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def discovered(connection):
    catalog_discover(connection=connection)
    return connection


@pytest.fixture
def operator_client(discovered) -> Client:
    client = Client()
    client.force_login(MembershipFactory(tenant=discovered.tenant, role="operator").user)
    return client


def _change_url(connection) -> str:
    return reverse("admin:connectors_connection_change", args=[connection.pk])


def _add_row(data: dict[str, Any], prefix: str, **values: Any) -> None:
    position = int(data[f"{prefix}-TOTAL_FORMS"])
    data[f"{prefix}-TOTAL_FORMS"] = position + 1
    for name, value in values.items():
        data[f"{prefix}-{position}-{name}"] = value


def _row_errors(response, prefix: str) -> list[str]:
    for inline in response.context["inline_admin_formsets"]:
        if inline.formset.prefix == prefix:
            return [str(e) for row in inline.formset.forms for errors in row.errors.values() for e in errors]
    raise AssertionError(prefix)


def test_rows_show_labels_and_types_and_dropdowns_list_only_this_catalog(
    discovered, operator_client, sandbox
) -> None:
    other = ConnectionFactory(
        ac_account=ACAccountFactory(
            api_url=sandbox.ac_api_url, api_key=sandbox.ac_key, requests_per_second=100
        ),
        brevo_account=BrevoAccountFactory(api_url=sandbox.brevo_api_url, api_key=sandbox.brevo_key),
    )
    other.ac_account.tenant = other.brevo_account.tenant = other.tenant
    catalog_discover(connection=other)
    CatalogItem.objects.filter(catalog__connection=other, kind="field", external_id="1").update(
        label="Other tenant field"
    )

    response = operator_client.get(_change_url(discovered))
    page = response.content.decode()
    assert response.status_code == 200
    assert "✓ AC phone → SMS · phone → text via phone" in page
    assert '<option value="3">Plan tier · PLAN_TIER · dropdown (id 3)</option>' in page
    assert '<option value="OPT_IN">OPT_IN · boolean</option>' in page
    assert "Other tenant field" not in page
    assert 'class="tajo-catalog-select"' in page and "mappings/catalog_select.js" in page


def test_a_missing_attribute_is_shown_next_to_the_row_with_a_create_button(
    discovered, operator_client, sandbox
) -> None:
    page = operator_client.get(_change_url(discovered))
    data = admin_form_data(page)
    _add_row(data, "customfieldmappings", ac_field_id="3", attribute="plan_tier", transform="")

    response = operator_client.post(_change_url(discovered), data)

    assert response.status_code == 200  # the form comes back with the error
    (error,) = _row_errors(response, "customfieldmappings")
    assert error.startswith("Brevo has no attribute PLAN_TIER (it can be created as text)")
    create = reverse("admin:mappings_catalog_create_attribute", args=[discovered.pk])
    assert f'href="{create}?name=PLAN_TIER&amp;type=text&amp;ac_field=3"' in response.content.decode()
    assert not CustomFieldMapping.objects.filter(connection=discovered).exists()

    # The button: a confirmation page, then Brevo has the attribute and the same form saves.
    confirm = operator_client.get(f"{create}?name=PLAN_TIER&type=text&ac_field=3")
    assert "Create PLAN_TIER in Brevo" in confirm.content.decode()
    done = operator_client.post(create, {"name": "PLAN_TIER", "type": "text", "ac_field": "3"})
    assert done.status_code == 302
    assert sandbox.brevo._attributes["PLAN_TIER"]["type"] == "text"

    saved = operator_client.post(_change_url(discovered), data)
    assert saved.status_code == 302, _row_errors(saved, "customfieldmappings")
    row = CustomFieldMapping.objects.get(connection=discovered)
    assert (row.ac_field_id, row.attribute, row.transform) == (3, "PLAN_TIER", "text")


def test_create_attribute_takes_options_from_the_ac_field(discovered, operator_client, sandbox) -> None:
    create = reverse("admin:mappings_catalog_create_attribute", args=[discovered.pk])
    response = operator_client.post(create, {"name": "INTERESTS", "type": "multiple-choice", "ac_field": "8"})
    assert response.status_code == 302
    attribute = sandbox.brevo._attributes["INTERESTS"]
    assert attribute["multiCategoryOptions"] == ["Baking", "Coffee", "Travel", "Design", "Running"]
    assert CatalogItem.objects.get(
        catalog__connection=discovered, kind="attribute", external_id="INTERESTS"
    ).data_type == ("multiple-choice")
    bad = operator_client.post(create, {"name": "not valid", "type": "text"})
    assert bad.status_code == 200 and "is not a valid name" in bad.content.decode()


def test_two_sources_onto_one_attribute_across_inlines(discovered, operator_client) -> None:
    data = admin_form_data(operator_client.get(_change_url(discovered)))
    _add_row(data, "customfieldmappings", ac_field_id="1", attribute="FIRSTNAME", transform="text")

    response = operator_client.post(_change_url(discovered), data)

    assert _row_errors(response, "customfieldmappings") == [
        "attribute FIRSTNAME is already filled by AC first name → FIRSTNAME"
    ]
    assert not CustomFieldMapping.objects.filter(connection=discovered).exists()


def test_ids_outside_the_catalog_and_stages_of_other_pipelines_are_refused(
    discovered, operator_client
) -> None:
    data = admin_form_data(operator_client.get(_change_url(discovered)))
    _add_row(data, "customfieldmappings", ac_field_id="999", attribute="EXT_ID", transform="text")
    pipeline = CatalogItem.objects.get(
        catalog__connection=discovered, side="brevo", kind="pipeline"
    ).external_id
    won = CatalogItem.objects.get(
        catalog__connection=discovered, side="brevo", kind="stage", label="Won"
    ).external_id
    _add_row(
        data,
        "stagemappings",
        ac_pipeline_id="1",
        ac_stage_id="5",
        brevo_pipeline_id=pipeline,
        brevo_stage_id=won,
    )

    response = operator_client.post(_change_url(discovered), data)

    assert _row_errors(response, "customfieldmappings") == [
        "Select a valid choice. 999 is not one of the available choices."
    ]
    assert _row_errors(response, "stagemappings") == [
        'AC stage 5 "Negotiation" belongs to pipeline 2 "Renewals", not to pipeline 1 "Sales"'
    ]
    assert not StageMapping.objects.exists()


def test_drift_shows_in_the_checks_column_without_blocking_other_edits(
    discovered, operator_client, sandbox
) -> None:
    CustomFieldMapping.objects.create(
        tenant=discovered.tenant, connection=discovered, ac_field_id=4, attribute="LASTNAME", transform="text"
    )
    StandardFieldMapping.objects.filter(connection=discovered, source="last_name").delete()
    with sandbox.ac.lock:
        del sandbox.ac.fields["4"]
    catalog_discover(connection=discovered)

    page = operator_client.get(_change_url(discovered))
    assert "custom field 4 &quot;City&quot; was deleted in ActiveCampaign" in page.content.decode()

    data = admin_form_data(page)
    data["log_level"] = "debug"
    assert operator_client.post(_change_url(discovered), data).status_code == 302
    discovered.refresh_from_db()
    assert discovered.log_level == "debug"


def test_changes_are_audited_with_who_and_before_after(discovered, operator_client) -> None:
    data = admin_form_data(operator_client.get(_change_url(discovered)))
    phone = StandardFieldMapping.objects.get(connection=discovered, source="phone")
    position = next(
        key.split("-")[1]
        for key, value in data.items()
        if key.startswith("standardfieldmappings-") and key.endswith("-id") and str(value) == str(phone.pk)
    )
    data[f"standardfieldmappings-{position}-transform"] = "text"
    assert operator_client.post(_change_url(discovered), data).status_code == 302

    phone.refresh_from_db()
    assert phone.transform == "text"
    record = phone.history.latest("history_date")
    assert record.history_user.memberships.get().tenant == discovered.tenant

    history = operator_client.get(
        reverse("admin:mappings_catalog_mapping_history", args=[discovered.pk])
    ).content.decode()
    assert record.history_user.username in history
    assert "<del>phone</del>" in history and "<ins>text</ins>" in history

    own_page = operator_client.get(reverse("admin:mappings_standardfieldmapping_history", args=[phone.pk]))
    assert own_page.status_code == 200
    assert "phone" in own_page.content.decode() and "&rarr;" in own_page.content.decode()


def test_check_mappings_reports_every_problem(discovered, operator_client) -> None:
    CustomFieldMapping.objects.create(
        tenant=discovered.tenant,
        connection=discovered,
        ac_field_id=12,
        attribute="OPT_IN",
        transform="number",
    )
    response = operator_client.get(reverse("admin:mappings_catalog_check", args=[discovered.pk]), follow=True)
    messages = [str(m) for m in response.context["messages"]]
    assert messages == [
        'custom field 12 "Lifetime orders" → OPT_IN: Brevo attribute OPT_IN is boolean; '
        "transform 'number' does "
        "not fill a boolean attribute (map it onto an attribute of another type)",
        # sync.events is on and no tracked event is mapped: said last, as a warning.
        events_without_mapping(discovered),
    ]


def test_viewers_read_checks_but_cannot_fix_and_others_see_nothing(discovered) -> None:
    viewer = Client()
    viewer.force_login(MembershipFactory(tenant=discovered.tenant, role="viewer").user)
    page = viewer.get(_change_url(discovered)).content.decode()
    assert "✓ AC phone → SMS" in page and 'name="_save"' not in page
    create = reverse("admin:mappings_catalog_create_attribute", args=[discovered.pk])
    assert viewer.post(create, {"name": "X", "type": "text"}).status_code == 403

    outsider = Client()
    outsider.force_login(MembershipFactory(role="operator").user)
    for name in (
        "mappings_catalog_create_attribute",
        "mappings_catalog_mapping_history",
        "mappings_catalog_check",
    ):
        assert outsider.get(reverse(f"admin:{name}", args=[discovered.pk])).status_code == 404
