"""Tenant scoping for the admin: one mixin that every tenant-owned model admin uses."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import models
from django.http import Http404, HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from tenants.models import Membership, Tenant, TenantOwned
from tenants.selectors import owned_tenant_ids, tenant_ids_for_user, tenants_for_user


def _is_super(request: HttpRequest) -> bool:
    return bool(getattr(request.user, "is_superuser", False))


def readable_tenant_ids(request: HttpRequest) -> set[int]:
    return tenant_ids_for_user(user=request.user)


def writable_tenant_ids(request: HttpRequest) -> set[int]:
    return tenant_ids_for_user(user=request.user, write=True)


def scope_queryset(request: HttpRequest, qs: models.QuerySet, *, write: bool = False) -> models.QuerySet:
    """Limit any queryset of a tenant-owned model (or of Tenant itself) to the user's tenants."""
    if _is_super(request):
        return qs
    ids = writable_tenant_ids(request) if write else readable_tenant_ids(request)
    if qs.model is Tenant:
        return qs.filter(id__in=ids)
    if issubclass(qs.model, TenantOwned):
        return qs.filter(tenant_id__in=ids)
    return qs


class GuardedHistoryAdmin(SimpleHistoryAdmin):
    """simple_history's history and revert views with the admin's own rules.

    simple_history lets anyone who may *view* an object post its revert form, which saves; here
    a POST needs the change permission. An object the user may not see (another tenant's, or one
    that never existed) is the same 404 either way, so the answer tells nothing about other
    tenants' ids.
    """

    def _history_object_or_404(self, request: HttpRequest, object_id: str) -> Any:
        attribute = getattr(self.model._meta, "simple_history_manager_attribute", None)
        if attribute is None:  # a model without an audit trail has no versions to show
            raise Http404("No such object.")
        history = getattr(self.model, attribute)
        pk_name = self.model._meta.pk.attname
        obj = self.get_queryset(request).filter(**{pk_name: object_id}).first()
        if obj is None:
            # A deleted object is only known through its history rows; they carry its tenant.
            latest = history.filter(**{pk_name: object_id}).order_by("-history_date").first()
            obj = latest.instance if latest is not None else None
        if obj is None or not self.has_view_history_or_change_history_permission(request, obj):
            raise Http404("No such object.")
        return obj

    def history_view(self, request: HttpRequest, object_id: str, extra_context: dict | None = None):
        try:
            self._history_object_or_404(request, object_id)
        except (ValueError, TypeError, ValidationError) as exc:
            raise Http404("No such object.") from exc
        return super().history_view(request, object_id, extra_context)

    def history_form_view(
        self, request: HttpRequest, object_id: str, version_id: str, extra_context: dict | None = None
    ):
        try:
            obj = self._history_object_or_404(request, object_id)
            history = getattr(self.model, self.model._meta.simple_history_manager_attribute)
            if not history.filter(
                **{self.model._meta.pk.attname: obj.pk, "history_id": int(version_id)}
            ).exists():
                raise Http404("No such version.")
        except (ValueError, TypeError, ValidationError) as exc:
            raise Http404("No such object.") from exc
        if request.method not in ("GET", "HEAD") and not self.has_change_history_permission(request, obj):
            raise PermissionDenied("You may look at this version but not revert to it.")
        return super().history_form_view(request, object_id, version_id, extra_context)


class TenantChoicesMixin:
    """Foreign-key and many-to-many choices limited to the user's tenants."""

    def formfield_for_foreignkey(self, db_field: models.ForeignKey, request: HttpRequest, **kwargs: Any):
        kwargs["queryset"] = self._scoped_choices(db_field, request, kwargs.get("queryset"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field: models.ManyToManyField, request: HttpRequest, **kwargs: Any):
        kwargs["queryset"] = self._scoped_choices(db_field, request, kwargs.get("queryset"))
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @staticmethod
    def _scoped_choices(db_field: models.Field, request: HttpRequest, queryset: models.QuerySet | None):
        related = db_field.related_model
        if queryset is None:
            queryset = related._default_manager.all()
        # Choosing a tenant means writing into it.
        return scope_queryset(request, queryset, write=related is Tenant)


class TenantScopedAdmin(TenantChoicesMixin, GuardedHistoryAdmin):
    """Admin for a TenantOwned model.

    Scopes list, change, delete, history, actions and autocomplete (all of which go through
    get_queryset or the permission hooks), fixes the tenant on save, makes viewers read-only
    and lets superusers see everything.
    """

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        return scope_queryset(request, super().get_queryset(request))

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        form_class = super().get_form(request, obj, change, **kwargs)
        writable = writable_tenant_ids(request)
        implied = next(iter(writable)) if not _is_super(request) and len(writable) == 1 else None

        class TenantBoundForm(form_class):  # type: ignore[misc,valid-type]
            """Knows its tenant before validation, so "(tenant, name) already exists" is a form error.

            With the tenant field hidden (one writable tenant) Django would skip every unique
            constraint that names it, and a duplicate would reach the database as an IntegrityError.
            """

            def _post_clean(self) -> None:
                if getattr(self.instance, "tenant_id", None) is None and implied is not None:
                    self.instance.tenant_id = implied
                super()._post_clean()

            def _get_validation_exclusions(self):
                excluded = super()._get_validation_exclusions()
                if getattr(self.instance, "tenant_id", None) is not None:
                    excluded.discard("tenant")
                return excluded

        TenantBoundForm.__name__ = form_class.__name__
        return TenantBoundForm

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        """`?ac_account=abc` on an add page is dropped, not a ValueError when the widget renders."""
        initial = super().get_changeform_initial_data(request)
        for name in list(initial):
            try:
                field = self.model._meta.get_field(name)
            except FieldDoesNotExist:  # not a model field: the form ignores it anyway
                continue
            target = getattr(field, "target_field", None) if field.is_relation else field
            if target is None:
                continue
            values = initial[name] if isinstance(initial[name], list) else [initial[name]]
            try:
                for value in values:
                    target.to_python(value)
            except ValidationError:
                del initial[name]
        return initial

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_super(request) or bool(readable_tenant_ids(request))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if _is_super(request):
            return True
        ids = readable_tenant_ids(request)
        return bool(ids) if obj is None else obj.tenant_id in ids

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _is_super(request) or bool(writable_tenant_ids(request))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if _is_super(request):
            return True
        ids = writable_tenant_ids(request)
        return bool(ids) if obj is None else obj.tenant_id in ids

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_change_permission(request, obj)

    def get_exclude(self, request: HttpRequest, obj: Any = None):
        excluded = list(super().get_exclude(request, obj) or [])
        # One writable tenant: nothing to choose, the tenant is set on save.
        if not _is_super(request) and len(writable_tenant_ids(request)) == 1:
            excluded.append("tenant")
        return excluded

    def get_fieldsets(self, request: HttpRequest, obj: Any = None):
        fieldsets = super().get_fieldsets(request, obj)
        if "tenant" not in self.get_exclude(request, obj):
            return fieldsets
        return [
            (name, {**opts, "fields": [f for f in opts["fields"] if f != "tenant"]})
            for name, opts in fieldsets
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and "tenant" not in readonly and "tenant" not in self.get_exclude(request, obj):
            readonly.append("tenant")  # moving an object between tenants is never an edit
        return readonly

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        ensure_tenant_writable(request, obj)
        super().save_model(request, obj, form, change)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        instances = formset.save(commit=False)
        for instance in instances:
            if isinstance(instance, TenantOwned):
                instance.tenant_id = form.instance.tenant_id
                ensure_tenant_writable(request, instance)
            instance.save()
        for deleted in formset.deleted_objects:
            deleted.delete()
        formset.save_m2m()


def ensure_tenant_writable(request: HttpRequest, obj: Any) -> None:
    if _is_super(request):
        return
    writable = writable_tenant_ids(request)
    if getattr(obj, "tenant_id", None) is None and len(writable) == 1:
        obj.tenant_id = next(iter(writable))
    if obj.tenant_id not in writable:
        raise PermissionDenied("You cannot change data of this tenant.")


class WithoutAuditHistory:
    """For models without an audit trail of their own (runs, records, catalogs): Django's plain history."""

    object_history_template = None

    def history_view(self, request: HttpRequest, object_id: str, extra_context: dict | None = None):
        return admin.ModelAdmin.history_view(self, request, object_id, extra_context)


class TenantScopedInline(TenantChoicesMixin, admin.TabularInline):
    """Inline rows of a tenant-owned parent: writable only for the parent's writers."""

    extra = 0

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        return scope_queryset(request, super().get_queryset(request))

    def _parent_writable(self, request: HttpRequest, obj: Any) -> bool:
        if _is_super(request):
            return True
        ids = writable_tenant_ids(request)
        return bool(ids) if obj is None else obj.tenant_id in ids

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_super(request) or bool(readable_tenant_ids(request))

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._parent_writable(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._parent_writable(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._parent_writable(request, obj)


@admin.register(Tenant)
class TenantAdmin(GuardedHistoryAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        return (
            tenants_for_user(user=request.user) if not _is_super(request) else super().get_queryset(request)
        )

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_super(request) or bool(readable_tenant_ids(request))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if _is_super(request):
            return True
        ids = readable_tenant_ids(request)
        return bool(ids) if obj is None else obj.pk in ids

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _is_super(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if _is_super(request):
            return True
        owner_of = owned_tenant_ids(user=request.user)
        return bool(owner_of) if obj is None else obj.pk in owner_of

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_super(request)


@admin.register(Membership)
class MembershipAdmin(TenantChoicesMixin, GuardedHistoryAdmin):
    """Owners manage who belongs to their tenants; others may look."""

    list_display = ["user", "tenant", "role"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__email", "tenant__name"]

    def _owner_tenants(self, request: HttpRequest) -> set[int]:
        return owned_tenant_ids(user=request.user)

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        qs = super().get_queryset(request)
        return qs if _is_super(request) else qs.filter(tenant_id__in=readable_tenant_ids(request))

    def formfield_for_foreignkey(self, db_field: models.ForeignKey, request: HttpRequest, **kwargs: Any):
        if db_field.name == "tenant" and not _is_super(request):
            kwargs["queryset"] = Tenant.objects.filter(id__in=self._owner_tenants(request))
        if db_field.name == "user" and not _is_super(request):
            # Never list the platform's users to a tenant owner: only people already in their tenants.
            # Inviting a new person is a platform admin's job.
            kwargs["queryset"] = db_field.related_model._default_manager.filter(
                memberships__tenant_id__in=readable_tenant_ids(request)
            ).distinct()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_super(request) or bool(readable_tenant_ids(request))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if _is_super(request):
            return True
        ids = readable_tenant_ids(request)
        return bool(ids) if obj is None else obj.tenant_id in ids

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _is_super(request) or bool(self._owner_tenants(request))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if _is_super(request):
            return True
        owned = self._owner_tenants(request)
        return bool(owned) if obj is None else obj.tenant_id in owned

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Membership, form: Any, change: bool) -> None:
        if not _is_super(request) and obj.tenant_id not in self._owner_tenants(request):
            raise PermissionDenied("Only an owner of this tenant can manage its members.")
        super().save_model(request, obj, form, change)
