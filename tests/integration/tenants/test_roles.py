"""Which tenants a user reads, writes and owns: one membership query answers all three."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import RequestFactory

from tenants.models import Membership, Tenant
from tenants.selectors import owned_tenant_ids, tenant_ids_for_user
from tests.factories import MembershipFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_roles_are_read_once_and_split_by_role(django_assert_num_queries) -> None:
    user = UserFactory()
    owned, operated, viewed = TenantFactory(), TenantFactory(), TenantFactory()
    MembershipFactory(user=user, tenant=owned, role="owner")
    MembershipFactory(user=user, tenant=operated, role="operator")
    MembershipFactory(user=user, tenant=viewed, role="viewer")
    TenantFactory()  # someone else's
    with django_assert_num_queries(1):
        assert tenant_ids_for_user(user=user) == {owned.pk, operated.pk, viewed.pk}
        assert tenant_ids_for_user(user=user, write=True) == {owned.pk, operated.pk}
        assert owned_tenant_ids(user=user) == {owned.pk}


def test_only_owners_manage_members_and_the_tenant() -> None:
    user = UserFactory()
    owned, operated = TenantFactory(), TenantFactory()
    MembershipFactory(user=user, tenant=owned, role="owner")
    MembershipFactory(user=user, tenant=operated, role="operator")
    request = RequestFactory().get("/admin/")
    request.user = user
    members, tenants = admin.site._registry[Membership], admin.site._registry[Tenant]
    assert members.has_change_permission(request, Membership.objects.get(tenant=owned))
    assert not members.has_change_permission(request, Membership.objects.get(tenant=operated))
    assert tenants.has_change_permission(request, owned)
    assert not tenants.has_change_permission(request, operated)


def test_a_user_without_memberships_owns_nothing() -> None:
    assert owned_tenant_ids(user=UserFactory()) == set()
