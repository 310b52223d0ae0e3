"""The errors the connectors app lets callers catch: the providers' errors, and the domain errors of runs.

The provider errors are defined by the HTTP layer that raises them
(`connectors.providers.http.errors`); they are re-exported here so that sync code, admin and
services catch them by one import, without reaching into the providers.

The domain errors (`DomainError` and below) are the rules of starting, retrying and cancelling
runs. The services raise them; the admin, the commands and the HTTP API each show the message in
their own way (the API through one table in `connectors.api.errors`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors.providers.http.errors import (
    ApiError,
    AuthError,
    BadResponse,
    NotFoundError,
    PaginationLoop,
    PaymentRequired,
    RateLimited,
    ServerError,
    TransportError,
    UnsafeURL,
    ValidationFailed,
)

if TYPE_CHECKING:
    from connectors.models import Connection, SyncRun

__all__ = [
    "ApiError",
    "AuthError",
    "BadResponse",
    "NotFoundError",
    "PaginationLoop",
    "PaymentRequired",
    "RateLimited",
    "ServerError",
    "TransportError",
    "UnsafeURL",
    "ValidationFailed",
]


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


class InvalidValue(DomainError):
    """A value the caller gave does not pass its check; `field` names where it was given."""

    def __init__(self, message: str, *, field: str) -> None:
        self.field = field
        super().__init__(message)


class MissingValue(InvalidValue):
    """A value the request needs was not given (and nothing already stored can stand in for it)."""


class InvalidCursor(InvalidValue):
    """A paging cursor that was not issued by Tajo."""


class NotFound(DomainError):
    """The object does not exist for this caller. The same whether it is absent or another tenant's,
    so nothing leaks."""

    def __init__(self, what: str) -> None:
        self.what = what
        super().__init__(f"{what} was not found.")


class QueueUnavailable(DomainError):
    """The job queue (Redis) could not be reached, so nothing was started: no run was left queued."""

    def __init__(self, cause: Exception, *, address: str, fix: str) -> None:
        self.cause = cause
        super().__init__(
            f"the job queue at {address} cannot be reached ({type(cause).__name__}), so "
            f"nothing was started; {fix}"
        )
