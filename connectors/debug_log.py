"""Debug mode: every ActiveCampaign and Brevo exchange of a connection, in its run's own log.

With `debug: true` or `log_level: verbose` on the connection, the clients built for a run get
two httpx event hooks (the one client factory,
`connectors.providers.http.factory.build_client`, stays as it is; the hooks ride on the client
it returns). Each answered request becomes one `RunLogEntry`
(method, path, status, timing, bodies capped at BODY_LIMIT characters and masked) and one
line on the `connectors.debug` logger, so it shows on the run page and in the worker's log.

Masking: registered secrets (API keys) through `mask_text`, and the values of JSON keys that
look like credentials. The API key headers are never logged at all.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import httpx
import orjson

from connectors.providers.http.masking import mask_fields, mask_text

logger = logging.getLogger("connectors.debug")

BODY_LIMIT = 2000  # characters of each body kept per exchange
ENTRY_LIMIT = 5000  # exchanges logged per run; a backfill in debug mode must not fill the database


def debug_enabled(connection: Any) -> bool:
    return bool(getattr(connection, "debug", False)) or getattr(connection, "log_level", "") == "verbose"


def masked_body(content: bytes, limit: int = BODY_LIMIT) -> str:
    """A body as text for the log: JSON credentials blanked, secrets masked, at most `limit` characters."""
    if not content:
        return ""
    try:
        text = orjson.dumps(mask_fields(orjson.loads(content))).decode()
    except orjson.JSONDecodeError:
        text = content.decode("utf-8", errors="replace")
    text = mask_text(text)
    if len(text) > limit:
        return text[:limit] + f"… ({len(text) - limit} more characters)"
    return text


class RunDebugLog:
    """The hooks of one run; thread-safe (read-ahead threads send on the same clients)."""

    def __init__(self, *, run_id: int, tenant_id: int, connection_label: str) -> None:
        self.run_id = run_id
        self.tenant_id = tenant_id
        self.connection_label = connection_label
        self._lock = threading.Lock()
        self._count = 0

    def attach(self, http: httpx.Client, provider: str) -> None:
        hooks = http.event_hooks
        hooks.setdefault("request", []).append(self._on_request)
        hooks.setdefault("response", []).append(lambda response: self._on_response(response, provider))
        http.event_hooks = hooks

    @staticmethod
    def _on_request(request: httpx.Request) -> None:
        request.extensions["tajo_started"] = time.monotonic()

    def _on_response(self, response: httpx.Response, provider: str) -> None:
        with self._lock:
            self._count += 1
            count = self._count
        if count > ENTRY_LIMIT:
            if count == ENTRY_LIMIT + 1:
                self._write(provider, None, None, message=f"debug log stops after {ENTRY_LIMIT} exchanges")
            return
        started = response.request.extensions.get("tajo_started")
        elapsed = int((time.monotonic() - started) * 1000) if started else None
        try:
            response.read()  # httpx: a hook must read the body itself to see it
            answer = masked_body(response.content)
        except httpx.HTTPError as exc:
            answer = f"(body not readable: {type(exc).__name__})"
        request = response.request
        try:
            sent = masked_body(request.content)
        except httpx.RequestNotRead:
            sent = "(streamed body)"
        self._write(provider, response, elapsed, sent=sent, answer=answer)

    def _write(
        self,
        provider: str,
        response: httpx.Response | None,
        elapsed: int | None,
        *,
        sent: str = "",
        answer: str = "",
        message: str = "",
    ) -> None:
        from connectors.models import RunLogEntry

        entry = RunLogEntry(
            tenant_id=self.tenant_id,
            run_id=self.run_id,
            provider=provider,
            message=message,
            request_body=sent,
            response_body=answer,
            elapsed_ms=elapsed,
        )
        if response is not None:
            request = response.request
            query = f"?{request.url.query.decode()}" if request.url.query else ""
            entry.method = request.method
            entry.path = mask_text(request.url.path + query)[:500]
            entry.status = response.status_code
        logger.info("run %s %s: %s", self.run_id, self.connection_label, entry.line())
        try:
            entry.save()
        except Exception as exc:  # the log must never break the sync it describes
            logger.warning("run %s: debug log entry not stored (%s)", self.run_id, type(exc).__name__)


def attach_run_log(run: Any, connection: Any, ac: Any, brevo: Any) -> RunDebugLog | None:
    """Hook both clients of a run into its log when the connection is in debug mode."""
    if run is None or not debug_enabled(connection):
        return None
    log = RunDebugLog(run_id=run.pk, tenant_id=run.tenant_id, connection_label=str(connection))
    for client, provider in ((ac, "ActiveCampaign"), (brevo, "Brevo")):
        http = getattr(client, "_http", None)
        if isinstance(http, httpx.Client):
            log.attach(http, provider)
    return log


def run_note(run: Any, message: str, *, level: str = "info") -> None:
    """One line in a run's own log that is not an exchange (shown on the run page, also without debug)."""
    from connectors.models import RunLogEntry

    logger.info("run %s: %s", getattr(run, "pk", None), message)
    try:
        RunLogEntry.objects.create(tenant_id=run.tenant_id, run_id=run.pk, level=level, message=message)
    except Exception as exc:  # a note must never break the run it describes
        logger.warning("run %s: note not stored (%s)", getattr(run, "pk", None), type(exc).__name__)
