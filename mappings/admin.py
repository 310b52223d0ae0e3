"""Admin of the mappings app.

* Mapping rows are edited as inlines on the connection's change page (`ConnectionMappingsMixin`,
  one of the mixins the Connection admin is composed of); each row's ids come from catalog
  dropdowns and a "Checks" column shows what the row maps and what is wrong with it.
* The catalog has a read-only page; buttons on the connection page call one service each
  (discover, check, create a missing Brevo attribute) through `CatalogAdmin.get_urls`.
* Every mapping model also has its own (read and edit, no add) admin for its audit history.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from connectors.exceptions import ApiError
from connectors.models import Connection
from mappings.catalog import AC, CatalogIndex
from mappings.exceptions import DiscoveryFailed
from mappings.forms import FORMS, MappingFormSet, bind_form, checks_html
from mappings.models import (
    MAPPING_MODELS,
    AutomationMapping,
    Catalog,
    CatalogItem,
    CustomFieldMapping,
    CustomObjectFieldMapping,
    EventMapping,
    ListMapping,
    MappingRule,
    OwnerMapping,
    ScoreMapping,
    StageMapping,
    StandardFieldMapping,
    TagMapping,
)
from mappings.selectors import (
    catalog_index_for,
    discovered_index,
    events_without_mapping,
    mapping_history,
    mapping_validate,
)
from mappings.services import CREATABLE_TYPES, brevo_attribute_create, catalog_discover
from mappings.validation import MappingChecker
from tenants.admin import TenantScopedAdmin, TenantScopedInline, WithoutAuditHistory, scope_queryset

_PAGE_CHECKERS: ContextVar[dict[int, MappingChecker] | None] = ContextVar("tajo_page_checkers", default=None)

# --------------------------------------------------------------------------- helpers


def connection_for(request: HttpRequest, connection_id: int, *, write: bool) -> Connection:
    """The connection if the user may read it (and write it, when asked); else 404 / 403."""
    connections = Connection.objects.select_related("tenant", "ac_account", "brevo_account")
    connection = scope_queryset(request, connections).filter(pk=connection_id).first()
    if connection is None:
        raise Http404("No such connection.")
    if write and not scope_queryset(request, connections, write=True).filter(pk=connection_id).exists():
        raise PermissionDenied("You may read this connection but not change it.")
    return connection


def _connection_url(connection_id: int) -> str:
    return reverse("admin:connectors_connection_change", args=[connection_id])


def discover_and_report(modeladmin: admin.ModelAdmin, request: HttpRequest, connection: Connection) -> bool:
    try:
        catalog = catalog_discover(connection=connection)
    except (DiscoveryFailed, ApiError) as exc:
        modeladmin.message_user(request, f"Discovery of {connection} failed: {exc}", messages.ERROR)
        return False
    total = sum(catalog.counts.values())
    modeladmin.message_user(
        request,
        f"Discovered {total} items for {connection} in {catalog.duration_seconds:.1f}s.",
        messages.SUCCESS,
    )
    for kind, error in catalog.errors.items():
        modeladmin.message_user(
            request,
            f"{connection}: {kind} could not be read ({error}); the previous items were kept.",
            messages.WARNING,
        )
    return True


@admin.action(description="Discover catalog (ActiveCampaign and Brevo)", permissions=["change"])
def discover_catalog(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: models.QuerySet) -> None:
    for connection in scope_queryset(request, queryset, write=True).select_related(
        "tenant", "ac_account", "brevo_account"
    ):
        discover_and_report(modeladmin, request, connection)


# --------------------------------------------------------------------------- inlines on the connection


# From this many saved rows of one kind, the connection page lists them read-only (one line
# each, with its checks) until the operator asks to edit that kind: an editable row costs about
# a millisecond to build and render, and 100 of them kept the page above 300 ms.
COMPACT_FROM = 20
EDIT_PARAM = "edit"  # `?edit=<formset prefix>`, repeatable: the kinds shown editable
COMPACT_TEMPLATE = "admin/mappings/edit_inline/compact.html"


class MappingInline(TenantScopedInline):
    """Rows of one mapping kind on the connection page, validated against its catalog."""

    formset = MappingFormSet
    extra = 0
    readonly_fields = ["checks"]
    template = "admin/mappings/edit_inline/tabular.html"
    # Set by get_formset when the kind is listed read-only: [(rule, its page, its checks)].
    compact_rows: list[tuple[MappingRule, str, str]] | None = None
    edit_url = ""

    # An inline instance lives for one request (the model admin builds them per request), so it
    # may hold that request's catalog indexes and whether its kind is listed read-only.
    def _index(self, request: HttpRequest, connection: Connection | None) -> CatalogIndex | None:
        if connection is None:
            return None
        cache: dict[int, CatalogIndex | None] = request.__dict__.setdefault("_tajo_catalog_indexes", {})
        if connection.pk not in cache:
            # Through the one-to-one accessor: the page's catalog summary then reads the same
            # cached row instead of asking for it again.
            try:
                catalog = connection.catalog
            except Catalog.DoesNotExist:
                catalog = None
            cache[connection.pk] = discovered_index(catalog)
        self._indexes = cache
        return cache[connection.pk]

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any):
        kwargs["form"] = bind_form(FORMS[self.model], self._index(request, obj), in_formset=True)
        formset = super().get_formset(request, obj, **kwargs)
        registry = request.__dict__.setdefault("_tajo_mapping_formsets", [])
        rows = self._rows_shown(request, obj, formset.get_default_prefix())
        return type(formset.__name__, (formset,), {"sibling_registry": registry, "rows_shown": rows})

    def _rows_shown(self, request: HttpRequest, connection: Connection | None, prefix: str) -> list | None:
        """The rows the formset shows, read once here; none when the kind is listed read-only.

        A kind is listed read-only when it has many rows and the operator did not ask to edit
        it. It then sends no rows, so its part of a save carries none and changes nothing
        (`TOTAL_FORMS` 0); a page posted with that kind's rows keeps showing them editable.
        """
        if connection is None:
            return None
        if request.method == "POST" and request.POST.get(f"{prefix}-TOTAL_FORMS") != "0":
            return None
        queryset = self.get_queryset(request).filter(connection=connection)
        rows = list(queryset if queryset.ordered else queryset.order_by("pk"))  # the formset's order
        if prefix in request.GET.getlist(EDIT_PARAM):
            self.classes = [name for name in self.classes if name != "collapse"]  # asked for: open
            return rows
        if len(rows) < COMPACT_FROM:
            return rows
        checker = MappingChecker(self._index(request, connection))
        opts = self.model._meta
        # One reverse() for the kind, not one per row (about 50 µs each): the rows' pages differ
        # by their id only, and an integer id needs no quoting in a path.
        change_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[0])
        head, _, tail = change_url.rpartition("/0/")
        self.compact_rows = [(rule, f"{head}/{rule.pk}/{tail}", checks_html(rule, checker)) for rule in rows]
        params = request.GET.copy()
        params.appendlist(EDIT_PARAM, prefix)
        self.edit_url = f"{request.path}?{params.urlencode()}#{prefix}-group"
        self.template = COMPACT_TEMPLATE
        return []

    @admin.display(description="Checks")
    def checks(self, obj: MappingRule | None) -> str:
        if obj is None or obj.pk is None:
            return ""
        indexes = getattr(self, "_indexes", {})
        index = (
            indexes[obj.connection_id] if obj.connection_id in indexes else catalog_index_for(obj.connection)
        )
        return checks_html(obj, MappingChecker(index))


def _inline(model: type[MappingRule], title: str, *, collapse: bool = False) -> type[MappingInline]:
    form = FORMS[model]
    attrs = {
        "model": model,
        "form": form,
        "fields": [*form.Meta.fields, "checks"],
        "verbose_name_plural": title,
        "classes": ["collapse"] if collapse else [],
    }
    return type(f"{model.__name__}Inline", (MappingInline,), attrs)


MAPPING_INLINES: list[type[MappingInline]] = [
    _inline(StandardFieldMapping, "Standard fields → attributes"),
    _inline(CustomFieldMapping, "Custom fields → attributes"),
    _inline(ListMapping, "Lists → lists"),
    _inline(TagMapping, "Tags → list or attribute"),
    _inline(StageMapping, "Pipeline stages → Brevo stages", collapse=True),
    _inline(OwnerMapping, "Deal owners → Brevo deal owners", collapse=True),
    _inline(AutomationMapping, "Automations → Brevo events", collapse=True),
    _inline(EventMapping, "Tracked events → Brevo events", collapse=True),
    _inline(ScoreMapping, "Scores → attributes", collapse=True),
    _inline(CustomObjectFieldMapping, "Custom object fields → attributes", collapse=True),
]


class ConnectionMappingsMixin:
    """The mapping inlines of the Connection admin; cooperates with the other mixins through `super()`."""

    def get_inlines(self, request: HttpRequest, obj: Any = None) -> list:
        # Mappings need a saved connection (and its catalog): none on the add page.
        inlines = list(super().get_inlines(request, obj))
        return [*inlines, *MAPPING_INLINES] if obj is not None else inlines


# --------------------------------------------------------------------------- list filters


class ConnectionFilter(admin.SimpleListFilter):
    """Filter by connection, offering only the user's own connections."""

    title = "connection"
    parameter_name = "connection"
    path_to_connection = "connection"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        connections = scope_queryset(request, Connection.objects.select_related("tenant")).order_by(
            "tenant__slug", "name"
        )
        return [(str(connection.pk), str(connection)) for connection in connections]

    def queryset(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(**{f"{self.path_to_connection}_id": int(value)})
        return queryset


class CatalogConnectionFilter(ConnectionFilter):
    path_to_connection = "catalog__connection"


class PresenceFilter(admin.SimpleListFilter):
    title = "still there"
    parameter_name = "present"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", "found by the last discovery"), ("no", "missing (deleted since)")]

    def queryset(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
        if self.value() == "yes":
            return queryset.filter(missing_since__isnull=True)
        if self.value() == "no":
            return queryset.filter(missing_since__isnull=False)
        return queryset


# --------------------------------------------------------------------------- catalog


@admin.register(Catalog)
class CatalogAdmin(WithoutAuditHistory, TenantScopedAdmin):
    list_display = ["connection", "discovered_at", "item_count", "failed_kinds"]
    list_filter = [ConnectionFilter]
    search_fields = ["connection__name", "connection__tenant__slug"]
    fields = ["connection", "discovered_at", "duration_seconds", "counts_table", "errors_table"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # read-only; discovery writes it

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="items")
    def item_count(self, obj: Catalog) -> int:
        return sum((obj.counts or {}).values())

    @admin.display(description="kinds not read")
    def failed_kinds(self, obj: Catalog) -> str:
        return ", ".join(obj.errors or {}) or "—"

    @admin.display(description="counts per kind")
    def counts_table(self, obj: Catalog) -> str:
        items_url = reverse("admin:mappings_catalogitem_changelist")
        rows = []
        for key, count in obj.count_items():
            side, _, kind = key.partition(".")
            query = f"?connection={obj.connection_id}&side__exact={side}&kind__exact={kind}"
            rows.append((key, items_url + query, count))
        if not rows:
            return "—"
        return format_html(
            "<table><tbody>{}</tbody></table>",
            format_html_join("", '<tr><td>{}</td><td><a href="{}">{}</a></td></tr>', rows),
        )

    @admin.display(description="kinds that could not be read")
    def errors_table(self, obj: Catalog) -> str:
        if not obj.errors:
            return "—"
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}: {}</li>", obj.errors.items()))

    # ------------------------------------------------------------------ buttons of the connection page

    def get_urls(self) -> list:
        wrap = self.admin_site.admin_view
        name = "mappings_catalog"
        return [
            path(
                "connection/<int:connection_id>/discover/", wrap(self.discover_view), name=f"{name}_discover"
            ),
            path("connection/<int:connection_id>/check/", wrap(self.check_view), name=f"{name}_check"),
            path(
                "connection/<int:connection_id>/create-attribute/",
                wrap(self.create_attribute_view),
                name=f"{name}_create_attribute",
            ),
            path(
                "connection/<int:connection_id>/mapping-history/",
                wrap(self.history_view_for),
                name=f"{name}_mapping_history",
            ),
            *super().get_urls(),
        ]

    @staticmethod
    def _back(connection_id: int) -> HttpResponseRedirect:
        return HttpResponseRedirect(_connection_url(connection_id))

    def discover_view(self, request: HttpRequest, connection_id: int) -> HttpResponse:
        return require_POST(self._discover)(request, connection_id)

    def _discover(self, request: HttpRequest, connection_id: int) -> HttpResponse:
        connection = connection_for(request, connection_id, write=True)
        discover_and_report(self, request, connection)
        return self._back(connection.pk)

    def check_view(self, request: HttpRequest, connection_id: int) -> HttpResponse:
        connection = connection_for(request, connection_id, write=False)
        problems = mapping_validate(connection=connection)
        if not problems:
            self.message_user(
                request, f"All mappings of {connection} check out against its catalog.", messages.SUCCESS
            )
        for problem in problems[:30]:
            level = messages.ERROR if problem.blocking else messages.WARNING
            self.message_user(request, problem.text(), level)
        if len(problems) > 30:
            self.message_user(request, f"… and {len(problems) - 30} more problems.", messages.ERROR)
        if note := events_without_mapping(connection):
            self.message_user(request, note, messages.WARNING)
        return self._back(connection.pk)

    def create_attribute_view(self, request: HttpRequest, connection_id: int) -> HttpResponse:
        connection = connection_for(request, connection_id, write=True)
        source = request.POST if request.method == "POST" else request.GET
        name = (source.get("name") or "").strip().upper()
        kind = (source.get("type") or "").strip()
        options = self._options(connection, source)
        problem = None
        if kind not in CREATABLE_TYPES:
            problem = f"'{kind}' is not a type Tajo creates ({', '.join(CREATABLE_TYPES)})."
        if request.method == "POST" and problem is None:
            try:
                brevo_attribute_create(connection=connection, name=name, attribute_type=kind, options=options)
            except (ValueError, ApiError) as exc:
                problem = str(exc)
            else:
                self.message_user(request, f"Created the Brevo attribute {name} ({kind}).", messages.SUCCESS)
                return self._back(connection.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Create Brevo attribute {name}",
            "connection": connection,
            "name": name,
            "type": kind,
            "options": options,
            "problem": problem,
            "hidden": {
                key: source.get(key)
                for key in ("name", "type", "ac_field", "object_field")
                if source.get(key)
            },
            "back_url": _connection_url(connection.pk),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/mappings/create_attribute.html", context)

    @staticmethod
    def _options(connection: Connection, source: Any) -> list[str]:
        """Multiple-choice options come from the AC field the mapping reads (never from the URL)."""
        index = catalog_index_for(connection)
        if index is None:
            return []
        entry = None
        if (field_id := source.get("ac_field")) and str(field_id).isdigit():
            entry = index.get(AC, "field", field_id)
        elif object_field := source.get("object_field"):
            schema, _, key = str(object_field).partition("/")
            entry = index.get(AC, "custom_object_field", key, schema)
        return [str(option) for option in (entry.extra.get("options") or [])] if entry else []

    def history_view_for(self, request: HttpRequest, connection_id: int) -> HttpResponse:
        connection = connection_for(request, connection_id, write=False)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Mapping history of {connection}",
            "connection": connection,
            "entries": mapping_history(connection=connection),
            "back_url": _connection_url(connection.pk),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/mappings/mapping_history.html", context)


@admin.register(CatalogItem)
class CatalogItemAdmin(WithoutAuditHistory, TenantScopedAdmin):
    list_display = ["external_id", "label", "side", "kind", "data_type", "parent_id", "present", "catalog"]
    list_filter = ["side", "kind", PresenceFilter, CatalogConnectionFilter]
    search_fields = ["label", "external_id", "parent_id"]
    list_select_related = ["catalog__connection__tenant"]
    readonly_fields = [
        "catalog",
        "side",
        "kind",
        "external_id",
        "parent_id",
        "label",
        "data_type",
        "extra",
        "first_seen_at",
        "last_seen_at",
        "missing_since",
    ]
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(boolean=True, description="present")
    def present(self, obj: CatalogItem) -> bool:
        return obj.missing_since is None


# --------------------------------------------------------------------------- mapping rows on their own


class MappingRuleAdmin(TenantScopedAdmin):
    """One mapping kind across connections: list, edit (with the same checks), history."""

    list_filter = [ConnectionFilter]

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        # One catalog read per connection on the page for the "mapping" column, not one per row;
        # the page is rendered here so the column still finds the cache.
        token = _PAGE_CHECKERS.set({})
        try:
            response = super().changelist_view(request, extra_context)
            if hasattr(response, "render"):
                response.render()
            return response
        finally:
            _PAGE_CHECKERS.reset(token)

    @admin.display(description="mapping")
    def mapping(self, obj: MappingRule) -> str:
        """The row in words with catalog names beside the ids ("list 1 "Main List" → ...")."""
        cache = _PAGE_CHECKERS.get()
        if cache is None:
            return MappingChecker(catalog_index_for(obj.connection)).describe(obj)
        if obj.connection_id not in cache:
            cache[obj.connection_id] = MappingChecker(catalog_index_for(obj.connection))
        return cache[obj.connection_id].describe(obj)

    list_select_related = ["connection__tenant"]
    readonly_fields = ["connection", "checks"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # rows are added on the connection page, where the catalog is known

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        index = catalog_index_for(obj.connection) if obj is not None else None
        kwargs["form"] = bind_form(FORMS[self.model], index, in_formset=False)
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["connection", *FORMS[self.model].Meta.fields, "checks"]

    @admin.display(description="Checks")
    def checks(self, obj: MappingRule | None) -> str:
        if obj is None or obj.pk is None:
            return ""
        return checks_html(obj, MappingChecker(catalog_index_for(obj.connection)))

    @admin.display(description="custom object field")
    def object_field(self, obj: CustomObjectFieldMapping) -> str:
        return f"{obj.ac_schema_id}/{obj.ac_field_key}"


_LIST_COLUMNS: dict[type[MappingRule], tuple[list[str], list[str]]] = {
    StandardFieldMapping: (["source", "attribute", "transform"], ["attribute"]),
    CustomFieldMapping: (["ac_field_id", "attribute", "transform"], ["attribute", "=ac_field_id"]),
    ScoreMapping: (["ac_score_id", "attribute", "transform"], ["attribute"]),
    CustomObjectFieldMapping: (["ac_schema_id", "ac_field_key", "attribute"], ["attribute", "ac_field_key"]),
    ListMapping: (["ac_list_id", "brevo_list_id"], ["=ac_list_id", "=brevo_list_id"]),
    TagMapping: (["ac_tag_id", "brevo_list_id", "attribute"], ["attribute", "=ac_tag_id"]),
    StageMapping: (
        ["ac_pipeline_id", "ac_stage_id", "brevo_pipeline_id", "brevo_stage_id"],
        ["brevo_stage_id"],
    ),
    OwnerMapping: (["ac_user_id", "brevo_owner"], ["brevo_owner"]),
    AutomationMapping: (["ac_automation_id", "brevo_event_entered"], ["brevo_event_entered"]),
    EventMapping: (["ac_event_name", "brevo_event_name"], ["ac_event_name", "brevo_event_name"]),
}

for _model in MAPPING_MODELS:
    _columns, _search = _LIST_COLUMNS[_model]
    admin.site.register(
        _model,
        type(
            f"{_model.__name__}Admin",
            (MappingRuleAdmin,),
            {"list_display": ["mapping", "connection", *_columns, "updated_at"], "search_fields": _search},
        ),
    )
