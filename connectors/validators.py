"""Validation of the URLs a person types into Tajo: one message per mistake, saying what is expected."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError

AC_API_HOST = re.compile(r"^[a-z0-9][a-z0-9-]*\.api-[a-z]{2}\d{1,2}\.com$")
AC_DASHBOARD_HOST = re.compile(r"^[a-z0-9][a-z0-9-]*\.(activehosted\.com|activecampaign\.com)$")
AC_EXPECTED = (
    "Expected the API URL from ActiveCampaign Settings → Developer, like https://yourcompany.api-us1.com."
)


def _is_private_host(url: str) -> bool:
    from connectors.exceptions import UnsafeURL
    from connectors.providers.http.guard import check_url

    try:
        check_url(url, allow_private=False)
    except UnsafeURL:
        return True
    return False


def normalize_ac_api_url(value: str, *, allow_private: bool) -> str:
    """Return the account URL (no trailing slash, no /api/3) or raise ValidationError."""
    url = (value or "").strip()
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        raise ValidationError(f"'{url}' is not a URL. {AC_EXPECTED}", code="invalid")
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        raise ValidationError(f"'{url}' has an invalid port. {AC_EXPECTED}", code="invalid") from None
    path = parts.path.rstrip("/")
    if path in ("/api/3", "/api/3/"):
        path = ""  # people paste the full API base; the client adds /api/3 itself
    if AC_DASHBOARD_HOST.match(host):
        raise ValidationError(
            f"This is the ActiveCampaign dashboard URL ({host}), not the API URL. {AC_EXPECTED}",
            code="dashboard_url",
        )
    if allow_private and _is_private_host(url):
        if parts.scheme not in ("http", "https"):
            raise ValidationError(f"Only http(s) URLs are accepted. {AC_EXPECTED}", code="scheme")
        return f"{parts.scheme}://{parts.netloc}{path}"
    if parts.scheme != "https":
        raise ValidationError(f"The API URL must use https. {AC_EXPECTED}", code="scheme")
    if not AC_API_HOST.match(host):
        if _is_private_host(url):
            raise ValidationError(
                "Loopback and private network addresses are not allowed for API URLs.", code="private"
            )
        raise ValidationError(f"'{host}' is not an ActiveCampaign API host. {AC_EXPECTED}", code="host")
    if path:
        raise ValidationError(f"The API URL has no path (remove '{path}'). {AC_EXPECTED}", code="path")
    if port is not None and port != 443:
        # ActiveCampaign serves its API on 443 only; dropping the port would call another URL
        # than the one typed, so say so instead.
        raise ValidationError(
            f"ActiveCampaign API URLs have no port (remove ':{port}'). {AC_EXPECTED}", code="port"
        )
    return f"https://{host}"


def normalize_brevo_api_url(value: str, *, allow_private: bool) -> str:
    url = (value or "").strip().rstrip("/")
    parts = urlsplit(url)
    expected = "Expected https://api.brevo.com/v3."
    if not parts.scheme or not parts.netloc:
        raise ValidationError(f"'{url}' is not a URL. {expected}", code="invalid")
    try:
        parts.port  # noqa: B018  # urlsplit checks the port only when asked
    except ValueError:
        raise ValidationError(f"'{url}' has an invalid port. {expected}", code="invalid") from None
    private = _is_private_host(url)
    if private and not allow_private:
        raise ValidationError(
            "Loopback and private network addresses are not allowed for API URLs.", code="private"
        )
    if parts.scheme != "https" and not (private and parts.scheme == "http"):
        raise ValidationError(f"The Brevo API URL must use https. {expected}", code="scheme")
    return url


def validate_api_key(value: str, *, service: str) -> str:
    key = (value or "").strip()
    if not key:
        raise ValidationError(f"Enter the {service} API key.", code="required")
    if any(ch.isspace() for ch in key):
        raise ValidationError(f"The {service} API key contains spaces; paste the key alone.", code="invalid")
    if len(key) > 500:
        raise ValidationError(f"That is too long for a {service} API key.", code="invalid")
    return key
