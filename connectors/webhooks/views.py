"""The intake endpoint: check who is calling, read the body within the limit, hand it to one service.

Answers: unknown connection or wrong secret -> 404 (the same page as any unknown URL), address
not on the allow-list -> 403, not POST -> 405, body over `TAJO_WEBHOOK_MAX_BODY` -> 413, wrong
content type -> 415, malformed body -> 400 (stored as rejected with the reason), accepted or
duplicate -> 200.
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from connectors.webhooks.security import address_allowed, client_address
from connectors.webhooks.selectors import connection_for_intake
from connectors.webhooks.services import webhook_receive

READ_CHUNK = 64 * 1024


def _read_limited(request: HttpRequest, limit: int) -> tuple[bytes, int | None]:
    """The body, or (b"", size) when it is over `limit`: never reads more than limit + 1 bytes."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return b"", declared
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = request.read(min(READ_CHUNK, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        return b"", size
    return b"".join(chunks), None


@csrf_exempt
def intake(request: HttpRequest, connection_id: int, secret: str) -> HttpResponse:
    connection = connection_for_intake(connection_id=connection_id, secret=secret)
    if connection is None:
        raise Http404  # identical to any unknown URL: reveals nothing about ids or secrets
    address = client_address(request.META, trusted_header=settings.TAJO_WEBHOOK_TRUSTED_PROXY_HEADER)
    if not address_allowed(connection.webhook_ip_allowlist, address):
        return JsonResponse({"error": "address not allowed"}, status=403)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    body, oversize = _read_limited(request, settings.TAJO_WEBHOOK_MAX_BODY)
    receipt = webhook_receive(
        connection=connection,
        body=body,
        content_type=request.META.get("CONTENT_TYPE", ""),
        query=request.GET.dict(),
        remote_addr=address,
        oversize_bytes=oversize,
    )
    answer: dict[str, object] = {"status": receipt.status}
    if receipt.event_id is not None:
        answer["event"] = receipt.event_id
    if receipt.http_status >= 400:
        answer["error"] = receipt.reason
    # An oversize body is left unread; the WSGI server discards the rest of it.
    return JsonResponse(answer, status=receipt.http_status)
