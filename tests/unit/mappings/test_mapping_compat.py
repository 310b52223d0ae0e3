"""Defaults and compatibility of transforms with source and attribute types. Pure."""

from __future__ import annotations

from mappings.compat import default_transform, source_type
from mappings.transforms import Transform


def test_natural_defaults_by_ac_type() -> None:
    assert default_transform("listbox") is Transform.MULTI
    assert default_transform("date") is Transform.DATE
    assert default_transform("phone") is Transform.PHONE
    assert default_transform(source_type("weird-new-type")) is Transform.TEXT


def test_defaults_bend_to_an_existing_attribute_type() -> None:
    assert default_transform("listbox", "text") is Transform.MULTI_JOINED
    assert default_transform("text", "float") is Transform.NUMBER
    assert default_transform("dropdown", "boolean") is Transform.BOOLEAN
    # Nothing fits: the natural transform stays, and validation explains the mismatch.
    assert default_transform("number", "boolean") is Transform.NUMBER
