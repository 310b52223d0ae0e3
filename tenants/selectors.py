"""Which tenants a user may read or change."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from tenants.models import WRITE_ROLES, Membership, Tenant


def tenant_ids_for_user(*, user: AbstractBaseUser | AnonymousUser, write: bool = False) -> set[int]:
    if not getattr(user, "is_authenticated", False):
        return set()
    # Cached on the user object: admin pages ask many times per request.
    cache_attr = "_tajo_tenant_ids_w" if write else "_tajo_tenant_ids_r"
    cached = getattr(user, cache_attr, None)
    if cached is not None:
        return cached
    memberships = Membership.objects.filter(user=user)
    if write:
        memberships = memberships.filter(role__in=WRITE_ROLES)
    ids = set(memberships.values_list("tenant_id", flat=True))
    setattr(user, cache_attr, ids)
    return ids


def tenants_for_user(*, user: AbstractBaseUser | AnonymousUser, write: bool = False) -> QuerySet[Tenant]:
    if getattr(user, "is_superuser", False):
        return Tenant.objects.all()
    return Tenant.objects.filter(id__in=tenant_ids_for_user(user=user, write=write))
