"""The contacts writer against the Brevo simulator (in process, no network): imports only, the
read-back's per-contact truth, and the bad cases each becoming an outcome with its reason."""

from __future__ import annotations

import math
import pickle
import time

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from connectors.providers.brevo import BrevoClient
from connectors.sync.brevo_contacts import ContactWriter, PendingContact
from sandbox.brevo import BrevoSimulator

KEY = "xkeysib-unit-writer-not-a-real-key"


class Counting(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner, self.calls = inner, []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(f"{request.method} {request.url.raw_path.decode().removeprefix('/v3')}")
        return self.inner.handle_request(request)

    def count(self, prefix: str) -> int:
        return sum(1 for call in self.calls if call.startswith(prefix))


def brevo(**options) -> tuple[BrevoSimulator, BrevoClient, Counting]:
    sim = BrevoSimulator(api_key=KEY, import_queued_seconds=0.0, import_seconds=0.0, **options)
    app = TestClient(Starlette(routes=[Mount("/v3", routes=sim.routes())]), base_url="http://127.0.0.1/v3")
    transport = Counting(app._transport)
    client = BrevoClient(api_url="http://127.0.0.1/v3", api_key=KEY, transport=transport, allow_private=True)
    return sim, client, transport


def item(n: int, *, lists=(50,), known=False, **attributes) -> PendingContact:
    body = {"email": f"p{n}@example.org", "attributes": {"FIRSTNAME": f"P{n}", **attributes}}
    if lists:
        body["listIds"] = list(lists)
    return PendingContact(source_id=str(n), email=f"p{n}@example.org", body=body, known=known)


def writer(client: BrevoClient, home: int | None = 53) -> ContactWriter:
    return ContactWriter(client, home_list=home, sleep=lambda s: None)


@pytest.fixture
def setup():
    sim, client, calls = brevo()
    sim._add_list("All synced", 1)  # id 53: the connection's list of all synced contacts
    return sim, client, calls


def test_new_contacts_are_imported_read_back_and_created(setup) -> None:
    sim, client, calls = setup
    items = [item(n, lists=(50, 51) if n % 2 else (50,)) for n in range(10)] + [item(99, lists=())]
    outcomes = writer(client).write(items)
    assert {o.outcome for o in outcomes.values()} == {"created"}
    assert all(not o.warnings and o.confirmed for o in outcomes.values())
    assert sim.contact_by_email("p1@example.org")["listIds"] == [50, 51, 53]
    assert sim.contact_by_email("p99@example.org")["listIds"] == [53]  # on no mapped list: one list, no call
    assert calls.count("POST /contacts/import") == 3  # one per set of lists
    assert calls.count("GET /contacts?") == 1 and calls.count("GET /contacts/attributes") == 1
    assert calls.count("POST /contacts/batch") == 0 and calls.count("POST /contacts") == 3


def test_known_contacts_are_updated_and_values_brevo_drops_are_named(setup) -> None:
    sim, client, calls = setup
    client.create_contact({"email": "taken@example.org", "attributes": {"SMS": "+15555550100"}})
    client.create_contact({"email": "p1@example.org", "attributes": {"FIRSTNAME": "Old"}})
    items = [
        item(1, known=True, OPT_IN="maybe"),
        item(2, SMS="+15555550100"),
        item(3, NO_SUCH_ATTRIBUTE="x"),
    ]
    outcomes = writer(client).write(items)
    assert outcomes["1"].outcome == "updated" and sim.contact_by_email("p1@example.org")["attributes"] == {
        "FIRSTNAME": "P1"
    }
    assert [w["field"] for w in outcomes["1"].warnings] == ["OPT_IN"]
    assert "boolean" in outcomes["1"].warnings[0]["reason"]
    assert outcomes["2"].outcome == "created" and [w["field"] for w in outcomes["2"].warnings] == ["SMS"]
    assert "another Brevo contact" in outcomes["2"].warnings[0]["reason"]
    assert outcomes["3"].warnings[0]["reason"].startswith("Brevo has no attribute NO_SUCH_ATTRIBUTE")
    assert calls.count("POST /contacts/batch") == 0


def test_category_values_use_the_real_option_or_are_left_out_with_a_warning(setup) -> None:
    sim, client, _ = setup
    items = [item(1, LANGUAGE="French"), item(2, LANGUAGE="fr"), item(3, LANGUAGE="Klingon")]
    outcomes = writer(client).write(items)
    assert sim.contact_by_email("p1@example.org")["attributes"]["LANGUAGE"] == "fr"
    assert sim.contact_by_email("p2@example.org")["attributes"]["LANGUAGE"] == "fr"
    assert not outcomes["1"].warnings and not outcomes["2"].warnings
    assert outcomes["3"].outcome == "created"
    assert "no option of Brevo attribute LANGUAGE matches 'Klingon'" in outcomes["3"].warnings[0]["reason"]


def test_what_an_import_cannot_express_is_done_for_exactly_those_contacts(setup) -> None:
    sim, client, calls = setup
    client.create_contact({"email": "p1@example.org", "listIds": [51, 52]})
    client.create_contact({"email": "p2@example.org", "listIds": [51]})
    leaving = item(1, lists=(50,), known=True)
    leaving.body["unlinkListIds"] = [51]
    blocked = item(2, lists=(), known=True)
    blocked.body["emailBlacklisted"] = True
    blocked.body["unlinkListIds"] = [51]
    outcomes = writer(client).write([leaving, blocked, item(3)])
    assert {o.outcome for o in outcomes.values()} == {"updated", "created"}
    assert sim.contact_by_email("p1@example.org")["listIds"] == [50, 52, 53]
    two = sim.contact_by_email("p2@example.org")
    assert two["emailBlacklisted"] is True and two["listIds"] == [53]
    assert calls.count("POST /contacts/lists/51/contacts/remove") == 1  # both contacts in one call
    assert calls.count("PUT /contacts/") == 0  # the blocklist rode on its own import


def test_second_lists_are_added_in_bulk_when_that_is_cheaper(setup) -> None:
    sim, client, calls = setup
    combos = [(50, 51), (50, 52), (50, 51, 52), (50,)]
    items = [item(n, lists=combos[n % 4]) for n in range(40)]
    outcomes = writer(client).write(items)
    assert {o.outcome for o in outcomes.values()} == {"created"}
    assert calls.count("POST /contacts/import") == 1
    assert calls.count("POST /contacts/lists/51/contacts/add") == 1
    assert calls.count("POST /contacts/lists/52/contacts/add") == 1
    for n, combo in enumerate(combos * 10):
        assert sim.contact_by_email(f"p{n}@example.org")["listIds"] == sorted({*combo, 53})


@pytest.mark.parametrize("failure", ["failed", "cancelled"])
def test_a_failed_or_cancelled_import_fails_its_rows_with_that_reason(failure) -> None:
    sim, client, _ = brevo(import_failure=failure)
    outcomes = writer(client, home=None).write([item(n) for n in range(3)])
    assert {o.outcome for o in outcomes.values()} == {"failed"}
    assert outcomes["0"].code == f"brevo_import_{failure}" and f"ended '{failure}'" in outcomes["0"].message
    assert sim.counts()["contacts"] == 0


def test_an_import_brevo_refuses_fails_its_rows_without_a_call_per_row(setup) -> None:
    _, client, calls = setup
    outcomes = writer(client).write([item(n, lists=(50, 777)) for n in range(8)])
    assert {o.outcome for o in outcomes.values()} == {"failed"}
    assert "777" in outcomes["0"].message
    assert calls.count("POST /contacts/import") == 1


def test_a_row_the_read_back_does_not_find_fails_with_the_reason(setup) -> None:
    _, client, _ = setup
    bad = PendingContact("9", "not-an-email", {"email": "not-an-email", "attributes": {}, "listIds": [50]})
    outcomes = writer(client).write([bad, item(1), item(2)])
    assert outcomes["9"].outcome == "failed" and outcomes["9"].code == "brevo_import_rejected"
    assert outcomes["1"].outcome == "created"


def test_an_import_brevo_has_not_finished_is_written_but_not_verified() -> None:
    _, client, _ = brevo()
    slow = BrevoSimulator(api_key=KEY, import_queued_seconds=0.0, import_seconds=3600.0)
    app = TestClient(Starlette(routes=[Mount("/v3", routes=slow.routes())]), base_url="http://127.0.0.1/v3")
    client = BrevoClient(
        api_url="http://127.0.0.1/v3", api_key=KEY, transport=app._transport, allow_private=True
    )
    outcomes = writer(client, home=None).write([item(1), item(2), item(3)])
    assert {(o.outcome, o.confirmed) for o in outcomes.values()} == {("created", False)}
    assert "not verified" in outcomes["1"].message


def test_one_or_two_contacts_are_read_back_by_email(setup) -> None:
    _, client, calls = setup
    outcomes = writer(client).write([item(1)])
    assert outcomes["1"].outcome == "created"
    assert calls.count("GET /contacts/p1%40example.org?identifierType=email_id") == 1
    assert calls.count("GET /contacts") == 2  # attributes + that one contact


def test_a_writer_out_of_time_sends_nothing_more_and_hands_what_is_under_way_on(setup) -> None:
    _, client, calls = setup
    stop = {"at": math.inf}
    first = ContactWriter(client, home_list=53, sleep=lambda s: None, until=lambda: stop["at"])
    sent, kept = [item(n, lists=(50, 51)) for n in range(4)], [item(n) for n in range(4, 8)]
    assert first.submit(sent) == []
    stop["at"] = time.monotonic()  # the slice's hard stop has come
    requests = len(calls.calls)
    assert first.submit(kept) == kept
    assert first.settle(wait=True) == []  # neither confirmed nor reported written unverified
    assert len(calls.calls) == requests and first.outcomes == {} and first.pending() == 4

    # The next slice (another process, maybe) takes over what was parked.
    second = writer(client)
    second.resume(pickle.loads(pickle.dumps(first.under_way())))
    assert second.submit(kept) == []
    settled = second.settle(wait=True)
    assert sorted(int(i.source_id) for i in settled) == list(range(8))
    assert {(o.outcome, o.confirmed) for o in second.outcomes.values()} == {("created", True)}
    assert calls.count("POST /contacts/import") == 2


def test_awaiting_imports_of_different_ages_reads_them_back_once(setup) -> None:
    _sim, client, calls = setup
    w = writer(client)
    assert w.submit([item(n) for n in range(3)]) == []
    w.imports[0].at -= 5  # an import sent a while ago, old enough to read back on its own
    assert w.submit([item(n) for n in range(3, 6)]) == []
    settled = w.settle(wait=True, min_age=1.0)
    assert sorted(int(i.source_id) for i in settled) == list(range(6))
    assert {w.outcomes[str(n)].outcome for n in range(6)} == {"created"}
    # The listing after the young import holds the old one's rows too: one read-back, not two.
    assert calls.count("GET /contacts?") == 1
