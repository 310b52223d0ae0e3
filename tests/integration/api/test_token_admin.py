"""API tokens in the admin: created by a tenant's operator, shown once, stored hashed, revoked."""

from __future__ import annotations

import re

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from connectors.api.models import ApiToken, hash_token
from tests.factories import ApiTokenFactory, MembershipFactory, TenantFactory

pytestmark = pytest.mark.django_db

ADD = reverse("admin:api_apitoken_add")
CHANGELIST = reverse("admin:api_apitoken_changelist")


def _login(role: str, tenant=None) -> tuple[Client, object]:
    membership = MembershipFactory(role=role, **({"tenant": tenant} if tenant else {}))
    client = Client()
    client.force_login(membership.user)
    return client, membership.tenant


def test_operator_creates_a_token_that_is_shown_once_and_works() -> None:
    client, tenant = _login("operator")
    response = client.post(ADD, {"name": "checkout service", "role": "viewer"}, follow=True)
    assert response.status_code == 200
    messages = [str(m) for m in get_messages(response.wsgi_request)] or [response.content.decode()]
    shown = re.search(r"tajo_[A-Za-z0-9_-]{20,}", " ".join(messages) + response.content.decode())
    assert shown, "the new token is shown to its creator"
    raw = shown.group(0)
    token = ApiToken.objects.get()
    assert (token.tenant, token.name, token.role) == (tenant, "checkout service", "viewer")
    assert token.token_hash == hash_token(raw)
    assert token.created_by is not None
    # Never shown again: not on the list, not on the change page, not in history.
    for url in (
        CHANGELIST,
        reverse("admin:api_apitoken_change", args=[token.pk]),
        reverse("admin:api_apitoken_history", args=[token.pk]),
    ):
        assert raw not in client.get(url).content.decode()
    api = Client().get("/api/v1/runs", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.status_code == 200


def test_revoke_action_stops_the_token() -> None:
    client, tenant = _login("operator")
    token = ApiTokenFactory(tenant=tenant)
    raw = "tajo_revocable-token-0000000000000000000000"
    ApiToken.objects.filter(pk=token.pk).update(token_hash=hash_token(raw))
    assert Client().get("/api/v1/runs", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200
    client.post(CHANGELIST, {"action": "revoke", "_selected_action": [token.pk]})
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert Client().get("/api/v1/runs", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401


def test_viewer_cannot_create_or_revoke() -> None:
    client, tenant = _login("viewer")
    token = ApiTokenFactory(tenant=tenant)
    assert client.post(ADD, {"name": "sneaky", "role": "operator"}).status_code == 403
    client.post(CHANGELIST, {"action": "revoke", "_selected_action": [token.pk]})
    token.refresh_from_db()
    assert token.revoked_at is None
    assert ApiToken.objects.count() == 1


def test_revoke_skips_tenants_the_user_only_reads() -> None:
    client, own = _login("operator")
    read_only = TenantFactory()
    MembershipFactory(
        user=MembershipFactory._meta.model.objects.get(tenant=own).user, tenant=read_only, role="viewer"
    )
    token = ApiTokenFactory(tenant=read_only)
    client.post(CHANGELIST, {"action": "revoke", "_selected_action": [token.pk]})
    token.refresh_from_db()
    assert token.revoked_at is None
