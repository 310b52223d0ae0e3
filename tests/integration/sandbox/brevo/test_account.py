"""The Brevo simulator's account and its state under concurrent writers and readers."""

from __future__ import annotations

import threading

from tests.integration.sandbox.brevo.helpers import make


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
