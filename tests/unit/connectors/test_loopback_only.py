"""TAJO_LOOPBACK_ONLY (set for the whole suite): a client the factory builds never leaves the machine."""

from __future__ import annotations

import pytest

from connectors.exceptions import UnsafeURL
from connectors.providers.http.factory import build_client


def test_the_suite_runs_loopback_only() -> None:
    from django.conf import settings

    assert settings.TAJO_LOOPBACK_ONLY


@pytest.mark.parametrize(
    "url", ["https://93.184.215.14/v3", "https://[2606:2800:21f:cb07:6820:80da:af6b:8b2e]/v3"]
)
def test_a_public_address_is_refused_before_any_connection(url: str) -> None:
    with build_client(base_url=url, headers={}, allow_private=True) as client, pytest.raises(UnsafeURL):
        client.get("/account")
