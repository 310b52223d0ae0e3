"""The one place that builds outbound HTTP clients.

Base URL, timeout, headers, user agent, no redirects, environment proxies ignored, the URL
safety check, and a connect-time check of every resolved address (`guard`); a test transport
may be injected. Every client counts the requests it sends (for a run's cost figures).
"""

from __future__ import annotations

import functools
import ssl
import threading

import httpx

from connectors.providers.http.guard import _GuardedBackend, _LoopbackOnlyBackend, check_url

USER_AGENT = "Tajo/0.1"


def _loopback_only() -> bool:
    from django.conf import settings

    return settings.configured and settings.TAJO_LOOPBACK_ONLY


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # Building one loads the CA bundle (milliseconds); every client shares this read-only one.
    return httpx.create_ssl_context(trust_env=False)


def _guarded_transport() -> httpx.HTTPTransport:
    transport = httpx.HTTPTransport(trust_env=False, verify=_tls_context())
    # httpx has no public hook for the network backend; the pool attribute is stable since 0.18.
    transport._pool._network_backend = _GuardedBackend()
    return transport


def build_client(
    *,
    base_url: str,
    headers: dict[str, str],
    timeout: float = 30.0,
    transport: httpx.BaseTransport | None = None,
    allow_private: bool = False,
) -> httpx.Client:
    """An httpx client for one provider account: checked base URL, no redirects, `Tajo/0.1` agent.

    Without `transport`, every connection is checked against private addresses (unless
    `allow_private`). Environment proxies are ignored: they would bypass that check.
    With a test `transport`, the host is not looked up (the transport decides where bytes go).
    """
    check_url(base_url, allow_private=allow_private, resolve=False)
    if transport is None and _loopback_only():
        transport = httpx.HTTPTransport(trust_env=False, verify=_tls_context())
        transport._pool._network_backend = _LoopbackOnlyBackend(guard=not allow_private)
    elif transport is None:
        transport = (
            httpx.HTTPTransport(trust_env=False, verify=_tls_context())
            if allow_private
            else _guarded_transport()
        )
    counter = RequestCounter()
    client = httpx.Client(
        base_url=base_url,
        headers={**headers, "User-Agent": USER_AGENT},
        timeout=timeout,
        transport=transport,
        follow_redirects=False,
        trust_env=False,
        event_hooks={"request": [lambda request: counter.add()]},
    )
    client.tajo_requests = counter  # type: ignore[attr-defined]  # every request sent, retries included
    return client


class RequestCounter:
    """Requests sent by one client; read-ahead threads send on it too, hence the lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.value = 0

    def add(self) -> None:
        with self._lock:
            self.value += 1


def requests_sent(client: object) -> int:
    """How many HTTP requests a provider client has sent so far (for the run's cost figures)."""
    counter = getattr(getattr(client, "_http", None), "tajo_requests", None)
    return counter.value if isinstance(counter, RequestCounter) else 0
