"""The cells of a mapping row on the connection page, written in one pass.

Django's tabular inline template walks fieldsets, lines and fields per row through the template
engine; with 100 mapping rows that walk was most of the page's time. This tag writes the same
cells (class names, read-only contents, errors, widget) for one row.
"""

from __future__ import annotations

from django import template
from django.contrib.admin.helpers import InlineAdminForm
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.simple_tag
def mapping_row_cells(inline_admin_form: InlineAdminForm) -> SafeString:
    cells = []
    for fieldset in inline_admin_form:
        for line in fieldset:
            for field in line:
                if field.is_readonly:
                    name, hidden = field.field.get("name"), False
                    body = f"<p>{conditional_escape(field.contents())}</p>"
                else:
                    bound = field.field
                    name, hidden = bound.name, bound.is_hidden
                    body = f"{conditional_escape(bound.errors.as_ul())}{conditional_escape(bound)}"
                css = (f"field-{name}" if name else "") + (" hidden" if hidden else "")
                cells.append(f'<td class="{escape(css)}">{body}</td>')
    return mark_safe("".join(cells))  # noqa: S308  (every part escaped above)
