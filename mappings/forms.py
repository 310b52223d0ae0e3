"""Admin forms of the mapping rows: every id is chosen from the discovered catalog.

Each form class is bound to one connection's catalog per request (`catalog_index` class
attribute, set by the admin), so the dropdowns list only that connection's items with their
labels and types, and a submitted value that is not in the list is refused. Brevo attribute
boxes also take a new name; validation then says it does not exist yet and links to the page
that creates it with the right type.

Rows that are new or changed are validated at save with the same checker the pre-run check
uses; the "Checks" column shows every row's current state, including drift found by a later
discovery.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any, ClassVar
from urllib.parse import urlencode

from django import forms
from django.forms.models import BaseInlineFormSet
from django.forms.utils import ErrorList
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from mappings.catalog import AC, BREVO, CatalogIndex, Entry
from mappings.compat import (
    SCORE_SOURCE_TYPE,
    STANDARD_SOURCE_TYPES,
    brevo_type,
    default_transform,
    source_type,
    writable_category,
)
from mappings.models import (
    TRANSFORM_CHOICES,
    AutomationMapping,
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
from mappings.validation import MappingChecker, Problem
from mappings.widgets import (
    CatalogSelect,
    Choices,
    FastCheckboxInput,
    FastHiddenInput,
    FastSelect,
    SharedChoices,
    choice_key,
    shared_list,
)

# --------------------------------------------------------------------------- choices


def _id_label(entry: Entry, *details: str) -> str:
    parts = [entry.label or entry.external_id, *[d for d in details if d]]
    return f"{' · '.join(parts)} (id {entry.external_id})"


def _entry_choices(
    index: CatalogIndex | None,
    side: str,
    kind: str,
    current: object,
    label: Any = _id_label,
    *,
    group_kind: str | None = None,
    value: Any = None,
) -> SharedChoices:
    """Choices over present catalog entries (grouped by parent when `group_kind`), plus the current value."""
    value = value or _external_id

    def build() -> Choices:
        entries = index.items(side, kind) if index is not None else []
        choices: Choices = [("", "---------")]
        if group_kind and index is not None:
            groups: dict[str, list[tuple[str, str]]] = {}
            for entry in entries:
                groups.setdefault(entry.parent_id, []).append((value(entry), label(entry)))
            for parent_id, options in groups.items():
                parent = index.get(side, group_kind, parent_id)
                choices.append((parent.label if parent else parent_id or "—", options))
        else:
            choices.extend((value(entry), label(entry)) for entry in entries)
        return choices

    shared = shared_list(
        index, ("entries", side, kind, group_kind, choice_key(label), choice_key(value)), build
    )
    known = shared.known
    if known is None:
        known = shared.known = {
            str(v)
            for group in shared.choices
            for v in ([group[0]] if not isinstance(group[1], list) else [o[0] for o in group[1]])
        }
    extra: Choices = []
    if current not in (None, "") and str(current) not in known:
        extra.append((str(current), f"{current} — not in the catalog"))
    return SharedChoices(shared, extra)


def _external_id(entry: Entry) -> str:
    return entry.external_id


def _attribute_choices(index: CatalogIndex | None, current: object) -> SharedChoices:
    def build() -> Choices:
        choices: Choices = [("", "---------")]
        if index is not None:
            for entry in index.items(BREVO, "attribute"):
                if writable_category(entry.extra.get("category")) and brevo_type(entry.data_type):
                    choices.append((entry.external_id, f"{entry.external_id} · {entry.data_type}"))
        return choices

    shared = shared_list(index, ("attributes",), build)
    known = shared.known
    if known is None:
        known = shared.known = {value for value, _ in shared.choices}
    current_text = str(current or "").strip().upper()
    extra: Choices = []
    if current_text and current_text not in known:
        extra.append((current_text, f"{current_text} — not in Brevo yet"))
    return SharedChoices(shared, extra)


def _int_or_none(value: Any) -> int | None:
    return int(value) if value not in (None, "") else None


def _catalog_field(
    label: str, choices: Choices, *, required: bool = True, coerce: Any = _int_or_none
) -> forms.Field:
    return forms.TypedChoiceField(
        label=label,
        choices=choices,
        coerce=coerce,
        empty_value=None,
        required=required,
        widget=CatalogSelect(attrs={"required": "required"} if required else None),
    )


# --------------------------------------------------------------------------- base form


class MappingForm(forms.ModelForm):
    """Base of every mapping row form."""

    catalog_index: ClassVar[CatalogIndex | None] = None
    # The sibling formsets of this request (inline use) or None (a row edited on its own).
    in_formset: ClassVar[bool] = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.checker = MappingChecker(self.catalog_index)
        present = set(self.fields)
        self.setup_fields()
        for name in set(self.fields) - present:
            del self.fields[name]  # excluded by the admin (read-only view): stay excluded

    # -- hooks for subclasses

    def setup_fields(self) -> None:
        """Replace id fields by catalog dropdowns."""

    def source_type(self) -> str | None:
        """The AC source type of the row being edited (for the automatic transform)."""
        return None

    # -- attribute + transform pair

    def _setup_attribute(self, *, with_transform: bool = True, required: bool = True) -> None:
        if "attribute" in self.fields:
            self.fields["attribute"] = forms.CharField(
                label="Brevo attribute",
                required=required,
                max_length=60,
                # New names are allowed here (validation offers to create them), so a submitted
                # value is listed too.
                widget=CatalogSelect(
                    choices=_attribute_choices(
                        self.catalog_index,
                        self.data.get(self.add_prefix("attribute"))
                        if self.is_bound
                        else self._current("attribute"),
                    ),
                    tags=True,
                ),
            )
        if with_transform and "transform" in self.fields:
            self.fields["transform"] = forms.ChoiceField(
                label="Transform",
                required=False,
                choices=[("", "automatic (from the types)"), *TRANSFORM_CHOICES],
                widget=FastSelect,
            )

    def clean_attribute(self) -> str:
        return (self.cleaned_data.get("attribute") or "").strip().upper()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if "transform" in self.fields and not data.get("transform"):
            attribute = data.get("attribute") or ""
            entry = self.catalog_index.get(BREVO, "attribute", attribute) if self.catalog_index else None
            target = brevo_type(entry.data_type) if entry is not None else None
            data["transform"] = default_transform(self.source_type() or "text", target).value
        return data

    def _current(self, name: str) -> Any:
        """The saved value, listed even when the catalog no longer has it (so drift stays visible).

        Never the submitted value: an id someone types into the request is not a choice.
        """
        return self.initial.get(name, getattr(self.instance, name, None))

    # -- validation at save

    def _post_clean(self) -> None:
        super()._post_clean()
        if self.instance.pk is not None and not self.has_changed():
            return  # unchanged rows are not blocked; their Checks column says what is wrong
        for problem in self.checker.check_rule(self.instance):
            if problem.blocking:
                self.add_problem(problem)
        if not self.in_formset and self.instance.connection_id:
            self._check_duplicates_in_database()

    def add_problem(self, problem: Problem) -> None:
        field = problem.field if problem.field in self.fields else None
        if field is not None and field in self.errors:
            return  # the field already says what is wrong with it
        message = problem.message
        link = self.fix_link(problem)
        if link:
            message = format_html("{} — {}", message, link)
        self.add_error(field, message)

    def _check_duplicates_in_database(self) -> None:
        from mappings.selectors import mapping_rows

        rows = [
            self.instance if (type(row) is type(self.instance) and row.pk == self.instance.pk) else row
            for row in mapping_rows(self.instance.connection)
        ]
        if self.instance.pk is None:
            rows.append(self.instance)
        for rule, first, problem in self.checker.duplicate_pairs(rows):
            if rule is self.instance or first is self.instance:
                self.add_problem(problem)

    def fix_link(self, problem: Problem) -> SafeString | str:
        return fix_link(problem, self.instance)

    def summary(self) -> str:
        """One line saying what the row maps, with labels and types."""
        return self.checker.describe(self.instance)


def fix_link(problem: Problem, rule: Any) -> SafeString | str:
    """A button that creates the Brevo attribute a problem asks for (opens in a new tab)."""
    fix = problem.fix
    connection_id = getattr(rule, "connection_id", None)
    if not fix or fix.get("action") != "create_attribute" or not connection_id:
        return ""
    try:
        url = reverse("admin:mappings_catalog_create_attribute", args=[connection_id])
    except NoReverseMatch:
        return ""
    params: dict[str, Any] = {"name": fix["name"], "type": fix["type"]}
    if getattr(rule, "rule_kind", "") == "field":
        params["ac_field"] = rule.ac_field_id
    elif getattr(rule, "rule_kind", "") == "custom_object":
        params["object_field"] = f"{rule.ac_schema_id}/{rule.ac_field_key}"
    return format_html(
        '<a class="tajo-fix" href="{}?{}" target="_blank" rel="noopener">Create {} in Brevo as {}</a>',
        url,
        urlencode(params),
        fix["name"],
        fix["type"],
    )


def checks_html(rule: Any, checker: MappingChecker) -> SafeString:
    """What the Checks column shows for a saved row: ✓ and what it maps, or each problem."""
    if rule is None or rule.pk is None:
        return mark_safe("")
    problems = checker.check_rule(rule)
    if not problems:
        return format_html('<span class="tajo-check-ok">✓ {}</span>', checker.summary(rule))
    return format_html(
        '<ul class="tajo-checks">{}</ul>',
        format_html_join(
            "",
            '<li class="{}">{} {}</li>',
            (
                ("tajo-check-error" if p.blocking else "tajo-check-warning", p.message, fix_link(p, rule))
                for p in problems
            ),
        ),
    )


class QuietErrorList(ErrorList):
    """An error list that renders no template when there is nothing to say.

    The inline template prints every cell's errors; with hundreds of cells and no errors, the
    empty renders were a large share of the connection page.
    """

    def render(
        self, template_name: str | None = None, context: Any = None, renderer: Any = None
    ) -> SafeString:
        if not self.data:
            return mark_safe("")
        return super().render(template_name, context, renderer)


class MappingFormSet(BaseInlineFormSet):
    """Checks duplicates across every mapping formset of the page (two sources, one attribute)."""

    sibling_registry: ClassVar[list | None] = None
    # The rows an unbound formset shows, when the admin has read them already (None: read them
    # here). A kind listed read-only shows none: a save of the page then changes none of them.
    rows_shown: ClassVar[list | None] = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("error_class", QuietErrorList)
        super().__init__(*args, **kwargs)
        if self.sibling_registry is not None:
            self.sibling_registry.append(self)

    def get_queryset(self) -> Any:
        if self.rows_shown is not None and not self.is_bound:
            return self.rows_shown
        return super().get_queryset()

    @cached_property
    def empty_form(self) -> forms.Form:
        # The admin's template asks for it several times per inline; one is enough.
        return super().empty_form

    def add_fields(self, form: forms.Form, index: int | None) -> None:
        """Every row's id, connection and delete box, rendered without a template each."""
        super().add_fields(form, index)
        for field in form.fields.values():
            widget = field.widget
            if type(widget) is forms.HiddenInput:
                field.widget = FastHiddenInput(attrs=widget.attrs)
            elif type(widget) is forms.CheckboxInput:
                field.widget = FastCheckboxInput(attrs=widget.attrs, check_test=widget.check_test)

    def clean(self) -> None:
        super().clean()
        siblings = self.sibling_registry if self.sibling_registry is not None else [self]
        live: list[tuple[MappingRule, forms.Form, MappingFormSet]] = []
        for formset in siblings:
            for form in formset.forms:
                form.is_valid()  # cached; needed before asking whether it is deleted
                if form.instance.pk is None and not form.has_changed():
                    continue
                if formset.can_delete and formset._should_delete_form(form):
                    continue
                live.append((form.instance, form, formset))
        by_rule = {id(rule): (form, formset) for rule, form, formset in live}
        checker = MappingChecker(self.form.catalog_index)
        for rule, first, problem in checker.duplicate_pairs([rule for rule, _, _ in live]):
            form, formset = by_rule[id(rule)]
            if not form.has_changed():
                form, formset = by_rule[id(first)]
                if not form.has_changed():
                    continue  # both rows were saved like this before; their Checks column shows it
            if formset is self:
                form.add_problem(problem)


# --------------------------------------------------------------------------- per rule kind


class StandardFieldMappingForm(MappingForm):
    class Meta:
        model = StandardFieldMapping
        fields = ["source", "attribute", "transform"]

    def setup_fields(self) -> None:
        if "source" in self.fields:
            self.fields["source"].widget = CatalogSelect(choices=self.fields["source"].choices)
        self._setup_attribute()

    def source_type(self) -> str | None:
        return STANDARD_SOURCE_TYPES.get(self.cleaned_data.get("source") or "", "text")


def _field_label(entry: Entry) -> str:
    return _id_label(entry, entry.extra.get("perstag") or "", entry.data_type or "text")


class CustomFieldMappingForm(MappingForm):
    class Meta:
        model = CustomFieldMapping
        fields = ["ac_field_id", "attribute", "transform"]

    def setup_fields(self) -> None:
        self.fields["ac_field_id"] = _catalog_field(
            "ActiveCampaign custom field",
            _entry_choices(self.catalog_index, AC, "field", self._current("ac_field_id"), _field_label),
        )
        self._setup_attribute()

    def source_type(self) -> str | None:
        entry = (
            self.catalog_index.get(AC, "field", self.cleaned_data.get("ac_field_id"))
            if self.catalog_index
            else None
        )
        return source_type(entry.data_type) if entry is not None else "text"


class ScoreMappingForm(MappingForm):
    class Meta:
        model = ScoreMapping
        fields = ["ac_score_id", "attribute", "transform"]

    def setup_fields(self) -> None:
        self.fields["ac_score_id"] = _catalog_field(
            "ActiveCampaign score",
            _entry_choices(
                self.catalog_index,
                AC,
                "score",
                self._current("ac_score_id"),
                lambda entry: _id_label(entry, f"scores {entry.extra.get('reltype') or 'contact'}s"),
            ),
        )
        self._setup_attribute()

    def source_type(self) -> str | None:
        return SCORE_SOURCE_TYPE


class CustomObjectFieldMappingForm(MappingForm):
    """One dropdown picks schema and field together (field ids repeat across schemas)."""

    object_field = forms.CharField(label="ActiveCampaign custom object field")

    class Meta:
        model = CustomObjectFieldMapping
        fields = ["object_field", "attribute", "transform"]

    def setup_fields(self) -> None:
        current = None
        if self.instance.pk is not None or self.instance.ac_schema_id:
            current = f"{self.instance.ac_schema_id}/{self.instance.ac_field_key}"
            self.initial.setdefault("object_field", current)
        self.fields["object_field"] = forms.ChoiceField(
            label="ActiveCampaign custom object field",
            choices=_entry_choices(
                self.catalog_index,
                AC,
                "custom_object_field",
                current,
                lambda entry: f"{entry.label} · {entry.data_type or 'text'} ({entry.external_id})",
                group_kind="custom_object",
                value=lambda entry: f"{entry.parent_id}/{entry.external_id}",
            ),
            widget=CatalogSelect(),
        )
        self._setup_attribute()

    def clean_object_field(self) -> str:
        value = self.cleaned_data.get("object_field") or ""
        schema, _, key = value.partition("/")
        if not schema or not key:
            raise forms.ValidationError("choose a custom object field")
        self.instance.ac_schema_id, self.instance.ac_field_key = schema, key
        return value

    def source_type(self) -> str | None:
        entry = (
            self.catalog_index.get(
                AC, "custom_object_field", self.instance.ac_field_key, self.instance.ac_schema_id
            )
            if self.catalog_index
            else None
        )
        return source_type(entry.data_type) if entry is not None else "text"


class ListMappingForm(MappingForm):
    class Meta:
        model = ListMapping
        fields = ["ac_list_id", "brevo_list_id"]

    def setup_fields(self) -> None:
        self.fields["ac_list_id"] = _catalog_field(
            "ActiveCampaign list", _entry_choices(self.catalog_index, AC, "list", self._current("ac_list_id"))
        )
        self.fields["brevo_list_id"] = _catalog_field(
            "Brevo list", _entry_choices(self.catalog_index, BREVO, "list", self._current("brevo_list_id"))
        )


class TagMappingForm(MappingForm):
    class Meta:
        model = TagMapping
        fields = [
            "ac_tag_id",
            "brevo_list_id",
            "attribute",
            "value",
            "value_when_absent",
            "unlink_when_absent",
        ]
        widgets = {
            "value": forms.TextInput(attrs={"size": 8}),
            "value_when_absent": forms.TextInput(attrs={"size": 8}),
        }

    def setup_fields(self) -> None:
        self.fields["ac_tag_id"] = _catalog_field(
            "ActiveCampaign tag", _entry_choices(self.catalog_index, AC, "tag", self._current("ac_tag_id"))
        )
        self.fields["brevo_list_id"] = _catalog_field(
            "Brevo list",
            _entry_choices(self.catalog_index, BREVO, "list", self._current("brevo_list_id")),
            required=False,
        )
        self._setup_attribute(with_transform=False, required=False)


class StageMappingForm(MappingForm):
    class Meta:
        model = StageMapping
        fields = ["ac_pipeline_id", "ac_stage_id", "brevo_pipeline_id", "brevo_stage_id"]

    def setup_fields(self) -> None:
        index = self.catalog_index
        self.fields["ac_pipeline_id"] = _catalog_field(
            "ActiveCampaign pipeline",
            _entry_choices(index, AC, "pipeline", self._current("ac_pipeline_id")),
            required=False,
        )
        self.fields["ac_stage_id"] = _catalog_field(
            "ActiveCampaign stage",
            _entry_choices(index, AC, "stage", self._current("ac_stage_id"), group_kind="pipeline"),
        )
        self.fields["brevo_pipeline_id"] = _catalog_field(
            "Brevo pipeline",
            _entry_choices(
                index,
                BREVO,
                "pipeline",
                self._current("brevo_pipeline_id"),
                lambda e: e.label or e.external_id,
            ),
            coerce=str,
        )
        self.fields["brevo_stage_id"] = _catalog_field(
            "Brevo stage",
            _entry_choices(
                index,
                BREVO,
                "stage",
                self._current("brevo_stage_id"),
                lambda e: e.label or e.external_id,
                group_kind="pipeline",
            ),
            coerce=str,
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        # The AC pipeline follows from the stage; filled in so the row reads fully.
        stage = data.get("ac_stage_id")
        if stage and not data.get("ac_pipeline_id") and self.catalog_index is not None:
            entry = self.catalog_index.get(AC, "stage", stage)
            if entry is not None and entry.parent_id.isdigit():
                data["ac_pipeline_id"] = int(entry.parent_id)
        return data


class OwnerMappingForm(MappingForm):
    class Meta:
        model = OwnerMapping
        fields = ["ac_user_id", "brevo_owner"]

    def setup_fields(self) -> None:
        self.fields["ac_user_id"] = _catalog_field(
            "ActiveCampaign user", _entry_choices(self.catalog_index, AC, "user", self._current("ac_user_id"))
        )


class AutomationMappingForm(MappingForm):
    class Meta:
        model = AutomationMapping
        fields = ["ac_automation_id", "brevo_event_entered", "brevo_event_completed"]

    def setup_fields(self) -> None:
        self.fields["ac_automation_id"] = _catalog_field(
            "ActiveCampaign automation",
            _entry_choices(self.catalog_index, AC, "automation", self._current("ac_automation_id")),
        )


class EventMappingForm(MappingForm):
    class Meta:
        model = EventMapping
        fields = ["ac_event_name", "brevo_event_name"]

    def setup_fields(self) -> None:
        self.fields["ac_event_name"] = _catalog_field(
            "ActiveCampaign event",
            _entry_choices(
                self.catalog_index, AC, "event", self._current("ac_event_name"), lambda e: e.label
            ),
            coerce=str,
        )


FORMS: dict[type[MappingRule], type[MappingForm]] = {
    StandardFieldMapping: StandardFieldMappingForm,
    CustomFieldMapping: CustomFieldMappingForm,
    ScoreMapping: ScoreMappingForm,
    CustomObjectFieldMapping: CustomObjectFieldMappingForm,
    ListMapping: ListMappingForm,
    TagMapping: TagMappingForm,
    StageMapping: StageMappingForm,
    OwnerMapping: OwnerMappingForm,
    AutomationMapping: AutomationMappingForm,
    EventMapping: EventMappingForm,
}


def bind_form(form: type[MappingForm], index: CatalogIndex | None, *, in_formset: bool) -> type[MappingForm]:
    """A subclass of `form` that reads one connection's catalog (built per request)."""
    return type(form.__name__, (form,), {"catalog_index": index, "in_formset": in_formset})
