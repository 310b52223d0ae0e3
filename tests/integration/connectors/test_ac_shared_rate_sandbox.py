"""Two worker processes reading one AC account share its 5 req/s through Redis, as the sandbox sees it."""

from __future__ import annotations

import multiprocessing
import time

import httpx

from sandbox.config import SandboxConfig
from sandbox.server import SandboxServer
from sandbox.stats import max_in_window
from tests.integration.connectors.ac_workers import read_contacts

RATE = 5
PAGES_PER_PROCESS = 12


def test_two_processes_stay_at_or_under_the_account_rate(redis_url, redis_conn):
    config = SandboxConfig(contacts=50, ac_rate=RATE)
    with SandboxServer(config) as server:
        context = multiprocessing.get_context("spawn")
        start_at = time.time() + 2.5  # both children have imported the client before either starts
        args = (server.ac_api_url, server.ac_key, RATE, redis_url, PAGES_PER_PROCESS, start_at)
        with context.Pool(2) as pool:
            rows = pool.starmap(read_contacts, [args, args])
        log = httpx.get(f"{server.base_url}/_sandbox/requests", params={"api": "ac"}).json()["requests"]
    assert rows == [10 * PAGES_PER_PROCESS] * 2
    assert len(log) == 2 * PAGES_PER_PROCESS
    assert [e["status"] for e in log] == ["200"] * len(log)  # never refused by the account's bucket
    stamps = [e["t"] for e in log]
    assert max_in_window(stamps, 1.0) <= RATE
    # Close to the rate, not far below it: 24 requests at 5/s need a little under 5 s.
    assert max(stamps) - min(stamps) < 6.5
