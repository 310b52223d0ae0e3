"""Admin: the webhook events list (tenant-scoped, read-only, reprocess) and a connection's webhooks page
(intake URL, registration in the sandbox's ActiveCampaign, unregister, rotate)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from connectors.webhooks import services
from connectors.webhooks.models import WebhookEvent, WebhookStatus
from sandbox.config import SandboxConfig
from sandbox.server import SandboxServer
from tests.factories import MembershipFactory, TenantFactory, WebhookEventFactory
from tests.sandbox_helpers import connection_for_sandbox

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def sandbox():
    with SandboxServer(SandboxConfig.fast(contacts=5, seed=5)) as server:
        yield server


def login(tenant, role: str) -> Client:
    client = Client()
    client.force_login(MembershipFactory(tenant=tenant, role=role).user)
    return client


def change_url(event: WebhookEvent) -> str:
    return reverse("admin:webhooks_webhookevent_change", args=[event.pk])


def test_events_are_scoped_read_only_and_reprocessable(short_queue) -> None:
    tenant_a, tenant_b = TenantFactory(), TenantFactory(name="Bravo-secret-tenant")
    mine = WebhookEventFactory(
        tenant=tenant_a,
        status=WebhookStatus.PROCESSED,
        outcomes=[{"resource": "contacts", "source_id": "7", "outcome": "updated", "message": ""}],
    )
    theirs = WebhookEventFactory(tenant=tenant_b, status=WebhookStatus.PROCESSED)
    operator = login(tenant_a, "operator")

    listing = operator.get(reverse("admin:webhooks_webhookevent_changelist")).content.decode()
    assert change_url(mine) in listing and change_url(theirs) not in listing
    assert "contacts 7: updated" in listing
    for path in (change_url(theirs), reverse("admin:webhooks_webhookevent_history", args=[theirs.pk])):
        assert operator.get(path).status_code in (302, 404)
    assert (
        operator.post(reverse("admin:webhooks_webhookevent_reprocess", args=[theirs.pk])).status_code == 404
    )
    operator.post(
        reverse("admin:webhooks_webhookevent_changelist"),
        {"action": "reprocess", "_selected_action": [theirs.pk]},
    )
    theirs.refresh_from_db()
    assert theirs.status == WebhookStatus.PROCESSED and short_queue.count == 0

    page = operator.get(change_url(mine)).content.decode()
    assert 'name="_save"' not in page  # an event is never edited
    assert "Reprocess" in page and mine.key in page  # the parsed payload is shown
    operator.post(
        reverse("admin:webhooks_webhookevent_changelist"),
        {"action": "reprocess", "_selected_action": [mine.pk]},
    )
    mine.refresh_from_db()
    assert mine.status == WebhookStatus.RECEIVED
    assert [j.args for j in short_queue.get_jobs()] == [(mine.pk,)]


def test_viewer_reads_but_cannot_reprocess(short_queue) -> None:
    tenant = TenantFactory()
    event = WebhookEventFactory(tenant=tenant, status=WebhookStatus.FAILED, error="Brevo said no")
    viewer = login(tenant, "viewer")
    page = viewer.get(change_url(event))
    assert page.status_code == 200 and "Brevo said no" in page.content.decode()
    assert "Reprocess" not in page.content.decode()
    assert viewer.post(reverse("admin:webhooks_webhookevent_reprocess", args=[event.pk])).status_code == 403
    event.refresh_from_db()
    assert event.status == WebhookStatus.FAILED and short_queue.count == 0


def test_rejected_event_cannot_be_reprocessed(short_queue) -> None:
    tenant = TenantFactory()
    event = WebhookEventFactory(
        tenant=tenant,
        status=WebhookStatus.REJECTED,
        error="empty body",
        resource="",
        source_id="",
        dedup_key=None,
    )
    operator = login(tenant, "operator")
    response = operator.post(reverse("admin:webhooks_webhookevent_reprocess", args=[event.pk]), follow=True)
    assert "was rejected" in response.content.decode()
    event.refresh_from_db()
    assert event.status == WebhookStatus.REJECTED and short_queue.count == 0


def test_connection_webhooks_page_registers_unregisters_and_rotates(sandbox, short_queue) -> None:
    for hook in list(sandbox.ac.webhooks):
        sandbox.ac.delete_webhook(int(hook))
    connection = connection_for_sandbox(sandbox)
    operator = login(connection.tenant, "operator")
    page_url = reverse("admin:connectors_connection_webhooks", args=[connection.pk])

    form = operator.get(reverse("admin:connectors_connection_change", args=[connection.pk])).content.decode()
    assert page_url in form
    assert connection.webhook_secret not in form  # the change form shows a masked path only

    page = operator.get(page_url).content.decode()
    assert connection.webhook_secret in page and "Copy" in page
    assert "None: ActiveCampaign does not post to this connection yet." in page

    response = operator.post(
        page_url,
        {
            "action": "register",
            "events": ["update", "contact_tag_added"],
            "sources": ["admin", "api"],
            "list_id": "0",
        },
        follow=True,
    )
    assert "Registered webhook" in response.content.decode()
    (hook,) = sandbox.ac.webhooks.values()
    assert hook["events"] == ["update", "contact_tag_added"] and hook["sources"] == ["admin", "api"]
    assert hook["url"] == "http://testserver" + services.intake_path(connection)
    page = operator.get(page_url).content.decode()
    assert "current URL" in page and "update, contact_tag_added" in page

    bad = operator.post(
        page_url, {"action": "register", "events": ["open"], "sources": ["admin"]}, follow=True
    )
    assert "Nothing changed" in bad.content.decode()
    assert len(sandbox.ac.webhooks) == 1

    old_path = services.intake_path(connection)
    operator.post(page_url, {"action": "rotate"})
    connection.refresh_from_db()
    assert services.intake_path(connection) != old_path
    (moved,) = sandbox.ac.webhooks.values()
    assert moved["url"] == "http://testserver" + services.intake_path(connection)
    assert moved["events"] == ["update", "contact_tag_added"]
    assert (
        Client()
        .post(old_path, b"type=update&contact%5Bid%5D=1", content_type="application/x-www-form-urlencoded")
        .status_code
        == 404
    )

    operator.post(page_url, {"action": "unregister"})
    assert sandbox.ac.webhooks == {}


def test_viewers_and_other_tenants_on_the_webhooks_page(sandbox) -> None:
    connection = connection_for_sandbox(sandbox)
    page_url = reverse("admin:connectors_connection_webhooks", args=[connection.pk])
    viewer = login(connection.tenant, "viewer")
    page = viewer.get(page_url)
    assert page.status_code == 200
    body = page.content.decode()
    assert connection.webhook_secret not in body and "****" + connection.webhook_secret[-4:] in body
    assert 'name="action"' not in body
    assert viewer.post(page_url, {"action": "rotate"}).status_code == 403
    stranger = login(TenantFactory(), "owner")
    assert stranger.get(page_url).status_code == 404
    assert stranger.post(page_url, {"action": "rotate"}).status_code == 404
    before = connection.webhook_secret
    connection.refresh_from_db()
    assert connection.webhook_secret == before
