"""What every AC route group shares: the account state and the JSON body reader."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request

from sandbox.activecampaign.errors import ACError
from sandbox.activecampaign.state import ACState


class APIBase:
    """The state the routes read and write, and how a request's JSON body is read."""

    def __init__(self, state: ACState) -> None:
        self.state = state

    async def _json(self, request: Request) -> Any:
        raw = await request.body()
        try:
            return orjson.loads(raw or b"{}")
        except orjson.JSONDecodeError:
            raise ACError(400, {"message": "Malformed JSON body"}) from None
