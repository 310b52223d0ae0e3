"""gunicorn's logger with secrets masked in access and error lines (sync workers use its atoms)."""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from connectors.providers.http.masking import mask_text

_DROPPED_HEADERS = ("{authorization}i", "{cookie}i", "{x-api-key}i")


class MaskingLogger(Logger):
    def atoms(self, resp: Any, req: Any, environ: dict, request_time: Any) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        for name, value in list(atoms.items()):
            if name in _DROPPED_HEADERS:
                atoms[name] = "-"
            elif name in ("q", "{query_string}e") and isinstance(value, str) and value:
                atoms[name] = mask_text("?" + value)[1:]  # the query-value rule needs its "?"
            elif isinstance(value, str):
                atoms[name] = mask_text(value)
        return atoms
