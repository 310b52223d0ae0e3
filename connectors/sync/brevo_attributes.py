"""Brevo's contact attributes: category values sent as the option Brevo knows, and what Brevo
holds compared with what was sent, in Brevo's own representation (phone digits, dates, lists,
numbers), with the reason a value was not kept.

Pure: the contacts writer (connectors/sync/brevo_contacts.py) reads the attributes once per
client and asks these after each read-back.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

from connectors.providers.brevo.schemas import Attribute

PHONE_ATTRIBUTES = ("SMS", "WHATSAPP", "LANDLINE_NUMBER")
REPORTED_ATTRIBUTES = frozenset({*PHONE_ATTRIBUTES, "EXT_ID"})  # the import's duplicate_* reports
_DIGITS = re.compile(r"\D+")


class AttributeBook:
    """Brevo's contact attributes by name: to send category options as Brevo knows them and to
    say why a value was not kept."""

    def __init__(self, attributes: Iterable[Attribute]) -> None:
        self.by_name = {a.name.upper(): a for a in attributes}

    def kind(self, name: str) -> str | None:
        attr = self.by_name.get(name.upper())
        if attr is None:
            return None
        return attr.type or attr.category

    def category_option(self, name: str, value: Any) -> tuple[bool, Any]:
        """(matched, value to send) for a category attribute; the value itself otherwise."""
        attr = self.by_name.get(name.upper())
        if attr is None or not attr.enumeration or self.kind(name) != "category":
            return True, value
        text = str(value).strip()
        for option in attr.enumeration:
            if text in (option.option, option.label) or (
                isinstance(value, int | float) and not isinstance(value, bool) and option.option == str(value)
            ):
                real = option.option
                return True, int(real) if real.isdigit() and option.value_str in (None, "") else real
        return False, value

    def options(self, name: str) -> list[str]:
        attr = self.by_name.get(name.upper())
        return [o.label or o.option for o in attr.enumeration] if attr else []


def _digits(value: Any) -> str:
    return _DIGITS.sub("", str(value or "")).lstrip("0")


def same_value(name: str, sent: Any, got: Any, book: AttributeBook | None) -> bool:
    """Whether Brevo's stored value is what was sent, in Brevo's own representation."""
    if sent is None:
        return True
    if got is None:
        return False
    if type(got) is type(sent) and got == sent:
        return True  # most values come back as sent; the rules below read Brevo's representations
    upper = name.upper()
    if upper in PHONE_ATTRIBUTES:
        return _digits(sent) == _digits(got)
    if isinstance(sent, bool) or isinstance(got, bool):
        return str(sent).lower() == str(got).lower()
    if isinstance(sent, list):
        values = got if isinstance(got, list) else [v.strip() for v in str(got).split(",")]
        return {str(v) for v in sent} == {str(v) for v in values}
    if isinstance(sent, int | float):
        try:
            return math.isclose(float(sent), float(got), rel_tol=1e-9, abs_tol=1e-9)
        except (TypeError, ValueError):
            return False
    kind = book.kind(upper) if book else None
    if kind == "date":
        return str(got)[:10] == str(sent)[:10]
    if kind == "category" and book is not None:
        _, real = book.category_option(upper, got)
        _, wanted = book.category_option(upper, sent)
        return str(real) == str(wanted)
    return str(got) == str(sent)


def why_dropped(name: str, sent: Any, got: Any, book: AttributeBook | None) -> str:
    """Why Brevo does not hold what was sent, for the warning on the record."""
    upper = name.upper()
    kind = book.kind(upper) if book else None
    if book is not None and book.by_name and kind is None:
        return (
            f"Brevo has no attribute {upper} (an import ignores unknown attributes): "
            "create it or fix the mapping"
        )
    if upper in PHONE_ATTRIBUTES and got is None:
        return (
            f"Brevo did not keep the phone number {sent}: it found it invalid, or another Brevo contact "
            "already has it (one contact per number)"
        )
    if got is None:
        described = f" ({kind})" if kind else ""
        return f"Brevo did not keep {sent!r}: it does not fit attribute {upper}{described}"
    return f"Brevo holds {got!r} instead of {sent!r}"
