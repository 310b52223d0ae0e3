"""Pure parts of the HTTP API: field names in errors, cursors, what request text may hold."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from connectors.api.errors import domain_answer, field_name
from connectors.api.schemas import MAX_JSON_DEPTH, SyncIn, TrackEventIn
from connectors.api.selectors import decode_cursor, encode_cursor
from connectors.exceptions import InvalidCursor


@pytest.mark.parametrize(
    ("loc", "name"),
    [
        (("body", "payload", "resources", 0), "resources[0]"),
        (("body", "payload", "options", "includeTags"), "options.includeTags"),
        (("body", "payload"), None),
        (("query", "limit"), "limit"),
        (("header", "Idempotency-Key"), "Idempotency-Key"),
        (("path", "run_id"), "run_id"),
        (("body", "payload", "eventData", "function-after[_storable_json(), any]"), "eventData"),
    ],
)
def test_field_name(loc, name) -> None:
    assert field_name(loc) == name


@pytest.mark.parametrize("last_id", [1, 42, 2**63 - 1])
def test_cursor_round_trip(last_id: int) -> None:
    cursor = encode_cursor(last_id)
    assert "=" not in cursor and str(last_id) not in cursor
    assert decode_cursor(cursor) == last_id


@pytest.mark.parametrize("cursor", ["x", "aWQ6", "aWQ6LTE", "bm9wZTox", "aWQ6OTk5OTk5OTk5OTk5OTk5OTk5OTk5"])
def test_foreign_cursor_is_refused(cursor: str) -> None:
    with pytest.raises(InvalidCursor) as raised:
        decode_cursor(cursor)
    answer = domain_answer(raised.value)
    assert (answer.status, answer.code, raised.value.field) == (400, "invalid_cursor", "cursor")


def test_requests_accept_only_camel_case_and_exact_types() -> None:
    assert SyncIn.model_validate({"dryRun": True, "resources": ["contacts"]}).dry_run is True
    for bad in ({"dry_run": True}, {"dryRun": "true"}, {"dryRun": 1}, {"resources": ["contacts", 3]}):
        with pytest.raises(ValidationError):
            SyncIn.model_validate(bad)


@pytest.mark.parametrize(
    "data",
    ["nul\x00", {"k\x00": 1}, {"k": ["\ud800"]}, float("nan"), {"n": float("inf")}],
)
def test_event_data_the_database_cannot_store_is_refused(data) -> None:
    with pytest.raises(ValidationError):
        TrackEventIn.model_validate({"event": "e", "email": "a@example.org", "eventData": data})


def test_event_data_depth_is_bounded_without_recursion() -> None:
    ok: object = 1
    for _ in range(MAX_JSON_DEPTH):
        ok = [ok]
    TrackEventIn.model_validate({"event": "e", "email": "a@example.org", "eventData": ok})
    deep: object = 1
    for _ in range(5000):  # far past Python's recursion limit: must not blow the stack
        deep = {"a": deep}
    with pytest.raises(ValidationError):
        TrackEventIn.model_validate({"event": "e", "email": "a@example.org", "eventData": deep})
