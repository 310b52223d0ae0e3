"""Who may post to an intake URL: the secret in the URL and the optional IP allow-list.

Pure functions (no database), so the rules are tested on their own.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Mapping
from functools import lru_cache

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Compared against when the connection does not exist, so an unknown id costs the same
# constant-time comparison as a wrong secret.
_DUMMY_SECRET = "x" * 43


def secret_matches(given: str, expected: str | None) -> bool:
    """Constant-time comparison; a missing connection compares against a dummy and fails."""
    ok = hmac.compare_digest(given.encode(), (expected or _DUMMY_SECRET).encode())
    return ok and expected is not None


def header_meta_key(header: str) -> str:
    """`X-Forwarded-For` -> `HTTP_X_FORWARDED_FOR` (how WSGI names request headers)."""
    return "HTTP_" + header.strip().upper().replace("-", "_")


def client_address(meta: Mapping[str, str], *, trusted_header: str = "") -> str | None:
    """The caller's address as far as this deployment can trust it.

    Without a trusted proxy header only REMOTE_ADDR counts: any header can be forged by the
    caller. With one (e.g. `X-Forwarded-For` behind exactly one reverse proxy) the right-most
    entry is used: it is the one our proxy appended; entries to its left came from the caller.
    A request that did not pass the proxy (header absent) falls back to REMOTE_ADDR.
    """
    if trusted_header:
        value = meta.get(header_meta_key(trusted_header), "")
        if value:
            candidate = value.split(",")[-1].strip()
            return _clean(candidate)
    return _clean(meta.get("REMOTE_ADDR", ""))


def _clean(text: str) -> str | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


@lru_cache(maxsize=1024)
def parse_allowlist(text: str) -> tuple[tuple[IPNetwork, ...], tuple[str, ...]]:
    """Networks from one-address-or-CIDR-per-line text, and the lines that are neither.

    `#` starts a comment. Cached: the intake checks the same few lists thousands of times.
    """
    networks: list[IPNetwork] = []
    invalid: list[str] = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            networks.append(ipaddress.ip_network(line, strict=False))
        except ValueError:
            invalid.append(line)
    return tuple(networks), tuple(invalid)


def address_allowed(allowlist: str, address: str | None) -> bool:
    """An empty list allows everyone; a list of nothing but invalid lines allows no one."""
    if not allowlist.strip():
        return True
    networks, invalid = parse_allowlist(allowlist)
    if not networks:
        return not invalid  # only comments: no list; only typos: fail closed
    if address is None:
        return False
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == net.version and ip in net for net in networks)
