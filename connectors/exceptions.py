"""Errors raised by the provider clients.

One small hierarchy for both providers. Jobs decide "retry later" or "fail the record" by
exception class; every message is written for the operator and never contains an API key
(request headers are never copied into an error).
"""

from __future__ import annotations


class ApiError(Exception):
    """A provider call failed.

    `status` is the HTTP status (None when there was no response), `url` the request URL
    without secrets, `code` the provider's machine code when it sent one, `operator_message`
    a sentence a person can act on, `retry_after` the seconds the provider asked us to wait.
    `retryable` says whether repeating the same request may succeed; `max_retries` optionally
    caps how often this particular error may be retried (None: the retry policy decides).
    """

    retryable: bool = False

    def __init__(
        self,
        operator_message: str,
        *,
        status: int | None = None,
        url: str = "",
        code: str | None = None,
        retry_after: float | None = None,
        retryable: bool | None = None,
        max_retries: int | None = None,
    ) -> None:
        # Providers sometimes echo what they were sent; scrub registered secrets whatever the source.
        from connectors.providers.http.client import mask_text

        operator_message = mask_text(operator_message)
        super().__init__(operator_message)
        self.operator_message = operator_message
        self.status = status
        self.url = mask_text(url)
        self.code = code
        self.retry_after = retry_after
        if retryable is not None:
            self.retryable = retryable
        self.max_retries = max_retries

    def __str__(self) -> str:
        return self.operator_message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, url={self.url!r})"


class AuthError(ApiError):
    """401/403: the key is wrong, revoked, or lacks permission."""


class PaymentRequired(ApiError):
    """402: the provider account lacks credits or a plan feature."""


class NotFoundError(ApiError):
    """404 (or a provider's "not found" wearing another status)."""


class ValidationFailed(ApiError):
    """400/422: the provider refused the payload; `details` lists what it said per item."""

    def __init__(self, operator_message: str, *, details: list | None = None, **kwargs) -> None:
        super().__init__(operator_message, **kwargs)
        self.details: list = list(details or [])


class RateLimited(ApiError):
    """429: over the provider's rate limit; `retry_after` says how long to wait when known."""

    retryable = True


class ServerError(ApiError):
    """5xx: the provider failed; usually transient."""

    retryable = True


class TransportError(ApiError):
    """No usable response: timeout, refused or dropped connection, DNS failure.

    `request_sent` is False when the failure happened before the request left (nothing to undo).
    """

    retryable = True
    request_sent = True


class BadResponse(ApiError):
    """The response was not what the API promises (HTML, malformed or truncated JSON, wrong type)."""


class PaginationLoop(BadResponse):
    """The provider served the same page (or cursor) twice; paging stopped to avoid an endless loop."""


class UnsafeURL(ApiError):
    """The URL safety check refused a URL (scheme, private/loopback address, credentials in it)."""


# Status -> class. Providers add their own nuances (AC 403 "No Result found", Brevo 425) in their
# classifier, but start from this table so both agree on the basics.
STATUS_CLASSES: dict[int, type[ApiError]] = {
    400: ValidationFailed,
    401: AuthError,
    402: PaymentRequired,
    403: AuthError,
    404: NotFoundError,
    422: ValidationFailed,
    429: RateLimited,
}


def error_class_for_status(status: int) -> type[ApiError]:
    """The exception class for an HTTP error status (ApiError for statuses without a special meaning)."""
    if status >= 500:
        return ServerError
    return STATUS_CLASSES.get(status, ApiError)
