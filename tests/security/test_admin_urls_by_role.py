"""Every admin URL in the URLconf × every tenant role × GET and POST, generated from the URLconf.

The URL list is read from `admin.site.get_urls()` (django-rq's dashboard and every model admin's
extra views included), so a new admin view is covered the day it is added; a URL parameter this
suite does not know how to fill fails the suite instead of being skipped.

Roles: the owner, operator and viewer of tenant A aim at tenant B's objects (nothing of B may be
shown, nothing of B may change), and A's viewer aims at A's own objects (nothing may change).
POSTs carry a plausible change (new name and slug, delete confirmation, every admin action), so
a view that saves what it is sent is caught, not only one that crashes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import django_rq
import pytest
import rq
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core import serializers
from django.db import models
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver

from tenants.models import Membership, Tenant, TenantOwned
from tests.factories import TENANT_OBJECT_BUILDERS, MembershipFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db

B_MARKER = "Bravo-secret-tenant"
B_USER = "bravo-secret-user"
JOB_MARKER = "bravo-secret-job"
SKIPPED_NAMES = {"logout"}  # would end the session mid-walk; covered by Django itself
HACK = "hacked-by-another-role"


@dataclass(frozen=True)
class Route:
    route: str
    name: str | None
    params: tuple[str, ...]
    positional: int
    model: type[models.Model] | None


def _walk(patterns, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


def admin_routes() -> list[Route]:
    models_by_prefix = {
        f"{model._meta.app_label}/{model._meta.model_name}/": model for model in admin.site._registry
    }
    routes = []
    for route, pattern in _walk(admin.site.get_urls()):
        regex = pattern.pattern.regex
        model = next((m for p, m in models_by_prefix.items() if route.startswith(p)), None)
        routes.append(
            Route(route, pattern.name, tuple(regex.groupindex), regex.groups - len(regex.groupindex), model)
        )
    return routes


def _snapshot(tenant: Tenant) -> str:
    rows: list[models.Model] = []
    owned = {m for m in admin.site._registry if issubclass(m, TenantOwned)} | set(TENANT_OBJECT_BUILDERS)
    for model in owned:
        rows.extend(model.objects.filter(tenant=tenant).order_by("pk"))
    rows.append(Tenant.objects.get(pk=tenant.pk))
    rows.extend(Membership.objects.filter(tenant=tenant).order_by("pk"))
    users = get_user_model().objects.filter(memberships__tenant=tenant).order_by("pk")
    rows.extend(users)
    rows.extend(Group.objects.order_by("pk"))
    return serializers.serialize("json", rows, fields=None)


@dataclass
class Side:
    tenant: Tenant
    objects: dict[type[models.Model], models.Model]
    user: models.Model
    job_id: str


def _side(name: str, slug: str, username: str, queue: rq.Queue) -> Side:
    tenant = TenantFactory(name=name, slug=slug)
    user = MembershipFactory(tenant=tenant, role="owner", user=UserFactory(username=username)).user
    objects: dict[type[models.Model], models.Model] = {Tenant: tenant, Membership: user.memberships.get()}
    for model in admin.site._registry:
        if issubclass(model, TenantOwned):
            objects[model] = TENANT_OBJECT_BUILDERS[model](tenant)
    objects[get_user_model()] = user
    objects[Group] = Group.objects.get_or_create(name=f"{name} group")[0]
    # Actions such as "test connection" really call out: only ever to a closed loopback port.
    from connectors.models import ActiveCampaignAccount, BrevoAccount

    for model in (ActiveCampaignAccount, BrevoAccount):
        model.objects.filter(tenant=tenant).update(api_url="http://127.0.0.1:9")
    job = queue.enqueue("builtins.print", f"{JOB_MARKER}-{slug}")
    return Side(tenant, objects, user, job.id)


def _object_for(route: Route, side: Side) -> models.Model | None:
    if route.model is None:
        return None
    if route.model in side.objects:
        return side.objects[route.model]
    if not route.model._meta.managed:  # django-rq's dashboard: a model without a table
        return None
    # A model no tenant owns (e.g. django-axes' records): any row there is.
    return route.model._default_manager.first()


def _fill(route: Route, side: Side) -> str | None:
    """The route with its parameters filled for `side`'s objects; None for a model without rows."""
    obj = _object_for(route, side)
    values: dict[str, str] = {}
    for name in route.params:
        if name == "object_id":
            if obj is None:
                return None
            values[name] = str(obj.pk)
        elif name == "content_type_id":
            if obj is None:
                obj = side.objects[Tenant]
            values[name] = str(ContentType.objects.get_for_model(obj).pk)
        elif name == "id":
            values[name] = str(side.user.pk)
        elif name == "connection_id":
            values[name] = str(side.objects[_connection_model()].pk)
        elif name in ("queue_index", "scheduler_index", "connection_index"):
            values[name] = "0"
        elif name == "job_id":
            values[name] = side.job_id
        elif name in ("result_id", "key", "scheduler_name", "cron_job_name", "token"):
            values[name] = "x"
        elif name == "kind":
            values[name] = "full"  # the connection page's Run now buttons: full or incremental
        elif name == "app_label":
            values[name] = "connectors"
        elif name == "url":
            values[name] = f"connectors/connection/{side.objects[_connection_model()].pk}/"
        else:
            raise AssertionError(f"the security suite cannot fill <{name}> in {route.route}: teach _fill")
    positional: list[str] = []
    if route.positional:
        if route.positional != 2 or obj is None:
            raise AssertionError(f"the security suite cannot fill {route.route}: teach _fill")
        history = getattr(obj, "history", None)
        first = history.order_by("history_id").first() if history is not None else None
        # A model without an audit trail still has the revert URL; it must answer 404.
        positional = [str(obj.pk), str(first.history_id if first is not None else 1)]
    return "/admin/" + _render(route.route, values, positional)


def _render(route: str, values: dict[str, str], positional: list[str]) -> str:
    text = route
    for name, value in values.items():
        text = re.sub(rf"\(\?P<{name}>[^)]*\)\??", value, text)
        text = re.sub(rf"<(?:\w+:)?{name}>", value, text)
    for value in positional:
        text = re.sub(r"\(\[\^/\]\+\)", value, text, count=1)
    return text.replace("^", "").replace("$", "").replace("/?", "/").replace("\\", "")


def _connection_model() -> type[models.Model]:
    from connectors.models import Connection

    return Connection


def _post_data(route: Route, obj: models.Model | None) -> dict[str, object]:
    data: dict[str, object] = {"name": HACK, "slug": HACK, "post": "yes", "role": "owner", "enabled": "on"}
    if obj is not None:
        data["_selected_action"] = [str(obj.pk)]
    return data


def _actions(route: Route, user) -> list[str]:
    if route.model is None or route.name is None or not route.name.endswith("_changelist"):
        return []
    request = RequestFactory().get("/admin/")
    request.user = user
    return list(admin.site._registry[route.model].get_actions(request))


def _leaks(body: str, victim: Side) -> list[str]:
    found = [marker for marker in (B_MARKER, B_USER, JOB_MARKER + "-bravo") if marker in body]
    return found


@pytest.fixture
def world(redis_conn, monkeypatch, settings):
    from connectors.providers.http import retry

    settings.TAJO_ALLOW_PRIVATE_URLS = True  # the closed loopback port above
    monkeypatch.setattr(retry._StopPolicy, "__call__", lambda self, state: True)  # one attempt each
    queue = rq.Queue("tajo-sync", connection=django_rq.get_connection("tajo-sync"))
    alpha = _side("Alpha tenant", "alpha", "alpha-owner", queue)
    bravo = _side(B_MARKER, "bravo", B_USER, queue)
    roles = {
        role: MembershipFactory(tenant=alpha.tenant, role=role).user
        for role in ("owner", "operator", "viewer")
    }
    yield alpha, bravo, roles
    queue.empty()


def test_every_admin_url_refuses_every_role_what_it_may_not_do(world) -> None:
    alpha, bravo, roles = world
    routes = [r for r in admin_routes() if r.name not in SKIPPED_NAMES]
    assert len(routes) > 150, "the URLconf walk found too few admin URLs"
    assert any(r.route.startswith("django_rq/") for r in routes)
    clients = {}
    for role, user in roles.items():
        clients[role] = Client()
        clients[role].force_login(user)

    problems: list[str] = []
    before_b, before_a = _snapshot(bravo.tenant), _snapshot(alpha.tenant)
    visited = 0
    # Snapshots are compared once per model admin (and once for the site's own URLs): cheap
    # enough for CI, and a change is still traced to the admin that allowed it.
    routes.sort(key=lambda r: (r.model._meta.label if r.model else "", r.route))
    last = len(routes) - 1
    for position, route in enumerate(routes):
        plans = [(role, bravo) for role in roles] + [("viewer", alpha)]
        for role, target in plans:
            url = _fill(route, target)
            if url is None:
                continue
            client = clients[role]
            obj = _object_for(route, target)
            requests = [("GET", None), ("POST", _post_data(route, obj))]
            requests += [
                ("POST", {**_post_data(route, obj), "action": action})
                for action in _actions(route, roles[role])
            ]
            for method, data in requests:
                visited += 1
                try:
                    response = client.get(url) if method == "GET" else client.post(url, data)
                except Exception as exc:  # a traceback is a finding, reported with the rest
                    problems.append(f"{role} {method} {url}: raised {type(exc).__name__}: {exc}")
                    continue
                where = f"{role} {method} {url} ({response.status_code})"
                if response.status_code >= 500:
                    problems.append(f"{where}: server error")
                if target is bravo:
                    leaked = _leaks(response.content.decode(errors="replace"), bravo)
                    if leaked:
                        problems.append(f"{where}: shows tenant B's {leaked}")
                if route.route.startswith("django_rq/") and response.status_code not in (403, 302):
                    problems.append(f"{where}: the job dashboard answered a tenant user")
            if "_auth_user_id" not in client.session:
                client.force_login(roles[role])
        if position < last and routes[position + 1].model is route.model:
            continue
        after_b, after_a = _snapshot(bravo.tenant), _snapshot(alpha.tenant)
        where = route.model._meta.label if route.model else "the site's own admin URLs"
        if after_b != before_b:
            problems.append(f"{where}: tenant B's data changed")
            before_b = after_b
        if after_a != before_a:
            problems.append(f"{where}: A's viewer changed A's data")
            before_a = after_a
    queue = rq.Queue("tajo-sync", connection=django_rq.get_connection("tajo-sync"))
    if queue.fetch_job(bravo.job_id) is None or queue.count != 2:
        problems.append("a tenant user removed jobs from the queue")
    assert visited > 1000
    more = f"\n… {len(problems)} in all" if len(problems) > 60 else ""
    assert not problems, "\n".join(problems[:60]) + more
