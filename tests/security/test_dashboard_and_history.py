"""The job dashboard is for platform admins; history and revert views follow the admin's roles."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tenants.models import Tenant
from tests.factories import ACAccountFactory, MembershipFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue_with_job(redis_conn):
    import django_rq
    import rq

    # A plain rq queue: django-rq's own waits for a commit that a test transaction never makes.
    queue = rq.Queue("tajo-sync", connection=django_rq.get_connection("tajo-sync"))
    job = queue.enqueue("builtins.print", "tenant-b-job-marker")
    yield queue, job
    queue.empty()


DASHBOARD_URLS = [
    "/admin/django_rq/dashboard/",
    "/admin/django_rq/dashboard/queues/0/",
    "/admin/django_rq/dashboard/queues/0/finished/",
    "/admin/django_rq/dashboard/queues/0/details/",
    "/admin/django_rq/dashboard/stats.json",
]


@pytest.mark.parametrize("role", ["owner", "operator", "viewer"])
def test_tenant_staff_never_reach_the_queues(role: str, queue_with_job) -> None:
    queue, job = queue_with_job
    client = Client()
    client.force_login(MembershipFactory(role=role).user)
    for url in [*DASHBOARD_URLS, f"/admin/django_rq/dashboard/queues/0/{job.id}/"]:
        response = client.get(url)
        assert response.status_code == 403, url
        assert b"tenant-b-job-marker" not in response.content
    for url in [
        f"/admin/django_rq/dashboard/queues/0/{job.id}/delete/",
        "/admin/django_rq/dashboard/queues/0/empty/",
    ]:
        assert client.post(url).status_code == 403, url
    assert queue.count == 1 and queue.fetch_job(job.id) is not None
    index = client.get("/admin/").content.decode()
    assert "django_rq" not in index


def test_platform_admin_uses_the_dashboard_and_unknown_queue_is_404(queue_with_job) -> None:
    _queue, job = queue_with_job
    client = Client()
    client.force_login(UserFactory(is_superuser=True))
    assert client.get("/admin/django_rq/dashboard/queues/0/").status_code == 200
    assert client.get(f"/admin/django_rq/dashboard/queues/0/{job.id}/").status_code == 200
    for url in ["queues/99/", "queues/99/finished/", "queues/99/details/", "workers/99/", "queues/99/x/"]:
        assert client.get(f"/admin/django_rq/dashboard/{url}").status_code == 404, url


def _history_urls(model, obj) -> tuple[str, str]:
    info = f"{model._meta.app_label}_{model._meta.model_name}"
    history = reverse(f"admin:{info}_history", args=[obj.pk])
    version = obj.history.order_by("history_id").first().history_id
    return history, reverse(f"admin:{info}_simple_history", args=[obj.pk, version])


def test_viewer_cannot_revert_or_rename_a_tenant_through_history() -> None:
    viewer = MembershipFactory(role="viewer")
    tenant = viewer.tenant
    history, revert = _history_urls(Tenant, tenant)
    client = Client()
    client.force_login(viewer.user)
    assert client.get(history).status_code == 200
    assert client.get(revert).status_code == 200
    response = client.post(revert, {"name": "Renamed by viewer", "slug": "hijacked"})
    assert response.status_code == 403
    tenant.refresh_from_db()
    assert (tenant.name, tenant.slug) != ("Renamed by viewer", "hijacked")


def test_viewer_cannot_revert_an_account() -> None:
    viewer = MembershipFactory(role="viewer")
    account = ACAccountFactory(tenant=viewer.tenant, name="Original name")
    from connectors.models import ActiveCampaignAccount

    _, revert = _history_urls(ActiveCampaignAccount, account)
    client = Client()
    client.force_login(viewer.user)
    response = client.post(revert, {"name": "Changed", "api_url": account.api_url, "plan": "lite"})
    assert response.status_code == 403
    account.refresh_from_db()
    assert account.name == "Original name"


def test_other_tenants_objects_are_404_like_missing_ones() -> None:
    member = MembershipFactory(role="owner")
    other = TenantFactory(name="Other tenant")
    account = ACAccountFactory(tenant=other)
    from connectors.models import ActiveCampaignAccount

    client = Client()
    client.force_login(member.user)
    for model, obj in [(Tenant, other), (ActiveCampaignAccount, account)]:
        history, revert = _history_urls(model, obj)
        missing = history.replace(f"/{obj.pk}/", "/987654/")
        assert client.get(history).status_code == 404
        assert client.get(missing).status_code == 404
        assert client.get(revert).status_code == 404
        assert client.post(revert, {"name": "x"}).status_code == 404
        assert client.get(revert.replace(f"/{obj.pk}/", "/987654/")).status_code == 404
        assert client.get(history.replace(f"/{obj.pk}/", "/abc/")).status_code == 404
