"""Bearer tokens: which tenant a request speaks for, and whether it may change anything."""

from __future__ import annotations

import re
from datetime import timedelta

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest
from django.utils import timezone
from ninja.errors import AuthenticationError, AuthorizationError
from ninja.security import HttpBearer

from connectors.api.errors import ApiProblem
from connectors.api.models import TOKEN_PREFIX, ApiToken, hash_token

# A token is the prefix plus 43 url-safe characters; anything else is refused without a lookup.
TOKEN_SHAPE = re.compile(rf"^{TOKEN_PREFIX}[A-Za-z0-9_-]{{20,100}}$")
# Writing last_used_at on every request would turn reads into writes; once a minute is enough to
# tell a live token from a forgotten one.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# Failed token checks are counted by django-axes like failed sign-ins, under this one name, so
# an address that keeps guessing tokens is refused (429) for the cool-off time.
TOKEN_CREDENTIALS = {"username": "(api token)"}


class TokenAuth(HttpBearer):
    """`Authorization: Bearer tajo_...`; the request's `auth` becomes the ApiToken."""

    openapi_description = "An API token created in the admin (API tokens). Viewer tokens only read."

    def __init__(self, *, write: bool = False) -> None:
        # Write operations refuse viewer tokens here, before the body is even parsed.
        super().__init__()
        self.write = write

    def __call__(self, request: HttpRequest) -> ApiToken | None:
        # Ninja's own parser logs an unexpected header in DEBUG; a header may hold a secret.
        scheme, _, value = request.headers.get(self.header, "").partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            return None
        return self.authenticate(request, value)

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        token = token.strip()
        if not AxesProxyHandler.is_allowed(request, TOKEN_CREDENTIALS):
            problem = ApiProblem(
                429,
                "too_many_failures",
                "Too many requests with invalid API tokens from this address; try again later.",
            )
            problem.headers["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
            raise problem
        if not TOKEN_SHAPE.match(token):
            self._failed(request)
            raise AuthenticationError(401, "The API token is malformed; tokens start with 'tajo_'.")
        found = ApiToken.objects.select_related("tenant").filter(token_hash=hash_token(token)).first()
        if found is None:
            self._failed(request)
            raise AuthenticationError(401, "The API token is not valid.")
        if found.revoked_at is not None:
            self._failed(request)
            raise AuthenticationError(401, "The API token was revoked; create a new one in the admin.")
        now = timezone.now()
        if found.expires_at is not None and found.expires_at <= now:
            self._failed(request)
            raise AuthenticationError(401, "The API token has expired; create a new one in the admin.")
        if found.last_used_at is None or now - found.last_used_at >= LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
            found.last_used_at = now
        if self.write:
            check_operator(found)
        return found

    @staticmethod
    def _failed(request: HttpRequest) -> None:
        user_login_failed.send(sender=TokenAuth, credentials=TOKEN_CREDENTIALS, request=request)
        # This answer stays the 401 that says why; the next ones get the API's 429, not axes' page.
        request.axes_locked_out = False  # type: ignore[attr-defined]


def token_of(request: HttpRequest) -> ApiToken:
    return request.auth  # type: ignore[attr-defined,no-any-return]


def check_operator(token: ApiToken) -> None:
    if not token.can_write:
        raise AuthorizationError(
            403, "This is a viewer token: it can read runs and status but cannot change anything."
        )


def require_operator(request: HttpRequest) -> ApiToken:
    """The token may start, cancel and forward; viewer tokens get 403 before anything happens."""
    token = token_of(request)
    check_operator(token)
    return token
