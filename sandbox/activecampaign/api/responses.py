"""The JSON answers of the AC simulator, as fast as orjson makes them."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response


class JSONBody(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def error_response(status: int, body: dict[str, Any]) -> Response:
    return JSONBody(body, status_code=status)
