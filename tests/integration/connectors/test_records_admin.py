"""The operator's record, run and connection pages: what they find, and how many queries they cost.

The query counts are pinned for a tenant owner and a superuser, so a page that starts asking
per row (or scans for filter choices again) fails here. The figures at a million records are in
docs/benchmarks.md (`python -m tests.benchmarks.bench_admin`).
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from connectors.models import SyncRecord
from connectors.records_admin import CappedCountPaginator
from mappings.models import Catalog, CatalogItem, CustomFieldMapping, ListMapping
from tests.admin_forms import admin_form_data
from tests.factories import ConnectionFactory, MembershipFactory, SyncRunFactory, TenantFactory

pytestmark = pytest.mark.django_db

RECORDS = reverse("admin:connectors_syncrecord_changelist")
OUTCOMES = ["created", "updated", "unchanged", "failed", "skipped"]


def _records(run, count: int, *, prefix: str) -> None:
    SyncRecord.objects.bulk_create(
        SyncRecord(
            tenant_id=run.tenant_id,
            run=run,
            resource="deals" if i % 10 == 0 else "contacts",
            source_id=str(1000 + i),
            key=f"{prefix}{i}@example.org",
            outcome=OUTCOMES[i % len(OUTCOMES)],
            message="Brevo refused the address." if i % 5 == 3 else "",
        )
        for i in range(count)
    )


@pytest.fixture
def world():
    owner = MembershipFactory(role="owner")
    connection = ConnectionFactory(tenant=owner.tenant)
    big = SyncRunFactory(tenant=owner.tenant, connection=connection, resources=["contacts", "deals"])
    small = SyncRunFactory(tenant=owner.tenant, connection=connection)
    _records(big, 230, prefix="Ana.Person")
    _records(small, 20, prefix="bo.person")
    other = SyncRunFactory(tenant=TenantFactory())
    _records(other, 30, prefix="ana.person")  # the same addresses in another tenant
    superuser = get_user_model().objects.create_superuser("root", "root@example.org", "pw-123456")
    return {"owner": owner.user, "superuser": superuser, "run": big, "connection": connection}


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _shown(response) -> list[SyncRecord]:
    return list(response.context["cl"].result_list)


# ----------------------------------------------------------------------------- what the pages find


def test_search_by_exact_address_is_one_case_insensitive_equality(world) -> None:
    client = _client(world["owner"])
    response = client.get(RECORDS, {"q": "ANA.PERSON12@EXAMPLE.ORG"})
    assert [r.key for r in _shown(response)] == ["Ana.Person12@example.org"]
    # Not also a prefix match (Ana.Person12x@... would match that): one equality on upper(key).
    assert "LIKE" not in str(response.context["cl"].queryset.query)


def test_search_by_prefix_and_by_ac_id_stay_inside_the_tenant(world) -> None:
    client = _client(world["owner"])
    prefix = _shown(client.get(RECORDS, {"q": "ana.person1"}))
    assert prefix and all(r.key.lower().startswith("ana.person1") for r in prefix)
    assert [r.pk for r in prefix] == sorted((r.pk for r in prefix), reverse=True)  # newest first
    assert {r.tenant_id for r in prefix} == {world["run"].tenant_id}
    by_id = _shown(client.get(RECORDS, {"q": "1012"}))
    assert {(r.source_id, r.tenant_id) for r in by_id} == {("1012", world["run"].tenant_id)}


def test_a_superuser_searches_every_tenant(world) -> None:
    found = _shown(_client(world["superuser"]).get(RECORDS, {"q": "ana.person12@example.org"}))
    assert len({r.tenant_id for r in found}) == 2


def test_resource_filter_offers_the_registered_resources_without_reading_records(world) -> None:
    response = _client(world["owner"]).get(RECORDS, {"resource": "deals"})
    assert response.status_code == 200
    assert {r.resource for r in _shown(response)} == {"deals"}
    assert "?resource=custom_objects" in response.content.decode()  # listed although no record has it


def test_the_count_stops_a_few_pages_ahead_and_deep_pages_still_open(world) -> None:
    rows = SyncRecord.objects.filter(run=world["run"]).order_by("-id")
    near = CappedCountPaginator(rows, 2, page=1)
    assert (near.counted_up_to, near.count, near.capped) == (22, 23, True)
    far = CappedCountPaginator(rows, 2, page=110)
    assert (far.count, far.capped) == (230, False)
    assert len(far.page(115).object_list) == 2

    client = _client(world["owner"])
    last = client.get(RECORDS, {"run": world["run"].pk, "p": 3})
    assert last.status_code == 200 and len(_shown(last)) == 30
    first = client.get(RECORDS).content.decode()
    assert "250 sync records" in first  # small sets still show their exact count


def test_a_capped_count_says_more_than_and_links_the_next_page(world, monkeypatch) -> None:
    from connectors import records_admin

    monkeypatch.setattr(records_admin, "PAGES_AHEAD", 1)
    page = _client(world["owner"]).get(RECORDS).content.decode()
    assert "more than 200 sync records" in page  # 250 exist; counting stopped after 201
    assert "?p=3" in page and "250" not in page.split('class="paginator"')[1]


def test_a_deep_page_finds_its_ids_first_and_shows_the_same_rows(world, monkeypatch) -> None:
    from connectors import records_admin

    rows = SyncRecord.objects.filter(run=world["run"]).select_related("run").order_by("-id")
    expected = [r.pk for r in rows[40:50]]
    monkeypatch.setattr(records_admin, "DEEP_OFFSET", 20)
    page = CappedCountPaginator(rows, 10, page=5).page(5)
    assert "IN (" in str(page.object_list.query)  # fetched by id, not by offset over joined rows
    assert [r.pk for r in page.object_list] == expected


def test_one_runs_records_come_failures_first_from_their_index(world) -> None:
    from django.db import connection

    response = _client(world["owner"]).get(RECORDS, {"run": world["run"].pk})
    shown = [record.outcome for record in _shown(response)]
    ranks = [0 if o == "failed" else 1 if o == "skipped" else 2 for o in shown]
    assert ranks == sorted(ranks) and ranks[0] == 0

    # The index serves the sort only if its expression is the admin's, term for term: with
    # sorting disabled, PostgreSQL still sorts (at a prohibitive cost) when no index matches.
    query = response.context["cl"].queryset[:100]
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "rec_run_failures_first" in plan and "Sort" not in plan, plan


# ----------------------------------------------------------------------------- query counts

# The most queries a page may make. A superuser: session, user, (for a search: the tenant ids),
# the capped count, the page's ids (when the count is below its cap, or the page is deep), the
# page of rows with their runs. A tenant owner adds one membership lookup (its roles, which
# answer the tenant scoping and every permission check of the sidebar).
RECORD_PAGES = {
    "no filter": {},
    "failed": {"outcome__exact": "failed"},
    "deals": {"resource": "deals"},
    "one run": {"run": "RUN"},
    "exact address": {"q": "ana.person12@example.org"},
    "prefix": {"q": "ana.person1"},
    "ac id": {"q": "1012"},
    "page 2": {"p": "2"},
}
PINNED = {"owner": 8, "superuser": 6}


@pytest.mark.parametrize("who", ["owner", "superuser"])
@pytest.mark.parametrize("page", list(RECORD_PAGES))
def test_record_pages_make_a_fixed_number_of_queries(world, who, page, django_assert_max_num_queries) -> None:
    client = _client(world[who])
    params = {k: (str(world["run"].pk) if v == "RUN" else v) for k, v in RECORD_PAGES[page].items()}
    with django_assert_max_num_queries(PINNED[who]) as queries:
        response = client.get(RECORDS, params)
    assert response.status_code == 200 and _shown(response)
    sql = [q["sql"] for q in queries.captured_queries]
    assert not any("DISTINCT" in s for s in sql), "filter choices must not be read from the records"
    counts = [s for s in sql if "COUNT(" in s]
    assert len(counts) == 1 and "LIMIT" in counts[0], "one count, and it stops early"


@pytest.mark.parametrize("who", ["owner", "superuser"])
def test_record_and_run_pages_make_a_fixed_number_of_queries(
    world, who, django_assert_max_num_queries
) -> None:
    client = _client(world[who])
    record = SyncRecord.objects.filter(run=world["run"]).first()
    pages = [
        (reverse("admin:connectors_syncrecord_change", args=[record.pk]), {"owner": 8, "superuser": 5}),
        (reverse("admin:connectors_syncrun_change", args=[world["run"].pk]), {"owner": 13, "superuser": 10}),
        (reverse("admin:connectors_syncrun_changelist"), {"owner": 10, "superuser": 7}),
    ]
    for url, pinned in pages:
        with django_assert_max_num_queries(pinned[who]):
            assert client.get(url).status_code == 200


def _catalog(connection) -> None:
    catalog = Catalog.objects.create(
        tenant_id=connection.tenant_id, connection=connection, discovered_at=connection.created_at
    )
    CatalogItem.objects.bulk_create(
        CatalogItem(
            tenant_id=connection.tenant_id,
            catalog=catalog,
            side=side,
            kind=kind,
            external_id=f"ATTR_{n}" if kind == "attribute" else str(n),
            label=f"{kind} {n}",
            data_type="text" if kind in ("field", "attribute") else "",
        )
        for side, kind in (("ac", "field"), ("ac", "list"), ("brevo", "attribute"), ("brevo", "list"))
        for n in range(1, 61)
    )


def _mappings(connection, numbers: range) -> None:
    common = {"tenant_id": connection.tenant_id, "connection": connection}
    CustomFieldMapping.objects.bulk_create(
        CustomFieldMapping(**common, ac_field_id=n, attribute=f"ATTR_{n}") for n in numbers
    )
    ListMapping.objects.bulk_create(ListMapping(**common, ac_list_id=n, brevo_list_id=n) for n in numbers)


EDIT_BOTH = "?edit=customfieldmappings&edit=listmappings"
# The connection page: session, user, the owner's roles, the connection with its tenant, its
# catalog and its items, one read per mapping kind, the form's accounts and the user's permissions.
CONNECTION_PAGE_PINNED = {"owner": 20, "superuser": 18}


@pytest.mark.parametrize("who", ["owner", "superuser"])
def test_connection_page_queries_do_not_grow_with_its_mapping_rows(
    world, who, django_assert_max_num_queries
) -> None:
    client = _client(world[who])
    url = reverse("admin:connectors_connection_change", args=[world["connection"].pk])
    _catalog(world["connection"])
    _mappings(world["connection"], range(1, 4))
    with django_assert_max_num_queries(40) as few:
        small = client.get(url + EDIT_BOTH)
    assert small.status_code == 200
    _mappings(world["connection"], range(4, 31))  # 30 + 30 rows now
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url + EDIT_BOTH)
    page = response.content.decode()
    # Saved rows list their own value only; the catalog (60 items per dropdown) is listed once
    # per kind, in the "Add another" template, and copied in by the page's script.
    added_options = page.count("<option") - small.content.decode().count("<option")
    assert added_options < 27 * 20, added_options  # a full list per row would add 27 * 250
    assert page.count('<option value="ATTR_17" selected>') == 1  # row 17's own value
    assert 'data-options-from="id_customfieldmappings-__prefix__-attribute"' in page
    with django_assert_max_num_queries(CONNECTION_PAGE_PINNED[who]) as compact:
        assert client.get(url).status_code == 200  # 60 rows, listed read-only
    assert len(compact.captured_queries) <= len(few.captured_queries)


def test_many_rows_of_a_kind_are_listed_read_only_until_asked_to_edit(world) -> None:
    from mappings.admin import COMPACT_FROM

    connection = world["connection"]
    _catalog(connection)
    _mappings(connection, range(1, COMPACT_FROM + 1))
    CustomFieldMapping.objects.filter(connection=connection, ac_field_id=2).update(attribute="GONE")
    client = _client(world["owner"])
    url = reverse("admin:connectors_connection_change", args=[connection.pk])
    page = client.get(url).content.decode()
    assert "id_customfieldmappings-0-attribute" not in page  # no editable rows
    assert 'name="customfieldmappings-TOTAL_FORMS" value="0"' in page
    assert f"Custom fields → attributes ({COMPACT_FROM})" in page
    assert "not in Brevo yet" in page  # each row's checks are still shown
    rule = CustomFieldMapping.objects.get(connection=connection, ac_field_id=2)
    assert reverse("admin:mappings_customfieldmapping_change", args=[rule.pk]) in page
    assert 'href="?edit=customfieldmappings#customfieldmappings-group"' not in page  # the link keeps the path
    assert f'href="{url}?edit=customfieldmappings#customfieldmappings-group"' in page

    editable = client.get(url, {"edit": "customfieldmappings"}).content.decode()
    assert "id_customfieldmappings-0-attribute" in editable
    assert "id_listmappings-0-ac_list_id" not in editable  # the other kind stays compact


def test_saving_the_page_leaves_rows_listed_read_only_as_they_are(world) -> None:
    from mappings.admin import COMPACT_FROM

    connection = world["connection"]
    _catalog(connection)
    _mappings(connection, range(1, COMPACT_FROM + 1))
    client = _client(world["owner"])
    url = reverse("admin:connectors_connection_change", args=[connection.pk])
    response = client.get(url)
    data = admin_form_data(response)
    data["name"] = "renamed"
    saved = client.post(url, data)
    assert saved.status_code == 302, saved.content.decode()[:3000]
    connection.refresh_from_db()
    assert connection.name == "renamed"
    assert CustomFieldMapping.objects.filter(connection=connection).count() == COMPACT_FROM
    assert ListMapping.objects.filter(connection=connection).count() == COMPACT_FROM


def _markup(html: str) -> str:
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    return re.sub(r"\s+", " ", re.sub(r">\s+<", "><", html)).strip()


def test_mapping_rows_template_writes_the_markup_of_djangos_tabular_inline(world, monkeypatch) -> None:
    from mappings.admin import MappingInline

    _catalog(world["connection"])
    _mappings(world["connection"], range(1, 6))
    CustomFieldMapping.objects.filter(connection=world["connection"], ac_field_id=2).update(attribute="GONE")
    client = _client(world["owner"])
    url = reverse("admin:connectors_connection_change", args=[world["connection"].pk])
    ours = client.get(url).content.decode()
    monkeypatch.setattr(MappingInline, "template", "admin/edit_inline/tabular.html")
    django_page = client.get(url).content.decode()
    assert "not in Brevo yet" in ours  # a row with a problem is part of the comparison
    assert _markup(ours) == _markup(django_page)
