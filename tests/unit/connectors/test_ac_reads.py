"""The AC client's reads the sync makes: one typed method each, on hand-built responses."""

from __future__ import annotations

import httpx
import pytest

from connectors.exceptions import BadResponse, NotFoundError
from tests.unit.connectors.ac_fakes import Recorder, contact_row, make_client


def _params(request: httpx.Request) -> list[tuple[str, str]]:
    return list(request.url.params.multi_items())


def test_contacts_by_id_asks_a_hundred_ids_per_request_and_keeps_only_those_asked():
    recorder = Recorder()

    def handler(request: httpx.Request) -> httpx.Response:
        ids = [int(v) for k, v in _params(request) if k == "ids[]"]
        rows = [contact_row(i) for i in ids if i != 150] + [contact_row(9999)]  # 150 was deleted
        return httpx.Response(200, json={"contacts": rows, "meta": {"total": str(len(rows))}})

    found = make_client(handler, recorder=recorder).contacts_by_id([*range(1, 151), None, 0, 3])
    assert sorted(found) == list(range(1, 150))
    assert found[7].email == "person7@example.org"
    assert [len([k for k, _ in _params(r) if k == "ids[]"]) for r in recorder.requests] == [100, 50]
    assert all(r.url.path == "/api/3/contacts" for r in recorder.requests)


def test_contacts_by_id_of_nothing_sends_nothing():
    recorder = Recorder()
    assert make_client(lambda r: pytest.fail("sent"), recorder=recorder).contacts_by_id([None, 0]) == {}


def test_first_contacts_sends_only_the_filters_given():
    recorder = Recorder()
    client = make_client(
        lambda r: httpx.Response(200, json={"contacts": [contact_row(4)]}), recorder=recorder
    )
    assert [c.id for c in client.first_contacts(limit=5, list_id=3, status=1)] == [4]
    client.first_contacts(limit=2, tag_id=8)
    assert dict(_params(recorder.requests[0])) == {
        "limit": "5",
        "orders[id]": "ASC",
        "listid": "3",
        "status": "1",
    }
    assert dict(_params(recorder.requests[1])) == {"limit": "2", "orders[id]": "ASC", "tagid": "8"}


def test_first_contacts_leaves_out_rows_ac_got_wrong():
    body = {"contacts": [contact_row(1), {"id": "not a number"}]}
    assert [c.id for c in make_client(lambda r: httpx.Response(200, json=body)).first_contacts(limit=5)] == [
        1
    ]


@pytest.mark.parametrize(
    ("call", "path", "key", "row"),
    [
        (lambda ac: ac.get_deal(7), "/api/3/deals/7", "deal", {"id": "7", "contact": "3", "value": "100"}),
        (lambda ac: ac.get_ecom_order(5), "/api/3/ecomOrders/5", "ecomOrder", {"id": "5"}),
        (
            lambda ac: ac.get_contact_automation(9),
            "/api/3/contactAutomations/9",
            "contactAutomation",
            {"id": "9", "contact": "3", "automation": "2"},
        ),
        (
            lambda ac: ac.get_custom_object_schema("a b"),
            "/api/3/customObjects/schemas/a%20b",
            "schema",
            {"id": "a b"},
        ),
        (
            lambda ac: ac.get_custom_object_record("s1", "r1"),
            "/api/3/customObjects/records/s1/r1",
            "record",
            {"id": "r1"},
        ),
    ],
)
def test_one_object_reads(call, path, key, row):
    recorder = Recorder()
    client = make_client(lambda r: httpx.Response(200, json={key: row}), recorder=recorder)
    assert str(call(client).id) == row["id"]
    assert recorder.requests[0].url.raw_path.decode() == path
    with pytest.raises(BadResponse, match=f"without a '{key}' object"):
        call(make_client(lambda r: httpx.Response(200, json={"other": {}})))
    with pytest.raises(NotFoundError):
        call(make_client(lambda r: httpx.Response(404, json={"message": "No Result found"})))


def test_count_reads_meta_total_with_one_small_request():
    recorder = Recorder()
    client = make_client(
        lambda r: httpx.Response(200, json={"fieldValues": [], "meta": {"total": "1234"}}), recorder=recorder
    )
    assert client.count("fieldValues", field_id=6) == 1234
    assert client.count("contactTags") == 1234
    assert client.count("customObjectRecords", schema_id="s/1") == 1234
    sent = [(r.url.raw_path.decode().split("?")[0], dict(_params(r))) for r in recorder.requests]
    assert sent == [
        ("/api/3/fieldValues", {"limit": "1", "filters[fieldid]": "6"}),
        ("/api/3/contactTags", {"limit": "1"}),
        ("/api/3/customObjects/records/s%2F1", {"limit": "1"}),
    ]


def test_count_without_a_total_is_none_and_records_need_their_schema():
    client = make_client(lambda r: httpx.Response(200, json={"deals": []}))
    assert client.count("deals") is None
    with pytest.raises(ValueError, match="schema_id"):
        client.count("customObjectRecords")


def test_raw_get_is_not_part_of_the_client():
    assert not hasattr(make_client(lambda r: httpx.Response(200)), "get")
