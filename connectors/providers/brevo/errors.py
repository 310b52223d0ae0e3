"""Brevo's error table: HTTP status and `{code, message, metadata}` body -> exception.

Decisions follow the HTTP status (codes are open-ended and messages change wording), with the
body used to phrase a message an operator can act on. Every exception keeps Brevo's `code`;
`provider_message` and `metadata` carry the raw message and metadata for callers that need
them (e.g. `duplicate_identifiers`, the indexes of a failed batch update).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from connectors.providers.http.errors import (
    ApiError,
    AuthError,
    BadResponse,
    ErrorClassifier,
    NotFoundError,
    PaymentRequired,
    RateLimited,
    ServerError,
    ValidationFailed,
    decode_json,
    looks_like_html,
    parse_retry_after,
    truncate,
)
from connectors.providers.http.masking import display_url, mask_text

PROVIDER = "Brevo"
RESET_HEADER = "x-sib-ratelimit-reset"
KEY_REJECTED = "Brevo rejected the API key: create a v3 key in SMTP & API settings and save it here"
KEY_MISSING = (
    "No Brevo API key was sent: add the account's v3 API key (SMTP & API settings) to the Brevo account"
)
IP_BLOCKED = (
    "Brevo refused this server's IP address: add it under Security → Authorised IPs in Brevo, "
    "or turn off the IP restriction for API keys"
)
ACCOUNT_NOT_READY = "The Brevo account is still being set up (425 account_in_process); retrying later"
ACCOUNT_IN_PROCESS_RETRIES = 4
PROVIDER_MESSAGE_MAX = 20_000


def _body_parts(body: Any) -> tuple[str | None, str, dict[str, Any]]:
    if not isinstance(body, dict):
        return None, "", {}
    code = body.get("code")
    message = body.get("message")
    metadata = body.get("metadata")
    return (
        str(code) if code not in (None, "") else None,
        # Brevo could echo what it received; registered secrets never reach a message. The
        # limit leaves room for a 404 naming every unknown index of a 500-contact batch.
        mask_text(truncate(str(message), PROVIDER_MESSAGE_MAX)) if message not in (None, "") else "",
        metadata if isinstance(metadata, dict) else {},
    )


def _duplicate_message(text: str, metadata: dict[str, Any]) -> str:
    identifiers = metadata.get("duplicate_identifiers")
    if isinstance(identifiers, list) and identifiers:
        which = ", ".join(str(i) for i in identifiers)
        return f"Brevo: the {which} is already used by another contact ({text or 'duplicate_parameter'})"
    return f"Brevo: duplicate value ({text or 'duplicate_parameter'})"


class BrevoErrors(ErrorClassifier):
    """Classifies Brevo responses; `observe` (optional) sees every response, e.g. to read budgets."""

    provider = PROVIDER
    retry_after_header = RESET_HEADER

    def __init__(
        self, *, bucket: str = "other", observe: Callable[[httpx.Response], None] | None = None
    ) -> None:
        self.bucket = bucket
        self._observe = observe

    def __call__(self, response: httpx.Response) -> ApiError | None:
        if self._observe is not None:
            self._observe(response)
        return super().__call__(response)

    def error_for(self, response: httpx.Response) -> ApiError:
        error = self._classify(response)
        body = decode_json(response)
        _code, text, metadata = _body_parts(body)
        error.provider_message = text  # type: ignore[attr-defined]
        error.metadata = metadata  # type: ignore[attr-defined]
        return error

    def _classify(self, response: httpx.Response) -> ApiError:
        status = response.status_code
        request = response.request
        url = display_url(request.url)
        where = f"{request.method} {request.url.path}"
        body = decode_json(response)
        code, text, metadata = _body_parts(body)
        text = truncate(text)  # what operators read stays short; `provider_message` keeps it all
        kwargs: dict[str, Any] = {"status": status, "url": url, "code": code}

        if status == 429:
            # Brevo documents no Retry-After: wait for the window to reset (seconds, relative).
            wait = parse_retry_after(response.headers.get(RESET_HEADER))
            if wait is None:
                wait = parse_retry_after(response.headers.get("Retry-After"))
            when = f"; the budget resets in {wait:g}s" if wait is not None else ""
            return RateLimited(
                f"Brevo rate limit reached for the '{self.bucket}' budget (429) on {where}{when}",
                retry_after=wait,
                **kwargs,
            )
        if status >= 500:
            shown = text or (
                "an HTML error page" if looks_like_html(response.content) else response.reason_phrase
            )
            return ServerError(f"Brevo server error {status} on {where}: {shown}", **kwargs)
        if body is None and response.content:
            kind = "an HTML page" if looks_like_html(response.content) else "a body that is not JSON"
            return BadResponse(
                f"Brevo answered {status} with {kind} for {where}: check the API URL and any proxy between",
                **kwargs,
            )
        if status == 401:
            lowered = text.lower()
            if "unrecognised ip" in lowered or "unrecognized ip" in lowered:
                return AuthError(IP_BLOCKED, **kwargs)
            if "not found in headers" in lowered:
                return AuthError(KEY_MISSING, **kwargs)
            return AuthError(KEY_REJECTED, **kwargs)
        if status == 402:
            return PaymentRequired(
                f"Brevo refused {where} (402): {text or 'not enough credits'}; check the plan and credits",
                **kwargs,
            )
        if status == 403:
            if code == "account_under_validation":
                return AuthError(
                    f"Brevo has not validated this account yet ({text or code}); contact Brevo support",
                    **kwargs,
                )
            return AuthError(
                f"Brevo refused {where} (403): {text or 'permission denied'}. The key lacks this permission "
                "or the plan lacks the feature",
                **kwargs,
            )
        if status == 404:
            return NotFoundError(f"Brevo: {text or 'not found'} ({where})", **kwargs)
        if status == 425:
            return ApiError(
                ACCOUNT_NOT_READY, retryable=True, max_retries=ACCOUNT_IN_PROCESS_RETRIES, **kwargs
            )
        if status in (400, 422):
            details = [{"code": code, "message": text, **({"metadata": metadata} if metadata else {})}]
            if code == "duplicate_parameter" or metadata.get("duplicate_identifiers"):
                message = _duplicate_message(text, metadata)
            else:
                message = f"Brevo refused {where} ({code or status}): {text or response.reason_phrase}"
            return ValidationFailed(message, details=details, **kwargs)
        return ApiError(f"Brevo answered {status} for {where}: {text or response.reason_phrase}", **kwargs)
