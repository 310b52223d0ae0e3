"""A sandbox server on loopback for the tests in this folder (no limits, no faults)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from sandbox.config import SandboxConfig
from sandbox.server import SandboxServer


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxConfig.fast(contacts=150, seed=11)) as server:
        yield server


@pytest.fixture(scope="module")
def ac(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=sandbox.ac_api_url + "/api/3", headers={"Api-Token": sandbox.ac_key}, timeout=10
    ) as c:
        yield c


@pytest.fixture(scope="module")
def control(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.base_url + "/_sandbox", timeout=10) as c:
        yield c
