"""The address guard: every IPv6 or odd spelling of a private IPv4 address is refused.

These tests call the validators and the connect-time check with the real connect replaced:
nothing here sends a byte anywhere.
"""

from __future__ import annotations

import ipaddress

import httpcore
import pytest
from django.core.exceptions import ValidationError

from connectors.exceptions import UnsafeURL
from connectors.providers.http import guard
from connectors.providers.http.guard import address_forbidden, check_url
from connectors.validators import normalize_ac_api_url, normalize_brevo_api_url

REFUSED_HOSTS = [
    "[64:ff9b::a9fe:a9fe]",  # NAT64 of 169.254.169.254
    "[64:ff9b::7f00:1]",  # NAT64 of 127.0.0.1
    "[64:ff9b:1::808:808]",  # local-use NAT64, whatever it embeds
    "[2002:a9fe:a9fe::1]",  # 6to4 of 169.254.169.254
    "[2002:7f00:1::]",  # 6to4 of 127.0.0.1
    "[::169.254.169.254]",  # IPv4-compatible
    "[::8.8.8.8]",  # IPv4-compatible (deprecated) even of a public address
    "[::ffff:10.0.0.1]",  # IPv4-mapped
    "[::ffff:a9fe:a9fe]",
    "[fec0::1]",  # site-local
    "[2001:0:4136:e378:8000:63bf:3fff:fdd2]",  # Teredo
    "[fd00::1]",
    "[ff02::1]",
    "127.0.0.1.",  # trailing dot
    "169.254.169.254.",
    "2130706433",  # 127.0.0.1 as one number
    "0x7f.1",
    "127.1",
    "localhost.",
    "100.64.0.1",
    "198.18.0.1",
    "224.0.0.1",
]


@pytest.mark.parametrize("host", REFUSED_HOSTS)
def test_check_url_refuses(host: str) -> None:
    for resolve in (True, False):
        with pytest.raises(UnsafeURL):
            check_url(f"https://{host}/v3", allow_private=False, resolve=resolve)


@pytest.mark.parametrize("host", REFUSED_HOSTS)
def test_save_time_validators_refuse(host: str) -> None:
    with pytest.raises(ValidationError):
        normalize_brevo_api_url(f"https://{host}/v3", allow_private=False)
    with pytest.raises(ValidationError):
        normalize_ac_api_url(f"https://{host}", allow_private=False)


@pytest.mark.parametrize("address", ["8.8.8.8", "64:ff9b::808:808", "2002:808:808::1", "2606:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert not address_forbidden(ipaddress.ip_address(address))


@pytest.mark.parametrize("host", ["64:ff9b::a9fe:a9fe", "127.0.0.1.", "fec0::1", "::169.254.169.254"])
def test_connect_time_check_refuses_before_connecting(host: str, monkeypatch) -> None:
    attempts: list[tuple] = []

    def no_connect(self, host, port, *args, **kwargs):
        attempts.append((host, port))
        raise AssertionError("the guard let a forbidden address through to connect")

    monkeypatch.setattr(httpcore.SyncBackend, "connect_tcp", no_connect)
    with pytest.raises(UnsafeURL):
        guard._GuardedBackend().connect_tcp(host, 443)
    assert attempts == []


def test_connect_time_check_refuses_a_name_that_resolves_inward(monkeypatch) -> None:
    monkeypatch.setattr(guard, "_resolve", lambda host, port: ["64:ff9b::a9fe:a9fe"])
    monkeypatch.setattr(httpcore.SyncBackend, "connect_tcp", lambda *a, **k: pytest.fail("connected"))
    with pytest.raises(UnsafeURL):
        guard._GuardedBackend().connect_tcp("api.example.org", 443)


def test_port_in_the_ac_url_is_refused_not_dropped() -> None:
    with pytest.raises(ValidationError) as caught:
        normalize_ac_api_url("https://acme.api-us1.com:8443", allow_private=False)
    assert ":8443" in str(caught.value)
    assert normalize_ac_api_url("https://acme.api-us1.com:443", allow_private=False) == (
        "https://acme.api-us1.com"
    )
    # The sandbox's loopback URLs keep their port.
    assert normalize_ac_api_url("http://127.0.0.1:8123", allow_private=True) == "http://127.0.0.1:8123"


@pytest.mark.parametrize("url", ["https://acme.api-us1.com:abc", "https://acme.api-us1.com:99999"])
def test_bad_port_is_a_validation_error(url: str) -> None:
    with pytest.raises(ValidationError):
        normalize_ac_api_url(url, allow_private=False)
    with pytest.raises(ValidationError):
        normalize_brevo_api_url(url, allow_private=False)
