"""Bearer tokens: which tenant a request speaks for, and whether it may change anything."""

from __future__ import annotations

import re
from datetime import timedelta

from django.http import HttpRequest
from django.utils import timezone
from ninja.errors import AuthenticationError, AuthorizationError
from ninja.security import HttpBearer

from connectors.api_models import TOKEN_PREFIX, ApiToken, hash_token

# A token is the prefix plus 43 url-safe characters; anything else is refused without a lookup.
TOKEN_SHAPE = re.compile(rf"^{TOKEN_PREFIX}[A-Za-z0-9_-]{{20,100}}$")
# Writing last_used_at on every request would turn reads into writes; once a minute is enough to
# tell a live token from a forgotten one.
LAST_USED_RESOLUTION = timedelta(minutes=1)


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
        if not TOKEN_SHAPE.match(token):
            raise AuthenticationError(401, "The API token is malformed; tokens start with 'tajo_'.")
        found = ApiToken.objects.select_related("tenant").filter(token_hash=hash_token(token)).first()
        if found is None:
            raise AuthenticationError(401, "The API token is not valid.")
        if found.revoked_at is not None:
            raise AuthenticationError(401, "The API token was revoked; create a new one in the admin.")
        now = timezone.now()
        if found.last_used_at is None or now - found.last_used_at >= LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
            found.last_used_at = now
        if self.write:
            check_operator(found)
        return found


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
