"""``/_sandbox`` controls: changing AC data the way the AC UI would, and reading Brevo back."""

from __future__ import annotations

import time

import httpx
import pytest

from sandbox.server import SandboxServer


def recent_stamp() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() - 60))


def test_changing_a_contact_moves_udate_and_shows_in_incremental_reads(
    sandbox: SandboxServer, ac: httpx.Client, control: httpx.Client
) -> None:
    events: list[tuple[str, dict]] = []

    def hook(event: str, payload: dict) -> None:
        events.append((event, payload))

    sandbox.ac.on_change.append(hook)
    try:
        before = ac.get("/contacts/20").json()["contact"]
        changed = control.post(
            "/ac/contacts/20", json={"firstName": "Renée", "fields": {"company": "Renamed Ltd"}}
        )
        assert changed.status_code == 200
        snap = changed.json()
        assert snap["contact"]["firstName"] == "Renée"
        assert snap["contact"]["udate"] > before["udate"]
        assert any(fv["field"] == "1" and fv["value"] == "Renamed Ltd" for fv in snap["fieldValues"])
        recent = ac.get("/contacts", params={"filters[updated_after]": recent_stamp()}).json()
        assert "20" in [c["id"] for c in recent["contacts"]]
        assert events[-1][0] == "update"
        payload = events[-1][1]
        assert payload["initiated_from"] == "admin" and payload["contact"]["id"] == "20"
        assert payload["contact"]["fields"]["1"] == "Renamed Ltd"
    finally:
        sandbox.ac.on_change.remove(hook)


def test_tags_lists_deals_and_new_contacts(
    sandbox: SandboxServer, ac: httpx.Client, control: httpx.Client
) -> None:
    events: list[str] = []

    def hook(event: str, payload: dict) -> None:
        events.append(event)

    sandbox.ac.on_change.append(hook)
    try:
        tagged = control.post("/ac/contacts/21/tags", json={"tag": "vip"}).json()
        assert "vip" in tagged["tags"]
        fresh_tag = control.post("/ac/contacts/21/tags", json={"tag": "brand-new-tag"}).json()
        assert "brand-new-tag" in fresh_tag["tags"]
        assert any(t["tag"] == "brand-new-tag" for t in ac.get("/tags", params={"limit": 100}).json()["tags"])
        untagged = control.delete("/ac/contacts/21/tags/vip").json()
        assert "vip" not in untagged["tags"]
        assert control.delete("/ac/contacts/21/tags/vip").status_code == 404

        unsub = control.post("/ac/contacts/21/lists", json={"list": "Newsletter", "status": 2}).json()
        assert any(m["list"] == "2" and m["status"] == "2" for m in unsub["contactLists"])
        resub = control.post("/ac/contacts/21/lists", json={"list": "2", "status": 1}).json()
        assert any(m["list"] == "2" and m["status"] == "1" for m in resub["contactLists"])
        assert control.post("/ac/contacts/21/lists", json={"list": "Nope", "status": 1}).status_code == 404

        deal = control.post(
            "/ac/deals", json={"title": "Control deal", "contact": "21", "group": "1"}
        ).json()["deal"]
        moved = control.post(f"/ac/deals/{deal['id']}", json={"stage": "3", "value": 990000}).json()["deal"]
        assert moved["stage"] == "3" and moved["value"] == "990000"
        assert ac.get(f"/deals/{deal['id']}").json()["deal"]["value"] == "990000"

        made = control.post(
            "/ac/contacts",
            json={
                "email": "made.here@example.org",
                "firstName": "Made",
                "fields": {"PLAN_TIER": "Pro"},
                "tags": ["trial"],
                "lists": ["Main List"],
            },
        )
        assert made.status_code == 201
        cid = made.json()["contact"]["id"]
        body = ac.get(f"/contacts/{cid}").json()
        assert body["contact"]["email"] == "made.here@example.org"
        assert [fv["value"] for fv in body["fieldValues"]] == ["Pro"]
        assert [m["list"] for m in body["contactLists"]] == ["1"]
        assert control.delete(f"/ac/contacts/{cid}").json() == {}
        assert ac.get(f"/contacts/{cid}").status_code == 404

        touched = control.post("/ac/contacts/22/touch").json()
        assert touched["contact"]["udate"] > "2025-06"
        new_list = control.post("/ac/lists", json={"name": "Spring promo"})
        assert new_list.status_code == 201
        assert "Spring promo" in [li["name"] for li in ac.get("/lists").json()["lists"]]
        assert events == [
            "contact_tag_added",
            "contact_tag_added",
            "contact_tag_removed",
            "unsubscribe",
            "subscribe",
            "deal_add",
            "deal_update",
            "subscribe",
            "contact_tag_added",
            "subscribe",
            "update",
            "list_add",
        ]
    finally:
        sandbox.ac.on_change.remove(hook)


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("post", "/ac/contacts/9999", {"firstName": "x"}, 404),
        ("post", "/ac/contacts/23", {"fields": {"no_such_field": "x"}}, 422),
        ("post", "/ac/contacts/23/lists", {"list": "1", "status": 7}, 422),
        ("post", "/ac/contacts/23/tags", {}, 422),
        ("post", "/ac/lists", {"name": ""}, 422),
    ],
)
def test_control_errors(control: httpx.Client, method: str, path: str, body: dict, status: int) -> None:
    assert getattr(control, method)(path, json=body).status_code == status


def test_brevo_contact_lookup(sandbox: SandboxServer, control: httpx.Client) -> None:
    assert control.get("/brevo/contacts", params={"email": "ghost@example.org"}).status_code == 404
    with httpx.Client(base_url=sandbox.brevo_api_url, headers={"api-key": sandbox.brevo_key}) as brevo:
        created = brevo.post(
            "/contacts", json={"email": "Seen.In.Brevo@example.org", "attributes": {"FIRSTNAME": "Seen"}}
        )
        assert created.status_code == 201
    found = control.get("/brevo/contacts", params={"email": "seen.in.brevo@example.org"})
    assert found.status_code == 200
    assert found.json()["attributes"]["FIRSTNAME"] == "Seen"
    assert control.get("/stats").json()["brevo"]["contacts"] >= 1
