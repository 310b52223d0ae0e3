"""Value converters: one raw ActiveCampaign string in, one Brevo-ready value out.

Each converter returns the converted value, returns None when the source holds nothing
(empty string, MySQL zero-date, empty multi-value), or raises ValueRejected with a reason a
person can act on. Reasons quote the raw value shortened, so a 5 MB field never lands in a
log line. No converter raises anything else for any string input.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, timedelta, timezone

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

# Brevo limits and choices (reference §3.1, §3.3; see docs/consent.md "Values").
MULTI_OPTION_MAX_CHARS = 200  # Brevo's cap for one multiple-choice option.
# Brevo publishes no cap for text attributes; 4,000 characters keeps an import row and a
# per-record log entry bounded while holding any realistic note or address.
TEXT_MAX_CHARS = 4000
QUOTE_MAX_CHARS = 40

_ZERO_DATES = frozenset({"0000-00-00", "0000-00-00 00:00:00", "0000-00-00T00:00:00"})
_DATE_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?)?",
    re.ASCII,  # \d must not accept other scripts' digits
)
_NUMBER_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
# C0 controls other than tab/newline/carriage return, plus DEL: invisible, and NUL cannot be
# stored in a PostgreSQL text/JSON column where the engine logs what it sent.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TRUE = frozenset({"1", "true", "t", "yes", "y", "on", "x", "checked"})
_FALSE = frozenset({"0", "false", "f", "no", "n", "off", "unchecked"})


class ValueRejected(ValueError):
    """A source value that cannot become the requested Brevo value; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def quote(raw: object) -> str:
    """Show a raw value inside a reason: single-quoted, one line, at most ~40 characters."""
    text = raw if isinstance(raw, str) else repr(raw)
    if len(text) > QUOTE_MAX_CHARS:
        text = text[: QUOTE_MAX_CHARS - 1] + "…"
    text = text.replace("\n", " ").replace("\r", " ")
    return f"'{clean_text(text)}'"


def clean_text(value: str) -> str:
    """Drop invisible control characters and replace lone surrogates so JSON/SQL accept it."""
    if value.isprintable():
        return value
    value = _CONTROL_RE.sub("", value)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value


def to_text(raw: str, *, max_chars: int = TEXT_MAX_CHARS) -> str | None:
    """Trimmed, cleaned text; longer than `max_chars` is rejected rather than cut silently."""
    value = clean_text(raw).strip()
    if not value:
        return None
    if len(value) > max_chars:
        raise ValueRejected(f"text of {len(value)} characters is longer than the {max_chars} allowed")
    return value


def to_number(raw: str) -> float | None:
    """A plain decimal number ("12", "-3.5", "1e3"); commas and words are refused, not guessed."""
    value = raw.strip()
    if not value:
        return None
    if not _NUMBER_RE.fullmatch(value):
        hint = " (use a dot for decimals, no thousands separators)" if "," in value else ""
        raise ValueRejected(f"value {quote(raw)} is not a number{hint}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueRejected(f"value {quote(raw)} is too large to be a number")
    return number


# Beyond 2**53 a float no longer holds every integer, and orjson refuses ints beyond 64 bits.
MAX_SAFE_INTEGER = 2**53


def cents_to_major(cents: int) -> float:
    """AC money (integer cents) as Brevo money (major units)."""
    if abs(cents) > MAX_SAFE_INTEGER:
        raise ValueRejected(f"amount of {quote(str(cents))} cents is too large")
    return cents / 100


def to_boolean(raw: str) -> bool | None:
    """Yes/no words, 1/0, true/false; a single-option AC checkbox ("||Yes||") counts too."""
    items = split_multi(raw)
    if not items:
        return None
    if len(items) == 1:
        word = items[0].strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    raise ValueRejected(f"value {quote(raw)} is not a yes/no value")


def _parse_iso(raw: str) -> tuple[re.Match[str] | None, date | None]:
    value = raw.strip()
    if not value or value in _ZERO_DATES:
        return None, None
    match = _DATE_RE.fullmatch(value)
    if match is None:
        raise ValueRejected(f"date {quote(raw)} is not a valid date (expected YYYY-MM-DD)")
    try:
        day = date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise ValueRejected(f"date {quote(raw)} is not a valid date (no such day)") from None
    return match, day


def to_date(raw: str) -> str | None:
    """`YYYY-MM-DD`; a datetime keeps the calendar day as written (the AC account's day)."""
    _, day = _parse_iso(raw)
    return day.isoformat() if day else None


def to_datetime(raw: str) -> datetime | None:
    """An ISO datetime (offset kept; none given means UTC); a bare date means midnight UTC."""
    match, day = _parse_iso(raw)
    if match is None or day is None:
        return None
    hour, minute, second = int(match[4] or 0), int(match[5] or 0), int(match[6] or 0)
    if hour > 23 or minute > 59 or second > 59:
        raise ValueRejected(f"date {quote(raw)} is not a valid time of day")
    micro = int((match[7] or "0")[:6].ljust(6, "0"))
    return datetime(day.year, day.month, day.day, hour, minute, second, micro, _tz(match[8], raw))


def _tz(offset: str | None, raw: str) -> timezone:
    if offset is None or offset in ("Z", "z"):
        return UTC
    digits = offset[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        raise ValueRejected(f"date {quote(raw)} has an impossible time-zone offset")
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if offset[0] == "-" else delta)


def iso_datetime(value: datetime) -> str:
    """ISO 8601 with offset; naive values are taken as UTC (Brevo events need an offset)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat()


def utc_seconds(value: datetime) -> str:
    """`YYYY-MM-DDTHH:mm:ssZ` in UTC, the format Brevo orders ask for."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        value = value.astimezone(UTC)
    except OverflowError:
        raise ValueRejected(
            f"date {quote(value.isoformat())} is outside the calendar once moved to UTC"
        ) from None
    # Not strftime: its %Y does not zero-pad years before 1000 on every platform.
    return (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
        f"T{value.hour:02d}:{value.minute:02d}:{value.second:02d}Z"
    )


def split_multi(raw: str) -> list[str]:
    """AC multi-values `||a||b||` (or one plain value) as trimmed, non-empty items."""
    if "||" not in raw:
        value = raw.strip()
        return [value] if value else []
    return [part.strip() for part in raw.split("||") if part.strip()]


def to_multi(raw: str) -> list[str] | None:
    """Brevo multiple-choice: sorted, de-duplicated option strings of at most 200 characters."""
    items = sorted({clean_text(item) for item in split_multi(raw)})
    if not items:
        return None
    for item in items:
        if len(item) > MULTI_OPTION_MAX_CHARS:
            raise ValueRejected(
                f"option {quote(item)} has {len(item)} characters; Brevo allows {MULTI_OPTION_MAX_CHARS}"
            )
    return items


def single_choice(raw: str) -> tuple[str | None, list[str]]:
    """One option of an AC single-choice value, and the options left out.

    AC keeps a dropdown or radio value in multi-value form (`||Retail||`) when the field was
    once multiple-choice or was written that way (reference §4.2: "multi-select/checkbox/dropdown
    `||Option 1||Option 3||`"; §6.5 shows dropdown/radio as `||A||`). The first option in AC's
    order is kept; more than one cannot be one choice, so the others are named.
    """
    items = split_multi(raw)
    if not items:
        return None, []
    return items[0], items[1:]


_GROUPED_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?", re.ASCII)
_DOT_THOUSANDS_COMMA_DECIMAL = re.compile(r"[+-]?\d{1,3}(?:\.\d{3})+,\d+", re.ASCII)
_COMMA_DECIMAL = re.compile(r"[+-]?\d+,\d+", re.ASCII)
_CURRENCY_MARKS = re.compile(r"^(?:[A-Za-z]{3}\s*|[$€£¥])|(?:\s*[A-Za-z]{3}|[$€£¥])$")


def ac_number_text(raw: str, *, currency: bool = False) -> str:
    """An AC number/currency field's text as a plain decimal for `to_number`.

    AC stores what was typed into a number field as text: thousands separators ("1,234.50",
    "1.234,50", "1 234", "1'234") and decimal commas ("12,5") occur. "1,234" reads as
    thousands (AC's number fields are shown with US grouping). Currency values may carry a
    symbol or an ISO code ("$12.50", "12.50 USD"). Anything else is left for `to_number` to refuse.
    """
    value = raw.strip().replace("\u00a0", "").replace("\u202f", "")
    if currency:
        value = _CURRENCY_MARKS.sub("", value).strip()
    value = value.replace(" ", "").replace("'", "")
    if _GROUPED_THOUSANDS.fullmatch(value):
        return value.replace(",", "")
    if _DOT_THOUSANDS_COMMA_DECIMAL.fullmatch(value):
        return value.replace(".", "").replace(",", ".")
    if _COMMA_DECIMAL.fullmatch(value):
        return value.replace(",", ".")
    return value


def to_joined(raw: str) -> str | None:
    """AC multi-values as one readable text: "a, b" in AC's order."""
    items = split_multi(raw)
    return to_text(", ".join(items)) if items else None


def to_phone(raw: str, default_country: str | None) -> str | None:
    """E.164 (`+31612345678`), reading numbers without a country code in `default_country`."""
    value = raw.strip()
    if not value:
        return None
    if len(value) > 64:
        raise ValueRejected(f"phone {quote(raw)} is too long to be a phone number")
    number = _parse_phone(value, default_country)
    if number is None and value.startswith("00"):
        # "00" is the international prefix in most countries (Brevo accepts 0033...), but
        # phonenumbers only honours the default country's own prefix.
        number = _parse_phone("+" + value[2:], None)
    if number is not None:
        return phonenumbers.format_number(number, PhoneNumberFormat.E164)
    explicit = value.startswith(("+", "00"))
    if explicit:
        raise ValueRejected(f"phone {quote(raw)} is not a valid number for its country code")
    if not default_country:
        raise ValueRejected(
            f"phone {quote(raw)} has no country code and no default country is set for this connection"
        )
    if not any(ch.isdigit() for ch in value):
        raise ValueRejected(f"phone {quote(raw)} is not a phone number")
    raise ValueRejected(
        f"phone {quote(raw)} has no country code and default country {default_country} makes it invalid"
    )


def _parse_phone(value: str, country: str | None) -> phonenumbers.PhoneNumber | None:
    try:
        number = phonenumbers.parse(value, country)
    except NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None
