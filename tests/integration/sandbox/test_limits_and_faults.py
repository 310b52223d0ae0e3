"""Rate limits (AC token bucket, Brevo buckets through the mount) and injected faults, over loopback."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from sandbox.config import BucketLimit, SandboxConfig
from sandbox.faults import FaultSpec
from sandbox.server import SandboxServer
from sandbox.stats import max_in_window


@pytest.fixture(scope="module")
def limited() -> Iterator[SandboxServer]:
    config = SandboxConfig.fast(
        contacts=20,
        ac_rate=5.0,
        ac_retry_after=1.0,
        ac_extra_keys=("sandbox-second-user-key",),
        brevo_limits={"contacts": BucketLimit(per_second=2), "events": None, "orders": None, "other": None},
    )
    with SandboxServer(config) as server:
        yield server


def test_ac_burst_past_the_rate_gets_429_with_headers(limited: SandboxServer) -> None:
    time.sleep(1.1)  # a full bucket
    with httpx.Client(base_url=limited.base_url + "/api/3", headers={"Api-Token": limited.ac_key}) as client:
        responses = [client.get("/users/me") for _ in range(12)]
    statuses = [r.status_code for r in responses]
    assert statuses[:5] == [200] * 5
    assert 429 in statuses
    for r in responses:
        assert r.headers["RateLimit-Limit"] == "5"
        assert r.headers["RateLimit-Remaining"].isdigit()
    refused = next(r for r in responses if r.status_code == 429)
    assert refused.headers["Retry-After"] == "1"
    assert refused.headers["RateLimit-Remaining"] == "0"
    time.sleep(1.1)
    with httpx.Client(base_url=limited.base_url + "/api/3", headers={"Api-Token": limited.ac_key}) as client:
        assert client.get("/users/me").status_code == 200


def test_all_keys_of_an_account_share_its_bucket(limited: SandboxServer) -> None:
    time.sleep(1.1)
    keys = [limited.ac_key, "sandbox-second-user-key"]
    statuses = []
    with httpx.Client(base_url=limited.base_url + "/api/3") as client:
        for n in range(10):
            statuses.append(client.get("/users/me", headers={"Api-Token": keys[n % 2]}).status_code)
    assert statuses.count(200) == 5  # one window of 5 for the account, not 5 per key
    assert 429 in statuses


def test_admitted_requests_never_exceed_the_rate_in_any_second(limited: SandboxServer) -> None:
    time.sleep(1.1)
    with httpx.Client(base_url=limited.base_url, timeout=5) as control:
        since = control.get("/_sandbox/requests", params={"limit": 1}).json()["now"]
    started = time.monotonic()
    with httpx.Client(base_url=limited.base_url + "/api/3", headers={"Api-Token": limited.ac_key}) as client:
        while time.monotonic() - started < 2.5:
            client.get("/lists")  # hammer: as fast as loopback allows
    with httpx.Client(base_url=limited.base_url, timeout=5) as control:
        log = control.get("/_sandbox/requests", params={"since": since, "api": "ac"}).json()["requests"]
    admitted = [e["t"] for e in log if e["status"] == "200"]
    refused = [e for e in log if e["status"] == "429"]
    assert refused, "the client went faster than the limit"
    assert max_in_window(admitted, 1.0) == 5  # busy enough to fill every second, never more
    assert len(admitted) <= 5 * 3


def test_brevo_buckets_apply_through_the_mount(limited: SandboxServer) -> None:
    time.sleep(1.1)
    with httpx.Client(base_url=limited.brevo_api_url, headers={"api-key": limited.brevo_key}) as client:
        statuses = [client.get("/contacts", params={"limit": 1}).status_code for _ in range(5)]
        other = client.get("/account")
    assert statuses[:2] == [200, 200] and 429 in statuses
    assert other.status_code == 200  # the "other" bucket is unlimited here


# -- faults ---------------------------------------------------------------------------------


def serve(spec: str, **overrides: object) -> SandboxServer:
    return SandboxServer(SandboxConfig.fast(contacts=5, faults=FaultSpec.parse(spec), **overrides))


def test_injected_status_codes_have_realistic_bodies() -> None:
    with serve("500=1") as sb:
        r = httpx.get(sb.base_url + "/api/3/users/me", headers={"Api-Token": sb.ac_key})
        assert r.status_code == 500 and r.json() == {"message": "Internal Server Error"}
    with serve("502=1") as sb:
        r = httpx.get(sb.base_url + "/api/3/users/me", headers={"Api-Token": sb.ac_key})
        assert r.status_code == 502 and r.headers["content-type"].startswith("text/html")
        assert "<html>" in r.text
        # Control endpoints are never faulted.
        assert httpx.get(sb.base_url + "/_sandbox/stats").status_code == 200
    with serve("429=1", ac_retry_after=3) as sb:
        r = httpx.get(sb.base_url + "/api/3/users/me", headers={"Api-Token": sb.ac_key})
        assert r.status_code == 429 and r.headers["Retry-After"] == "3"
        b = httpx.get(sb.brevo_api_url + "/account", headers={"api-key": sb.brevo_key})
        assert b.status_code == 429 and b.headers["x-sib-ratelimit-remaining"] == "0"
        assert "x-sib-ratelimit-reset" in b.headers


def test_dropped_connection_gives_no_response_at_all() -> None:
    with serve("drop=1") as sb:
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.get(sb.base_url + "/api/3/users/me", headers={"Api-Token": sb.ac_key})
        stats = httpx.get(sb.base_url + "/_sandbox/stats").json()
        assert stats["requests"]["GET /api/3/users/me"]["drop"] == 1
        assert stats["faults"] == {"drop": 1}


def test_timeout_hangs_past_the_client_timeout() -> None:
    with serve("timeout=1:5") as sb:
        started = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            httpx.get(sb.base_url + "/api/3/users/me", headers={"Api-Token": sb.ac_key}, timeout=0.3)
        assert time.monotonic() - started < 2


def test_slow_responses_arrive_late_but_complete() -> None:
    with serve("slow=1:0.3") as sb:
        started = time.monotonic()
        r = httpx.get(sb.base_url + "/api/3/users/me", headers={"Api-Token": sb.ac_key})
        assert r.status_code == 200 and time.monotonic() - started >= 0.3


def test_fault_scope_limits_which_api_is_hit() -> None:
    with serve("500=1", fault_scope="brevo") as sb:
        assert httpx.get(sb.base_url + "/api/3/users/me", headers={"Api-Token": sb.ac_key}).status_code == 200
        assert httpx.get(sb.brevo_api_url + "/account", headers={"api-key": sb.brevo_key}).status_code == 500


def test_same_seed_same_fault_sequence() -> None:
    def statuses(seed: int) -> list[int]:
        with serve("500=0.3,503=0.2", seed=seed) as sb, httpx.Client(headers={"Api-Token": sb.ac_key}) as c:
            return [c.get(sb.base_url + "/api/3/users/me").status_code for _ in range(40)]

    first, second, other = statuses(3), statuses(3), statuses(4)
    assert first == second
    assert first != other
    assert {200, 500, 503} == set(first)
