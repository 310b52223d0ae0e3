"""Replicating AC's lists and tag segments as Brevo lists, from the admin and the service."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from mappings.models import CatalogItem, ListMapping, TagMapping
from mappings.rows import mapping_structure_replicate
from mappings.services import catalog_discover
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def _ac(connection, kind: str) -> dict[int, str]:
    items = CatalogItem.objects.filter(catalog__connection=connection, side="ac", kind=kind)
    return {int(i): label for i, label in items.values_list("external_id", "label")}


def test_the_admin_action_maps_every_list_and_tag_onto_a_brevo_list_of_its_name(connection, sandbox) -> None:
    catalog_discover(connection=connection)
    ListMapping.objects.create(
        tenant=connection.tenant, connection=connection, ac_list_id=1, brevo_list_id=50
    )
    operator = MembershipFactory(tenant=connection.tenant, role="operator").user
    client = Client()
    client.force_login(operator)
    response = client.post(
        reverse("admin:connectors_connection_changelist"),
        {"action": "replicate_structure", "_selected_action": [connection.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "→ Brevo list" in response.content.decode()

    brevo = {int(k): v["name"].lower() for k, v in sandbox.brevo._lists.items()}
    lists = dict(ListMapping.objects.filter(connection=connection).values_list("ac_list_id", "brevo_list_id"))
    tags = dict(TagMapping.objects.filter(connection=connection).values_list("ac_tag_id", "brevo_list_id"))
    assert lists[1] == 50  # mapped by hand before: kept
    assert {i: brevo[t] for i, t in lists.items() if i != 1} == {
        i: name.lower() for i, name in _ac(connection, "list").items() if i != 1
    }
    assert {i: brevo[t] for i, t in tags.items()} == {i: n.lower() for i, n in _ac(connection, "tag").items()}
    # The new lists are in the catalog at once, so the mappings check without another discovery.
    assert CatalogItem.objects.filter(
        catalog__connection=connection, side="brevo", kind="list"
    ).count() == len(sandbox.brevo._lists)
    assert mapping_structure_replicate(connection=connection) == []  # nothing left to map


def test_replication_needs_a_catalog_and_refuses_too_many_lists(connection, sandbox, monkeypatch) -> None:
    with pytest.raises(ValueError, match="discover the connection's catalog first"):
        mapping_structure_replicate(connection=connection)
    catalog_discover(connection=connection)
    monkeypatch.setattr("mappings.rows.REPLICATE_MAX", 1)
    with pytest.raises(ValueError, match=r"replicating would create \d+ Brevo lists \(at most 1"):
        mapping_structure_replicate(connection=connection, kinds=["tag"])
    assert not TagMapping.objects.filter(connection=connection).exists()
