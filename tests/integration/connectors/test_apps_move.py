"""Webhook events and API tokens moved from the connectors app to their own apps: a database at
the old layout migrates without losing a row, a content type id or a granted permission (and
migrates back), and links to the old admin pages lead to the new ones."""

from __future__ import annotations

import pytest
from django.db.migrations.state import ProjectState

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = ("connectors", "0010_admin_run_failures_first_index")
AFTER = [("webhooks", "0001_initial"), ("api", "0001_initial")]
MOVED = {"webhookevent": "webhooks", "apitoken": "api", "historicalapitoken": "api"}


def _seed_old_layout(state: ProjectState) -> dict[str, int]:
    """What a database at the old layout holds: rows of each moved table, the types, a grant."""
    model = state.apps.get_model
    content_types = {
        name: model("contenttypes", "ContentType").objects.create(app_label="connectors", model=name)
        for name in MOVED
    }
    readers = model("auth", "Group").objects.create(name="readers")
    readers.permissions.add(
        model("auth", "Permission").objects.create(
            content_type=content_types["webhookevent"], codename="view_webhookevent", name="Can view"
        )
    )
    tenant = model("tenants", "Tenant").objects.create(name="Acme", slug="acme")
    connection = model("connectors", "Connection").objects.create(
        tenant=tenant,
        name="main",
        ac_account=model("connectors", "ActiveCampaignAccount").objects.create(
            tenant=tenant, name="ac", api_url="https://acme.api-us1.com", api_key="ac-key-0001-abcdef"
        ),
        brevo_account=model("connectors", "BrevoAccount").objects.create(
            tenant=tenant, name="brevo", api_key="xkeysib-0001-zzzz"
        ),
    )
    model("connectors", "WebhookEvent").objects.create(
        tenant=tenant, connection=connection, event_type="subscribe", dedup_key="first"
    )
    token = model("connectors", "ApiToken").objects.create(
        tenant=tenant, name="checkout", token_hash="0" * 64, token_prefix="tajo_0000"
    )
    model("connectors", "HistoricalApiToken").objects.create(
        id=token.pk, tenant=tenant, name="checkout", history_date=token.created_at, history_type="+"
    )
    return {name: content_type.pk for name, content_type in content_types.items()}


def _types(state: ProjectState) -> dict[str, tuple[str, int]]:
    rows = state.apps.get_model("contenttypes", "ContentType").objects.filter(model__in=MOVED)
    return {row.model: (row.app_label, row.pk) for row in rows}


def test_the_old_layout_moves_to_the_new_apps_and_back(migrator) -> None:
    type_ids = _seed_old_layout(migrator.apply_initial_migration(BEFORE))

    after = migrator.apply_tested_migration(AFTER)

    # Same rows, read through the new apps' models, from the tables they always had.
    event = after.apps.get_model("webhooks", "WebhookEvent").objects.get()
    assert (event.event_type, event.connection.name) == ("subscribe", "main")
    token = after.apps.get_model("api", "ApiToken").objects.get()
    assert [row.name for row in after.apps.get_model("api", "HistoricalApiToken").objects.all()] == [
        "checkout"
    ]
    assert token.name == "checkout"
    # The types keep their ids (so grants, admin log entries and history keep pointing at them).
    assert _types(after) == {name: (MOVED[name], type_ids[name]) for name in MOVED}
    grant = after.apps.get_model("auth", "Group").objects.get().permissions.get()
    assert (grant.content_type.app_label, grant.codename) == ("webhooks", "view_webhookevent")

    back = migrator.apply_tested_migration(BEFORE)

    assert _types(back) == {name: ("connectors", type_ids[name]) for name in MOVED}
    assert back.apps.get_model("connectors", "WebhookEvent").objects.count() == 1


def test_a_type_made_early_under_the_new_label_gives_way_to_the_old_one(migrator) -> None:
    before = migrator.apply_initial_migration(BEFORE)
    type_ids = _seed_old_layout(before)
    # As a post_migrate of a partial migrate would have made it, before the move ran.
    before.apps.get_model("contenttypes", "ContentType").objects.create(app_label="api", model="apitoken")

    after = migrator.apply_tested_migration(AFTER)

    assert _types(after)["apitoken"] == ("api", type_ids["apitoken"])


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/admin/connectors/webhookevent/", "/admin/webhooks/webhookevent/"),
        ("/admin/connectors/webhookevent/7/change/", "/admin/webhooks/webhookevent/7/change/"),
        ("/admin/connectors/apitoken/?role__exact=viewer", "/admin/api/apitoken/?role__exact=viewer"),
    ],
)
def test_the_old_admin_pages_lead_to_the_new_ones(client, old: str, new: str) -> None:
    response = client.get(old)
    assert (response.status_code, response["Location"]) == (301, new)
