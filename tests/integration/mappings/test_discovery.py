"""Discovery against the sandbox over real HTTP, stored in PostgreSQL: counts, drift, command, admin."""

from __future__ import annotations

import httpx
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from mappings.catalog import AC, BREVO
from mappings.exceptions import MappingInvalid
from mappings.models import Catalog, CatalogItem, TagMapping
from mappings.selectors import catalog_index_for, mapping_snapshot, mapping_validate
from mappings.services import Discovery, catalog_discover, catalog_store
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def _expected_counts(sandbox) -> dict[str, int]:
    ac, brevo = sandbox.ac, sandbox.brevo
    schemas = list(ac.schemas.values())
    return {
        "ac.user": len(ac.users),
        "ac.field": len(ac.fields),
        "ac.list": len(ac.lists),
        "ac.tag": sum(1 for tag in ac.tags.values() if tag["tagType"] == "contact"),
        "ac.pipeline": len(ac.deal_groups),
        "ac.stage": len(ac.deal_stages),
        "ac.automation": len(ac.automations),
        "ac.score": len(ac.scores),
        "ac.custom_object": len(schemas),
        "ac.custom_object_field": sum(len(schema["fields"]) for schema in schemas),
        "ac.event": len(ac.event_names),
        "brevo.attribute": len(brevo._attributes),
        "brevo.folder": len(brevo._folders),
        "brevo.list": len(brevo._lists),
        "brevo.pipeline": len(brevo._pipelines),
        "brevo.stage": sum(len(p["stages"]) for p in brevo._pipelines),
    }


def test_discovery_stores_every_kind_with_counts_matching_the_sandbox(connection, sandbox) -> None:
    catalog = catalog_discover(connection=connection)

    assert catalog.discovered_at is not None
    assert catalog.errors == {}
    assert catalog.counts == dict(sorted(_expected_counts(sandbox).items()))
    assert all(count > 0 for count in catalog.counts.values())
    assert CatalogItem.objects.filter(catalog=catalog).count() == sum(catalog.counts.values())

    index = catalog_index_for(connection)
    plan_tier = index.get(AC, "field", "3")
    assert (plan_tier.label, plan_tier.data_type, plan_tier.extra["perstag"]) == (
        "Plan tier",
        "dropdown",
        "PLAN_TIER",
    )
    assert plan_tier.extra["options"] == ["Free", "Starter", "Pro", "Enterprise"]
    assert index.get(AC, "stage", "5").parent_id == "2"  # Negotiation belongs to Renewals
    assert index.get(BREVO, "list", "51").label == "Newsletter"
    assert index.get(BREVO, "attribute", "OPT_IN").data_type == "boolean"
    # Template tags are not contact tags.
    assert all(entry.label not in ("promo-template", "transactional") for entry in index.items(AC, "tag"))


def test_pages_to_the_end(connection, sandbox) -> None:
    # More tags than one AC page (100) and more lists than one Brevo page (50).
    for n in range(130):
        sandbox.ac.create_tag({"tag": {"tag": f"bulk-{n:03d}", "tagType": "contact"}})
    with httpx.Client(base_url=sandbox.brevo_api_url, headers={"api-key": sandbox.brevo_key}) as brevo:
        for n in range(60):
            assert brevo.post("/contacts/lists", json={"name": f"Bulk {n}", "folderId": 1}).status_code == 201
    catalog = catalog_discover(connection=connection)
    assert catalog.counts["ac.tag"] == _expected_counts(sandbox)["ac.tag"] >= 140
    assert catalog.counts["brevo.list"] == 63


def test_rediscovery_keeps_rows_and_marks_what_disappeared(connection, sandbox) -> None:
    catalog_discover(connection=connection)
    vip = CatalogItem.objects.get(catalog__connection=connection, side="ac", kind="tag", label="vip")
    TagMapping.objects.create(
        tenant=connection.tenant, connection=connection, ac_tag_id=int(vip.external_id), brevo_list_id=50
    )
    assert mapping_validate(connection=connection) == []

    with sandbox.ac.lock:
        del sandbox.ac.tags[vip.external_id]
    catalog = catalog_discover(connection=connection)

    vip.refresh_from_db()
    assert vip.missing_since is not None  # same row, now marked as gone
    assert catalog.counts["ac.tag"] == _expected_counts(sandbox)["ac.tag"]
    problems = mapping_validate(connection=connection)
    assert [(p.code, p.field) for p in problems] == [("drift", "ac_tag_id")]
    assert "AC tag" in problems[0].message and '"vip" was deleted in ActiveCampaign' in problems[0].message
    with pytest.raises(MappingInvalid, match="was deleted in ActiveCampaign"):
        mapping_snapshot(connection=connection)


def test_a_kind_that_cannot_be_read_keeps_its_previous_items(connection) -> None:
    first = Discovery(entries=[])
    from mappings.catalog import Entry

    first.entries = [Entry(AC, "custom_object", "s-1", "Subscription"), Entry(AC, "list", "1", "Main List")]
    catalog_store(connection=connection, discovery=first)
    second = Discovery(
        entries=[Entry(AC, "list", "1", "Main List")],
        errors={"ac.custom_object": "ActiveCampaign refused (403)"},
    )
    catalog = catalog_store(connection=connection, discovery=second)
    schema = CatalogItem.objects.get(catalog=catalog, kind="custom_object")
    assert schema.missing_since is None
    assert catalog.counts == {"ac.custom_object": 1, "ac.list": 1}
    assert catalog.errors == {"ac.custom_object": "ActiveCampaign refused (403)"}


def test_tajo_discover_command_prints_counts_and_uses_exit_codes(connection, sandbox, capsys) -> None:
    call_command("tajo_discover", f"{connection.tenant.slug}/{connection.name}")
    out = capsys.readouterr().out
    assert f"Catalog of {connection} discovered" in out
    assert "ac.field" in out and "brevo.attribute" in out
    assert Catalog.objects.get(connection=connection).counts["ac.field"] == len(sandbox.ac.fields)

    with pytest.raises(CommandError) as missing:
        call_command("tajo_discover", "nobody/nothing")
    assert missing.value.returncode == 1

    account = connection.ac_account
    account.api_key = "wrong-key-0000"
    account.save()
    with pytest.raises(CommandError) as refused:
        call_command("tajo_discover", str(connection.pk))
    assert refused.value.returncode == 3
    assert "wrong-key-0000" not in str(refused.value)


def test_discover_button_and_action_in_the_admin(connection, sandbox) -> None:
    operator = MembershipFactory(tenant=connection.tenant, role="operator").user
    client = Client()
    client.force_login(operator)
    response = client.post(reverse("admin:mappings_catalog_discover", args=[connection.pk]), follow=True)
    assert response.status_code == 200
    assert "Discovered" in response.content.decode()
    assert Catalog.objects.get(connection=connection).counts["ac.list"] == len(sandbox.ac.lists)

    Catalog.objects.all().delete()
    changelist = reverse("admin:connectors_connection_changelist")
    response = client.post(
        changelist, {"action": "discover_catalog", "_selected_action": [connection.pk]}, follow=True
    )
    assert "Discovered" in response.content.decode()
    assert Catalog.objects.filter(connection=connection).exists()

    page = client.get(reverse("admin:connectors_connection_change", args=[connection.pk])).content.decode()
    assert 'id="tajo-catalog"' in page and "ac.field: 12" in page


def test_viewers_and_other_tenants_cannot_discover(connection) -> None:
    viewer = MembershipFactory(tenant=connection.tenant, role="viewer").user
    outsider = MembershipFactory(role="operator").user
    url = reverse("admin:mappings_catalog_discover", args=[connection.pk])
    for user, status in ((viewer, 403), (outsider, 404)):
        client = Client()
        client.force_login(user)
        assert client.post(url).status_code == status
    assert not Catalog.objects.filter(connection=connection).exists()


def test_category_options_are_discovered_by_their_real_value(connection, sandbox) -> None:
    catalog_discover(connection=connection)
    language = CatalogItem.objects.get(
        catalog__connection=connection, side=BREVO, kind="attribute", external_id="LANGUAGE"
    )
    # 2026: `value` is 0 for a non-numeric option; `valueStr` is the option ("en", "fr").
    assert language.extra["options"] == ["en", "fr", "de"]
    assert {"value": "fr", "label": "French"} in language.extra["enumeration"]
