"""Secret masking: what any log line, page or error message shows of an API key or token.

One convention everywhere: `****` plus the secret's last 4 characters (only `****` for short
values). Secrets are known two ways: registered by the clients that hold them
(`register_secret`), and recognised by their shape (webhook intake paths, Tajo API tokens,
Brevo keys, secret-named query parameters), so masking never depends on what this process
has seen before.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any
from urllib.parse import quote

import httpx

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


# A field or query parameter with one of these in its name holds a secret, whatever its value.
SECRET_NAME = re.compile(r"key|token|secret|password|passwd|signature|auth", re.IGNORECASE)

# Secrets recognised by their shape, so that masking never depends on what this process has
# seen before (a fresh worker, a secret posted to the wrong intake URL, a token that was never
# valid): webhook intake paths, Tajo API tokens, Brevo keys, and secret-named query values.
_SHAPED_SECRETS = re.compile(
    r"(?P<hook>/hooks/ac/\d+/)(?P<hook_secret>[^/\s?#\"']+)"
    r"|(?P<token>\btajo_[A-Za-z0-9_-]{16,})"
    r"|(?P<brevo>\bxkeysib-[A-Za-z0-9-]{16,})"
    r"|(?P<param>(?:^|[?&;])(?:[^=&\s\"']*(?:key|token|secret|password|passwd|signature|auth)[^=&\s\"']*)=)"
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
        if value.upper().startswith(("****", "%2A%2A%2A%2A")):
            return match.group(0)  # masked already (display_url, or a registered secret)
        return match.group("param") + mask_secret(value)
    return mask_secret(match.group(0))


def mask_text(text: str) -> str:
    """Replace every registered secret in `text`, and every value shaped like one."""
    if not text:
        return text
    pattern = _secret_pattern
    if pattern is not None:
        text = pattern.sub(lambda match: mask_secret(match.group(0)), text)
    return _SHAPED_SECRETS.sub(_mask_shaped, text)


def mask_fields(value: Any, name: str = "") -> Any:
    """Parsed JSON or form fields with every secret masked: the value of a field whose name looks
    secret (a whole object or list under such a name becomes `****`), and registered or
    secret-shaped text anywhere else."""
    if name and SECRET_NAME.search(name):
        if isinstance(value, dict | list):
            return "****"
        return value if value in (None, "") else mask_secret(str(value))
    if isinstance(value, dict):
        return {key: mask_fields(item, str(key)) for key, item in value.items()}
    if isinstance(value, list):
        return [mask_fields(item, name) for item in value]
    return mask_text(value) if isinstance(value, str) else value


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
    `{"()": "connectors.providers.http.masking.SecretMaskingFilter"}`).
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


def display_url(url: httpx.URL | str) -> str:
    """The URL as safe to show: no user info, secret-looking query values replaced, secrets masked."""
    try:
        parsed = httpx.URL(str(url))
    except (httpx.InvalidURL, TypeError):
        return mask_text(str(url))
    if parsed.userinfo:
        parsed = parsed.copy_with(username=None, password=None)
    if parsed.query:
        params = [(k, mask_secret(v) if SECRET_NAME.search(k) else v) for k, v in parsed.params.multi_items()]
        parsed = parsed.copy_with(params=params)
    return mask_text(str(parsed))
