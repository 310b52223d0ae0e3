"""The mapping rows' widgets write the same HTML as Django's own, only faster."""

from __future__ import annotations

import re

import pytest
from django import forms

from mappings.catalog import CatalogIndex, Entry
from mappings.forms import _attribute_choices, _entry_choices
from mappings.widgets import CatalogSelect, FastCheckboxInput, FastHiddenInput, FastSelect

CHOICES = [
    ("", "---------"),
    ("1", "A & <b> (id 1)"),
    ('Pipe "x"', [("p1", "Stage 1"), ("p2", "Stage 2")]),
    (3, "three"),
    ("1", "the same value again"),
]


def _same(html: str) -> str:
    return re.sub(r">\s+<", "><", str(html)).strip()


@pytest.mark.parametrize("value", ["1", None, "p2", 3, "absent", ""])
@pytest.mark.parametrize("attrs", [None, {"id": "id_x", "required": True}, {"disabled": True}])
def test_selects_match_djangos_html(value, attrs) -> None:
    for widget in (CatalogSelect(choices=CHOICES, tags=True), FastSelect(choices=CHOICES)):
        assert _same(widget.render("f", value, attrs)) == _same(
            forms.Select.render(widget, "f", value, attrs)
        )


@pytest.mark.parametrize("value", [None, "", 5, "a&b", True, False])
@pytest.mark.parametrize("attrs", [None, {"id": "id_x"}, {"id": "id_y", "disabled": True}])
def test_hidden_inputs_and_checkboxes_match_djangos_html(value, attrs) -> None:
    pairs = ((FastHiddenInput(), forms.HiddenInput()), (FastCheckboxInput(), forms.CheckboxInput()))
    for fast, django_widget in pairs:
        assert _same(fast.render("f", value, attrs)) == _same(django_widget.render("f", value, attrs))


def _index() -> CatalogIndex:
    entries = [Entry("ac", "list", str(n), f"List {n}", "", "", {}, None) for n in range(1, 4)]
    entries += [Entry("brevo", "attribute", "PLAN", "PLAN", "", "text", {}, None)]
    return CatalogIndex(entries)


def test_rows_share_one_list_and_keep_their_own_missing_value() -> None:
    index = _index()
    first, second = _entry_choices(index, "ac", "list", 2), _entry_choices(index, "ac", "list", 99)
    assert first.shared is second.shared  # built and escaped once per page
    assert list(first)[-1] == ("3", "List 3 (id 3)")
    assert list(second)[-1] == ("99", "99 — not in the catalog")
    assert list(_attribute_choices(index, "gone"))[-1] == ("GONE", "GONE — not in Brevo yet")


def test_a_saved_row_lists_its_value_and_points_at_the_add_another_template() -> None:
    widget = CatalogSelect(choices=_entry_choices(_index(), "ac", "list", 2))
    row = widget.render("lists-4-ac_list_id", 2, {"id": "id_lists-4-ac_list_id"})
    assert 'data-options-from="id_lists-__prefix__-ac_list_id"' in row
    assert row.count("<option") == 1 and '<option value="2" selected>List 2 (id 2)</option>' in row
    template = widget.render("lists-__prefix__-ac_list_id", None, {"id": "id_lists-__prefix__-ac_list_id"})
    assert template.count("<option") == 4 and "data-options-from" not in template
    alone = widget.render("ac_list_id", 2, {"id": "id_ac_list_id"})  # a row edited on its own page
    assert alone.count("<option") == 4
