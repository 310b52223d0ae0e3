"""Widgets of the mapping rows: dropdowns and inputs that write Django's HTML without a template.

A connection page with 100 mapping rows lists the catalog in every row's dropdowns; rendering
each option through Django's templates took seconds. These widgets write the same markup
directly, and the rows of one page share each choice list, escaped once (`SharedChoices`).
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.conf import settings
from django.utils.choices import BaseChoiceIterator
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeString, mark_safe

from mappings.catalog import CatalogIndex

Choices = list[tuple[Any, Any]]


def _attrs_html(attrs: dict[str, Any]) -> str:
    """Attributes in their order, as Django's attrs.html writes them (True: bare name, False: left out)."""
    return "".join(
        f" {escape(key)}" if value is True else f' {escape(key)}="{escape(value)}"'
        for key, value in attrs.items()
        if value is not False and value is not None
    )


# "id_<prefix>-<row number>-<field>": the same field of the formset's empty form has __prefix__.
_ROW_ID = re.compile(r"^(id_.+-)\d+(-[^-]+)$")

Piece = tuple[str | None, str, str]  # (option value or None for group tags, html, html when selected)


def _option_pieces(choices: Any) -> list[Piece]:
    pieces: list[Piece] = []

    def option(option_value: Any, label: Any) -> Piece:
        text = "" if option_value is None else str(option_value)
        value_html, label_html = escape(text), conditional_escape(label)
        return (
            text,
            f'<option value="{value_html}">{label_html}</option>',
            f'<option value="{value_html}" selected>{label_html}</option>',
        )

    for group_value, group_label in choices:
        if isinstance(group_label, (list, tuple)):
            pieces.append((None, f'<optgroup label="{escape(group_value)}">', ""))
            pieces.extend(option(v, label) for v, label in group_label)
            pieces.append((None, "</optgroup>", ""))
        else:
            pieces.append(option(group_value, group_label))
    return pieces


class _SharedList:
    """A choice list built (and escaped) once per catalog index and request."""

    def __init__(self, choices: Choices) -> None:
        self.choices = choices
        self.known: set[str] | None = None  # every value listed, for the "not in the catalog" extra
        self._pieces: list[Piece] | None = None
        self._selected: dict[str, str] | None = None

    def pieces(self) -> list[Piece]:
        if self._pieces is None:
            self._pieces = _option_pieces(self.choices)
        return self._pieces

    def selected(self) -> dict[str, str]:
        """Option value -> its html marked selected (the first option of a value wins)."""
        if self._selected is None:
            self._selected = {}
            for value, _, marked in reversed(self.pieces()):
                if value is not None:
                    self._selected[value] = marked
        return self._selected


class SharedChoices(BaseChoiceIterator):
    """One dropdown's choices: a list shared by every row of the page, then this row's own extras.

    Django takes a choice iterator as it is (no normalising of every option per row).
    """

    def __init__(self, shared: _SharedList, extra: Choices) -> None:
        self.shared = shared
        self.extra = extra

    def __iter__(self):
        yield from self.shared.choices
        yield from self.extra

    def pieces(self) -> list[Piece]:
        return self.shared.pieces() + _option_pieces(self.extra) if self.extra else self.shared.pieces()

    def selected_html(self, values: list[str]) -> str | None:
        """The first option whose value is one of `values`, marked selected (None when none is)."""
        for value in values:
            for option_value, _, marked in _option_pieces(self.extra):
                if option_value == value:
                    return marked
            if value in self.shared.selected():
                return self.shared.selected()[value]
        return None


def shared_list(index: CatalogIndex | None, key: tuple, build: Any) -> _SharedList:
    """The shared list for `key`, cached on the index (built per request) while it is unchanged."""
    if index is None:
        return _SharedList(build())
    cache = index.__dict__.setdefault("_tajo_choices", {})
    entry = cache.get(key)
    if entry is None or entry[0] != len(index):
        entry = cache[key] = (len(index), _SharedList(build()))
    return entry[1]


def choice_key(fn: Any) -> Any:
    """Functions without captured state are equal when their code is; others are never shared."""
    if getattr(fn, "__closure__", None) is None and hasattr(fn, "__code__"):
        return fn.__code__
    return object()


class FastSelect(forms.Select):
    """A dropdown rendered without a template per option (same HTML as Django's Select)."""

    def render(self, name: str, value: Any, attrs: dict | None = None, renderer: Any = None) -> SafeString:
        """The HTML Django's select template gives, built directly.

        A connection page lists the catalog in every row's dropdowns (tens of thousands of
        options with 100 mapping rows); rendering each option through a template took seconds.
        Choices shared by the rows of a page are escaped once (`SharedChoices`).
        """
        selected = set(self.format_value(value))
        # A single select marks only the first matching option, as Django's own widget does.
        still_open = True
        parts = [f'<select name="{escape(name)}"{_attrs_html(self.build_attrs(self.attrs, attrs))}>']
        choices = self.choices
        pieces = choices.pieces() if isinstance(choices, SharedChoices) else _option_pieces(choices)
        for option_value, plain, marked in pieces:
            if option_value is not None and still_open and option_value in selected:
                parts.append(marked)
                still_open = self.allow_multiple_selected
            else:
                parts.append(plain)
        parts.append("</select>")
        # Every value and label was escaped by _option_pieces.
        return mark_safe("\n".join(parts))  # noqa: S308


class FastHiddenInput(forms.HiddenInput):
    """Django's hidden input, built directly (a mapping page has hundreds)."""

    def render(self, name: str, value: Any, attrs: dict | None = None, renderer: Any = None) -> SafeString:
        shown = self.format_value(value)
        value_html = "" if shown is None else f' value="{escape(shown)}"'
        final = _attrs_html(self.build_attrs(self.attrs, attrs))
        return mark_safe(f'<input type="hidden" name="{escape(name)}"{value_html}{final}>')  # noqa: S308


class FastCheckboxInput(forms.CheckboxInput):
    """Django's checkbox, built directly (each mapping row has a delete box)."""

    def render(self, name: str, value: Any, attrs: dict | None = None, renderer: Any = None) -> SafeString:
        if self.check_test(value):
            attrs = {**(attrs or {}), "checked": True}
        shown = self.format_value(value)
        value_html = "" if shown is None else f' value="{escape(shown)}"'
        final = _attrs_html(self.build_attrs(self.attrs, attrs))
        return mark_safe(f'<input type="checkbox" name="{escape(name)}"{value_html}{final}>')  # noqa: S308


class CatalogSelect(FastSelect):
    """A Select2-enhanced dropdown; `tags=True` lets a person type a value that is not listed."""

    def __init__(self, attrs: dict | None = None, choices: Choices = (), *, tags: bool = False) -> None:
        base = {"class": "tajo-catalog-select", "style": "min-width: 14em"}
        if tags:
            base["data-tags"] = "true"
        super().__init__({**base, **(attrs or {})}, choices)

    def render(self, name: str, value: Any, attrs: dict | None = None, renderer: Any = None) -> SafeString:
        """Rows of a formset list only their current value; the page's script copies the rest.

        Every row of one mapping kind offers the same catalog, and the formset's empty form (the
        template for "Add another") already lists it in full: repeating it in each of 100 rows
        made the connection page megabytes long and slow to build. `data-options-from` names
        the template's dropdown; catalog_select.js copies its options in before enhancing the box.
        """
        final = self.build_attrs(self.attrs, attrs)
        template_id = _ROW_ID.sub(r"\1__prefix__\2", str(final.get("id", "")), count=1)
        if (
            "__prefix__" in name
            or template_id == final.get("id", "")
            or not isinstance(self.choices, SharedChoices)
        ):
            return super().render(name, value, attrs, renderer)
        chosen = self.choices.selected_html(self.format_value(value))
        final["data-options-from"] = template_id
        empty = '<option value="">---------</option>'
        return mark_safe(  # noqa: S308  (the option comes escaped from _option_pieces)
            f'<select name="{escape(name)}"{_attrs_html(final)}>\n{chosen or empty}\n</select>'
        )

    @property
    def media(self) -> forms.Media:
        # The same files, in the same order, as the admin's own autocomplete widgets, so a page
        # that has both loads jQuery and Select2 once.
        extra = "" if settings.DEBUG else ".min"
        return forms.Media(
            js=(
                f"admin/js/vendor/jquery/jquery{extra}.js",
                f"admin/js/vendor/select2/select2.full{extra}.js",
                "admin/js/jquery.init.js",
                "mappings/catalog_select.js",
            ),
            css={"screen": (f"admin/css/vendor/select2/select2{extra}.css", "admin/css/autocomplete.css")},
        )
