"""Secret comparison, caller address behind a trusted proxy, and the IP allow-list."""

from __future__ import annotations

import pytest

from connectors.webhooks.security import address_allowed, client_address, parse_allowlist, secret_matches


def test_secret_matches() -> None:
    assert secret_matches("s3cr3t-value", "s3cr3t-value")
    assert not secret_matches("s3cr3t-valuE", "s3cr3t-value")
    assert not secret_matches("", "s3cr3t-value")
    # No connection: compared against a dummy, and never a match even with the dummy's value.
    assert not secret_matches("x" * 43, None)


def test_remote_addr_only_without_trusted_header() -> None:
    meta = {"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_FOR": "1.2.3.4"}
    assert client_address(meta) == "10.0.0.5"  # forged header ignored


def test_trusted_header_uses_the_entry_our_proxy_appended() -> None:
    meta = {"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.9"}
    assert client_address(meta, trusted_header="X-Forwarded-For") == "203.0.113.9"
    assert client_address({"REMOTE_ADDR": "10.0.0.5"}, trusted_header="X-Forwarded-For") == "10.0.0.5"
    assert (
        client_address(
            {"REMOTE_ADDR": "10.0.0.5", "HTTP_X_REAL_IP": "198.51.100.1"}, trusted_header="X-Real-IP"
        )
        == "198.51.100.1"
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("203.0.113.9:4431", "203.0.113.9"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("2001:db8::1", "2001:db8::1"),
        ("garbage", None),
        ("", None),
    ],
)
def test_addresses_are_normalised(raw: str, expected: str | None) -> None:
    assert client_address({"REMOTE_ADDR": raw}) == expected


def test_allowlist() -> None:
    allow = "203.0.113.0/24\n# office\n2001:db8::/32\n198.51.100.7  # one host\n"
    networks, invalid = parse_allowlist(allow)
    assert len(networks) == 3 and invalid == ()
    assert address_allowed(allow, "203.0.113.77")
    assert address_allowed(allow, "198.51.100.7")
    assert address_allowed(allow, "2001:db8::abcd")
    assert address_allowed(allow, "::ffff:203.0.113.1")  # v4-mapped v6
    assert not address_allowed(allow, "198.51.100.8")
    assert not address_allowed(allow, None)


def test_empty_list_allows_everyone_and_a_list_of_typos_no_one() -> None:
    assert address_allowed("", "8.8.8.8")
    assert address_allowed("  \n# nothing yet\n", "8.8.8.8")
    assert not address_allowed("not-an-ip\n", "8.8.8.8")
    networks, invalid = parse_allowlist("10.0.0.0/8\nnope")
    assert len(networks) == 1
    assert invalid == ("nope",)
    assert address_allowed("10.0.0.0/8\nnope", "10.1.2.3")
