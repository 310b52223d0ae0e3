"""account_upsert and connection_save: the one way accounts and connections are created and changed."""

from __future__ import annotations

import pytest

from connectors.models import PLAN_RATES, ActiveCampaignAccount, BrevoAccount, Connection
from connectors.services import account_free_name, account_upsert, connection_save
from tests.factories import ACAccountFactory, ConnectionFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_new_account_takes_the_first_free_name_and_the_lite_rate() -> None:
    tenant = TenantFactory()
    ACAccountFactory(tenant=tenant, name="shop")
    ACAccountFactory(tenant=tenant, name="shop (2)")
    account = account_upsert(
        model=ActiveCampaignAccount,
        tenant_id=tenant.pk,
        name="shop",
        api_url="https://shop.api-us1.com",
        api_key="ac-key-0123456789abcdef",
    )
    assert (account.name, account.plan, account.requests_per_second) == (
        "shop (3)",
        "lite",
        PLAN_RATES["lite"],
    )
    assert account_free_name(BrevoAccount, tenant.pk, "shop") == "shop"


def test_an_unchanged_account_is_not_saved_again_and_a_plan_change_keeps_a_rate_set_by_hand() -> None:
    account = ACAccountFactory(plan="lite", requests_per_second=2.5)
    versions = account.history.count()
    same = account_upsert(
        model=ActiveCampaignAccount, tenant_id=account.tenant_id, account=account, api_url=account.api_url
    )
    assert same.history.count() == versions and same.requests_per_second == 2.5
    account_upsert(
        model=ActiveCampaignAccount, tenant_id=account.tenant_id, account=account, plan="lite", reason="file"
    )
    assert account.history.count() == versions  # the same plan keeps a rate set by hand
    account_upsert(
        model=ActiveCampaignAccount,
        tenant_id=account.tenant_id,
        account=account,
        plan="enterprise",
        reason="config import",
    )
    account.refresh_from_db()
    assert (account.plan, account.requests_per_second) == ("enterprise", 2.5)
    assert account.history.first().history_change_reason == "config import"
    preset = ACAccountFactory(plan="lite", requests_per_second=PLAN_RATES["lite"])
    account_upsert(model=ActiveCampaignAccount, tenant_id=preset.tenant_id, account=preset, plan="enterprise")
    assert PLAN_RATES["enterprise"] == ActiveCampaignAccount.objects.get(pk=preset.pk).requests_per_second


def test_connection_save_sets_fields_with_who_and_why() -> None:
    connection = ConnectionFactory()
    user = UserFactory()
    connection_save(connection=connection, values={"debug": True}, user=user, reason="API connect")
    stored = Connection.objects.get(pk=connection.pk)
    last = stored.history.first()
    assert stored.debug is True
    assert (last.history_user_id, last.history_change_reason) == (user.pk, "API connect")


def test_connection_save_refuses_a_field_the_model_lacks() -> None:
    connection = ConnectionFactory()
    with pytest.raises(ValueError, match="Connection has no field 'colour'"):
        connection_save(connection=connection, values={"colour": "blue"})
