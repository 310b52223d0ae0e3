"""How an incremental cursor is written into ActiveCampaign's `filters[updated_after]`.

ActiveCampaign documents these filters with a date only (reference §2.4, §15): whether a time is
read with its offset, as a wall clock in UTC, or as a wall clock in the account's time zone is
not documented, and a wrong guess loses changes: a UTC wall clock read in a zone west of UTC
(or an account-zone wall clock read as UTC east of it) starts the window hours late.

The value Tajo sends is `since` itself, written with the offset `S = min(0, account offset - 1 h)`
(`-12:00`, the westmost offset in use, while the account's offset is unknown):

* read with its offset, it is exactly `since`: nothing extra is read;
* read as a UTC wall clock, it is `since + S <= since`;
* read as an account-zone wall clock whose offset at that moment is `o'`, it is `since + S - o'`,
  and `S <= o'` holds because a zone's offset moves by at most an hour (daylight saving time)
  between the moment the offset was learned and `since`;
* read as a date only (midnight in either zone), it starts earlier still.

So a server may read it any of these ways without a change being missed; what it reads more
(`widest_lateness`: about |S| or the offset plus an hour) is deduplicated by content hash and
costs AC read requests only. The account's offset is learned from ActiveCampaign's own
timestamps (`udate`/`cdate` are written in the account's zone, reference §3.2, quirk 3).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

DST_SHIFT = timedelta(hours=1)  # most any zone's offset moves between two readings
WESTMOST = timedelta(hours=-12)  # the smallest UTC offset in use (Baker Island, UTC-12)


def send_offset(account_offset: timedelta | None) -> timedelta:
    """The offset the cursor is written with (see the module docstring)."""
    if account_offset is None:
        return WESTMOST
    return max(WESTMOST - DST_SHIFT, min(timedelta(0), account_offset - DST_SHIFT))


def updated_after_value(since: datetime | date, account_offset: timedelta | None) -> str:
    """`since` as a `filters[updated_after]` value that no reading of it can make start late."""
    if not isinstance(since, datetime):
        return since.isoformat()  # a bare date already starts at the earliest midnight anyone reads
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    zone = timezone(send_offset(account_offset))
    return since.astimezone(zone).replace(microsecond=0).isoformat()


def widest_lateness(account_offset: timedelta | None) -> timedelta:
    """How much earlier than `since` a server may start reading (the extra a run may re-read)."""
    shift = send_offset(account_offset)
    if account_offset is None:
        return -shift + timedelta(hours=14) + DST_SHIFT  # an account-zone reading as far east as UTC+14
    # A UTC wall clock reads |shift| early; an account wall clock up to (offset + 1 h - shift).
    return max(-shift, account_offset + DST_SHIFT - shift)
