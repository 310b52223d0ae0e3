"""Sign-in and token guessing are throttled (django-axes); tokens may expire; tokens never in cookies."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from connectors.api.models import ApiToken, hash_token
from tests.factories import MembershipFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"


def _token(**extra) -> str:
    raw = "tajo_" + ("k" * 30) + str(ApiToken.objects.count())
    ApiToken.objects.create(
        tenant=TenantFactory(), name="t", role="viewer", token_hash=hash_token(raw), **extra
    )
    return raw


def _try(client: Client, username: str, password: str):
    return client.post(LOGIN, {"username": username, "password": password})


@override_settings(AXES_FAILURE_LIMIT=5)
def test_wrong_passwords_lock_the_login_and_the_right_one_no_longer_works() -> None:
    user = UserFactory()
    client = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(4):
        assert _try(client, user.username, "wrong").status_code == 200  # the form again
    assert _try(client, user.username, "wrong").status_code == 429  # the fifth locks
    response = _try(client, user.username, "pw-123456")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    # Someone else, elsewhere, still signs in: the lock is per user name and address.
    other = Client(REMOTE_ADDR="198.51.100.9")
    assert _try(other, user.username, "pw-123456").status_code == 302


def test_a_good_login_still_works_below_the_limit() -> None:
    user = UserFactory()
    client = Client(REMOTE_ADDR="203.0.113.8")
    _try(client, user.username, "wrong")
    assert _try(client, user.username, "pw-123456").status_code == 302


@override_settings(AXES_FAILURE_LIMIT=5)
def test_bad_tokens_from_one_address_are_refused_then_even_a_good_one() -> None:
    good = _token()
    client = Client(REMOTE_ADDR="203.0.113.20")
    for n in range(5):
        response = client.get("/api/v1/runs", HTTP_AUTHORIZATION=f"Bearer tajo_{'x' * 30}{n}")
        assert response.status_code == 401, response.content
    response = client.get("/api/v1/runs", HTTP_AUTHORIZATION=f"Bearer {good}")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "too_many_failures"
    assert int(response["Retry-After"]) > 0
    elsewhere = Client(REMOTE_ADDR="198.51.100.20")
    assert elsewhere.get("/api/v1/runs", HTTP_AUTHORIZATION=f"Bearer {good}").status_code == 200


def test_expired_token_is_refused_and_a_future_expiry_works() -> None:
    expired = _token(expires_at=timezone.now() - timedelta(seconds=1))
    response = Client().get("/api/v1/runs", HTTP_AUTHORIZATION=f"Bearer {expired}")
    assert response.status_code == 401
    assert "expired" in response.json()["error"]["message"]
    later = _token(expires_at=timezone.now() + timedelta(days=1))
    assert Client().get("/api/v1/runs", HTTP_AUTHORIZATION=f"Bearer {later}").status_code == 200
    by_hash = {t.token_hash: t for t in ApiToken.objects.all()}
    assert not by_hash[hash_token(expired)].is_active and by_hash[hash_token(later)].is_active


def test_a_new_token_is_never_in_a_cookie() -> None:
    membership = MembershipFactory(role="operator")
    client = Client()
    client.force_login(membership.user)
    expires = (timezone.now() + timedelta(days=30)).strftime("%Y-%m-%d")
    response = client.post(
        reverse("admin:api_apitoken_add"),
        {"name": "ci", "role": "viewer", "expires_at_0": expires, "expires_at_1": "12:00:00"},
    )
    assert response.status_code == 302
    assert all("tajo_" not in morsel.value for morsel in response.cookies.values())
    assert "messages" not in response.cookies
    page = client.get(response["Location"]).content.decode()
    shown = re.search(r"tajo_[A-Za-z0-9_-]{20,}", page)
    assert shown, "the creator still sees the token once"
    assert shown.group(0) not in client.get(response["Location"]).content.decode()
