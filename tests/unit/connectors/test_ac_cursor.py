"""The `filters[updated_after]` value: exact when read with its offset, never late when read otherwise."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from connectors.providers.activecampaign.cursor import updated_after_value, widest_lateness

SINCE = datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=UTC)  # a daylight-saving weekend in Europe


def readings(value: str, zone_offset: timedelta) -> dict[str, datetime]:
    """Every way a server may read the value, for an account whose offset is `zone_offset` then."""
    aware = datetime.fromisoformat(value)
    wall = aware.replace(tzinfo=None)
    day = datetime.combine(wall.date(), datetime.min.time())
    zone = timezone(zone_offset)
    return {
        "offset": aware,
        "utc wall clock": wall.replace(tzinfo=UTC),
        "account wall clock": wall.replace(tzinfo=zone),
        "date in UTC": day.replace(tzinfo=UTC),
        "date in account time": day.replace(tzinfo=zone),
    }


@pytest.mark.parametrize("hours", [h / 2 for h in range(-24, 29)])
def test_no_reading_starts_after_since(hours: float) -> None:
    learned = timedelta(hours=hours)
    value = updated_after_value(SINCE, learned)
    assert datetime.fromisoformat(value) == SINCE.replace(microsecond=0)
    for shift in (timedelta(hours=-1), timedelta(0), timedelta(hours=1)):  # DST between learning and since
        for name, moment in readings(value, learned + shift).items():
            assert moment <= SINCE, (hours, shift, name, value)
            if not name.startswith("date"):
                assert SINCE - moment <= widest_lateness(learned) + timedelta(seconds=1), (hours, name)


def test_unknown_offset_is_safe_for_every_zone() -> None:
    value = updated_after_value(SINCE, None)
    assert value.endswith("-12:00")
    for hours in range(-12, 15):
        assert all(m <= SINCE for m in readings(value, timedelta(hours=hours)).values())


def test_examples() -> None:
    since = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    assert updated_after_value(since, timedelta(hours=-5)) == "2026-12-01T09:00:00-06:00"
    assert updated_after_value(since, timedelta(hours=9)) == "2026-12-01T15:00:00+00:00"
    assert updated_after_value(date(2026, 12, 1), None) == "2026-12-01"
    assert updated_after_value(datetime(2026, 12, 1, 15, 0), timedelta(0)) == "2026-12-01T14:00:00-01:00"
