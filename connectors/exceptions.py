"""Errors raised by the provider clients, and the domain errors of runs.

One small hierarchy for both providers. Jobs decide "retry later" or "fail the record" by
exception class; every message is written for the operator and never contains an API key
(request headers are never copied into an error).

The domain errors (`DomainError` and below) are the rules of starting, retrying and cancelling
runs. The services raise them; the admin, the commands and the HTTP API each show the message in
their own way (the API through one table in `connectors.api.errors`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from connectors.models import Connection, SyncRun


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


# ----------------------------------------------------------------------------- domain errors


class DomainError(Exception):
    """A rule refused what was asked and nothing was changed; `str()` says why and what to do."""


class ConnectionDisabled(DomainError):
    """The connection is switched off: nothing syncs for it until it is enabled again."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        super().__init__(f"Connector '{connection.name}' is disabled; enable it first.")


class NothingToSync(DomainError):
    """No resource was named and the connection has none switched on."""

    def __init__(self) -> None:
        super().__init__("The connection syncs no resource; name resources or switch some on.")


class UnknownResource(DomainError, ValueError):
    """A resource name that is not in the registry (or whose module does not register it)."""


class RunAlreadyActive(DomainError):
    """A connection has a queued or running run; two runs of one connection never run at once."""

    def __init__(self, run: SyncRun) -> None:
        self.run = run
        super().__init__(
            f"Run #{run.pk} of this connection is already {run.status}; wait for it or cancel it."
        )


class IdempotencyKeyReused(DomainError):
    """A request with an idempotency key that an earlier, different request already used."""

    def __init__(self, message: str, *, run: SyncRun) -> None:
        self.run = run
        super().__init__(message)


class RequestInProgress(DomainError):
    """A twin of this request (same idempotency key) is being processed right now."""

    def __init__(self) -> None:
        super().__init__("A request with this Idempotency-Key is still being processed.")


class MappingInvalid(DomainError):
    """The connection's mappings do not validate, so nothing can be sent; the message says which."""


class RunNotActive(DomainError):
    """Cancel asked of a run that has already finished."""

    def __init__(self, run: SyncRun) -> None:
        self.run = run
        super().__init__(f"Run {run.pk} has already finished ({run.status}); nothing to cancel.")


class RunStillActive(DomainError):
    """Retry asked of a run that is still queued or running."""

    def __init__(self, run: SyncRun) -> None:
        self.run = run
        super().__init__(f"Run {run.pk} is still {run.status}; retry its failed records when it ends.")


class NothingToRetry(DomainError):
    """Retry asked of a run that has no failed record."""

    def __init__(self, run: SyncRun) -> None:
        self.run = run
        super().__init__(f"Run {run.pk} has no failed records to retry.")


class QueueUnavailable(DomainError):
    """The job queue (Redis) could not be reached, so nothing was started: no run was left queued."""

    def __init__(self, cause: Exception, *, address: str, fix: str) -> None:
        self.cause = cause
        super().__init__(
            f"the job queue at {address} cannot be reached ({type(cause).__name__}), so "
            f"nothing was started; {fix}"
        )
