"""`validated_body`: one pass from the bytes, or None so that the caller takes the long way."""

from __future__ import annotations

import httpx
from pydantic import BaseModel

from connectors.providers.http.errors import validated_body


class Row(BaseModel):
    id: int
    name: str = ""


def _response(status: int, content: bytes) -> httpx.Response:
    return httpx.Response(status, content=content, request=httpx.Request("GET", "https://api.test/rows/1"))


def test_a_body_that_fits_is_validated_and_what_the_model_leaves_out_is_dropped():
    row = validated_body(_response(200, b'{"id": "7", "name": "Ana", "links": {"x": 1}}'), Row)
    assert row == Row(id=7, name="Ana")


def test_no_body_a_204_a_body_that_does_not_fit_and_a_page_that_is_not_json_give_none():
    assert validated_body(_response(200, b""), Row) is None
    assert validated_body(_response(204, b'{"id": 1}'), Row) is None
    assert validated_body(_response(200, b'{"id": "seven"}'), Row) is None
    assert validated_body(_response(200, b"<html>proxy error</html>"), Row) is None
