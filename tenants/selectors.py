"""Which tenants a user may read or change."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from tenants.models import WRITE_ROLES, Membership, Role, Tenant


def _roles(user: AbstractBaseUser | AnonymousUser) -> dict[int, str]:
    """The user's role in each of their tenants, read once per user object.

    Cached on the user: an admin page asks for readable, writable and owned tenants many times
    (scoping, each model's permissions in the sidebar), and one query answers all of them.
    """
    if not getattr(user, "is_authenticated", False):
        return {}
    cached = getattr(user, "_tajo_tenant_roles", None)
    if cached is None:
        cached = dict(Membership.objects.filter(user=user).values_list("tenant_id", "role"))
        user._tajo_tenant_roles = cached
    return cached


def tenant_ids_for_user(*, user: AbstractBaseUser | AnonymousUser, write: bool = False) -> set[int]:
    roles = _roles(user)
    return {tenant_id for tenant_id, role in roles.items() if role in WRITE_ROLES} if write else set(roles)


def owned_tenant_ids(*, user: AbstractBaseUser | AnonymousUser) -> set[int]:
    """The tenants the user owns (may manage members and the tenant itself)."""
    return {tenant_id for tenant_id, role in _roles(user).items() if role == Role.OWNER}


def tenants_for_user(*, user: AbstractBaseUser | AnonymousUser, write: bool = False) -> QuerySet[Tenant]:
    if getattr(user, "is_superuser", False):
        return Tenant.objects.all()
    return Tenant.objects.filter(id__in=tenant_ids_for_user(user=user, write=write))
