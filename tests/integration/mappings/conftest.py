"""Fixtures: a sandbox (ActiveCampaign + Brevo over loopback HTTP) and connections wired to it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.config import SandboxConfig
from sandbox.server import SandboxServer
from tests.factories import ACAccountFactory, BrevoAccountFactory, ConnectionFactory, TenantFactory


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    """A fresh sandbox per test (starts in milliseconds), so Brevo-side changes never leak."""
    with SandboxServer(SandboxConfig.fast(contacts=5, seed=11)) as server:
        yield server


@pytest.fixture
def sandbox_env(sandbox: SandboxServer) -> dict[str, str]:
    """What a YAML file's ${...} placeholders read in these tests."""
    return {
        "AC_API_URL": sandbox.ac_api_url,
        "AC_API_KEY": sandbox.ac_key,
        "BREVO_API_URL": sandbox.brevo_api_url,
        "BREVO_API_KEY": sandbox.brevo_key,
    }


@pytest.fixture
def connection(sandbox: SandboxServer, redis_conn):
    """A connection of a fresh tenant wired to the sandbox (fast AC pacing: tests measure behaviour)."""
    tenant = TenantFactory()
    ac = ACAccountFactory(
        tenant=tenant, api_url=sandbox.ac_api_url, api_key=sandbox.ac_key, requests_per_second=100.0
    )
    brevo = BrevoAccountFactory(tenant=tenant, api_url=sandbox.brevo_api_url, api_key=sandbox.brevo_key)
    return ConnectionFactory(tenant=tenant, name="activecampaign", ac_account=ac, brevo_account=brevo)
