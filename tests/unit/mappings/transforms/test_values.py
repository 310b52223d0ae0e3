from datetime import UTC, datetime, timedelta, timezone

import pytest

from mappings.transforms.values import (
    MULTI_OPTION_MAX_CHARS,
    TEXT_MAX_CHARS,
    ValueRejected,
    clean_text,
    iso_datetime,
    quote,
    split_multi,
    to_boolean,
    to_date,
    to_datetime,
    to_joined,
    to_multi,
    to_number,
    to_phone,
    to_text,
    utc_seconds,
)


def reason_of(fn, *args, **kwargs) -> str:
    with pytest.raises(ValueRejected) as info:
        fn(*args, **kwargs)
    return info.value.reason


class TestQuoteAndClean:
    def test_quote_shortens_long_values(self):
        shown = quote("x" * 5000)
        assert len(shown) <= 42
        assert shown.endswith("…'")

    def test_quote_keeps_one_line(self):
        assert "\n" not in quote("a\nb")

    def test_clean_text_removes_nul_and_controls_but_keeps_newlines(self):
        assert clean_text("a\x00b\x07c\nd\te") == "abc\nd\te"

    def test_clean_text_replaces_lone_surrogates(self):
        cleaned = clean_text("ok\ud800")
        cleaned.encode("utf-8")  # would raise if a surrogate survived
        assert cleaned.startswith("ok")


class TestText:
    def test_trims(self):
        assert to_text("  Maria ") == "Maria"

    def test_empty_is_none(self):
        assert to_text("   ") is None

    def test_oversize_is_rejected_not_cut(self):
        reason = reason_of(to_text, "a" * (TEXT_MAX_CHARS + 1))
        assert (
            reason == f"text of {TEXT_MAX_CHARS + 1} characters is longer than the {TEXT_MAX_CHARS} allowed"
        )

    def test_exactly_at_limit_passes(self):
        assert to_text("a" * TEXT_MAX_CHARS) == "a" * TEXT_MAX_CHARS


class TestNumber:
    @pytest.mark.parametrize(
        ("raw", "expected"),
        [("12", 12.0), ("-3.5", -3.5), (" 1e3 ", 1000.0), (".5", 0.5), ("7.", 7.0), ("+2", 2.0)],
    )
    def test_plain_numbers(self, raw, expected):
        assert to_number(raw) == expected

    def test_empty_is_none(self):
        assert to_number("") is None

    @pytest.mark.parametrize("raw", ["abc", "1_000", "١٢", "nan", "inf", "1.2.3", "--1"])
    def test_not_numbers(self, raw):
        assert reason_of(to_number, raw) == f"value {quote(raw)} is not a number"

    def test_comma_gets_a_hint(self):
        assert reason_of(to_number, "1,5") == (
            "value '1,5' is not a number (use a dot for decimals, no thousands separators)"
        )

    def test_overflow(self):
        assert reason_of(to_number, "1e400") == "value '1e400' is too large to be a number"


class TestBoolean:
    @pytest.mark.parametrize("raw", ["1", "true", "TRUE", "Yes", "y", "on", "||Yes||", " x "])
    def test_true(self, raw):
        assert to_boolean(raw) is True

    @pytest.mark.parametrize("raw", ["0", "false", "No", "n", "off", "||no||"])
    def test_false(self, raw):
        assert to_boolean(raw) is False

    def test_empty_checkbox_is_none(self):
        assert to_boolean("||||") is None

    @pytest.mark.parametrize("raw", ["maybe", "||yes||no||", "2"])
    def test_rejected(self, raw):
        assert reason_of(to_boolean, raw) == f"value {quote(raw)} is not a yes/no value"


class TestDates:
    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("2024-05-01", "2024-05-01"),
            ("2024-05-21T23:30:00-05:00", "2024-05-21"),  # the day as written, not the UTC day
            ("2024-05-21 10:14:32", "2024-05-21"),
            ("2024-01-05T14:20:31.482913004Z", "2024-01-05"),
            ("2024-02-29", "2024-02-29"),
        ],
    )
    def test_date(self, raw, expected):
        assert to_date(raw) == expected

    @pytest.mark.parametrize("raw", ["", "0000-00-00", "0000-00-00 00:00:00", "  "])
    def test_empty_and_zero_dates_are_none(self, raw):
        assert to_date(raw) is None

    def test_day_first_format_is_rejected(self):
        assert (
            reason_of(to_date, "31/02/2024") == "date '31/02/2024' is not a valid date (expected YYYY-MM-DD)"
        )

    def test_impossible_day(self):
        assert reason_of(to_date, "2023-02-29") == "date '2023-02-29' is not a valid date (no such day)"

    @pytest.mark.parametrize("raw", ["20240521", "2024-W21", "2024-5-1", "May 1 2024"])
    def test_lenient_iso_forms_are_refused(self, raw):
        with pytest.raises(ValueRejected):
            to_date(raw)

    def test_datetime_keeps_offset(self):
        value = to_datetime("2024-05-21T10:14:32-05:00")
        assert value == datetime(2024, 5, 21, 10, 14, 32, tzinfo=timezone(timedelta(hours=-5)))

    def test_datetime_without_offset_is_utc(self):
        assert to_datetime("2024-05-21 10:14:32") == datetime(2024, 5, 21, 10, 14, 32, tzinfo=UTC)

    def test_datetime_of_bare_date_is_midnight_utc(self):
        assert to_datetime("2024-05-21") == datetime(2024, 5, 21, tzinfo=UTC)

    def test_datetime_nanoseconds_are_cut_to_micro(self):
        assert to_datetime("2024-01-05T14:20:31.482913004Z").microsecond == 482913

    def test_bad_time(self):
        assert reason_of(to_datetime, "2024-05-21T25:00:00") == (
            "date '2024-05-21T25:00:00' is not a valid time of day"
        )

    def test_bad_offset(self):
        assert "time-zone offset" in reason_of(to_datetime, "2024-05-21T10:00:00+25:00")

    def test_iso_datetime_naive_means_utc(self):
        assert iso_datetime(datetime(2026, 2, 10, 8, 30)) == "2026-02-10T08:30:00+00:00"

    def test_utc_seconds_pads_early_years(self):
        assert utc_seconds(datetime(999, 1, 1, tzinfo=UTC)) == "0999-01-01T00:00:00Z"

    def test_utc_seconds_outside_the_calendar(self):
        with pytest.raises(ValueRejected, match="outside the calendar once moved to UTC"):
            utc_seconds(datetime.min.replace(tzinfo=timezone(timedelta(hours=5))))

    def test_utc_seconds(self):
        moment = datetime(2024, 5, 21, 10, 2, 0, 123, tzinfo=timezone(timedelta(hours=-5)))
        assert utc_seconds(moment) == "2024-05-21T15:02:00Z"


class TestMulti:
    def test_split(self):
        assert split_multi("||Option 1||Option 3||") == ["Option 1", "Option 3"]
        assert split_multi("Gold") == ["Gold"]
        assert split_multi("||||") == []

    def test_multi_sorted_unique(self):
        assert to_multi("||b||a||b||") == ["a", "b"]

    def test_multi_empty_is_none(self):
        assert to_multi("") is None

    def test_multi_option_too_long(self):
        option = "o" * (MULTI_OPTION_MAX_CHARS + 1)
        reason = reason_of(to_multi, f"||{option}||")
        assert reason.endswith(f"has {MULTI_OPTION_MAX_CHARS + 1} characters; Brevo allows 200")

    def test_joined_keeps_ac_order(self):
        assert to_joined("||b||a||") == "b, a"

    def test_joined_empty_is_none(self):
        assert to_joined("||||") is None


class TestPhone:
    @pytest.mark.parametrize(
        ("raw", "country", "expected"),
        [
            ("0612345678", "NL", "+31612345678"),
            ("+31 6 1234 5678", None, "+31612345678"),
            ("0031612345678", "NL", "+31612345678"),
            ("0031612345678", "US", "+31612345678"),  # 00 honoured outside 00-countries too
            ("0031612345678", None, "+31612345678"),
            ("+1 512 555 0143", "NL", "+15125550143"),
            ("(512) 555-0143", "US", "+15125550143"),
        ],
    )
    def test_e164(self, raw, country, expected):
        assert to_phone(raw, country) == expected

    def test_empty_is_none(self):
        assert to_phone("  ", "NL") is None

    def test_short_national_number(self):
        assert reason_of(to_phone, "0612", "NL") == (
            "phone '0612' has no country code and default country NL makes it invalid"
        )

    def test_no_country_code_and_no_default(self):
        assert reason_of(to_phone, "0612345678", None) == (
            "phone '0612345678' has no country code and no default country is set for this connection"
        )

    def test_invalid_with_country_code(self):
        assert (
            reason_of(to_phone, "+31 612", "NL")
            == "phone '+31 612' is not a valid number for its country code"
        )

    def test_unknown_country_code(self):
        assert reason_of(to_phone, "+999 1234567", None) == (
            "phone '+999 1234567' is not a valid number for its country code"
        )

    def test_words(self):
        assert reason_of(to_phone, "call me", "NL") == "phone 'call me' is not a phone number"

    def test_huge_input(self):
        assert reason_of(to_phone, "1" * 10_000, "NL").endswith("is too long to be a phone number")
