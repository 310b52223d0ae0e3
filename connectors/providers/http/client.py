"""The one place that builds outbound HTTP clients and sends requests through them.

* `build_client` — base URL, timeout, headers, user agent, no redirects, URL safety check
  (and a connect-time check of every resolved address, so DNS cannot point us inward later).
* `send` — paces with a rate limiter, classifies the response with the provider's error table,
  retries what is worth retrying (tenacity), bounded in attempts and in total waiting.
* secret masking for logs: `register_secret`, `SecretMaskingFilter`, `install_secret_masking`.
"""

from __future__ import annotations

import email.utils
import functools
import ipaddress
import logging
import random
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote

import httpcore
import httpx
import orjson
import tenacity

from connectors.exceptions import (
    ApiError,
    BadResponse,
    RateLimited,
    ServerError,
    TransportError,
    UnsafeURL,
    error_class_for_status,
)

logger = logging.getLogger(__name__)

USER_AGENT = "Tajo/0.1"

# ---------------------------------------------------------------------------------------------
# Secret masking
# ---------------------------------------------------------------------------------------------

MIN_SECRET_LENGTH = 6  # shorter strings are not keys; masking them would garble ordinary text

_secrets: set[str] = set()
_secret_pattern: re.Pattern[str] | None = None
_secrets_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Remember a secret so that every log record mentioning it shows `****` + its last 4 chars."""
    global _secret_pattern
    if not value or len(value) < MIN_SECRET_LENGTH:
        return
    with _secrets_lock:
        before = len(_secrets)
        _secrets.add(value)
        encoded = quote(value, safe="")
        if encoded != value:
            _secrets.add(encoded)
        if len(_secrets) != before:
            # Longest first so a secret that contains another is replaced whole.
            alternatives = sorted(_secrets, key=len, reverse=True)
            _secret_pattern = re.compile("|".join(re.escape(s) for s in alternatives))


def mask_secret(value: str) -> str:
    """`****` plus the last 4 characters (only `****` for short values, which would give too much away)."""
    if not value:
        return ""
    return "****" + value[-4:] if len(value) >= 12 else "****"


# Secrets recognised by their shape, so that masking never depends on what this process has
# seen before (a fresh worker, a secret posted to the wrong intake URL, a token that was never
# valid): webhook intake paths, Tajo API tokens, Brevo keys, and secret-named query values.
_SHAPED_SECRETS = re.compile(
    r"(?P<hook>/hooks/ac/\d+/)(?P<hook_secret>[^/\s?#\"']+)"
    r"|(?P<token>\btajo_[A-Za-z0-9_-]{16,})"
    r"|(?P<brevo>\bxkeysib-[A-Za-z0-9-]{16,})"
    r"|(?P<param>[?&;](?:[^=&\s\"']*(?:key|token|secret|password|passwd|signature|auth)[^=&\s\"']*)=)"
    r"(?P<param_value>[^&\s\"'#]+)",
    re.IGNORECASE,
)


def _mask_shaped(match: re.Match[str]) -> str:
    if match.group("hook"):
        if match.group("hook_secret").startswith("****"):
            return match.group(0)  # masked already, as a registered secret
        return match.group("hook") + mask_secret(match.group("hook_secret"))
    if match.group("param"):
        value = match.group("param_value")
        if not value.replace("%2A", "").replace("%2a", "").strip("*"):
            return match.group(0)  # already masked (display_url's `***`)
        return match.group("param") + "****"
    return mask_secret(match.group(0))


def mask_text(text: str) -> str:
    """Replace every registered secret in `text`, and every value shaped like one."""
    if not text:
        return text
    pattern = _secret_pattern
    if pattern is not None:
        text = pattern.sub(lambda match: mask_secret(match.group(0)), text)
    return _SHAPED_SECRETS.sub(_mask_shaped, text)


def _mask_record(record: logging.LogRecord) -> None:
    if getattr(record, "_tajo_masked", False):
        return
    try:
        message = record.getMessage()
    except Exception:  # a broken format string must not hide the record; show it raw instead
        message = f"{record.msg!r} {record.args!r}"
    masked = mask_text(message)
    if masked != message:
        # Only a record that held a secret loses its arguments: formatters that read them
        # (uvicorn's access formatter) keep working on every other record.
        record.msg = masked
        record.args = None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = mask_text(record.exc_text)
    if record.stack_info:
        record.stack_info = mask_text(record.stack_info)
    record._tajo_masked = True


class SecretMaskingFilter(logging.Filter):
    """Masks registered secrets in a record's message, arguments, traceback and stack.

    Usable as a logger or handler filter (Django LOGGING:
    `{"()": "connectors.providers.http.client.SecretMaskingFilter"}`).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        _mask_record(record)
        return True


_MASKED_LOGGERS = ("", "httpx", "httpcore", "httpcore.connection", "httpcore.http11", "httpcore.http2")
_masking_filter = SecretMaskingFilter()
_factory_installed = False


def install_secret_masking() -> None:
    """Mask secrets in every log record, whoever logs it. Safe to call more than once.

    Logger filters only see records created on that very logger (not its children's), so besides
    the filters on the root, httpx and httpcore loggers and on the root's handlers, the record
    factory is wrapped: that catches records from any logger, including pytest's caplog.
    """
    global _factory_installed
    for name in _MASKED_LOGGERS:
        target = logging.getLogger(name)
        if _masking_filter not in target.filters:
            target.addFilter(_masking_filter)
    for handler in logging.getLogger().handlers:
        if _masking_filter not in handler.filters:
            handler.addFilter(_masking_filter)
    if not _factory_installed:
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            _mask_record(record)
            return record

        logging.setLogRecordFactory(factory)
        _factory_installed = True


# ---------------------------------------------------------------------------------------------
# URLs: display and safety
# ---------------------------------------------------------------------------------------------

_SECRET_PARAM = re.compile(r"key|token|secret|password|passwd|signature|auth", re.IGNORECASE)


def display_url(url: httpx.URL | str) -> str:
    """The URL as safe to show: no user info, secret-looking query values replaced, secrets masked."""
    try:
        parsed = httpx.URL(str(url))
    except (httpx.InvalidURL, TypeError):
        return mask_text(str(url))
    if parsed.userinfo:
        parsed = parsed.copy_with(username=None, password=None)
    if parsed.query:
        params = [(k, "***" if _SECRET_PARAM.search(k) else v) for k, v in parsed.params.multi_items()]
        parsed = parsed.copy_with(params=params)
    return mask_text(str(parsed))


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


# ---------------------------------------------------------------------------------------------
# Responses
# ---------------------------------------------------------------------------------------------


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After style header (delta seconds or an HTTP date)."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment is None:
        return None
    return max(0.0, moment.timestamp() - time.time())


def looks_like_html(content: bytes) -> bool:
    head = content[:512].lstrip().lower()
    return head.startswith((b"<!doctype", b"<html", b"<head", b"<body", b"<?xml"))


def decode_json(response: httpx.Response) -> Any | None:
    """The decoded body, or None when there is none or it is not JSON (for error bodies)."""
    if not response.content:
        return None
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None


def response_json(response: httpx.Response, *, provider: str = "The provider") -> Any:
    """The JSON body of a successful response (None for an empty body); BadResponse otherwise."""
    content = response.content
    if not content or response.status_code == 204:
        return None
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError as exc:
        url = display_url(response.request.url)
        if looks_like_html(content):
            reason = "an HTML page instead of JSON (a proxy, firewall or wrong API URL in between?)"
        else:
            reason = f"malformed or truncated JSON ({len(content)} bytes)"
        raise BadResponse(
            f"{provider} answered {response.request.method} {url} with {reason}",
            status=response.status_code,
            url=url,
        ) from exc


# ---------------------------------------------------------------------------------------------
# Error classification
# ---------------------------------------------------------------------------------------------

Classifier = Callable[[httpx.Response], ApiError | None]


class Limiter(Protocol):
    """What `send` needs from a rate limiter (see `connectors.providers.http.ratelimit.RateLimiter`)."""

    def acquire(self) -> float: ...

    def pause(self, seconds: float) -> None: ...


class ErrorClassifier:
    """The default error table: status -> exception class, with a generic operator message.

    Providers subclass it (see `connectors/providers/activecampaign/errors.py`) to read their error bodies
    and phrase messages; `send` also asks it to phrase transport failures.
    """

    provider = "The provider"
    retry_after_header = "Retry-After"

    def __call__(self, response: httpx.Response) -> ApiError | None:
        if response.status_code < 400:
            return None
        return self.error_for(response)

    def error_for(self, response: httpx.Response) -> ApiError:
        status = response.status_code
        url = display_url(response.request.url)
        body = decode_json(response)
        text = ""
        if isinstance(body, dict):
            text = str(body.get("message") or body.get("error") or "")
        message = (
            f"{self.provider} answered {status} {response.reason_phrase} for {response.request.method} {url}"
        )
        if text:
            message += f": {truncate(text)}"
        cls = error_class_for_status(status)
        retry_after = None
        if cls in (RateLimited, ServerError):
            retry_after = parse_retry_after(response.headers.get(self.retry_after_header))
        return cls(message, status=status, url=url, retry_after=retry_after)

    def transport_error(self, exc: httpx.TransportError, request: httpx.Request) -> TransportError:
        url = display_url(request.url)
        if isinstance(exc, httpx.TimeoutException):
            what = "did not answer in time"
        elif isinstance(exc, httpx.ConnectError):
            what = "could not be reached"
        else:
            what = "dropped the connection"
        error = TransportError(
            f"{self.provider} {what} ({request.method} {url}; {type(exc).__name__})", url=url
        )
        # Only failures before the request left us are safe to repeat for non-idempotent calls.
        error.request_sent = not isinstance(
            exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
        )
        return error


def truncate(text: str, limit: int = 500) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---------------------------------------------------------------------------------------------
# Retries and sending
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """How `send` retries: bounded attempts and a bounded total wait.

    A server-requested wait (Retry-After, Brevo's reset header) is honoured as given plus a
    little jitter; other retryable failures back off exponentially with jitter. If the next
    wait would push the total past `max_total_wait`, `send` gives up with the last error (its
    `retry_after` tells the caller when to try again). `sleep` is injectable for tests.
    """

    max_attempts: int = 5
    max_total_wait: float = 120.0
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    jitter: float = 0.2
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)

    def wait_for(self, error: BaseException, attempt: int) -> float:
        """The wait before attempt `attempt + 1` after `error`."""
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            return retry_after + random.uniform(0, self.jitter * min(retry_after, 1.0) + 0.05)
        base = min(self.backoff_max, self.backoff_initial * 2 ** (attempt - 1))
        return base * (1 + random.uniform(0, self.jitter))


NO_RETRY = RetryPolicy(max_attempts=1)

_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


def _retry_allowed(error: BaseException, *, idempotent: bool, counts: dict[tuple, int]) -> bool:
    if not isinstance(error, ApiError) or not error.retryable:
        return False
    key = (type(error), error.status)
    counts[key] = counts.get(key, 0) + 1
    if error.max_retries is not None and counts[key] > error.max_retries:
        return False
    if idempotent:
        return True
    # A write may have been applied already; repeat it only when the provider cannot have acted.
    if isinstance(error, TransportError):
        return not error.request_sent
    if isinstance(error, ServerError):
        return error.status == 503
    return isinstance(error, RateLimited)


class _StopPolicy(tenacity.stop.stop_base):
    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        if retry_state.attempt_number >= self.policy.max_attempts:
            return True
        return retry_state.idle_for + retry_state.upcoming_sleep > self.policy.max_total_wait


def send(
    client: httpx.Client,
    method: str,
    path: str,
    *,
    limiter: Limiter | None,
    classify: Classifier,
    retry: RetryPolicy | None = None,
    idempotent: bool | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """Send one request: wait for the limiter, classify, retry within `retry`; return the response.

    Raises the classified ApiError when the provider refuses or retries run out. Requests with
    non-idempotent methods (POST, PATCH) are repeated only when the provider cannot have acted
    on them (429, 503, connection never made) unless `idempotent=True` (upserts).
    On a 429 the limiter is paused for the requested time, so other workers back off too.
    """
    policy = retry or RetryPolicy()
    method = method.upper()
    safe = method in _IDEMPOTENT_METHODS if idempotent is None else idempotent
    counts: dict[tuple, int] = {}

    def attempt() -> httpx.Response:
        if limiter is not None:
            limiter.acquire()
        sent = time.monotonic()
        try:
            response = client.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            try:
                request = exc.request
            except RuntimeError:  # raised before httpx attached the request
                request = client.build_request(method, path)
            raise _transport_error(classify, exc, request) from exc
        except httpx.DecodingError as exc:  # e.g. a gzip body cut short
            url = display_url(exc.request.url)
            provider = getattr(classify, "provider", "The provider")
            raise BadResponse(
                f"{provider} sent a body that could not be decoded ({method} {url})", url=url
            ) from exc
        # How late the request may have reached the provider: the limiter widens its margin.
        if limiter is not None and hasattr(limiter, "note_latency"):
            limiter.note_latency(time.monotonic() - sent)
        error = classify(response)
        if error is not None:
            if isinstance(error, RateLimited) and limiter is not None:
                limiter.pause(error.retry_after if error.retry_after is not None else 1.0)
            raise error
        return response

    def before_sleep(state: tenacity.RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        logger.warning(
            "%s %s failed (attempt %d of %d): %s; retrying in %.1fs",
            method,
            getattr(error, "url", "") or path,
            state.attempt_number,
            policy.max_attempts,
            error,
            state.upcoming_sleep,
        )

    retryer = tenacity.Retrying(
        stop=_StopPolicy(policy),
        wait=lambda state: policy.wait_for(state.outcome.exception(), state.attempt_number),
        retry=tenacity.retry_if_exception(lambda exc: _retry_allowed(exc, idempotent=safe, counts=counts)),
        sleep=policy.sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
    return retryer(attempt)


def _transport_error(
    classify: Classifier, exc: httpx.TransportError, request: httpx.Request
) -> TransportError:
    phrase = getattr(classify, "transport_error", None)
    if phrase is not None:
        return phrase(exc, request)
    return ErrorClassifier().transport_error(exc, request)
