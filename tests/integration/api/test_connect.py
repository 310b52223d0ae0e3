"""`connectors.connect(...)`: credentials stored (encrypted, masked in answers), connection test run."""

from __future__ import annotations

import pytest

from connectors.models import ActiveCampaignAccount, BrevoAccount, Connection
from sandbox.config import SandboxConfig
from sandbox.server import SandboxServer
from tests.factories import BrevoAccountFactory

from .conftest import error_of

pytestmark = pytest.mark.django_db

CONNECT = "/connectors/{name}/connect"


@pytest.fixture(scope="module")
def sandbox():
    with SandboxServer(SandboxConfig.fast(contacts=5)) as server:
        yield server


def _body(sandbox, **extra):
    return {
        "apiUrl": sandbox.ac_api_url,
        "apiKey": sandbox.ac_key,
        "brevoApiKey": sandbox.brevo_key,
        "brevoApiUrl": sandbox.brevo_api_url,
        **extra,
    }


def test_connect_creates_the_connection_and_passes_the_checklist(world, sandbox, redis_url) -> None:
    response = world.operator.post(CONNECT.format(name="main"), _body(sandbox, plan="plus"))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["created"] is True
    assert body["connected"] is True, body["checks"]
    names = [c["name"] for c in body["checks"]]
    assert names[0] == "API connection" and "Brevo account reachable" in names
    assert all(c["ok"] for c in body["checks"])
    connection = Connection.objects.get(tenant=world.tenant, name="main")
    assert connection.ac_account.api_key == sandbox.ac_key  # stored (encrypted at rest), usable
    assert connection.ac_account.plan == "plus" and connection.ac_account.requests_per_second == 5.0
    assert connection.brevo_account.api_url == sandbox.brevo_api_url
    # Keys never come back in clear.
    assert sandbox.ac_key not in response.content.decode()
    assert sandbox.brevo_key not in response.content.decode()
    assert body["connection"]["apiKey"].endswith(sandbox.ac_key[-4:])


def test_connect_again_updates_in_place(world, sandbox, redis_url) -> None:
    world.operator.post(CONNECT.format(name="main"), _body(sandbox))
    response = world.operator.post(
        CONNECT.format(name="main"),
        {
            "apiUrl": sandbox.ac_api_url,
            "apiKey": sandbox.ac_key,
            "test": False,
            "options": {"includeTags": False, "defaultPhoneCountry": "fr"},
            "sync": {"ecommerce": True},
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["created"] is False and body["connected"] is None and body["checks"] == []
    assert body["connection"]["options"]["includeTags"] is False
    assert body["connection"]["sync"]["ecommerce"] is True
    connection = Connection.objects.get(tenant=world.tenant, name="main")
    assert connection.default_phone_country == "FR" and connection.sync_ecommerce
    assert connection.brevo_account.api_key == sandbox.brevo_key  # omitted: kept
    assert ActiveCampaignAccount.objects.filter(tenant=world.tenant).count() == 2  # world's + this one
    assert BrevoAccount.objects.filter(tenant=world.tenant).count() == 2


def test_wrong_key_reports_failed_checks(world, sandbox, redis_url) -> None:
    response = world.operator.post(CONNECT.format(name="main"), _body(sandbox, apiKey="wrong-key-0000"))
    assert response.status_code == 201
    body = response.json()
    assert body["connected"] is False
    first = body["checks"][0]
    assert first["name"] == "API connection" and first["ok"] is False and first["detail"]
    assert "wrong-key-0000" not in response.content.decode()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"apiUrl": "https://yourcompany.activehosted.com"}, "apiUrl"),
        ({"apiUrl": "not a url"}, "apiUrl"),
        ({"apiUrl": "ftp://files.example.org"}, "apiUrl"),
        ({"apiKey": "has spaces in it"}, "apiKey"),
        ({"apiKey": ""}, "apiKey"),
        ({"apiKey": 12345}, "apiKey"),
        ({"apiKey": "nul\u0000key"}, "apiKey"),
        ({"brevoApiUrl": "gopher://x"}, "brevoApiUrl"),
        ({"plan": "platinum"}, "plan"),
        ({"options": {"defaultPhoneCountry": "ZZ"}}, "options.defaultPhoneCountry"),
        ({"apiSecret": "x"}, "apiSecret"),
    ],
)
def test_bad_input_is_400_naming_the_field_and_writes_nothing(world, sandbox, change, field) -> None:
    response = world.operator.post(CONNECT.format(name="main"), _body(sandbox, test=False, **change))
    assert response.status_code == 400, response.content
    assert error_of(response)["field"] == field
    assert not Connection.objects.filter(name="main").exists()


def test_creating_without_a_brevo_key_uses_the_tenants_only_brevo_account(world, sandbox) -> None:
    body = _body(sandbox, test=False)
    del body["brevoApiKey"]
    response = world.operator.post(CONNECT.format(name="main"), body)
    assert response.status_code == 201, response.content
    assert Connection.objects.get(name="main").brevo_account == world.connection.brevo_account


def test_creating_without_a_brevo_key_is_400_when_none_can_be_chosen(world, sandbox) -> None:
    BrevoAccountFactory(tenant=world.tenant)  # two accounts: which one is not Tajo's to guess
    body = _body(sandbox, test=False)
    del body["brevoApiKey"]
    response = world.operator.post(CONNECT.format(name="main"), body)
    assert response.status_code == 400
    assert error_of(response) == {
        "code": "missing_field",
        "message": "'brevoApiKey' is required to create a connection (give it in the body, or as the SDK "
        "client's brevoApiKey, or add one Brevo account to the tenant first).",
        "field": "brevoApiKey",
    }
    assert not Connection.objects.filter(name="main").exists()
    assert not ActiveCampaignAccount.objects.filter(name="main").exists()


def test_private_urls_are_refused_unless_allowed(world, sandbox, settings) -> None:
    settings.TAJO_ALLOW_PRIVATE_URLS = False
    response = world.operator.post(CONNECT.format(name="main"), _body(sandbox, test=False))
    assert response.status_code == 400
    assert error_of(response)["field"] == "apiUrl"


def test_a_plan_change_keeps_the_accounts_own_rate(world, sandbox, redis_url) -> None:
    """An account ActiveCampaign raised keeps its rate when the plan changes; a preset follows."""
    world.operator.post(CONNECT.format(name="main"), _body(sandbox, plan="plus", test=False))
    account = Connection.objects.get(tenant=world.tenant, name="main").ac_account
    account.requests_per_second = 12.0
    account.save()

    response = world.operator.post(CONNECT.format(name="main"), _body(sandbox, plan="enterprise", test=False))

    assert response.status_code == 200, response.content
    account.refresh_from_db()
    assert (account.plan, account.requests_per_second) == ("enterprise", 12.0)
    account.requests_per_second = 5.0  # back at the plans' preset: a plan change keeps it there
    account.save()
    world.operator.post(CONNECT.format(name="main"), _body(sandbox, plan="lite", test=False))
    account.refresh_from_db()
    assert (account.plan, account.requests_per_second) == ("lite", 5.0)


def test_connect_can_replicate_lists_and_tags_as_brevo_lists(world, sandbox, redis_url) -> None:
    from mappings.models import CatalogItem, ListMapping, TagMapping

    response = world.operator.post(CONNECT.format(name="mirror"), _body(sandbox, replicate=["lists", "tags"]))
    assert response.status_code == 201, response.content
    discovery = response.json()["discovery"]
    assert discovery["ok"] is True and "replicate" not in discovery["errors"], discovery
    connection = Connection.objects.get(tenant=world.tenant, name="mirror")
    brevo = {int(k): v["name"].lower() for k, v in sandbox.brevo._lists.items()}
    catalog = CatalogItem.objects.filter(catalog__connection=connection, side="ac")
    ac_lists = {
        int(i): name.lower() for i, name in catalog.filter(kind="list").values_list("external_id", "label")
    }
    ac_tags = {
        int(i): name.lower() for i, name in catalog.filter(kind="tag").values_list("external_id", "label")
    }
    lists = dict(ListMapping.objects.filter(connection=connection).values_list("ac_list_id", "brevo_list_id"))
    tags = dict(TagMapping.objects.filter(connection=connection).values_list("ac_tag_id", "brevo_list_id"))
    assert {ac: brevo[target] for ac, target in lists.items()} == ac_lists
    assert {ac: brevo[target] for ac, target in tags.items()} == ac_tags
    assert any(line.startswith("AC tag ") for line in discovery["mapped"])

    # Again: everything is mapped, nothing new.
    again = world.operator.post(CONNECT.format(name="mirror"), _body(sandbox, replicate=["tags"]))
    assert again.status_code == 200
    assert TagMapping.objects.filter(connection=connection).count() == len(ac_tags)


def test_replicate_takes_only_lists_and_tags(world, sandbox) -> None:
    response = world.operator.post(CONNECT.format(name="mirror"), _body(sandbox, replicate=["deals"]))
    assert response.status_code == 400
    assert "replicate" in str(error_of(response))


def test_the_tags_attribute_is_an_option_of_connect(world, sandbox) -> None:
    response = world.operator.post(
        CONNECT.format(name="tagged"), _body(sandbox, test=False, options={"tagsAttribute": "segments"})
    )
    assert response.status_code == 201, response.content
    assert Connection.objects.get(tenant=world.tenant, name="tagged").tags_attribute == "SEGMENTS"
    assert response.json()["connection"]["options"]["tagsAttribute"] == "SEGMENTS"
    off = world.operator.post(
        CONNECT.format(name="tagged"), _body(sandbox, test=False, options={"tagsAttribute": ""})
    )
    assert (
        off.status_code == 200
        and Connection.objects.get(tenant=world.tenant, name="tagged").tags_attribute == ""
    )
    bad = world.operator.post(
        CONNECT.format(name="tagged"), _body(sandbox, test=False, options={"tagsAttribute": "9 lives"})
    )
    assert bad.status_code == 400 and error_of(bad)["field"].endswith("tagsAttribute")
