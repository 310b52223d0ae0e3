"""Brevo simulator imports and processes: statuses, counters, options, refusals, notify URL
(reference §2.8-2.9)."""

from __future__ import annotations

import threading
import time

import pytest

from tests.integration.sandbox.brevo.helpers import make, wait_done

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
