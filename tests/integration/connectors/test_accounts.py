"""Accounts: keys encrypted at rest, write-only in forms, masked everywhere; URL rules with their messages."""

from __future__ import annotations

import pytest
from django.db import connection as db
from django.test import Client
from django.urls import reverse

from connectors.forms import ActiveCampaignAccountForm, BrevoAccountForm
from connectors.models import ActiveCampaignAccount
from tests.factories import ACAccountFactory, BrevoAccountFactory, MembershipFactory

pytestmark = pytest.mark.django_db

KEY = "ac-secret-key-0123456789abcdef9876"


def test_key_is_encrypted_at_rest() -> None:
    account = ACAccountFactory(api_key=KEY)
    with db.cursor() as cursor:
        cursor.execute("SELECT api_key FROM connectors_activecampaignaccount WHERE id = %s", [account.pk])
        raw = cursor.fetchone()[0]
    assert KEY not in raw and "9876" not in raw
    assert ActiveCampaignAccount.objects.get(pk=account.pk).api_key == KEY


def test_history_never_stores_the_key() -> None:
    account = ACAccountFactory(api_key=KEY)
    account.api_key = "a-different-key-00000000000000001111"
    account.save()
    with db.cursor() as cursor:
        cursor.execute("SELECT * FROM connectors_historicalactivecampaignaccount")
        dump = repr(cursor.fetchall())
    assert KEY not in dump and "00001111" not in dump.replace("1111',", "")  # only the last 4 are kept
    assert account.history.first().api_key_last4 == "1111"


def test_masked_everywhere_in_admin() -> None:
    member = MembershipFactory(role="owner")
    account = ACAccountFactory(tenant=member.tenant, api_key=KEY)
    client = Client()
    client.force_login(member.user)
    for url in (
        reverse("admin:connectors_activecampaignaccount_changelist"),
        reverse("admin:connectors_activecampaignaccount_change", args=[account.pk]),
        reverse("admin:connectors_activecampaignaccount_history", args=[account.pk]),
    ):
        body = client.get(url).content.decode()
        assert KEY not in body, url
        assert KEY[:-4] not in body, url
    change = client.get(
        reverse("admin:connectors_activecampaignaccount_change", args=[account.pk])
    ).content.decode()
    assert "****9876" in change


def _ac_form(**data):
    base = {"name": "Main", "api_url": "https://acme.api-us1.com", "api_key": KEY, "plan": "lite"}
    base.update(data)
    member = MembershipFactory(role="owner")
    base.setdefault("tenant", member.tenant.pk)
    return ActiveCampaignAccountForm(data=base)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://acme.activehosted.com", "dashboard URL"),
        ("http://acme.api-us1.com", "must use https"),
        ("https://example.com", "not an ActiveCampaign API host"),
        ("acme.api-us1.com", "is not a URL"),
    ],
)
def test_ac_url_errors_say_what_is_expected(settings, url: str, message: str) -> None:
    settings.TAJO_ALLOW_PRIVATE_URLS = False
    form = _ac_form(api_url=url)
    assert not form.is_valid()
    assert message in " ".join(form.errors["api_url"])
    assert "Settings → Developer" in " ".join(form.errors["api_url"])


def test_ac_url_accepts_api_hosts_and_strips_api_path(settings) -> None:
    settings.TAJO_ALLOW_PRIVATE_URLS = False
    form = _ac_form(api_url="https://Acme.api-us1.com/api/3/")
    assert form.is_valid(), form.errors
    assert form.cleaned_data["api_url"] == "https://acme.api-us1.com"


def test_private_urls_refused_unless_allowed(settings) -> None:
    settings.TAJO_ALLOW_PRIVATE_URLS = False
    form = _ac_form(api_url="http://127.0.0.1:8025")
    assert not form.is_valid()
    settings.TAJO_ALLOW_PRIVATE_URLS = True
    assert _ac_form(api_url="http://127.0.0.1:8025").is_valid()


def test_empty_key_and_unknown_plan_are_field_errors() -> None:
    form = _ac_form(api_key="", plan="platinum")
    assert not form.is_valid()
    assert "Enter the ActiveCampaign API key." in form.errors["api_key"]
    assert "plan" in form.errors


def test_every_plan_gets_five_a_second_when_left_empty() -> None:
    # ActiveCampaign allows 5 requests/s on every plan (reference §15): no plan presets above it.
    for plan in ("lite", "plus", "professional", "enterprise"):
        form = _ac_form(plan=plan, requests_per_second="")
        assert form.is_valid(), form.errors
        assert form.cleaned_data["requests_per_second"] == 5.0
        assert form.cleaned_data["event_tracking_rate"] == 2.0


def test_a_rate_above_five_is_an_explicit_override() -> None:
    form = _ac_form(plan="enterprise", requests_per_second="10")
    assert form.is_valid(), form.errors
    assert form.cleaned_data["requests_per_second"] == 10.0


def test_empty_key_on_edit_keeps_the_stored_key() -> None:
    account = ACAccountFactory(api_key=KEY)
    form = ActiveCampaignAccountForm(
        instance=account,
        data={
            "tenant": account.tenant_id,
            "name": account.name,
            "api_url": "https://acme.api-us1.com",
            "api_key": "",
            "plan": "lite",
            "requests_per_second": 5,
        },
    )
    assert form.is_valid(), form.errors
    assert form.save().api_key == KEY
    assert 'value="' + KEY not in str(form["api_key"])


def test_brevo_must_be_https(settings) -> None:
    settings.TAJO_ALLOW_PRIVATE_URLS = False
    account = BrevoAccountFactory()
    form = BrevoAccountForm(
        data={
            "tenant": account.tenant_id,
            "name": "x",
            "api_url": "http://api.brevo.com/v3",
            "api_key": "xkeysib-1",
        }
    )
    assert not form.is_valid()
    assert "must use https" in " ".join(form.errors["api_url"])
