"""The run floor against the sandbox: real AC totals, the floor page and the connection page panel."""

from __future__ import annotations

import httpx
import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from connectors.sync.cost import pages
from connectors.sync.estimate import floor_estimate, run_floor
from sandbox.config import SandboxConfig
from sandbox.server import SandboxServer
from tests.factories import MembershipFactory
from tests.preview_helpers import import_demo_connection
from tests.sandbox_helpers import connection_for_sandbox

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def sandbox():
    with SandboxServer(SandboxConfig.fast(contacts=150, seed=9)) as server:
        yield server


@pytest.fixture
def connection(sandbox, redis_conn):
    cache.clear()
    connection = import_demo_connection(sandbox, tenant_slug="floor-acme", crm_deals=True)
    connection.ac_account.requests_per_second = 5.0
    connection.ac_account.save(update_fields=["requests_per_second"])
    return connection


def _brevo_requests(sandbox) -> int:
    stats = httpx.get(f"{sandbox.base_url}/_sandbox/stats").json()["requests"]
    return sum(v["count"] for k, v in stats.items() if k.split(" ", 1)[1].startswith("/v3"))


def test_floor_counts_the_accounts_real_volumes(sandbox, connection) -> None:
    truth = sandbox.ac.counts()
    before = _brevo_requests(sandbox)
    floor = floor_estimate(connection)
    assert _brevo_requests(sandbox) == before, "estimating wrote to (or read from) Brevo"
    assert not floor.unknown, floor.unknown
    assert floor.totals["contacts"] == truth["contacts"]
    assert floor.totals["deals"] == truth["deals"]
    assert floor.totals["contactTags"] == truth["contactTags"]
    assert floor.totals["contactLists"] == truth["contactLists"]

    contacts = floor.resources["contacts"]
    # Field values, tags and lists ride on the contact pages (`include=`); deals are staged.
    assert contacts["ac_requests"] == pages(truth["contacts"]) + pages(truth["deals"])
    # The floor is the slower side: reading at 5 requests a second, or Brevo's contact budget.
    assert contacts["ac_seconds"] == contacts["ac_requests"] / 5.0
    brevo_seconds = max(contacts["brevo_seconds_by_bucket"].values())
    assert contacts["seconds"] == max(contacts["ac_seconds"], brevo_seconds)
    assert (contacts["bound_by"] == "ActiveCampaign") == (contacts["ac_seconds"] >= brevo_seconds)
    assert contacts["brevo_requests_by_bucket"]["contacts"] >= 1
    # CRM deals are on: one hourly-bucket request per deal, so the deals floor is the CRM budget's.
    deals = floor.resources["deals"]
    assert deals["brevo_requests_by_bucket"]["other"] == truth["deals"]
    assert deals["bound_by"].startswith("Brevo CRM") == (truth["deals"] > 100)
    assert set(floor.resources) == set(connection.enabled_resources())
    assert run_floor(connection, totals=floor.totals) == floor.resources


def test_floor_page_and_connection_panel(sandbox, connection) -> None:
    viewer = MembershipFactory(tenant=connection.tenant, role="viewer")
    client = Client()
    client.force_login(viewer.user)
    change = reverse("admin:connectors_connection_change", args=[connection.pk])
    floor_url = reverse("admin:connectors_connection_floor", args=[connection.pk])
    assert 'id="tajo-floor-link"' in client.get(change).content.decode()

    page = client.get(floor_url)
    assert page.status_code == 200
    body = page.content.decode()
    assert 'id="tajo-floor-table"' in body and "contacts" in body
    total = page.context["floor"]["total"]
    assert total in body

    panel = client.get(change).content.decode()
    assert "<strong>Sync floor</strong>" in panel and total in panel
    assert 'id="tajo-floor-link"' not in panel

    outsider = MembershipFactory(role="owner")
    other = Client()
    other.force_login(outsider.user)
    assert other.get(floor_url).status_code == 404


def test_floor_of_an_invalid_mapping_lists_problems(sandbox, redis_conn) -> None:
    member = MembershipFactory(role="operator")
    bare = connection_for_sandbox(sandbox, tenant=member.tenant)
    client = Client()
    client.force_login(member.user)
    page = client.get(reverse("admin:connectors_connection_floor", args=[bare.pk]))
    assert page.status_code == 200
    assert page.context["problems"] and page.context["floor"] is None
    assert 'id="tajo-floor-problems"' in page.content.decode()


def test_floor_paces_at_the_limit_activecampaign_announces(redis_conn) -> None:
    """An account set above the limit AC announces (RateLimit-Limit: 4) is floored at 4 a second."""
    cache.clear()
    with SandboxServer(SandboxConfig.fast(contacts=150, seed=9, ac_rate=4.0)) as limited:
        connection = import_demo_connection(limited, tenant_slug="floor-announced")
        connection.ac_account.requests_per_second = 10.0
        connection.ac_account.save(update_fields=["requests_per_second"])

        floor = floor_estimate(connection)

    assert floor.ac_rate == 4.0
    contacts = floor.resources["contacts"]
    assert contacts["ac_seconds"] == contacts["ac_requests"] / 4.0
    # Below the announced limit the account's own setting is the pace.
    connection.ac_account.requests_per_second = 2.0
    assert floor_estimate(connection, totals=floor.totals).ac_rate == 2.0
