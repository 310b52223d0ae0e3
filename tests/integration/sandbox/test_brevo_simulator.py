"""Behaviour of the Brevo simulator against reference brevo-api-v3.md (§11 checklist), in process."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from sandbox.brevo import BrevoLimits, BrevoSimulator, normalise_phone, valid_email

KEY = "xkeysib-sandbox-test-not-a-real-key"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(**kwargs) -> tuple[BrevoSimulator, TestClient]:
    sim = BrevoSimulator(api_key=KEY, **kwargs)
    app = Starlette(routes=[Mount("/v3", routes=sim.routes())])
    return sim, TestClient(app, base_url="http://sandbox/v3", headers={"api-key": KEY})


@pytest.fixture
def api() -> tuple[BrevoSimulator, TestClient]:
    return make(import_queued_seconds=0.0, import_seconds=0.0)


def wait_done(client: TestClient, process_id: int) -> dict:
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        process = client.get(f"/processes/{process_id}").json()
        if process["status"] == "completed":
            return process
        time.sleep(0.01)
    raise AssertionError(f"process {process_id} did not complete: {process}")


# ---------------------------------------------------------------- auth and rate limits


def test_auth_bodies(api):
    sim, client = api
    missing = client.get("/account", headers={"api-key": ""})
    assert missing.status_code == 401
    assert missing.json() == {"message": "authentication not found in headers", "code": "unauthorized"}
    wrong = client.get("/account", headers={"api-key": "xkeysib-wrong"})
    assert wrong.status_code == 401 and wrong.json() == {"code": "unauthorized", "message": "Key not found"}
    sim.ip_blocked = True
    blocked = client.get("/account")
    assert blocked.status_code == 401 and "unrecognised IP address" in blocked.json()["message"]
    sim.ip_blocked = False
    ok = client.get("/account")
    assert ok.status_code == 200 and ok.json()["email"]


def test_per_second_bucket_headers_and_429():
    clock = FakeClock()
    sim, client = make(limits={"contacts": (2, None)}, clock=clock)
    first = client.get("/contacts")
    assert first.headers["x-sib-ratelimit-limit"] == "2"
    assert first.headers["x-sib-ratelimit-remaining"] == "1"
    assert first.headers["x-sib-ratelimit-reset"] == "1"
    assert client.get("/contacts/attributes").headers["x-sib-ratelimit-remaining"] == "0"
    over = client.post("/contacts", json={"email": "a@example.org"})
    assert over.status_code == 429
    assert over.headers["x-sib-ratelimit-remaining"] == "0"
    assert set(over.json()) == {"code", "message"}
    assert sim.counts()["contacts"] == 0  # a refused request changes nothing
    # Other buckets are unaffected and, being unlimited here, carry no headers.
    other = client.get("/account")
    assert other.status_code == 200 and "x-sib-ratelimit-limit" not in other.headers
    clock.now += 1.0
    assert client.post("/contacts", json={"email": "a@example.org"}).status_code == 201


def test_hourly_bucket_reports_reset_in_seconds():
    clock = FakeClock()
    _, client = make(limits={"other": (None, 3)}, clock=clock)
    for remaining in ("2", "1", "0"):
        assert client.get("/account").headers["x-sib-ratelimit-remaining"] == remaining
    clock.now += 600
    over = client.get("/crm/pipeline/details/all")
    assert over.status_code == 429
    assert over.headers["x-sib-ratelimit-limit"] == "3"
    assert over.headers["x-sib-ratelimit-reset"] == "3000"
    # Contacts have their own bucket; /events (POST) and /orders/status too.
    assert client.get("/contacts").status_code == 200


def test_both_windows_apply_and_the_tighter_one_is_reported():
    clock = FakeClock()
    _, client = make(limits=BrevoLimits(events=(10, 4)), clock=clock)
    body = {"event_name": "ping", "identifiers": {"ext_id": "e1"}}
    statuses = []
    for _ in range(5):
        statuses.append(client.post("/events", json=body).status_code)
        clock.now += 1.1  # never more than one per second: only the hourly cap bites
    assert statuses == [204, 204, 204, 204, 429]


def test_limits_accept_the_sandbox_config_shapes():
    sim = BrevoSimulator(api_key=KEY, limits={"orders": {"per_second": 5, "per_hour": None}, "other": None})
    assert sim._limiters["orders"] is not None and sim._limiters["other"] is None
    with pytest.raises(ValueError, match="bucket"):
        BrevoSimulator(api_key=KEY, limits={"crm": (1, 1)})


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


# ---------------------------------------------------------------- imports and processes


def test_import_moves_through_statuses_and_counts_bad_rows():
    sim, client = make(import_queued_seconds=0.2, import_seconds=0.6)
    client.post(
        "/contacts",
        json={"email": "existing@example.org", "attributes": {"FIRSTNAME": "Old", "LASTNAME": "Keep"}},
    )
    client.post("/contacts", json={"email": "holder@example.org", "ext_id": "X-9"})
    rows = [
        {
            "email": "new@example.org",
            "attributes": {"FIRSTNAME": "New", "UNKNOWN_ATTR": "ignored", "EXT_ID": "X-1"},
        },
        {"email": "EXISTING@example.org", "attributes": {"FIRSTNAME": "Updated", "LASTNAME": ""}},
        {"email": "broken-email"},
        {"email": "new@example.org", "attributes": {"FIRSTNAME": "Again"}},
        {"attributes": {"SMS": "+4915112345678", "EXT_ID": "X-2"}},
        {"email": "other@example.org", "attributes": {"EXT_ID": "X-9"}},
        {"attributes": {"FIRSTNAME": "no identifier"}},
    ]
    accepted = client.post(
        "/contacts/import", json={"jsonBody": rows, "listIds": [50], "updateExistingContacts": True}
    )
    assert accepted.status_code == 202
    pid = accepted.json()["processId"]
    assert isinstance(pid, int)
    statuses = [client.get(f"/processes/{pid}").json()["status"]]
    assert sim.contact_by_email("new@example.org") is None  # nothing is in the account yet
    time.sleep(0.3)
    statuses.append(client.get(f"/processes/{pid}").json()["status"])
    done = wait_done(client, pid)
    assert statuses == ["queued", "processing"]
    assert done["name"] == "IMPORTUSER"
    # The 2026 shape: no dates or error, every info.import field a report URL or null.
    assert not {"created_at", "completed_at", "error"} & set(done)
    reports = done["info"]["import"]
    assert reports["duplicate_contact_id"] is None and reports["duplicate_phone_id"] is None
    invalid = client.get(reports["invalid_emails"].removeprefix("http://sandbox/v3"))
    assert invalid.status_code == 200 and invalid.headers["content-type"].startswith("text/csv")
    assert invalid.text.splitlines() == [
        "identifier;reason",
        "broken-email;invalid email address",
        ";no identifier",
    ]
    dup_ext = client.get(reports["duplicate_ext_id"].removeprefix("http://sandbox/v3")).text
    assert "X-9;held by another contact" in dup_ext
    assert (
        "new@example.org" in client.get(reports["duplicate_email_id"].removeprefix("http://sandbox/v3")).text
    )
    new = sim.contact_by_email("new@example.org")
    assert new["attributes"] == {"FIRSTNAME": "New", "EXT_ID": "X-1"} and new["listIds"] == [50]
    existing = sim.contact_by_email("existing@example.org")
    assert existing["attributes"] == {"FIRSTNAME": "Updated", "LASTNAME": "Keep"}  # empty cell ignored
    other = sim.contact_by_email("other@example.org")
    assert "EXT_ID" not in other["attributes"] and other["listIds"] == [50]
    assert sim.counts()["contacts"] == 5


def test_legacy_processes_keep_counters_and_in_process():
    _sim, client = make(legacy=True, import_queued_seconds=0.0, import_seconds=0.05)
    pid = client.post("/contacts/import", json={"jsonBody": [{"email": "bad"}], "listIds": [50]}).json()[
        "processId"
    ]
    assert client.get(f"/processes/{pid}").json()["status"] == "in_process"
    done = wait_done(client, pid)
    assert done["info"]["import"]["invalid_emails"] == 1 and done["completed_at"]


@pytest.mark.parametrize("failure", ["failed", "cancelled"])
def test_an_import_can_be_made_to_fail_or_be_cancelled(failure):
    sim, client = make(import_queued_seconds=0.0, import_seconds=0.0, import_failure=failure)
    pid = client.post(
        "/contacts/import", json={"jsonBody": [{"email": "a@example.org"}], "listIds": [50]}
    ).json()["processId"]
    time.sleep(0.01)
    process = client.get(f"/processes/{pid}").json()
    assert process["status"] == failure and "info" not in process
    assert sim.contact_by_email("a@example.org") is None


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


def test_import_options_csv_and_erase(api):
    sim, client = api
    client.post(
        "/contacts", json={"email": "a@example.org", "attributes": {"FIRSTNAME": "A", "LASTNAME": "B"}}
    )
    client.post("/contacts/attributes/normal/AGE", json={"type": "float"})
    csv_body = "EMAIL;FIRSTNAME;LASTNAME;AGE\na@example.org;Alpha;;41\nb@example.org;Beta;Bee;x\n"
    pid = client.post(
        "/contacts/import", json={"fileBody": csv_body, "listIds": [51], "emptyContactsAttributes": True}
    ).json()["processId"]
    wait_done(client, pid)
    assert sim.contact_by_email("a@example.org")["attributes"] == {"FIRSTNAME": "Alpha", "AGE": 41}
    assert sim.contact_by_email("b@example.org")["attributes"] == {"FIRSTNAME": "Beta", "LASTNAME": "Bee"}
    pid = client.post(
        "/contacts/import",
        json={
            "jsonBody": [{"email": "a@example.org", "attributes": {"FIRSTNAME": "Skipped"}}],
            "listIds": [52],
            "updateExistingContacts": False,
        },
    ).json()
    wait_done(client, pid["processId"])
    assert sim.contact_by_email("a@example.org")["attributes"]["FIRSTNAME"] == "Alpha"
    assert sim.contact_by_email("a@example.org")["listIds"] == [51]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"listIds": [50]}, 400, "missing_parameter"),
        ({"jsonBody": [], "fileBody": "EMAIL\n", "listIds": [50]}, 400, "missing_parameter"),
        ({"jsonBody": [{"email": "a@example.org"}]}, 400, "missing_parameter"),
        ({"jsonBody": [{"email": "a@example.org"}], "listIds": [999]}, 400, "invalid_parameter"),
        ({"fileUrl": "https://example.org/file.csv", "listIds": [50]}, 400, "invalid_parameter"),
    ],
)
def test_import_refusals(api, body, status, code):
    _, client = api
    response = client.post("/contacts/import", json=body)
    assert response.status_code == status and response.json()["code"] == code


def test_big_import_is_cheap(api):
    sim, client = api
    rows = [
        {"email": f"bulk{i}@example.org", "attributes": {"FIRSTNAME": f"N{i}", "EXT_ID": f"E{i}"}}
        for i in range(5000)
    ]
    started = time.perf_counter()
    pid = client.post("/contacts/import", json={"jsonBody": rows, "listIds": [50]}).json()["processId"]
    wait_done(client, pid)
    assert time.perf_counter() - started < 3.0
    assert sim.counts()["contacts"] == 5000
    assert sim.contact_by_email("bulk4999@example.org")["attributes"]["EXT_ID"] == "E4999"


def test_unknown_process(api):
    _, client = api
    response = client.get("/processes/424242")
    assert response.status_code == 404 and response.json()["code"] == "document_not_found"


def test_import_completes_without_being_polled():
    sim, client = make(import_queued_seconds=0.0, import_seconds=0.05)
    client.post("/contacts/import", json={"jsonBody": [{"email": "t@example.org"}], "listIds": [50]})
    time.sleep(0.3)
    # The timer finished it: read straight from the state (which also advances, so check the process too).
    assert sim._processes[1].completed is not None


# ---------------------------------------------------------------- lists, folders, attributes


def test_seeded_lists_and_folders(api):
    _, client = api
    lists = client.get("/contacts/lists", params={"sort": "asc"}).json()
    assert [(li["id"], li["name"], li["folderId"]) for li in lists["lists"]] == [
        (50, "Main List", 1),
        (51, "Newsletter", 1),
        (52, "Customers", 1),
    ]
    assert lists["count"] == 3
    assert client.get("/contacts/folders").json()["folders"][0]["id"] == 1
    folder = client.post("/contacts/folders", json={"name": "Tajo"})
    assert folder.status_code == 201
    new_list = client.post("/contacts/lists", json={"name": "Imported", "folderId": folder.json()["id"]})
    assert new_list.status_code == 201 and new_list.json()["id"] == 53
    assert client.post("/contacts/lists", json={"name": "No folder"}).status_code == 400
    assert client.post("/contacts/lists", json={"name": "Bad", "folderId": 77}).status_code == 404
    assert client.get("/contacts/lists", params={"limit": 51}).status_code == 400
    assert client.delete(f"/contacts/folders/{folder.json()['id']}").status_code == 204
    assert client.get("/contacts/lists/53").status_code == 404  # deleting a folder deletes its lists


def test_list_add_remove_report(api):
    sim, client = api
    for email in ("a@example.org", "b@example.org"):
        client.post("/contacts", json={"email": email, "ext_id": email[0]})
    client.post("/contacts", json={"email": "c@example.org", "listIds": [51]})
    added = client.post(
        "/contacts/lists/51/contacts/add",
        json={"emails": ["A@example.org", "c@example.org", "ghost@example.org"]},
    )
    assert added.status_code == 201
    assert added.json() == {
        "contacts": {"success": ["A@example.org"], "failure": ["c@example.org", "ghost@example.org"]}
    }
    by_ids = client.post("/contacts/lists/51/contacts/add", json={"ids": [2, 99]}).json()
    assert by_ids == {"contacts": {"success": [2], "failure": [99]}}
    by_ext = client.post("/contacts/lists/51/contacts/remove", json={"extIds": ["a", "zz"]}).json()
    assert by_ext == {"contacts": {"success": ["a"], "failure": ["zz"]}}
    assert sim.list_members(51) == {2, 3}
    everyone = client.post("/contacts/lists/51/contacts/remove", json={"all": True}).json()
    assert everyone["contacts"]["total"] == 2 and isinstance(everyone["contacts"]["processId"], int)
    assert sim.list_members(51) == set()
    assert (
        client.post("/contacts/lists/999/contacts/add", json={"emails": ["a@example.org"]}).status_code == 404
    )
    too_many = client.post(
        "/contacts/lists/51/contacts/add", json={"emails": [f"x{i}@example.org" for i in range(151)]}
    )
    assert too_many.status_code == 400
    assert (
        client.post("/contacts/lists/51/contacts/add", json={"emails": ["a@x.io"], "ids": [1]}).status_code
        == 400
    )


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/contacts/attributes/normal/PLAN_TIER", {"type": "text"}, 201),
        ("/contacts/attributes/normal/plan_tier2", {}, 201),
        (
            "/contacts/attributes/category/TIER",
            {"type": "category", "enumeration": [{"value": 1, "label": "Gold"}]},
            201,
        ),
        ("/contacts/attributes/category/TIER2", {"type": "category"}, 400),
        ("/contacts/attributes/normal/FIRSTNAME", {"type": "text"}, 400),
        ("/contacts/attributes/normal/1BAD", {"type": "text"}, 400),
        ("/contacts/attributes/normal/BAD", {"type": "category"}, 400),
        ("/contacts/attributes/weird/NAME", {"type": "text"}, 400),
        ("/contacts/attributes/calculated/TOTAL", {"value": "COUNT[ORDER_ID]"}, 201),
        ("/contacts/attributes/global/TOTAL2", {}, 400),
        ("/contacts/attributes/transactional/ORDER_ID", {"type": "id"}, 201),
        (
            "/contacts/attributes/normal/INTERESTS",
            {"type": "multiple-choice", "multiCategoryOptions": ["yoga", "x" * 201]},
            400,
        ),
    ],
)
def test_attribute_creation_rules(api, path, body, status):
    _sim, client = api
    response = client.post(path, json=body)
    assert response.status_code == status, response.text
    if status == 201:
        assert response.content == b""
        name = path.rsplit("/", 1)[-1].upper()
        assert any(a["name"] == name for a in client.get("/contacts/attributes").json()["attributes"])
    else:
        assert response.json()["code"] in ("invalid_parameter", "duplicate_parameter", "missing_parameter")


def test_standard_attributes_are_present(api):
    _, client = api
    names = {a["name"] for a in client.get("/contacts/attributes").json()["attributes"]}
    assert {"EMAIL", "FIRSTNAME", "LASTNAME", "SMS", "LANDLINE_NUMBER", "WHATSAPP", "EXT_ID"} <= names


def test_category_attribute_takes_the_integer_value(api):
    sim, client = api
    client.post(
        "/contacts/attributes/category/TIER",
        json={
            "type": "category",
            "enumeration": [{"value": 1, "label": "Silver"}, {"value": 2, "label": "Gold"}],
        },
    )
    client.post("/contacts", json={"email": "a@example.org", "attributes": {"TIER": 2}})
    client.post("/contacts", json={"email": "b@example.org", "attributes": {"TIER": 7}})
    assert sim.contact_by_email("a@example.org")["attributes"]["TIER"] == 2
    assert "TIER" not in sim.contact_by_email("b@example.org")["attributes"]


# ---------------------------------------------------------------- events


def test_event_recorded_and_contact_properties_applied(api):
    sim, client = api
    client.post("/contacts", json={"email": "li@example.net"})
    response = client.post(
        "/events",
        json={
            "event_name": "subscription_renewed",
            "event_date": "2026-02-10T08:30:00+01:00",
            "identifiers": {"email_id": "LI@example.net"},
            "contact_properties": {"FIRSTNAME": "Li"},
            "event_properties": {"amount": 49.0, "renewal": {"period": "monthly", "auto": True}},
        },
    )
    assert response.status_code == 204 and response.content == b""
    events = sim.events_for("li@example.net")
    assert len(events) == 1 and events[0]["event_properties"]["renewal"]["auto"] is True
    assert sim.contact_by_email("li@example.net")["attributes"]["FIRSTNAME"] == "Li"
    # Events are not idempotent: the same body twice is two events.
    client.post(
        "/events", json={"event_name": "subscription_renewed", "identifiers": {"email_id": "li@example.net"}}
    )
    assert len(sim.events_for("li@example.net")) == 2


def test_event_for_an_unknown_identifier_creates_the_contact_unless_configured(api):
    sim, client = api
    assert (
        client.post(
            "/events", json={"event_name": "x", "identifiers": {"email_id": "new@example.net"}}
        ).status_code
        == 204
    )
    assert sim.contact_by_email("new@example.net") is not None
    _, strict = make(events_create_contacts=False)
    response = strict.post(
        "/events", json={"event_name": "x", "identifiers": {"email_id": "new@example.net"}}
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"identifiers": {"email_id": "a@example.org"}}, "event_name"),
        ({"event_name": "has space", "identifiers": {"email_id": "a@example.org"}}, "event_name"),
        ({"event_name": "x" * 256, "identifiers": {"email_id": "a@example.org"}}, "event_name"),
        ({"event_name": "ok", "identifiers": {}}, "identifiers"),
        ({"event_name": "ok", "identifiers": {"sms": "+33612345678"}}, "identifiers"),
        ({"event_name": "ok", "identifiers": {"email_id": "nope"}}, "email_id"),
        (
            {"event_name": "ok", "identifiers": {"email_id": "a@example.org"}, "event_date": "yesterday"},
            "event_date",
        ),
        ({"event_name": "ok", "identifiers": {"ext_id": "1"}, "event_properties": {"bad key": 1}}, "keys"),
        (
            {
                "event_name": "ok",
                "identifiers": {"ext_id": "1"},
                "event_properties": {"nested": {"deep key!": 1}},
            },
            "keys",
        ),
        (
            {"event_name": "ok", "identifiers": {"ext_id": "1"}, "event_properties": {"blob": "x" * 52_000}},
            "50KB",
        ),
        (
            {"event_name": "ok", "identifiers": {"ext_id": "1"}, "contact_properties": {"LIST": [1]}},
            "contact_properties",
        ),
    ],
)
def test_event_validation(api, body, fragment):
    sim, client = api
    response = client.post("/events", json=body)
    assert response.status_code == 400 and fragment in response.json()["message"]
    assert sim.counts()["events"] == 0


def test_event_batch_accepts_both_shapes(api):
    sim, client = api
    good = {"event_name": "ok", "identifiers": {"ext_id": "1"}}
    assert client.post("/events/batch", json=[good, good]).status_code == 202
    mixed = client.post("/events/batch", json={"events": [good, {"event_name": "bad name"}]})
    assert mixed.status_code == 207
    assert mixed.json()["successful_events"] == 1 and mixed.json()["errors"][0]["eventIndex"] == [1]
    assert sim.counts()["events"] == 3


# ---------------------------------------------------------------- CRM


def test_deals_lifecycle(api):
    sim, client = api
    c1 = client.post("/contacts", json={"email": "a@example.org"}).json()["id"]
    c2 = client.post("/contacts", json={"email": "b@example.org"}).json()["id"]
    pipelines = client.get("/crm/pipeline/details/all").json()
    assert isinstance(pipelines, list) and len(pipelines) == 1
    pipeline = pipelines[0]
    assert len(pipeline["pipeline"]) == 24 and pipeline["stages"][0]["name"] == "New"
    created = client.post(
        "/crm/deals", json={"name": "Annual plan", "attributes": {"amount": 1200}, "linkedContactsIds": [c1]}
    )
    assert created.status_code == 201
    deal_id = created.json()["id"]
    assert isinstance(deal_id, str) and len(deal_id) == 24
    deal = client.get(f"/crm/deals/{deal_id}").json()
    assert deal["attributes"]["pipeline"] == pipeline["pipeline"]
    assert deal["attributes"]["deal_stage"] == pipeline["stages"][0]["id"]  # default: first stage
    assert deal["attributes"]["deal_name"] == "Annual plan" and deal["linkedContactsIds"] == [c1]
    won = pipeline["stages"][4]["id"]
    assert (
        client.patch(
            f"/crm/deals/{deal_id}", json={"attributes": {"deal_stage": won}, "linkedContactsIds": [c2]}
        ).status_code
        == 204
    )
    deal = sim.deals()[0]
    assert deal["attributes"]["deal_stage"] == won and deal["linkedContactsIds"] == [c2]  # PATCH replaces
    assert (
        client.patch(
            f"/crm/deals/link-unlink/{deal_id}", json={"linkContactIds": [c1], "unlinkContactIds": [c2]}
        ).status_code
        == 204
    )
    assert sim.deals()[0]["linkedContactsIds"] == [c1]
    assert (
        client.get("/crm/deals", params={"filters[linkedContactsIds]": c1}).json()["items"][0]["id"]
        == deal_id
    )
    assert client.post(f"/crm/deals/link-unlink/{deal_id}", json={}).status_code == 405  # PATCH only


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"attributes": {"amount": 1}}, 400),
        ({"name": "x", "attributes": {"deal_stage": "not-a-stage"}}, 400),
        ({"name": "x", "attributes": {"no_such_attribute": 1}}, 400),
        ({"name": "x", "attributes": {"created_at": "2020-01-01"}}, 400),
        ({"name": "x", "attributes": {"amount": "lots"}}, 400),
        ({"name": "x", "linkedContactsIds": [424242]}, 400),
    ],
)
def test_deal_validation(api, body, status):
    sim, client = api
    assert client.post("/crm/deals", json=body).status_code == status
    assert sim.counts()["deals"] == 0


def test_deal_route_errors_and_attributes(api):
    _, client = api
    assert client.get("/crm/deals/not-an-id").status_code == 400
    missing = client.get("/crm/deals/0123456789abcdef01234567")
    assert missing.status_code == 404 and missing.json()["message"] == "Document not found"
    attributes = client.get("/crm/attributes/deals").json()
    names = {a["internalName"] for a in attributes}
    assert {"deal_name", "deal_owner", "deal_stage", "pipeline", "amount"} <= names
    assert client.get("/crm/pipeline/details/nope").status_code == 400


# ---------------------------------------------------------------- e-commerce and account


def order(order_id: str = "ORD-1", **extra) -> dict:
    return {
        "id": order_id,
        "createdAt": "2026-03-01T10:02:11Z",
        "updatedAt": "2026-03-01T10:05:40Z",
        "status": "completed",
        "amount": 87.5,
        "identifiers": {"email_id": "li@example.net"},
        "products": [
            {"productId": "P11", "variantId": "P11-RED", "quantity": 2, "price": 35.0},
            {"productId": "P20", "quantityFloat": 1.5, "price": 11.67},
        ],
        **extra,
    }


def test_orders_upsert_batch_and_read_back(api):
    sim, client = api
    client.post("/contacts", json={"email": "li@example.net"})
    assert client.post("/orders/status", json=order()).status_code == 204
    assert client.post("/orders/status", json=order(status="refunded")).status_code == 204
    assert sim.counts()["orders"] == 1 and sim.orders()[0]["status"] == "refunded"
    batch = client.post(
        "/orders/status/batch", json={"orders": [order(f"B-{i}") for i in range(3)], "historical": True}
    )
    assert batch.status_code == 202
    assert isinstance(batch.json()["batch_id"], int) and batch.json()["count"] == 3
    listed = client.get("/orders", params={"limit": 2}).json()
    assert listed["count"] == 4 and len(listed["orders"]) == 2
    assert listed["orders"][0]["contact_id"] == 1 and listed["orders"][0]["email"] == "li@example.net"
    assert client.get("/orders", params={"limit": 101}).status_code == 400


@pytest.mark.parametrize(
    "broken",
    [
        {"amount": None},
        {"createdAt": "soon"},
        {"identifiers": {}},
        {"products": [{"productId": "P", "price": 1, "quantity": 1, "quantityFloat": 1.0}]},
        {"products": [{"productId": "P", "price": 1}]},
        {"products": [{"price": 1, "quantity": 1}]},
        {"id": 7},
    ],
)
def test_order_validation(api, broken):
    sim, client = api
    assert client.post("/orders/status", json=order(**broken)).status_code == 400
    response = client.post("/orders/status/batch", json={"orders": [order("ok"), order("bad", **broken)]})
    assert response.status_code == 400 and "orders[1]" in response.json()["message"]
    assert sim.counts()["orders"] == 0  # a refused batch stores nothing


def test_order_batch_cap_and_ecommerce_activation():
    _sim, client = make(ecommerce_enabled=False)
    refused = client.post("/orders/status", json=order())
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    assert client.post("/ecommerce/activate").status_code == 200
    assert client.post("/orders/status", json=order()).status_code == 204
    too_many = client.post("/orders/status/batch", json={"orders": [order(f"o{i}") for i in range(1001)]})
    assert too_many.status_code == 400


def test_account_is_configurable():
    _, client = make(account={"companyName": "Acme", "enterprise": True})
    body = client.get("/account").json()
    assert body["companyName"] == "Acme" and body["enterprise"] is True
    assert body["plan"][0]["type"] == "free"


def test_concurrent_writers_and_readers_do_not_corrupt_state(api):
    sim, client = api
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(50):
                assert client.post("/contacts", json={"email": f"w{n}-{i}@example.org"}).status_code == 201
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        sim.counts()
        sim.contacts()
    for t in threads:
        t.join()
    assert not errors
    assert sim.counts()["contacts"] == 200
    assert len({c["id"] for c in sim.contacts()}) == 200


def test_limits_from_the_sandbox_config_defaults():
    from sandbox.config import SandboxConfig

    clock = FakeClock()
    _, client = make(limits=SandboxConfig().brevo_limits, clock=clock)
    assert client.get("/contacts").headers["x-sib-ratelimit-limit"] == "10"
    assert client.get("/account").headers["x-sib-ratelimit-limit"] == "100"
    event = client.post("/events", json={"event_name": "x", "identifiers": {"ext_id": "1"}})
    assert event.headers["x-sib-ratelimit-limit"] == "10"
    order_response = client.post("/orders/status", json=order())
    assert order_response.status_code == 204 and order_response.headers["x-sib-ratelimit-limit"] == "5"


def test_notify_url_is_called_when_switched_on():
    import json
    from http.server import BaseHTTPRequestHandler, HTTPServer

    received: list[dict] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["content-length"]))))
            received[-1]["_path"] = self.path
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    hook = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    try:
        _, client = make(call_notify_url=True, import_queued_seconds=0.0, import_seconds=0.02)
        url = f"http://127.0.0.1:{hook.server_port}/done"
        pid = client.post(
            "/contacts/import",
            json={"jsonBody": [{"email": "n@example.org"}], "listIds": [50], "notifyUrl": url},
        ).json()["processId"]
        deadline = time.monotonic() + 3
        while not received and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        hook.shutdown()
    assert received and received[0]["processId"] == pid and received[0]["status"] == "completed"
    assert received[0]["_path"] == "/done"
