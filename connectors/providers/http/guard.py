"""The address guard: which URLs and addresses Tajo may connect to (no request forgery inward).

`check_url` refuses a URL before a client is built; the network backends check every address a
host resolves to at connect time, so DNS cannot point a client inward later.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

from connectors.providers.http.errors import UnsafeURL
from connectors.providers.http.masking import display_url

# IPv6 prefixes that carry an IPv4 address in their low bits (RFC 6052 NAT64, RFC 8215 local
# NAT64, RFC 4291 IPv4-compatible). Python's ipaddress extracts 6to4 (`sixtofour`), Teredo and
# IPv4-mapped itself; these three it does not.
_NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """Every IPv4 address an IPv6 address stands for (mapped, compatible, NAT64, 6to4, Teredo)."""
    found: list[ipaddress.IPv4Address] = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    low32 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in _NAT64_WELL_KNOWN or ip in _NAT64_LOCAL or ip in _IPV4_COMPATIBLE:
        found.append(low32)
    return found


def address_forbidden(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether Tajo must not connect to `ip`: anything but a global unicast address.

    Built on the ipaddress module's special-purpose registry (`is_global`), plus what that
    registry leaves out: multicast, deprecated site-local `fec0::/10`, and IPv6 forms that embed
    an IPv4 address, which are judged by the address they embed (a NAT64 address of a public
    host stays usable on IPv6-only networks; one of 169.254.169.254 does not).
    """
    if ip.is_multicast or not ip.is_global:
        return True
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.is_site_local:
            return True
        if ip in _NAT64_LOCAL:  # local-use NAT64 translates into the operator's own network
            return True
        if ip in _IPV4_COMPATIBLE:  # deprecated (RFC 4291 2.5.5.1); no real API host uses it
            return True
        return any(address_forbidden(v4) for v4 in _embedded_ipv4(ip))
    return False


def _forbidden_address(address: str) -> bool:
    return address_forbidden(ipaddress.ip_address(address.split("%", 1)[0]))


_LEGACY_IPV4 = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}$", re.IGNORECASE)


def literal_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a host name spells, in any form a resolver would accept as numeric.

    `127.0.0.1.` (trailing dot), `[::1]`, and the inet_aton forms `2130706433`, `0x7f.1`,
    `127.1` all count: resolvers and some HTTP stacks turn them into addresses without DNS.
    """
    text = host.strip().strip("[]").rstrip(".").split("%", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    if _LEGACY_IPV4.match(text):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    return None


def _resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def check_url(url: str, *, allow_private: bool, resolve: bool = True) -> None:
    """Refuse URLs Tajo must not call: non-http(s), user info, loopback/private/link-local/reserved.

    With `resolve`, the host name is looked up and every address it resolves to is checked
    (a name that does not resolve passes: there is nothing to connect to, and `build_client`'s
    transport checks again at connect time). `allow_private` (sandbox and tests only) skips the
    address checks but not the scheme check.
    """
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise UnsafeURL(f"'{display_url(str(url))}' is not a valid URL", url=display_url(str(url))) from exc
    shown = display_url(parsed)
    if parsed.scheme not in ("http", "https"):
        raise UnsafeURL(f"Only http:// and https:// URLs are allowed, not '{shown}'", url=shown)
    if not parsed.host:
        raise UnsafeURL(f"'{shown}' has no host name", url=shown)
    if parsed.userinfo:
        raise UnsafeURL(
            "The URL must not contain a user name or password; enter credentials separately", url=shown
        )
    if allow_private:
        return
    host = parsed.host.lower()
    bare = host.rstrip(".")
    if bare == "localhost" or bare.endswith((".localhost", ".local", ".internal")):
        raise UnsafeURL(f"'{host}' is a local host name; Tajo only calls public API hosts", url=shown)
    literal = literal_address(host)
    if literal is not None:
        addresses = [str(literal)]
    else:
        if not resolve:
            return
        try:
            addresses = _resolve(host, parsed.port or (443 if parsed.scheme == "https" else 80))
        except (OSError, UnicodeError):
            # Nothing to connect to, so nothing to refuse: the request itself will fail to connect,
            # and the connect-time check looks again if the name starts resolving.
            return
    for address in addresses:
        if _forbidden_address(address):
            raise UnsafeURL(
                f"'{host}' points to a private, loopback or reserved address ({address}); "
                "Tajo only calls public API hosts",
                url=shown,
            )


class _GuardedBackend(httpcore.SyncBackend):
    """Checks the addresses a host resolves to at connect time, then connects to a checked one."""

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = _connect_addresses(host, port)
        self.check(host, addresses)
        return super().connect_tcp(addresses[0], port, timeout, local_address, socket_options)

    def check(self, host: str, addresses: list[str]) -> None:
        _refuse_forbidden(host, addresses)


def _connect_addresses(host: str, port: int) -> list[str]:
    """The addresses a connection to `host` would use, looked up once at connect time."""
    literal = literal_address(host)
    try:
        return [str(literal)] if literal is not None else _resolve(host, port)
    except (OSError, UnicodeError) as exc:
        raise httpcore.ConnectError(f"could not resolve {host}") from exc


def _refuse_forbidden(host: str, addresses: list[str]) -> None:
    for address in addresses:
        if _forbidden_address(address):
            raise UnsafeURL(
                f"'{host}' now resolves to a private, loopback or reserved address ({address}); refused",
                url=host,
            )


class _LoopbackOnlyBackend(_GuardedBackend):
    """Connects only to loopback addresses: the test and benchmark setting TAJO_LOOPBACK_ONLY.

    With `guard`, the address guard's verdict comes first (so a client that may not call private
    hosts still refuses loopback, and a public host is refused either way).
    """

    def __init__(self, *, guard: bool) -> None:
        self.guard = guard

    def check(self, host: str, addresses: list[str]) -> None:
        if self.guard:
            _refuse_forbidden(host, addresses)
        if not addresses or not all(ipaddress.ip_address(a).is_loopback for a in addresses):
            raise UnsafeURL(f"'{host}' is not a loopback address; TAJO_LOOPBACK_ONLY is set", url=host)
