"""Parts of the per-record log's admin that keep it fast at millions of rows.

* `CappedCountPaginator` counts at most a few pages past the one asked for, so the count never
  scans the whole (filtered) table; the page says "more than N" when it stopped counting.
* `ResourceFilter` offers the registered resources instead of a `SELECT DISTINCT resource` scan.
* `record_search` picks one indexed lookup for a term: an AC id, an exact e-mail address, or
  the start of a key; never an OR of several (each would need its own scan).

Every query here starts with the tenant, so the `(tenant_id, ...)` indexes of the table serve
tenant users and superusers alike (for a superuser the search names every tenant: PostgreSQL
walks a leading `tenant_id = ANY(...)` column once per tenant instead of reading the whole index).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.contrib import admin
from django.contrib.admin.views.main import PAGE_VAR
from django.core.paginator import Page, Paginator
from django.db import models
from django.db.models import F
from django.http import HttpRequest

from connectors.sync.registry import RESOURCE_MODULES
from tenants.models import Tenant

# Pages counted beyond the one being shown: enough for the page links around it.
PAGES_AHEAD = 10
# Columns of a run that a list of records never shows (a run's mapping snapshot can be large).
RUN_BULK_FIELDS = ("mapping_snapshot", "state", "counters", "resources", "error")
# From this offset on, a page's ids are found first (an index-only walk), then its rows.
DEEP_OFFSET = 1000


class CappedCountPaginator(Paginator):
    """A paginator whose count stops `PAGES_AHEAD` pages after `page`.

    `capped` tells the page that more rows exist than were counted; `count` is then one more
    than `counted_up_to`, so the next page exists and gets a link, and deep pages keep working.
    """

    def __init__(self, object_list: Any, per_page: int, *args: Any, page: int = 1, **kwargs: Any) -> None:
        super().__init__(object_list, per_page, *args, **kwargs)
        self.counted_up_to = (max(page, 1) + PAGES_AHEAD) * int(per_page)

    @cached_property
    def count(self) -> int:
        rows = self.object_list
        if isinstance(rows, models.QuerySet):
            # The order does not change a count; without it PostgreSQL may take any index.
            return rows.order_by()[: self.counted_up_to + 1].count()
        return len(rows)

    @property
    def capped(self) -> bool:
        return self.count > self.counted_up_to

    def page(self, number: Any) -> Page:
        """A page whose rows are fetched by id when that is cheaper than reading them in order.

        * Deep pages: the offset then walks an index, not joined rows.
        * Few matches (the count did not reach its cap): they are sorted by themselves. Ordered
          newest first as they are, PostgreSQL may instead walk the whole table backwards by
          primary key, when its statistics guess that a search matches thousands of rows.
        """
        page = super().page(number)
        rows = self.object_list
        if not isinstance(rows, models.QuerySet) or not self.count:
            return page
        newest_first = tuple(rows.query.order_by) in (("-pk",), ("-id",))
        few = newest_first and not self.capped
        if few or (page.number - 1) * self.per_page >= DEEP_OFFSET:
            if few:
                # An order the primary key cannot serve: the matches are found by their own index.
                rows = rows.order_by((F("pk") + 0).desc())
            ids = list(rows.values_list("pk", flat=True)[page.start_index() - 1 : page.end_index()])
            page.object_list = self.object_list.filter(pk__in=ids)
        return page


def page_number(request: HttpRequest) -> int:
    """The page the changelist will show (its `p` parameter), 1 when absent or not a number."""
    value = request.GET.get(PAGE_VAR, "1")
    return int(value) if value.isdigit() else 1


class ResourceFilter(admin.SimpleListFilter):
    """The resources Tajo syncs, from the registry: no scan of the records for their values."""

    title = "resource"
    parameter_name = "resource"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [(name, name.replace("_", " ")) for name in RESOURCE_MODULES]

    def queryset(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
        return queryset.filter(resource=self.value()) if self.value() else queryset


def _looks_like_email(term: str) -> bool:
    local, at, domain = term.partition("@")
    return bool(at and local and "." in domain and not domain.endswith("."))


def record_search(*, request: HttpRequest, queryset: models.QuerySet, term: str) -> models.QuerySet:
    """Records matching "e-mail or AC id": one indexed lookup, tenant first."""
    term = (term or "").strip()
    if not term:
        return queryset
    if getattr(request.user, "is_superuser", False):
        queryset = queryset.filter(tenant_id__in=list(Tenant.objects.values_list("id", flat=True)))
    if term.isdigit():
        return queryset.filter(source_id=term)
    if _looks_like_email(term):
        # A whole address: equality on the upper-cased key; a prefix match would add nothing.
        return queryset.filter(key__iexact=term)
    return queryset.filter(key__istartswith=term)
