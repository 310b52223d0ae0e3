"""The AC simulator follows the current contract by default (reference §15), the old one on request."""

from __future__ import annotations

import httpx
import pytest

from connectors.providers.activecampaign import ActiveCampaignClient
from connectors.providers.http.ratelimit import FollowingLimiter
from sandbox.clock import AccountClock
from sandbox.config import SandboxConfig
from sandbox.faults import FaultSpec
from sandbox.server import SandboxServer


def _get(server: SandboxServer, path: str, key: str | None = None) -> httpx.Response:
    headers = {"Api-Token": key if key is not None else server.ac_key}
    return httpx.get(f"{server.base_url}/api/3{path}", headers=headers, timeout=10)


def test_every_answer_carries_the_limit_and_429s_ask_for_30_seconds() -> None:
    config = SandboxConfig(contacts=5, faults=FaultSpec.parse("429=1"), fault_scope="ac")
    with SandboxServer(config) as server:
        refused = _get(server, "/users/me")
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "30"
    with SandboxServer(SandboxConfig(contacts=5)) as server:
        for path, key, status in (
            ("/users/me", None, 200),
            ("/", None, 200),
            ("/no-such-route", None, 404),
            ("/users/me", "wrong-key", 403),
        ):
            response = _get(server, path, key)
            assert response.status_code == status, path
            assert response.headers["RateLimit-Limit"] == "5", path
            assert response.headers["RateLimit-Remaining"].isdigit(), path
        burst = [_get(server, "/users/me") for _ in range(12)]
        limited = [r for r in burst if r.status_code == 429]
        assert limited and all(r.headers["Retry-After"] == "30" for r in limited)
        assert all(r.headers["RateLimit-Remaining"] == "0" for r in limited)


def test_retry_after_is_configurable() -> None:
    config = SandboxConfig(contacts=5, ac_retry_after=7, faults=FaultSpec.parse("429=1"), fault_scope="ac")
    with SandboxServer(config) as server:
        assert _get(server, "/users/me").headers["Retry-After"] == "7"


def test_token_check_at_the_api_root_and_lists_with_their_channel() -> None:
    with SandboxServer(SandboxConfig.fast(contacts=5)) as server:
        assert _get(server, "/").status_code == 200
        assert _get(server, "/", "wrong-key").status_code == 403
        lists = _get(server, "/lists").json()["lists"]
        assert lists and all(row["channel"] == "email" for row in lists)


def test_legacy_flag_keeps_the_old_behaviour() -> None:
    config = SandboxConfig(contacts=5, ac_legacy=True, faults=FaultSpec.parse("429=1"), fault_scope="ac")
    with SandboxServer(config) as server:
        assert _get(server, "/users/me").headers["Retry-After"] == "1"
    with SandboxServer(SandboxConfig(contacts=5, ac_legacy=True)) as server:
        assert _get(server, "/").status_code == 404
        assert "RateLimit-Limit" not in _get(server, "/users/me", "wrong-key").headers


def test_a_client_set_above_the_grant_paces_at_the_grant() -> None:
    """Configured at 10/s against an account that grants 5: the header brings it down, no 429."""
    with SandboxServer(SandboxConfig(contacts=5, ac_retry_after=1)) as server:
        limiter = FollowingLimiter("tests:ac-contract:follow", 10.0)
        with ActiveCampaignClient(
            api_url=server.ac_api_url, api_key=server.ac_key, allow_private=True, limiter=limiter
        ) as client:
            for _ in range(30):
                client.get_me()
            assert client.pace == 5.0
        log = httpx.get(f"{server.base_url}/_sandbox/requests", params={"api": "ac"}).json()["requests"]
    statuses = [entry["status"] for entry in log]
    # The first requests go out at 10/s until the first answer is read; after that never above 5.
    assert statuses.count("429") <= 1, statuses


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("offset", "2026-12-01T15:00:00+00:00"),
        ("utc", "2026-12-01T10:00:00+00:00"),
        ("account", "2026-12-01T15:00:00+00:00"),
        ("date", "2026-12-01T05:00:00+00:00"),
    ],
)
def test_filter_zone_readings(zone: str, expected: str) -> None:
    from datetime import UTC, datetime

    clock = AccountClock("-05:00")
    clock.filter_zone = zone
    value = "2026-12-01T10:00:00-05:00"
    assert datetime.fromtimestamp(clock.parse_filter(value), UTC).isoformat() == expected
