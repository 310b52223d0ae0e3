"""ActiveCampaign's error table: HTTP status and body -> exception with an operator message.

AC error bodies come in several shapes (reference §1.3-1.4): `{"errors": [{title, detail, code,
source}]}` (elements may be bare strings), `{"message": "..."}`, or `{}`. 403 is both "bad key"
and, on some paths, "not found"; valid keys sometimes get an intermittent 403, so a plain 403
is retried twice before it is reported as a key problem.
"""

from __future__ import annotations

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
from connectors.providers.http.masking import display_url

PROVIDER = "ActiveCampaign"
KEY_REJECTED = "ActiveCampaign rejected the API key ({status}): check the key in Settings → Developer"
FORBIDDEN_RETRIES = 2


def error_details(body: Any) -> list[dict[str, Any]]:
    """The `errors[]` of an AC error body as dicts with title/detail/code/pointer (may be empty)."""
    if not isinstance(body, dict) or not isinstance(body.get("errors"), list):
        return []
    details = []
    for item in body["errors"]:
        if isinstance(item, dict):
            source = item.get("source")
            pointer = None
            if isinstance(source, dict):
                pointer = source.get("pointer") or source.get("value")
            details.append(
                {
                    "title": str(item.get("title") or ""),
                    "detail": str(item.get("detail") or ""),
                    "code": item.get("code"),
                    "pointer": pointer,
                }
            )
        elif item not in (None, ""):
            details.append({"title": str(item), "detail": "", "code": None, "pointer": None})
    return details


def error_text(body: Any) -> str:
    """One readable line from any AC error body shape ("" when it says nothing)."""
    parts = []
    for item in error_details(body):
        text = item["title"]
        if item["detail"] and item["detail"] != text:
            text = f"{text}: {item['detail']}" if text else item["detail"]
        if item["pointer"]:
            text += f" [{str(item['pointer']).rsplit('/', 1)[-1]}]"
        if text:
            parts.append(text)
    if parts:
        return truncate("; ".join(parts))
    if isinstance(body, dict) and body.get("message"):
        return truncate(str(body["message"]))
    if isinstance(body, str):
        return truncate(body)
    return ""


class ActiveCampaignErrors(ErrorClassifier):
    provider = PROVIDER
    retry_after_header = "Retry-After"

    def error_for(self, response: httpx.Response) -> ApiError:
        status = response.status_code
        request = response.request
        url = display_url(request.url)
        where = f"{request.method} {request.url.path}"
        body = decode_json(response)
        text = error_text(body)
        kwargs: dict[str, Any] = {"status": status, "url": url}

        if status == 429:
            wait = parse_retry_after(response.headers.get(self.retry_after_header))
            when = f"; waiting {wait:g}s as asked" if wait is not None else ""
            return RateLimited(
                f"ActiveCampaign rate limit reached (429) on {where}{when}", retry_after=wait, **kwargs
            )
        if status >= 500:
            shown = text or (
                "an HTML error page" if looks_like_html(response.content) else response.reason_phrase
            )
            return ServerError(
                f"ActiveCampaign server error {status} on {where}: {shown}",
                retry_after=parse_retry_after(response.headers.get(self.retry_after_header)),
                **kwargs,
            )
        if body is None and response.content:
            kind = "an HTML page" if looks_like_html(response.content) else "a body that is not JSON"
            return BadResponse(
                f"ActiveCampaign answered {status} with {kind} for {where}: check the API URL "
                "(Settings → Developer) and any proxy or firewall in between",
                **kwargs,
            )
        codes = [d["code"] for d in error_details(body) if d["code"]]
        code = str(codes[0]) if codes else None
        if status == 401:
            return AuthError(KEY_REJECTED.format(status=status), code=code, **kwargs)
        if status == 403:
            if text.lower().startswith("no result found"):
                # AC answers some "not found" cases with 403 (reference §16.9).
                return NotFoundError(f"ActiveCampaign: {text} ({where})", code=code, **kwargs)
            if "permission" in text.lower():
                return AuthError(
                    f"ActiveCampaign refused access (403): {text} Use the key of a user who may see this "
                    "data (an admin user's key sees everything).",
                    code=code,
                    **kwargs,
                )
            return AuthError(
                KEY_REJECTED.format(status=status),
                code=code,
                retryable=True,
                max_retries=FORBIDDEN_RETRIES,
                **kwargs,
            )
        if status == 402:
            return PaymentRequired(
                f"ActiveCampaign refused {where} (402): {text or 'payment required'}", **kwargs
            )
        if status == 404:
            return NotFoundError(f"ActiveCampaign: {text or 'not found'} ({where})", code=code, **kwargs)
        if status in (400, 422):
            return ValidationFailed(
                f"ActiveCampaign refused {where} ({status}): {text or response.reason_phrase}",
                details=error_details(body),
                code=code,
                **kwargs,
            )
        return ApiError(
            f"ActiveCampaign answered {status} for {where}: {text or response.reason_phrase}",
            code=code,
            **kwargs,
        )
