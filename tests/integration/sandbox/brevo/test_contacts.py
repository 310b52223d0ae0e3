"""Brevo simulator contacts: create, upsert, identifiers, attributes, update, list, batch
(reference §2.1-2.7)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from sandbox.brevo import normalise_phone, valid_email
from tests.integration.sandbox.brevo.helpers import make

# ---------------------------------------------------------------- contacts


def test_create_then_duplicate_then_upsert(api):
    sim, client = api
    created = client.post(
        "/contacts",
        json={
            "email": "Ana.Silva@Example.org",
            "ext_id": "crm-1",
            "attributes": {"FIRSTNAME": "Ana", "SMS": "+351912345678"},
            "listIds": [50],
        },
    )
    assert created.status_code == 201 and isinstance(created.json()["id"], int)
    # Emails are case-insensitive: a case variant is a duplicate.
    dup = client.post("/contacts", json={"email": "ana.silva@example.org"})
    assert dup.status_code == 400
    assert dup.json()["code"] == "duplicate_parameter"
    assert dup.json()["metadata"] == {"duplicate_identifiers": ["email"]}
    sms_dup = client.post(
        "/contacts", json={"email": "other@example.org", "attributes": {"SMS": "351912345678"}}
    )
    assert sms_dup.json()["metadata"]["duplicate_identifiers"] == ["sms"]
    assert "SMS phone number is already associated" in sms_dup.json()["message"]
    upsert = client.post(
        "/contacts",
        json={
            "email": "ana.silva@example.org",
            "updateEnabled": True,
            "attributes": {"LASTNAME": "Silva"},
            "listIds": [51],
        },
    )
    assert upsert.status_code == 204 and upsert.content == b""
    stored = sim.contact_by_email("ANA.SILVA@example.org")
    assert stored["email"] == "ana.silva@example.org"
    assert stored["attributes"] == {
        "FIRSTNAME": "Ana",
        "LASTNAME": "Silva",
        "SMS": "351912345678",
        "EXT_ID": "crm-1",
    }
    assert stored["listIds"] == [50, 51]


def test_upsert_that_would_merge_two_contacts_is_refused(api):
    sim, client = api
    client.post("/contacts", json={"email": "a@example.org"})
    client.post("/contacts", json={"email": "b@example.org", "attributes": {"SMS": "+4915112345678"}})
    clash = client.post(
        "/contacts",
        json={"email": "a@example.org", "updateEnabled": True, "attributes": {"SMS": "+4915112345678"}},
    )
    assert clash.status_code == 400
    assert clash.json()["metadata"]["duplicate_identifiers"] == ["sms"]
    assert "SMS" not in sim.contact_by_email("a@example.org")["attributes"]


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ({"email": "not-an-email"}, "invalid_parameter", "Invalid email address"),
        ({"email": "a..b@example.org"}, "invalid_parameter", "Invalid email address"),
        (
            {"email": "a@example.org", "attributes": {"SMS": "0612345678"}},
            "invalid_parameter",
            "Invalid phone number, SMS phone number should be in format: 91xxxxxxxxxx or +91xxxxxxxxxx.",
        ),
        (
            {"email": "a@example.org", "attributes": {"SMS": "+33 6 12 34 56 78"}},
            "invalid_parameter",
            "Invalid phone number",
        ),
        (
            {"email": "a@example.org", "attributes": {"WHATSAPP": "12"}},
            "invalid_parameter",
            "Invalid WhatsApp",
        ),
        (
            {"attributes": {"FIRSTNAME": "Nobody"}},
            "missing_parameter",
            "An email or SMS phone number is mandatory to create a new contact.",
        ),
        ({"email": "a@example.org", "listIds": [999]}, "invalid_parameter", "999"),
    ],
)
def test_create_contact_validation(api, body, code, message):
    sim, client = api
    response = client.post("/contacts", json=body)
    assert response.status_code == 400
    assert response.json()["code"] == code and message in response.json()["message"]
    assert sim.counts()["contacts"] == 0


def test_phone_and_email_rules():
    assert normalise_phone("+33612345678") == normalise_phone("0033612345678") == "33612345678"
    assert normalise_phone("33612345678") == "33612345678"
    for bad in ("0612345678", "+0612345678", "12345", "+33-612", "", "999123456", None, True, 4.5):
        assert normalise_phone(bad) is None, bad
    assert valid_email("li.wei+tag@example.net")
    for bad in ("li@", "@example.net", "li wei@example.net", ".li@example.net", "li@example", "li@@x.io"):
        assert not valid_email(bad), bad


def test_wrong_typed_values_are_dropped_and_unknown_attributes_ignored(api):
    sim, client = api
    assert client.post("/contacts/attributes/normal/SCORE", json={"type": "float"}).status_code == 201
    assert client.post("/contacts/attributes/normal/BIRTHDATE", json={"type": "date"}).status_code == 201
    assert client.post("/contacts/attributes/normal/VIP", json={"type": "boolean"}).status_code == 201
    assert (
        client.post(
            "/contacts/attributes/normal/TAGS",
            json={"type": "multiple-choice", "multiCategoryOptions": ["a", "b"]},
        ).status_code
        == 201
    )
    response = client.post(
        "/contacts",
        json={
            "email": "t@example.org",
            "attributes": {
                "SCORE": "12",
                "BIRTHDATE": "17/04/1990",
                "VIP": "yes",
                "TAGS": ["a", "zzz"],
                "NOPE": "x",
                "FIRSTNAME": "T",
            },
        },
    )
    assert response.status_code == 201
    assert sim.contact_by_email("t@example.org")["attributes"] == {"FIRSTNAME": "T", "TAGS": ["a"]}
    client.put(
        "/contacts/t%40example.org",
        json={"attributes": {"SCORE": 4.5, "BIRTHDATE": "1990-04-17", "VIP": True}},
    )
    assert sim.contact_by_email("t@example.org")["attributes"] == {
        "FIRSTNAME": "T",
        "TAGS": ["a"],
        "SCORE": 4.5,
        "BIRTHDATE": "1990-04-17",
        "VIP": True,
    }


def test_strict_mode_rejects_unknown_attributes():
    _, client = make(unknown_attributes="reject")
    response = client.post("/contacts", json={"email": "t@example.org", "attributes": {"NOPE": 1}})
    assert response.status_code == 400 and "NOPE" in response.json()["message"]


def test_put_get_delete_with_identifier_types_and_encoding(api):
    sim, client = api
    cid = client.post(
        "/contacts", json={"email": "a+b@x.io", "ext_id": "00981", "attributes": {"SMS": "+4915112345678"}}
    ).json()["id"]
    # A raw '+' decodes to a space on Brevo: the encoded form is required.
    assert client.get("/contacts/a+b@x.io").status_code == 404
    assert client.get("/contacts/a%2Bb%40x.io").json()["id"] == cid
    assert client.get(f"/contacts/{cid}").json()["email"] == "a+b@x.io"
    assert client.get("/contacts/%2B4915112345678").json()["id"] == cid  # GET understands SMS values
    full = client.get("/contacts/00981?identifierType=ext_id").json()
    assert full["id"] == cid and full["statistics"]["messagesSent"] == []
    assert (
        client.put(
            "/contacts/00981?identifierType=ext_id",
            json={"attributes": {"FIRSTNAME": "Ab"}, "listIds": [50, 51]},
        ).status_code
        == 204
    )
    assert client.put(f"/contacts/{cid}", json={"unlinkListIds": [50]}).status_code == 204
    assert sim.contact(cid)["listIds"] == [51]
    missing = client.put("/contacts/nobody%40x.io", json={"attributes": {"FIRSTNAME": "X"}})
    assert missing.status_code == 404
    assert missing.json() == {"code": "document_not_found", "message": "Contact does not exist"}
    assert client.put("/contacts/x?identifierType=bogus", json={}).status_code == 400
    assert client.delete(f"/contacts/{cid}").status_code == 204
    assert sim.contact_by_email("a+b@x.io") is None and sim.counts()["contacts"] == 0


def test_put_email_change_onto_a_taken_email(api):
    sim, client = api
    client.post("/contacts", json={"email": "a@example.org", "emailBlacklisted": True})
    client.post("/contacts", json={"email": "b@example.org"})
    clash = client.put("/contacts/a%40example.org", json={"attributes": {"EMAIL": "B@example.org"}})
    assert clash.status_code == 400
    assert clash.json()["code"] == "duplicate_parameter"
    assert clash.json()["metadata"] == {"duplicate_identifiers": ["email"]}
    assert (
        client.put("/contacts/a%40example.org", json={"attributes": {"EMAIL": "c@example.org"}}).status_code
        == 204
    )
    moved = sim.contact_by_email("c@example.org")
    assert moved is not None and moved["emailBlacklisted"] is False  # a new address re-subscribes
    assert sim.contact_by_email("a@example.org") is None


def test_update_duplicate_code_is_configurable():
    _, client = make(update_duplicate_code="invalid_parameter")
    client.post("/contacts", json={"email": "a@example.org"})
    client.post("/contacts", json={"email": "b@example.org"})
    clash = client.put("/contacts/a%40example.org", json={"attributes": {"EMAIL": "b@example.org"}})
    assert clash.json()["code"] == "invalid_parameter"
    assert clash.json()["metadata"] == {"duplicate_identifiers": ["email"]}


def test_list_contacts_paging_limits_and_modified_since(api):
    _sim, client = api
    for i in range(5):
        if i == 4:
            time.sleep(0.01)  # c4 alone in its millisecond: it becomes the modifiedSince cut
        client.post("/contacts", json={"email": f"c{i}@example.org"})
    page = client.get("/contacts", params={"limit": 2, "offset": 0, "sort": "asc"}).json()
    assert [c["email"] for c in page["contacts"]] == ["c0@example.org", "c1@example.org"]
    assert page["count"] == 5
    assert (
        client.get("/contacts").json()["contacts"][0]["email"] == "c4@example.org"
    )  # newest first by default
    too_big = client.get("/contacts", params={"limit": 1001})
    assert too_big.status_code == 400 and too_big.json()["code"] == "out_of_range"
    cut = client.get("/contacts").json()["contacts"][0]["modifiedAt"]
    time.sleep(0.01)
    client.put("/contacts/c1%40example.org", json={"attributes": {"FIRSTNAME": "Changed"}})
    since = client.get("/contacts", params={"modifiedSince": cut}).json()
    assert {c["email"] for c in since["contacts"]} == {"c1@example.org", "c4@example.org"}
    assert since["count"] == 2
    # An unencoded '+' offset arrives as a space and is refused, as on Brevo.
    assert client.get("/contacts?modifiedSince=2026-01-01T00:00:00+01:00").status_code == 400
    assert client.get("/contacts", params={"modifiedSince": "2999-01-01T00:00:00.000Z"}).json() == {
        "contacts": [],
        "count": 0,
    }


def test_batch_update_answers_as_a_removed_endpoint(api):
    sim, client = api
    client.post("/contacts", json={"email": "c0@example.org"})
    refused = client.post(
        "/contacts/batch", json={"contacts": [{"email": "c0@example.org", "attributes": {"FIRSTNAME": "Z"}}]}
    )
    assert refused.status_code == 404
    assert "contacts/import" in refused.json()["message"]
    assert "FIRSTNAME" not in sim.contact_by_email("c0@example.org")["attributes"]


def test_batch_update_is_all_or_nothing():
    sim, client = make(legacy=True, import_queued_seconds=0.0, import_seconds=0.0)
    for i in range(3):
        client.post("/contacts", json={"email": f"c{i}@example.org"})
    body = {
        "contacts": [
            {"email": "c0@example.org", "attributes": {"FIRSTNAME": "Zero"}},
            {"email": "ghost@example.org", "attributes": {"FIRSTNAME": "Ghost"}},
            {"id": 3, "attributes": {"FIRSTNAME": "Two"}},
            {"sms": "+4915100000000", "attributes": {"FIRSTNAME": "Nobody"}},
        ]
    }
    refused = client.post("/contacts/batch", json=body)
    assert refused.status_code == 404
    assert refused.json() == {"code": "document_not_found", "message": "No contact found for indexes 1,3"}
    assert "FIRSTNAME" not in sim.contact_by_email("c0@example.org")["attributes"]
    body["contacts"] = [body["contacts"][0], body["contacts"][2]]
    assert client.post("/contacts/batch", json=body).status_code == 204
    assert sim.contact(3)["attributes"]["FIRSTNAME"] == "Two"
    both = client.post("/contacts/batch", json={"contacts": [{"email": "c0@example.org", "id": 1}]})
    assert both.status_code == 400


def test_batch_update_partial_mode():
    sim, client = make(batch_unknown="partial", legacy=True)
    client.post("/contacts", json={"email": "c0@example.org"})
    response = client.post(
        "/contacts/batch",
        json={
            "contacts": [
                {"email": "c0@example.org", "attributes": {"FIRSTNAME": "Zero"}},
                {"email": "x@example.org"},
            ]
        },
    )
    assert response.status_code == 207
    assert response.json() == {"successIds": [1], "failureIds": [1]}
    assert sim.contact(1)["attributes"]["FIRSTNAME"] == "Zero"


def test_category_options_with_value_str_and_whatsapp_blacklisted(api):
    sim, client = api
    language = next(
        a for a in client.get("/contacts/attributes").json()["attributes"] if a["name"] == "LANGUAGE"
    )
    assert {"value": 0, "valueStr": "fr", "label": "French"} in language["enumeration"]
    opt_in = next(
        a for a in client.get("/contacts/attributes").json()["attributes"] if a["name"] == "DOUBLE_OPT-IN"
    )
    assert {"value": 1, "valueStr": "1", "label": "Yes"} in opt_in["enumeration"]
    client.post(
        "/contacts", json={"email": "l@example.org", "attributes": {"LANGUAGE": "fr", "DOUBLE_OPT-IN": 1}}
    )
    client.post("/contacts", json={"email": "g@example.org", "attributes": {"LANGUAGE": "German"}})
    client.post("/contacts", json={"email": "x@example.org", "attributes": {"LANGUAGE": "xx"}})
    assert sim.contact_by_email("l@example.org")["attributes"] == {"LANGUAGE": "fr", "DOUBLE_OPT-IN": 1}
    assert sim.contact_by_email("g@example.org")["attributes"] == {"LANGUAGE": "de"}
    assert "LANGUAGE" not in sim.contact_by_email("x@example.org")["attributes"]  # no such option: dropped
    assert client.get("/contacts/l@example.org").json()["whatsappBlacklisted"] is False
    created = client.post(
        "/contacts/attributes/category/SIZE",
        json={"type": "category", "enumeration": [{"valueStr": "xl", "label": "Extra large"}]},
    )
    assert created.status_code == 201


def test_contacts_read_back_by_modified_and_created_since(api):
    _sim, client = api
    client.post("/contacts", json={"email": "old@example.org"})
    time.sleep(0.01)
    since = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{datetime.now(UTC).microsecond // 1000:03d}Z"
    time.sleep(0.01)
    client.post("/contacts", json={"email": "new@example.org"})
    client.put("/contacts/old@example.org", json={"attributes": {"FIRSTNAME": "Touched"}})
    modified = client.get("/contacts", params={"modifiedSince": since, "limit": 1000, "sort": "asc"}).json()
    created = client.get("/contacts", params={"createdSince": since}).json()
    assert modified["count"] == 2 and {c["email"] for c in modified["contacts"]} == {
        "old@example.org",
        "new@example.org",
    }
    assert [c["email"] for c in created["contacts"]] == ["new@example.org"]
