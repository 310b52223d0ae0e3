"""What a browser posts back from an admin change form: shared by the admin tests that save pages."""

from __future__ import annotations

from typing import Any

from django import forms


def _put(data: dict[str, Any], key: str, value: Any, field: forms.Field) -> None:
    if isinstance(field, forms.BooleanField):
        if value:
            data[key] = "on"
    elif value is None:
        data[key] = ""
    else:
        data[key] = value


def admin_form_data(response) -> dict[str, Any]:
    """What the browser would post back unchanged: the main form and every inline formset."""
    data: dict[str, Any] = {}
    form = response.context["adminform"].form
    for name, field in form.fields.items():
        _put(data, form[name].html_name, form[name].value(), field)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[management[name].html_name] = management[name].value()
        for row in formset.forms:
            for name, field in row.fields.items():
                _put(data, row[name].html_name, row[name].value(), field)
    return data
