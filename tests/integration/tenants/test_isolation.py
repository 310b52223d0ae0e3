"""Tenant isolation, walked over every admin registered on the site.

An operator of tenant A pokes at tenant B's objects through every admin URL (list, search,
add, change, delete, history, every action, autocomplete). Nothing of B may be shown or
changed. The suite covers new models on its own: a registered tenant-owned model without a
builder in tests/factories.py fails here.
"""

from __future__ import annotations

import json

import pytest
from django.contrib import admin
from django.core import serializers
from django.test import Client
from django.urls import NoReverseMatch, reverse

from tenants.models import Tenant, TenantOwned
from tests.factories import TENANT_OBJECT_BUILDERS, MembershipFactory, TenantFactory

pytestmark = pytest.mark.django_db

B_MARKER = "Bravo-secret-tenant"


def _tenant_owned_admins() -> list[tuple[type, admin.ModelAdmin]]:
    return [(m, a) for m, a in admin.site._registry.items() if issubclass(m, TenantOwned)]


def _snapshot(tenant: Tenant) -> str:
    rows = []
    for model in {m for m, _ in _tenant_owned_admins()} | set(TENANT_OBJECT_BUILDERS):
        rows.extend(model.objects.filter(tenant=tenant).order_by("pk"))
    rows.append(Tenant.objects.get(pk=tenant.pk))
    return serializers.serialize("json", rows)


def _url(model: type, view: str, *args: object) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def world():
    tenant_a = TenantFactory(name="Alpha tenant")
    tenant_b = TenantFactory(name=B_MARKER, slug="bravo")
    operator = MembershipFactory(tenant=tenant_a, role="operator").user
    objects_b, objects_a = {}, {}
    for model, _ in _tenant_owned_admins():
        objects_a[model] = TENANT_OBJECT_BUILDERS[model](tenant_a)
        objects_b[model] = TENANT_OBJECT_BUILDERS[model](tenant_b)
    client = Client()
    client.force_login(operator)
    return tenant_a, tenant_b, objects_a, objects_b, client


def test_every_registered_tenant_model_has_a_builder() -> None:
    missing = [m.__name__ for m, _ in _tenant_owned_admins() if m not in TENANT_OBJECT_BUILDERS]
    assert not missing, f"add builders to tests/factories.py for: {missing}"


def _assert_hidden(response, model: type, obj_b, *, echoed: str = "") -> None:
    body = response.content.decode(errors="replace")
    if echoed:
        body = body.replace(echoed, "")  # a search box repeats the term typed
    assert B_MARKER not in body, (
        f"{model.__name__}: tenant B's name leaked at {response.request['PATH_INFO']}"
    )
    change_b = _url(model, "change", obj_b.pk)
    assert f'href="{change_b}"' not in body, (
        f"{model.__name__}: link to B's object at {response.request['PATH_INFO']}"
    )


def test_operator_of_a_sees_and_changes_nothing_of_b(world) -> None:
    _tenant_a, tenant_b, objects_a, objects_b, client = world
    before = _snapshot(tenant_b)
    for model, model_admin in _tenant_owned_admins():
        obj_b = objects_b[model]
        changelist = _url(model, "changelist")
        response = client.get(changelist)
        assert response.status_code == 200, f"{model.__name__} changelist: {response.status_code}"
        _assert_hidden(response, model, obj_b)
        assert f'href="{_url(model, "change", objects_a[model].pk)}"' in response.content.decode(), (
            f"{model.__name__}: A's own object missing from its list"
        )
        for term in (B_MARKER, str(obj_b.pk)):
            _assert_hidden(client.get(changelist, {"q": term}), model, obj_b, echoed=term)

        for view in ("change", "delete", "history"):
            response = client.get(_url(model, view, obj_b.pk))
            assert response.status_code in (302, 403, 404), f"{model.__name__} {view}: {response.status_code}"
            _assert_hidden(response, model, obj_b)
            client.post(_url(model, view, obj_b.pk), {"post": "yes", "name": "hijacked"})

        for action_name in model_admin.get_actions(_request_for(client, changelist)):
            client.post(changelist, {"action": action_name, "_selected_action": [obj_b.pk], "post": "yes"})

        # Adding into B is refused: the tenant choice only lists A.
        try:
            response = client.get(_url(model, "add"))
        except NoReverseMatch:
            continue
        if response.status_code == 200 and "tenant" in response.content.decode():
            assert (
                f'value="{tenant_b.pk}"' not in response.content.decode().split('name="tenant"', 1)[-1][:2000]
            )

    for model, model_admin in admin.site._registry.items():
        for field_name in getattr(model_admin, "autocomplete_fields", ()):
            remote = model._meta.get_field(field_name).related_model
            response = client.get(
                reverse("admin:autocomplete"),
                {
                    "app_label": model._meta.app_label,
                    "model_name": model._meta.model_name,
                    "field_name": field_name,
                    "term": "",
                },
            )
            if response.status_code == 200 and remote in objects_b:
                ids = {row["id"] for row in json.loads(response.content)["results"]}
                assert str(objects_b[remote].pk) not in ids, (
                    f"autocomplete {model.__name__}.{field_name} leaks B"
                )

    assert _snapshot(tenant_b) == before, "tenant B's data changed through A's operator"


def _request_for(client: Client, path: str):
    from django.test import RequestFactory

    request = RequestFactory().get(path)
    request.user = _session_user(client)
    return request


def _session_user(client: Client):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(pk=client.session["_auth_user_id"])


def test_viewer_reads_but_cannot_change(world) -> None:
    tenant_a, _, objects_a, _, _ = world
    viewer = MembershipFactory(tenant=tenant_a, role="viewer").user
    client = Client()
    client.force_login(viewer)
    for model, _ in _tenant_owned_admins():
        obj = objects_a[model]
        assert client.get(_url(model, "changelist")).status_code == 200
        response = client.get(_url(model, "change", obj.pk))
        assert response.status_code == 200, f"viewer cannot read {model.__name__}"
        assert 'name="_save"' not in response.content.decode(), (
            f"viewer gets a save button on {model.__name__}"
        )
        assert client.post(_url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403
        assert model.objects.filter(pk=obj.pk).exists()


def test_user_without_membership_sees_no_tenant_data(world) -> None:
    outsider = MembershipFactory().user
    outsider.memberships.all().delete()
    client = Client()
    client.force_login(outsider)
    index = client.get(reverse("admin:index")).content.decode()
    for model, _ in _tenant_owned_admins():
        assert client.get(_url(model, "changelist")).status_code == 403
        assert _url(model, "changelist") not in index


def test_superuser_sees_every_tenant(world) -> None:
    _, _, _, objects_b, _ = world
    boss = MembershipFactory().user
    boss.is_superuser = True
    boss.save()
    client = Client()
    client.force_login(boss)
    for model, _ in _tenant_owned_admins():
        response = client.get(_url(model, "changelist"))
        assert f'href="{_url(model, "change", objects_b[model].pk)}"' in response.content.decode()
