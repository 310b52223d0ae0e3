"""The sandbox's webhook sender over real HTTP: which subscriptions hear which change, the body it
posts (parsed by Tajo's own parser), 410 deactivation, duplicates and chosen delivery orders."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from connectors.webhooks.parsing import AutomationContactAdded, ContactUpdated, TagAdded, parse_webhook
from sandbox.activecampaign.state import ACState
from sandbox.activecampaign.webhooks import WebhookSender, automation_enrol, form_pairs
from sandbox.config import SandboxConfig
from sandbox.server import SandboxServer


class Receiver:
    """A tiny HTTP server that records every POST body and answers a chosen status."""

    def __init__(self) -> None:
        self.bodies: list[tuple[str, bytes]] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                receiver.bodies.append((self.path, self.rfile.read(length)))
                assert self.headers["Content-Type"] == "application/x-www-form-urlencoded"
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self, path: str | None = None) -> list:
        return [parse_webhook(body).event for p, body in self.bodies if path is None or p == path]


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.server.shutdown()


@pytest.fixture
def state_and_sender():
    state = ACState(seed=4, contacts=10)
    sender = WebhookSender(state, seed=4)
    yield state, sender
    sender.close()


def subscribe(
    state: ACState, url: str, events: list[str], sources=("public", "admin", "api", "system"), listid=0
):
    return state.create_webhook(
        {"webhook": {"name": "t", "url": url, "events": events, "sources": list(sources), "listid": listid}}
    )


def test_form_pairs_flatten_like_ac() -> None:
    pairs = form_pairs(
        "update", {"date_time": "x", "contact": {"id": "3", "fields": {"27": "a"}}, "list": "0"}
    )
    assert pairs == [
        ("type", "update"),
        ("date_time", "x"),
        ("contact[id]", "3"),
        ("contact[fields][27]", "a"),
        ("list", "0"),
    ]


def test_matching_events_sources_and_lists(state_and_sender, receiver) -> None:
    state, sender = state_and_sender
    subscribe(state, receiver.url + "/all", ["update", "contact_tag_added", "subscribe"])
    subscribe(state, receiver.url + "/api-only", ["update"], sources=["api"])
    subscribe(state, receiver.url + "/list-2", ["subscribe"], listid=2)
    state.update_contact(3, {"contact": {"firstName": "Changed"}}, source="admin")
    state.add_contact_tag({"contactTag": {"contact": 3, "tag": "1"}}, source="api")
    state.set_list_status({"contactList": {"contact": 3, "list": "1", "status": 1}}, source="admin")
    state.set_list_status({"contactList": {"contact": 4, "list": "2", "status": 1}}, source="admin")
    assert sender.flush(10)

    everything = receiver.events("/all")
    assert [type(e).__name__ for e in everything] == [
        "ContactUpdated",
        "TagAdded",
        "ContactAdded",
        "ContactAdded",
    ]
    update = everything[0]
    assert (
        isinstance(update, ContactUpdated)
        and update.contact.id == 3
        and update.contact.first_name == "Changed"
    )
    assert update.initiated_from == "admin" and update.date_time is not None and update.date_time.tzinfo
    tag = everything[1]
    assert isinstance(tag, TagAdded) and tag.tag == state.tags["1"]["tag"] and tag.initiated_from == "api"
    assert receiver.events("/api-only") == []  # the update came from the admin, not the API
    assert [(e.contact.id, e.list_id) for e in receiver.events("/list-2")] == [(4, 2)]


def test_a_410_deactivates_the_subscription(state_and_sender, receiver) -> None:
    state, sender = state_and_sender
    hook = subscribe(state, receiver.url, ["update"])
    receiver.status = 410
    state.touch_contact(2)
    assert sender.flush(10)
    assert state.webhooks[hook["id"]]["state"] == "inactive"
    receiver.status = 200
    state.touch_contact(2)
    assert sender.flush(10)
    assert len(receiver.bodies) == 1  # nothing more once inactive, and never retried


def test_duplicates_and_reverse_order(state_and_sender, receiver) -> None:
    state, sender = state_and_sender
    subscribe(state, receiver.url, ["update"])
    sender.configure(duplicates=1.0)
    state.update_contact(5, {"contact": {"firstName": "One"}})
    assert sender.flush(10)
    assert len(receiver.bodies) == 2 and receiver.bodies[0] == receiver.bodies[1]

    receiver.bodies.clear()
    sender.configure(duplicates=0.0)
    sender.hold()
    for name in ("A", "B", "C"):
        state.update_contact(5, {"contact": {"firstName": name}})
    assert not sender.flush(0.2)  # held
    assert receiver.bodies == []
    assert sender.release(order="reverse") == 3
    assert sender.flush(10)
    assert [e.contact.first_name for e in receiver.events()] == ["C", "B", "A"]


def test_reorder_window_shuffles_but_delivers_everything(state_and_sender, receiver) -> None:
    state, sender = state_and_sender
    subscribe(state, receiver.url, ["update"])
    sender.configure(reorder_window=5)
    names = [f"N{i}" for i in range(10)]
    for name in names:
        state.update_contact(6, {"contact": {"firstName": name}})
    assert sender.flush(10)
    got = [e.contact.first_name for e in receiver.events()]
    assert sorted(got) == sorted(names) and got != names


def test_automation_events_go_to_automation_urls(state_and_sender, receiver) -> None:
    state, sender = state_and_sender
    sender.configure(automation_urls=[receiver.url + "/auto"])
    automation_enrol(state, 2, "1")
    automation_enrol(state, 2, "Welcome series", complete=True)
    assert sender.flush(10)
    added, completed = receiver.events("/auto")
    assert isinstance(added, AutomationContactAdded) and added.source_id == "2:1"
    assert completed.type == "automation_contact_complete" and completed.automation.name == "Welcome series"
    rows = [r for r in state.children_of(2, "contactAutomations") if r["automation"] == "1"]
    assert len(rows) == 1 and rows[0]["status"] == "2"


def test_control_routes(receiver) -> None:
    with SandboxServer(SandboxConfig.fast(contacts=3, seed=2)) as sb:
        base = sb.base_url + "/_sandbox"
        created = httpx.post(
            sb.ac_api_url + "/api/3/webhooks",
            headers={"Api-Token": sb.ac_key},
            json={"webhook": {"name": "t", "url": receiver.url, "events": ["update"], "sources": ["admin"]}},
        )
        assert created.status_code == 201
        assert httpx.post(base + "/webhooks/config", json={"duplicates": 2}).status_code == 422
        assert httpx.post(base + "/webhooks/hold").json() == {"held": True}
        httpx.post(base + "/ac/contacts/1", json={"firstName": "X"})
        httpx.post(base + "/ac/contacts/1", json={"firstName": "Y"})
        assert httpx.get(base + "/webhooks").json()["pending"] == 2
        assert httpx.post(
            base + "/webhooks/release", json={"order": "reverse", "duplicate": True}
        ).json() == {"released": 4}
        assert httpx.post(base + "/webhooks/flush", json={"timeout": 10}).json() == {"ok": True, "pending": 0}
        assert [e.contact.first_name for e in receiver.events()] == ["Y", "Y", "X", "X"]
        shown = httpx.get(base + "/webhooks").json()["deliveries"]
        assert [d["status"] for d in shown] == [200] * 4 and [d["duplicate"] for d in shown] == [
            False,
            True,
        ] * 2
        enrol = httpx.post(base + "/ac/contacts/1/automations", json={"automation": "nope"})
        assert enrol.status_code == 404
