"""Values normalised by the AC field's type, one test per type over the quirks the references list.

AC reference §4.1 (types), §4.2 (encodings), §6.5 (deal/currency types), §16 items 1 and 3.
"""

from __future__ import annotations

import pytest

from mappings.records import SourceContact
from mappings.transforms import FieldRule, MappingSet, Transform, compile_mapping, transform_contact
from mappings.transforms.values import ac_number_text, single_choice


def _sent(source_type: str, transform: Transform, raw: str | None, attribute_type: str = "text"):
    rule = FieldRule(
        source="field",
        ac_field_id=7,
        attribute="TARGET",
        transform=transform,
        attribute_type=attribute_type,
        source_type=source_type,
    )
    compiled = compile_mapping(MappingSet(fields=(rule,), default_country="US"))
    result = transform_contact(SourceContact(ac_id=1, email="a@example.org", field_values={7: raw}), compiled)
    return result.payload.attributes.get("TARGET"), [e.reason for e in result.errors]


# -- single choice: dropdown, radio ---------------------------------------------------------


@pytest.mark.parametrize("source_type", ["dropdown", "radio"])
@pytest.mark.parametrize(
    "raw,expected",
    [("Retail", "Retail"), ("||Retail||", "Retail"), ("|| Retail ||", "Retail"), ("||||", None), ("", None)],
)
def test_single_choice_markup_gives_the_option(source_type, raw, expected):
    assert _sent(source_type, Transform.TEXT, raw) == (expected, [])


@pytest.mark.parametrize("source_type", ["dropdown", "radio"])
def test_single_choice_with_several_options_keeps_the_first_and_says_so(source_type):
    value, errors = _sent(source_type, Transform.TEXT, "||Retail||Software||Education||")
    assert value == "Retail"
    (reason,) = errors
    assert "3 options" in reason and "'Retail' was sent" in reason
    assert "'Software', 'Education' not" in reason and reason.endswith("for attribute TARGET")


def test_single_choice_into_a_number_or_a_boolean():
    assert _sent("dropdown", Transform.NUMBER, "||3||", "float") == (3.0, [])
    assert _sent("radio", Transform.BOOLEAN, "||Yes||", "boolean") == (True, [])


def test_single_choice_into_multiple_choice_keeps_the_multi_reading():
    assert _sent("dropdown", Transform.MULTI, "||A||B||", "multiple-choice") == (["A", "B"], [])


def test_an_unknown_type_leaves_markup_to_the_transform():
    # Without a type (snapshots from before types were carried) the raw text is sent as before.
    assert _sent("", Transform.TEXT, "||Retail||") == ("||Retail||", [])


def test_single_choice_unit():
    assert single_choice("||a||b||") == ("a", ["b"])
    assert single_choice("a") == ("a", [])
    assert single_choice("  ") == (None, [])


# -- multiple choice: listbox, checkbox, multiselect ------------------------------------------


@pytest.mark.parametrize("source_type", ["listbox", "checkbox", "multiselect"])
def test_multiple_choice_into_multiple_choice_is_sorted_and_deduplicated(source_type):
    value, _ = _sent(source_type, Transform.MULTI, "||Travel||Baking||Travel||", "multiple-choice")
    assert value == ["Baking", "Travel"]


@pytest.mark.parametrize("source_type", ["listbox", "checkbox", "multiselect"])
def test_multiple_choice_into_text_is_joined_in_ac_order(source_type):
    assert _sent(source_type, Transform.TEXT, "||Travel||Baking||") == ("Travel, Baking", [])
    assert _sent(source_type, Transform.MULTI_JOINED, "||Travel||Baking||") == ("Travel, Baking", [])


def test_checkbox_single_option_as_boolean_and_unchecked_as_nothing():
    assert _sent("checkbox", Transform.BOOLEAN, "||Yes||", "boolean") == (True, [])
    assert _sent("checkbox", Transform.BOOLEAN, "", "boolean") == (None, [])
    value, errors = _sent("checkbox", Transform.BOOLEAN, "||Yes||No||", "boolean")
    assert value is None and "not a yes/no value" in errors[0]


# -- dates and datetimes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("2024-05-01", "2024-05-01"),
        ("2024-05-01 23:30:00", "2024-05-01"),  # offset-less timestamp: the day as written
        ("2024-05-01T23:30:00-05:00", "2024-05-01"),  # the account's day, not UTC's
        ("0000-00-00", None),  # MySQL zero-date on old rows
        ("0000-00-00 00:00:00", None),
    ],
)
def test_date_field(raw, expected):
    assert _sent("date", Transform.DATE, raw, "date") == (expected, [])


def test_date_field_with_an_impossible_day_is_named():
    value, errors = _sent("date", Transform.DATE, "2023-02-30", "date")
    assert value is None and "no such day" in errors[0]


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("2024-05-21T10:14:32-05:00", "2024-05-21T10:14:32-05:00"),
        ("2024-05-21 10:14:32", "2024-05-21T10:14:32+00:00"),
        ("2024-05-21T15:14:32.123456789Z", "2024-05-21T15:14:32.123456+00:00"),  # custom-object nanoseconds
        ("0000-00-00 00:00:00", None),
    ],
)
def test_datetime_field_into_text(raw, expected):
    assert _sent("datetime", Transform.DATETIME, raw) == (expected, [])


def test_datetime_field_into_a_date_attribute_keeps_the_day():
    assert _sent("datetime", Transform.DATETIME, "2024-05-21T23:14:32-05:00", "date") == ("2024-05-21", [])


# -- numbers and currency -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("12", 12.0),
        ("-3.5", -3.5),
        ("1,234.50", 1234.5),
        ("1,234", 1234.0),
        ("1.234,50", 1234.5),
        ("12,5", 12.5),
        ("1 234", 1234.0),
        ("1\u00a0234,5", 1234.5),
        ("1'234.5", 1234.5),
        ("", None),
    ],
)
def test_number_field(raw, expected):
    assert _sent("number", Transform.NUMBER, raw, "float") == (expected, [])


def test_number_field_with_words_is_still_refused_with_the_value():
    value, errors = _sent("number", Transform.NUMBER, "twelve", "float")
    assert value is None and "'twelve' is not a number" in errors[0]


def test_a_text_field_keeps_the_strict_number_reading():
    value, errors = _sent("text", Transform.NUMBER, "1,234", "float")
    assert value is None and "no thousands separators" in errors[0]


@pytest.mark.parametrize(
    "raw,expected", [("$1,234.50", 1234.5), ("12.50 USD", 12.5), ("€ 9,99", 9.99), ("7", 7.0)]
)
def test_currency_field(raw, expected):
    assert _sent("currency", Transform.NUMBER, raw, "float") == (expected, [])


def test_number_text_unit():
    assert ac_number_text("1,234,567.8") == "1234567.8"
    assert ac_number_text("abc") == "abc"
    assert ac_number_text("usd 5", currency=True) == "5"


# -- text, textarea, hidden ---------------------------------------------------------------------


def test_text_field_is_trimmed_and_cleaned():
    assert _sent("text", Transform.TEXT, "  Acme\x00 Inc  ") == ("Acme Inc", [])


def test_textarea_line_ends_are_normalised():
    assert _sent("textarea", Transform.TEXT, "line one\r\nline two\rthree") == (
        "line one\nline two\nthree",
        [],
    )


def test_textarea_longer_than_allowed_is_named_not_cut():
    value, errors = _sent("textarea", Transform.TEXT, "x" * 5000)
    assert value is None and "5000 characters" in errors[0]


def test_hidden_field_is_text():
    assert _sent("hidden", Transform.TEXT, "crm-000123") == ("crm-000123", [])
    assert _sent("hidden", Transform.NUMBER, "000123", "float") == (123.0, [])


def test_phone_in_a_text_field():
    assert _sent("text", Transform.PHONE, "(512) 555-0143") == ("+15125550143", [])


def test_the_type_is_carried_from_the_catalog_into_the_rule():
    rule = FieldRule(source="field", ac_field_id=2, attribute="INDUSTRY", source_type=" Dropdown ")
    assert rule.source_type == "dropdown"
    assert FieldRule(source="field", ac_field_id=2, attribute="INDUSTRY").source_type == ""
