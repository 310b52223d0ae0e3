"""Paginator stop conditions and loop guards, alone and driven by the client over MockTransport."""

from __future__ import annotations

import httpx
import pytest

from connectors.exceptions import BadResponse, PaginationLoop
from connectors.providers.activecampaign.pagination import (
    KeysetPaginator,
    OffsetPaginator,
    max_id,
    parse_rows,
    parse_total,
)
from connectors.providers.activecampaign.schemas import Contact, Tag
from tests.unit.connectors.ac_fakes import Recorder, contact_row, make_client


def rows(start: int, count: int) -> list[dict]:
    return [{"id": str(i)} for i in range(start, start + count)]


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        ({"total": "250"}, 250),
        ({"total": 250}, 250),
        ({"total": " 7 "}, 7),
        ({}, None),
        (None, None),
        ({"total": "many"}, None),
        ({"total": True}, None),
    ],
)
def test_parse_total_accepts_string_int_or_missing(meta, expected):
    assert parse_total(meta) == expected


def test_offset_paginator_stops_on_short_page():
    paginator = OffsetPaginator(limit=100)
    assert paginator.advance(rows(1, 100), total=None) is True
    assert paginator.params() == {"limit": 100, "offset": 100}
    assert paginator.advance(rows(101, 40), total=None) is False
    assert paginator.offset == 140


def test_offset_paginator_stops_when_offset_reaches_total():
    paginator = OffsetPaginator(limit=100)
    assert paginator.advance(rows(1, 100), total=200) is True
    assert paginator.advance(rows(101, 100), total=200) is False


def test_offset_paginator_stops_on_empty_page():
    assert OffsetPaginator(limit=100).advance([], total=500) is False


def test_offset_paginator_refuses_a_repeated_page():
    paginator = OffsetPaginator(limit=2, where="/tags")
    paginator.advance(rows(1, 2), total=None)
    with pytest.raises(PaginationLoop, match="same page twice for /tags"):
        paginator.advance(rows(1, 2), total=None)


def test_keyset_paginator_moves_cursor_and_stops_on_short_page():
    paginator = KeysetPaginator(limit=100, id_greater=0)
    assert paginator.params() == {"limit": 100, "offset": 0, "orders[id]": "ASC", "id_greater": 0}
    assert paginator.advance(100, last_id=100) is True
    assert paginator.params()["id_greater"] == 100
    assert paginator.advance(5, last_id=105) is False


def test_keyset_paginator_refuses_a_cursor_that_does_not_move():
    paginator = KeysetPaginator(limit=2, id_greater=10)
    with pytest.raises(PaginationLoop):
        paginator.advance(2, last_id=10)
    with pytest.raises(PaginationLoop):
        paginator.advance(2, last_id=None)


def test_max_id_skips_non_numeric_ids():
    assert max_id([{"id": "7"}, {"id": "x"}, {"id": 12}, "junk", {}]) == 12
    assert max_id([{"id": "x"}]) is None


def test_parse_rows_keeps_bad_rows_with_a_reason():
    items, invalid = parse_rows([contact_row(1), {"email": "a@b.c"}, contact_row("abc"), "junk"], Contact)
    assert [c.id for c in items] == [1]
    reasons = [reason for _raw, reason in invalid]
    assert reasons[0] == "id is missing"
    assert reasons[1].startswith("id: Input should be a valid integer") and "'abc'" in reasons[1]
    assert reasons[2] == "row is not an object (got str)"


def contacts_handler(
    total_contacts: int, *, meta_total: object = "auto", bad_ids: frozenset[int] = frozenset()
):
    def handler(request: httpx.Request) -> httpx.Response:
        params = request.url.params
        if params.get("orders[id]") == "DESC" and params.get("limit") == "1":
            # The client learning the account's UTC offset from the newest contact's udate.
            return httpx.Response(200, json={"contacts": [contact_row(total_contacts)], "meta": {}})
        assert params["orders[id]"] == "ASC" and params["offset"] == "0"
        after, limit = int(params["id_greater"]), int(params["limit"])
        ids = [i for i in range(1, total_contacts + 1) if i > after][:limit]
        # An email that is an object cannot be a contact's email: those rows are invalid.
        body_rows = [contact_row(i, email={"bad": i} if i in bad_ids else f"p{i}@example.org") for i in ids]
        meta = (
            {}
            if meta_total is None
            else {"total": str(total_contacts) if meta_total == "auto" else meta_total}
        )
        return httpx.Response(200, json={"contacts": body_rows, "scoreValues": [], "meta": meta})

    return handler


def test_client_reads_all_contacts_by_keyset_including_partial_last_page():
    recorder = Recorder()
    client = make_client(contacts_handler(250), recorder=recorder)
    pages = list(client.iter_contact_pages())
    assert [len(page.items) for page in pages] == [100, 100, 50]
    assert [page.last_id for page in pages] == [100, 200, 250]
    assert [r.url.params["id_greater"] for r in recorder.requests] == ["0", "100", "200"]
    assert sorted(c.id for page in pages for c in page.items) == list(range(1, 251))


def test_client_needs_one_empty_page_when_the_total_is_a_multiple_of_the_page_size():
    recorder = Recorder()
    client = make_client(contacts_handler(200, meta_total=None), recorder=recorder)
    pages = list(client.iter_contact_pages())
    assert [len(page.items) for page in pages] == [100, 100, 0]
    assert len(recorder.requests) == 3


def test_client_resumes_from_a_cursor_and_passes_updated_after():
    from datetime import UTC, datetime

    recorder = Recorder()
    client = make_client(contacts_handler(250), recorder=recorder)
    pages = list(
        client.iter_contact_pages(id_greater=200, updated_after=datetime(2024, 5, 1, 12, 0, tzinfo=UTC))
    )
    assert pages[0].items[0].id == 201
    # One request learns the account's offset (-05:00 in these rows); the cursor is then the same
    # instant written at -06:00, so no reading of it by AC can start late (cursor.py).
    assert recorder.requests[0].url.params["orders[id]"] == "DESC"
    assert recorder.requests[1].url.params["filters[updated_after]"] == "2024-05-01T06:00:00-06:00"


def test_invalid_contact_rows_do_not_stop_paging_and_the_cursor_passes_them():
    client = make_client(contacts_handler(150, bad_ids=frozenset({100, 120})))
    pages = list(client.iter_contact_pages())
    assert pages[0].last_id == 100  # the last row of page one is invalid, the cursor still moves past it
    assert [len(p.items) for p in pages] == [99, 49]
    assert [raw["id"] for p in pages for raw, _reason in p.invalid] == ["100", "120"]


def test_contact_paging_stops_when_the_server_ignores_the_cursor():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, json={"contacts": [contact_row(i) for i in range(1, 3)], "meta": {"total": "9"}}
        )

    client = make_client(handler, page_size=2)
    with pytest.raises(PaginationLoop):
        list(client.iter_contact_pages())


def tags_handler(total: int, *, meta_total: object):
    def handler(request: httpx.Request) -> httpx.Response:
        offset, limit = int(request.url.params["offset"]), int(request.url.params["limit"])
        tags = [
            {"id": str(i), "tag": f"t{i}", "tagType": "template" if i % 3 == 0 else "contact", "links": []}
            for i in range(offset + 1, min(total, offset + limit) + 1)
        ]
        body: dict = {"tags": tags}
        if meta_total is not None:
            body["meta"] = {"total": meta_total}
        return httpx.Response(200, json=body)

    return handler


@pytest.mark.parametrize("meta_total", ["7", 7, None])
def test_offset_paging_with_total_as_string_int_or_missing(meta_total):
    recorder = Recorder()
    client = make_client(tags_handler(7, meta_total=meta_total), recorder=recorder, page_size=3)
    pages = list(client.iter_tag_pages(tag_type=None))
    assert [len(p.items) for p in pages] == [3, 3, 1]
    assert [r.url.params["offset"] for r in recorder.requests] == ["0", "3", "6"]


def test_offset_paging_stops_at_total_without_an_extra_request():
    recorder = Recorder()
    client = make_client(tags_handler(6, meta_total="6"), recorder=recorder, page_size=3)
    assert sum(len(p.items) for p in client.iter_tag_pages(tag_type=None)) == 6
    assert len(recorder.requests) == 2


def test_tag_pages_keep_contact_tags_only_by_default():
    client = make_client(tags_handler(7, meta_total="7"), page_size=3)
    tags = [t for page in client.iter_tag_pages() for t in page.items]
    assert [t.id for t in tags] == [1, 2, 4, 5, 7]
    assert all(isinstance(t, Tag) and t.tag_type == "contact" for t in tags)


def test_offset_paging_refuses_a_server_that_ignores_offset():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"lists": [{"id": "1"}, {"id": "2"}], "meta": {"total": "10"}})

    client = make_client(handler, page_size=2)
    with pytest.raises(PaginationLoop):
        list(client.iter_list_pages())


def test_a_page_without_its_collection_key_is_a_bad_response():
    client = make_client(lambda request: httpx.Response(200, json={"meta": {"total": "3"}}))
    with pytest.raises(BadResponse, match="without a 'lists' list"):
        list(client.iter_list_pages())


def test_offset_read_resumes_from_next_offset():
    def handler(request: httpx.Request) -> httpx.Response:
        offset, limit = int(request.url.params["offset"]), int(request.url.params["limit"])
        ids = range(offset + 1, min(7, offset + limit) + 1)
        rows = [{"id": str(i), "contact": "1", "tag": str(i)} for i in ids]
        return httpx.Response(200, json={"contactTags": rows, "meta": {"total": "7"}})

    client = make_client(handler, page_size=3)
    first = next(client.iter_contact_tag_pages())
    assert (first.offset, first.next_offset) == (0, 3)
    rest = list(client.iter_contact_tag_pages(offset=first.next_offset))
    assert [t.id for page in rest for t in page.items] == [4, 5, 6, 7]


def _quirky_page() -> dict:
    """A `/contacts` page with AC's quirks in every row kind, each row valid."""
    contacts = [
        contact_row(1, links={"bounceLogs": "https://acme.api-us1.com/api/3/contacts/1/bounceLogs"}),
        contact_row(2, email=None, phone=31612345678, cdate="0000-00-00 00:00:00", udate=""),
        contact_row(3, created_timestamp="2023-03-14 09:21:07", bounced_hard=1, deleted="1"),
        contact_row(4, udate="2024-01-02T03:04:05.123456789Z", firstName=None, email_empty=True),
    ]
    return {
        "contacts": contacts,
        "scoreValues": [{"id": "9", "score": "2", "contact": "1", "scoreValue": "12.5", "links": []}],
        "fieldValues": [
            {"id": "1", "contact": "1", "field": "4", "value": "Acme", "cdate": "x", "links": {}},
            {"id": "2", "contact": "2", "field": "4", "value": None},
            {"id": "3", "contact": 3, "field": 5, "value": 42},
        ],
        "contactTags": [{"id": "7", "contact": "1", "tag": "3", "links": {}}],
        "contactLists": [{"id": "5", "contact": "2", "list": "1", "status": "1", "first_name": "B"}],
        "meta": {"total": "4", "page_input": {"segmentid": None}},
    }


def _pages_both_ways(body: dict, monkeypatch: pytest.MonkeyPatch) -> tuple[list, list, int]:
    """The pages as read (and how many validated in one pass), then as read row by row."""
    from connectors.providers.activecampaign import client as client_module

    include = ("fieldValues", "contactTags", "contactLists")
    one_pass = []
    validate = client_module.validated_body

    def counted(response: httpx.Response, model: type) -> object:
        whole = validate(response, model)
        one_pass.append(whole is not None)
        return whole

    def read() -> list:
        return list(
            make_client(lambda request: httpx.Response(200, json=body)).iter_contact_pages(include=include)
        )

    monkeypatch.setattr(client_module, "validated_body", counted)
    whole = read()
    monkeypatch.setattr(client_module, "validated_body", lambda response, model: None)
    return whole, read(), sum(one_pass)


def test_a_page_read_in_one_pass_equals_the_page_read_row_by_row(monkeypatch):
    whole, by_row, one_pass = _pages_both_ways(_quirky_page(), monkeypatch)
    assert one_pass == 1 and whole == by_row
    page = whole[0]
    assert [c.id for c in page.items] == [1, 2, 3, 4] and page.invalid == []
    assert (page.total, page.row_count, page.last_id) == (4, 4, 4)
    assert page.items[1].email == "" and page.items[1].phone == "31612345678"
    assert page.items[1].cdate is None and page.items[1].udate is None
    assert page.items[3].udate is not None and page.items[3].udate.microsecond == 123456
    assert page.items[2].bounced and page.items[2].deleted
    assert page.score_values[0].value == 12.5
    assert [fv.value for fv in page.included["fieldValues"]] == ["Acme", None, "42"]
    assert page.included["contactLists"][0].status == 1


def test_a_page_with_a_bad_row_is_read_row_by_row_and_keeps_the_good_ones(monkeypatch):
    body = _quirky_page()
    body["contacts"].append(contact_row(9, email={"bad": 9}))
    body["fieldValues"].append("not a row")
    whole, by_row, one_pass = _pages_both_ways(body, monkeypatch)
    assert one_pass == 0 and whole == by_row
    page = whole[0]
    assert [c.id for c in page.items] == [1, 2, 3, 4]
    assert [raw["id"] for raw, _reason in page.invalid] == ["9"]
    assert page.last_id == 9  # the cursor passes the bad row
    assert len(page.included["fieldValues"]) == 3


def test_a_sideload_the_server_did_not_send_is_not_included(monkeypatch):
    body = _quirky_page()
    del body["contactTags"]
    whole, by_row, one_pass = _pages_both_ways(body, monkeypatch)
    assert one_pass == 1 and whole == by_row
    assert sorted(whole[0].included) == ["contactLists", "fieldValues"]
