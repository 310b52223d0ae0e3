"""Date formats of the AC account: ISO with the account's offset, offset-less wall clock, UTC ``Z``."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta, timezone

_OFFSET = re.compile(r"^([+-])(\d\d):(\d\d)$")
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class AccountClock:
    """Formats and parses AC timestamps in one fixed account time zone."""

    def __init__(self, offset: str = "-05:00") -> None:
        m = _OFFSET.match(offset)
        if not m:
            raise ValueError(f"offset must look like -05:00, not {offset!r}")
        minutes = int(m[2]) * 60 + int(m[3])
        self.offset = offset
        self.tz = timezone(timedelta(minutes=-minutes if m[1] == "-" else minutes))
        # Formatting is hot (several timestamps per generated row): the offset is fixed, so local
        # time is plain arithmetic and only the date part needs datetime, once per local day.
        self._shift = (-minutes if m[1] == "-" else minutes) * 60
        self._suffix = datetime.fromtimestamp(0, self.tz).isoformat()[19:]
        self._days: dict[int, tuple[str, str]] = {}  # local day -> (isoformat date, strftime date)
        self._times: dict[int, str] = {}  # second of the day -> "HH:MM:SS"

    # How date filters are read; see `parse_filter` and `SandboxConfig.ac_filter_zone`.
    filter_zone = "offset"

    @staticmethod
    def now() -> float:
        return time.time()

    def _date(self, day: int, whole: int) -> tuple[str, str]:
        dt = datetime.fromtimestamp(whole, self.tz)
        dates = self._days[day] = (dt.isoformat()[:10], dt.strftime("%Y-%m-%d"))
        return dates

    def _time(self, second: int) -> str:
        hours, rest = divmod(second, 3600)
        text = self._times[second] = f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"
        return text

    def iso(self, epoch: float | None) -> str | None:
        """``2023-03-14T09:21:07-05:00`` (cdate, udate, mdate, ...)."""
        if epoch is None:
            return None
        whole = int(epoch)
        day, second = divmod(whole + self._shift, 86400)
        dates = self._days.get(day) or self._date(day, whole)
        return f"{dates[0]}T{self._times.get(second) or self._time(second)}{self._suffix}"

    def wall(self, epoch: float | None) -> str | None:
        """``2023-03-14 09:21:07``: account wall clock without offset (``*_timestamp``)."""
        if epoch is None:
            return None
        whole = int(epoch)
        day, second = divmod(whole + self._shift, 86400)
        dates = self._days.get(day) or self._date(day, whole)
        return f"{dates[1]} {self._times.get(second) or self._time(second)}"

    def date(self, epoch: float) -> str:
        whole = int(epoch)
        day = (whole + self._shift) // 86400
        return (self._days.get(day) or self._date(day, whole))[1]

    @staticmethod
    def utc_nanos(epoch: float, nanos: int = 0) -> str:
        """``2024-01-05T14:20:31.482913004Z`` as custom objects write it."""
        base = datetime.fromtimestamp(int(epoch), UTC).strftime("%Y-%m-%dT%H:%M:%S")
        return f"{base}.{nanos % 1_000_000_000:09d}Z"

    def parse(self, value: str) -> float:
        """Parse a filter value: ``YYYY-MM-DD`` or an ISO datetime; no offset = account time.

        Raises ValueError for anything else.
        """
        text = value.strip()
        if _DATE_ONLY.match(text):
            dt = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=self.tz)
            return dt.timestamp()
        # Query strings turn an unencoded "+" into a space.
        if len(text) > 19 and text[19:20] == " ":
            text = text[:19] + "+" + text[20:]
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        dt = datetime.fromisoformat(text)
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=self.tz)
        return dt.timestamp()

    def parse_filter(self, value: str) -> float:
        """Parse a `filters[...]` date the way the simulated account reads it (`filter_zone`).

        The vendor documents these filters with a date only, so how a time, and an offset, are
        read is unknown (reference §15): "offset" honours an offset (a bare time is account time),
        "utc" / "account" drop any offset and read the wall clock in UTC / in the account's zone,
        "date" keeps only the date (midnight, account time). Raises ValueError like `parse`.
        """
        mode = self.filter_zone
        if mode == "offset":
            return self.parse(value)
        self.parse(value)  # same validation whatever the reading
        text = value.strip()
        if mode == "date":
            return self.parse(text[:10])
        wall = datetime.fromisoformat(text[:19].replace(" ", "T") if len(text) > 10 else text[:10])
        return wall.replace(tzinfo=UTC if mode == "utc" else self.tz).timestamp()

    def parse_stored(self, value: str | None) -> float | None:
        """Parse a timestamp we wrote ourselves (ISO with offset or wall clock); zero-dates are None."""
        if not value or value.startswith("0000"):
            return None
        try:
            return self.parse(value)
        except ValueError:
            return None
