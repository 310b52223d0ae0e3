"""An incremental read misses no change whichever way AC reads `filters[updated_after]`, west or east of UTC.

The sandbox's `ac_filter_zone` knob makes it read the filter with its offset, as a UTC wall clock,
as an account-zone wall clock, or as a date only (the vendor documents a date only: reference §15).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from connectors.providers.activecampaign import ActiveCampaignClient
from connectors.providers.activecampaign.cursor import updated_after_value, widest_lateness
from connectors.providers.http.ratelimit import get_limiter
from sandbox.config import SandboxConfig
from sandbox.server import SandboxServer

TOUCHED = (3, 17, 29)


def _client(server: SandboxServer) -> ActiveCampaignClient:
    return ActiveCampaignClient(
        api_url=server.ac_api_url,
        api_key=server.ac_key,
        allow_private=True,
        limiter=get_limiter("tests:ac-cursor:none", None),
    )


def _changed_since(client: ActiveCampaignClient, since: datetime) -> set[int]:
    return {c.id for page in client.iter_contact_pages(updated_after=since) for c in page.items}


@pytest.mark.parametrize("zone", ["-05:00", "+09:00"])
@pytest.mark.parametrize("reading", ["offset", "utc", "account", "date"])
def test_nothing_changed_after_the_cursor_is_missed(zone: str, reading: str) -> None:
    config = SandboxConfig.fast(contacts=60, tz_offset=zone, ac_filter_zone=reading)
    with SandboxServer(config) as server, _client(server) as client:
        since = datetime.now(UTC) - timedelta(seconds=2)
        for cid in TOUCHED:
            httpx.post(f"{server.base_url}/_sandbox/ac/contacts/{cid}/touch", timeout=10).raise_for_status()
        found = _changed_since(client, since)
        assert set(TOUCHED) <= found, f"{reading} reading in {zone}: missed {set(TOUCHED) - found}"
        # Cost in proportion to what changed: only contacts changed inside the widest re-read window.
        offset = client.account_offset()
        assert offset == timedelta(hours=int(zone[:3]))
        earliest = (since - widest_lateness(offset)).timestamp()
        if reading != "date":
            extra = found - set(TOUCHED)
            assert all((server.ac.udate_of(cid) or 0) >= earliest for cid in extra)


def test_the_plain_utc_cursor_misses_changes_west_of_utc_read_in_account_time() -> None:
    """Why the cursor is written the way it is: the naive form starts five hours late here."""
    config = SandboxConfig.fast(contacts=20, tz_offset="-05:00", ac_filter_zone="account")
    with SandboxServer(config) as server:
        since = datetime.now(UTC) - timedelta(seconds=2)
        httpx.post(f"{server.base_url}/_sandbox/ac/contacts/3/touch", timeout=10).raise_for_status()
        headers = {"Api-Token": server.ac_key}
        naive = httpx.get(
            f"{server.base_url}/api/3/contacts",
            params={"filters[updated_after]": since.isoformat(timespec="seconds")},
            headers=headers,
            timeout=10,
        ).json()["contacts"]
        safe = httpx.get(
            f"{server.base_url}/api/3/contacts",
            params={"filters[updated_after]": updated_after_value(since, timedelta(hours=-5))},
            headers=headers,
            timeout=10,
        ).json()["contacts"]
    assert "3" not in {c["id"] for c in naive}
    assert "3" in {c["id"] for c in safe}
