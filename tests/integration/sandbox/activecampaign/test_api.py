"""The AC simulator over real loopback HTTP: auth, paging, filters, sideloads, writes, error bodies."""

from __future__ import annotations

import re
import time

import httpx
import pytest

from sandbox.server import SandboxServer

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")


def walk_contacts(ac: httpx.Client, **params: str) -> list[dict]:
    """Keyset walk as the vendor recommends: orders[id]=ASC&id_greater=<last id>."""
    out: list[dict] = []
    last = 0
    while True:
        body = ac.get(
            "/contacts", params={"orders[id]": "ASC", "id_greater": last, "limit": 100, **params}
        ).json()
        rows = body["contacts"]
        out.extend(rows)
        if len(rows) < 100:
            return out
        last = int(rows[-1]["id"])


# -- auth -----------------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {"Api-Token": "wrong"}, {"Api-Token": ""}])
def test_missing_or_unknown_token_is_403_forbidden(sandbox: SandboxServer, headers: dict) -> None:
    r = httpx.get(sandbox.base_url + "/api/3/contacts", headers=headers)
    assert r.status_code == 403
    assert r.json() == {"message": "Forbidden"}


def test_unknown_path_is_a_json_404(ac: httpx.Client) -> None:
    r = ac.get("/nothingHere")
    assert r.status_code == 404 and r.json() == {"message": "Not Found"}


# -- paging and meta ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("limit", "expected"), [(None, 20), ("7", 7), ("100", 100), ("500", 100), ("0", 20), ("x", 20)]
)
def test_limit_default_and_clamp(ac: httpx.Client, limit: str | None, expected: int) -> None:
    params = {} if limit is None else {"limit": limit}
    body = ac.get("/contacts", params=params).json()
    assert len(body["contacts"]) == expected
    assert body["meta"]["page_input"]["limit"] == expected


def test_fields_default_to_100_and_offset_pages(ac: httpx.Client) -> None:
    body = ac.get("/fields").json()
    assert len(body["fields"]) == 12 and body["meta"]["total"] == "12"
    assert {o["field"] for o in body["fieldOptions"]} <= {f["id"] for f in body["fields"]}
    page = ac.get("/fields", params={"limit": 5, "offset": 10}).json()
    assert [f["id"] for f in page["fields"]] == ["11", "12"]
    assert ac.get("/tags", params={"offset": 10_000}).json()["tags"] == []


STRING_TOTAL = [
    "/contacts",
    "/fields",
    "/fieldValues",
    "/lists",
    "/tags",
    "/contactTags",
    "/contactLists",
    "/users",
    "/scores",
    "/dealGroups",
    "/dealStages",
    "/automations",
    "/contactAutomations",
    "/ecomCustomers",
    "/ecomOrders",
    "/webhooks",
    "/connections",
]
INT_TOTAL = ["/deals", "/eventTrackingEvents", "/webhook/events", "/customObjects/schemas"]


@pytest.mark.parametrize("path", STRING_TOTAL)
def test_meta_total_is_a_numeric_string(ac: httpx.Client, path: str) -> None:
    total = ac.get(path).json()["meta"]["total"]
    assert isinstance(total, str) and total.isdigit()


@pytest.mark.parametrize("path", INT_TOTAL)
def test_meta_total_is_an_integer(ac: httpx.Client, path: str) -> None:
    total = ac.get(path).json()["meta"]["total"]
    assert isinstance(total, int) and not isinstance(total, bool)


def test_custom_object_records_meta(ac: httpx.Client) -> None:
    schema = ac.get("/customObjects/schemas").json()["schemas"][0]
    body = ac.get(f"/customObjects/records/{schema['id']}", params={"limit": 3}).json()
    assert body["meta"]["limit"] == 3 and body["meta"]["count"] == len(body["records"]) == 3
    assert isinstance(body["meta"]["total"], int) and body["meta"]["offset"] == 0
    rel = body["records"][0]["relationships"]["primary-contact"][0]
    mine = ac.get(
        f"/customObjects/records/{schema['id']}", params={"filters[relationships.primary-contact][eq]": rel}
    )
    assert all(r["relationships"]["primary-contact"] == [rel] for r in mine.json()["records"])
    one = ac.get(f"/customObjects/records/{schema['id']}/{body['records'][0]['id']}")
    assert one.json()["record"]["id"] == body["records"][0]["id"]
    assert ac.get("/customObjects/records/not-a-schema").json() == {"message": "Not Found"}


# -- contacts ------------------------------------------------------------------------------


def test_keyset_walk_returns_every_contact_once_in_order(ac: httpx.Client) -> None:
    rows = walk_contacts(ac)
    ids = [int(r["id"]) for r in rows]
    assert ids == sorted(ids) == list(range(1, 151))
    first = rows[0]
    assert ISO.match(first["cdate"]) and ISO.match(first["udate"])
    assert all(isinstance(first[k], str) for k in ("id", "sentcnt", "bounced_hard", "deleted", "ip"))
    assert set(first["links"]) >= {"contactTags", "contactLists", "fieldValues", "scoreValues", "deals"}
    assert first["links"]["contactTags"].endswith(f"/api/3/contacts/{first['id']}/contactTags")


def test_offset_paging_matches_keyset(ac: httpx.Client) -> None:
    body = ac.get("/contacts", params={"limit": 30, "offset": 60}).json()
    assert [int(c["id"]) for c in body["contacts"]] == list(range(61, 91))
    assert body["meta"]["total"] == "150"
    total = ac.get("/contacts", params={"id_greater": 140}).json()["meta"]["total"]
    assert total == "10"


def test_contacts_list_sideloads_score_values_of_the_page(ac: httpx.Client) -> None:
    body = ac.get("/contacts", params={"limit": 10}).json()
    ids = {c["id"] for c in body["contacts"]}
    assert body["scoreValues"], "generated contacts carry score values"
    assert {s["contact"] for s in body["scoreValues"]} <= ids
    for c in body["contacts"]:
        assert set(c["scoreValues"]) == {s["id"] for s in body["scoreValues"] if s["contact"] == c["id"]}


def test_include_sideloads_relations(ac: httpx.Client) -> None:
    body = ac.get(
        "/contacts", params={"limit": 15, "include": "contactLists.list,contactTags,fieldValues"}
    ).json()
    for kind in ("contactLists", "contactTags", "fieldValues", "lists"):
        assert kind in body
    for c in body["contacts"]:
        assert set(c["contactTags"]) == {t["id"] for t in body["contactTags"] if t["contact"] == c["id"]}
    assert {lst["id"] for lst in body["lists"]} == {m["list"] for m in body["contactLists"]}


def test_email_filter_is_exact_and_case_insensitive(ac: httpx.Client) -> None:
    target = next(c for c in walk_contacts(ac) if c["email"] and "@@" not in c["email"])
    body = ac.get("/contacts", params={"email": target["email"].upper()}).json()
    assert target["id"] in [c["id"] for c in body["contacts"]]
    assert all(c["email"].lower() == target["email"].lower() for c in body["contacts"])
    assert ac.get("/contacts", params={"email": "nobody@nowhere.example"}).json()["meta"]["total"] == "0"
    like = ac.get("/contacts", params={"email_like": "example.net", "limit": 100}).json()
    assert like["contacts"] and all("example.net" in c["email"].lower() for c in like["contacts"])


def test_list_status_and_tag_filters_agree_with_membership_rows(ac: httpx.Client) -> None:
    members = ac.get(
        "/contactLists", params={"filters[list]": "2", "filters[status]": "1", "limit": 100}
    ).json()
    expected = sorted({int(m["contact"]) for m in members["contactLists"]})
    got = [int(c["id"]) for c in walk_contacts(ac, listid="2", status="1")]
    assert got == expected and expected
    tagged = ac.get("/contactTags", params={"limit": 100}).json()["contactTags"]
    tag_members = sorted({int(t["contact"]) for t in tagged if t["tag"] == "1"})
    assert tag_members  # first 100 links include tag 1
    got_tag = [int(c["id"]) for c in walk_contacts(ac, tagid="1")]
    assert set(tag_members) <= set(got_tag)


def test_date_filters_accept_dates_and_iso_datetimes(ac: httpx.Client) -> None:
    everyone = walk_contacts(ac)
    cut = sorted(c["udate"] for c in everyone)[100]
    by_iso = walk_contacts(ac, **{"filters[updated_after]": cut})
    assert {c["id"] for c in by_iso} == {c["id"] for c in everyone if c["udate"] >= cut}
    day = cut[:10]
    by_day = walk_contacts(ac, **{"filters[updated_after]": day})
    assert {c["id"] for c in by_day} == {c["id"] for c in everyone if c["udate"][:10] >= day}
    created = walk_contacts(ac, **{"filters[created_before]": everyone[50]["cdate"]})
    assert [c["id"] for c in created] == [c["id"] for c in everyone[:50]]
    bad = ac.get("/contacts", params={"filters[updated_after]": "last tuesday"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["code"] == "field_invalid"


def test_orders_and_ids_filter(ac: httpx.Client) -> None:
    desc = ac.get("/contacts", params={"orders[id]": "DESC", "limit": 3}).json()["contacts"]
    assert [c["id"] for c in desc] == ["150", "149", "148"]
    by_email = ac.get("/contacts", params={"orders[email]": "ASC", "limit": 100}).json()["contacts"]
    emails = [c["email"].lower() for c in by_email]
    assert emails == sorted(emails)
    picked = ac.get("/contacts", params=[("ids[]", "5"), ("ids[]", "9"), ("ids[]", "400")]).json()
    assert [c["id"] for c in picked["contacts"]] == ["5", "9"]
    assert ac.get("/contacts", params={"orders[id]": "SIDEWAYS"}).status_code == 422


def test_single_contact_sideloads_and_subcollections(ac: httpx.Client) -> None:
    body = ac.get("/contacts/3").json()
    contact = body["contact"]
    for kind in ("fieldValues", "contactLists", "deals", "contactAutomations", "geoIps", "accountContacts"):
        assert isinstance(contact[kind], list)
    for kind in ("fieldValues", "contactLists", "deals", "contactAutomations"):
        assert [r["id"] for r in body[kind]] == contact[kind]
    assert "contactTags" not in body  # not a default sideload: fetch /contacts/{id}/contactTags
    tags = ac.get("/contacts/3/contactTags").json()
    assert set(tags) == {"contactTags"} and all(t["contact"] == "3" for t in tags["contactTags"])
    for sub in ("contactLists", "fieldValues", "scoreValues", "contactAutomations", "trackingLogs"):
        rows = ac.get(f"/contacts/3/{sub}").json()[sub]
        assert all(r["contact"] == "3" for r in rows)
    missing = ac.get("/contacts/9999")
    assert missing.status_code == 404
    assert missing.json() == {"message": "No Result found for Subscriber with id 9999"}


# -- writes ----------------------------------------------------------------------------------


def test_contact_write_cycle(ac: httpx.Client) -> None:
    created = ac.post(
        "/contacts",
        json={
            "contact": {
                "email": "write.cycle@example.org",
                "firstName": "Wri",
                "fieldValues": [{"field": "1", "value": "Cycle Co"}],
            }
        },
    )
    assert created.status_code == 201
    body = created.json()
    cid = body["contact"]["id"]
    assert body["fieldValues"][0]["value"] == "Cycle Co" and body["contact"]["fieldValues"] == [
        body["fieldValues"][0]["id"]
    ]
    dup = ac.post("/contacts", json={"contact": {"email": "WRITE.CYCLE@example.org"}})
    assert dup.status_code == 422
    assert dup.json() == {
        "errors": [
            {
                "title": "Email address already exists in the system",
                "detail": "",
                "code": "duplicate",
                "source": {"pointer": "/data/attributes/email"},
            }
        ]
    }
    synced = ac.post(
        "/contact/sync", json={"contact": {"email": "write.cycle@example.org", "lastName": "Synced"}}
    )
    assert synced.status_code == 200 and synced.json()["contact"]["id"] == cid
    assert synced.json()["contact"]["orgid"] == ""
    fresh = ac.post("/contact/sync", json={"contact": {"email": "sync.new@example.org"}})
    assert fresh.status_code == 201
    put = ac.put(f"/contacts/{cid}", json={"contact": {"phone": "+15125550100"}})
    assert put.status_code == 200 and put.json()["contact"]["phone"] == "+15125550100"
    assert ac.delete(f"/contacts/{cid}").json() == {}
    again = ac.delete(f"/contacts/{cid}")
    assert again.status_code == 404 and again.json() == {
        "message": f"No result found for contact with id {cid}"
    }
    missing = ac.post("/contacts", json={"contact": {"firstName": "No email"}})
    assert missing.status_code == 422 and missing.json()["errors"][0]["code"] == "field_missing"
    unwrapped = ac.post("/contacts", json={"email": "x@example.org"})
    assert unwrapped.json()["errors"][0] == {
        "status": 422,
        "title": "Missing attribute",
        "source": {"pointer": "/data/attributes/contact"},
    }
    broken = ac.post("/contacts", content=b"{nope", headers={"Content-Type": "application/json"})
    assert broken.status_code == 400


def test_tags_lists_and_field_values(ac: httpx.Client) -> None:
    link = ac.post("/contactTags", json={"contactTag": {"contact": "4", "tag": "7"}})
    assert link.status_code == 201
    link_id = link.json()["contactTag"]["id"]
    assert any(t["id"] == link_id for t in ac.get("/contacts/4/contactTags").json()["contactTags"])
    assert ac.delete(f"/contactTags/{link_id}").json() == {}
    gone = ac.delete(f"/contactTags/{link_id}")
    assert gone.status_code == 404 and gone.json() == {
        "message": f"No Result found for SubscriberTag with id {link_id}"
    }
    no_contact = ac.post("/contactTags", json={"contactTag": {"contact": "99999", "tag": "1"}})
    assert no_contact.status_code == 404
    assert no_contact.json() == {
        "errors": [{"status": 404, "title": "Not Found", "detail": "Contact not found"}]
    }

    sub = ac.post("/contactLists", json={"contactList": {"list": 3, "contact": 4, "status": 1}})
    assert sub.status_code == 200 and sub.json()["contactList"]["status"] == 1
    assert sub.json()["contacts"][0]["id"] == "4"
    unsub = ac.post("/contactLists", json={"contactList": {"list": 3, "contact": 4, "status": 2}}).json()
    assert unsub["contactList"]["status"] == 2
    stays_out = ac.post("/contactLists", json={"contactList": {"list": 3, "contact": 4, "status": 1}}).json()
    assert stays_out["contactList"]["status"] == 2  # re-subscribing needs sourceid 4
    back = ac.post(
        "/contactLists", json={"contactList": {"list": 3, "contact": 4, "status": 1, "sourceid": 4}}
    )
    assert back.json()["contactList"]["status"] == 1

    fv = ac.post(
        "/fieldValues",
        json={"fieldValue": {"contact": 4, "field": 4, "value": "Lisbon"}, "useDefaults": False},
    )
    assert fv.status_code == 200 and fv.json()["fieldValue"]["value"] == "Lisbon"
    assert ac.get("/fieldValues", params={"filters[fieldid]": "4", "filters[val]": "Lisbon"}).json()[
        "fieldValues"
    ]
    hidden = ac.get("/fieldValues/999999")
    assert hidden.status_code == 403
    assert hidden.json() == {"message": "No Result found for FieldValue with id 999999"}


def test_deals_list_filters_and_writes(ac: httpx.Client) -> None:
    body = ac.get("/deals", params={"limit": 100}).json()
    deals = body["deals"]
    assert isinstance(body["meta"]["total"], int) and body["meta"]["total"] == len(deals)
    assert all(d["value"].isdigit() and d["currency"] == d["currency"].lower() for d in deals)
    usd = body["meta"]["currencies"]["USD"]
    assert usd["currency"] == "USD" and isinstance(usd["total"], str)
    assert int(usd["value"]) == sum(int(d["value"]) for d in deals if d["currency"] == "usd")
    in_stage = ac.get("/deals", params={"filters[stage]": "2", "limit": 100}).json()["deals"]
    assert in_stage and all(d["stage"] == "2" for d in in_stage)
    by_cdate = ac.get("/deals", params={"orders[cdate]": "ASC", "limit": 100}).json()["deals"]
    assert [d["cdate"] for d in by_cdate] == sorted(d["cdate"] for d in by_cdate)
    cents = ac.get("/deals", params={"filters[minimum_value]": "2500", "limit": 100}).json()["deals"]
    assert all(int(d["value"]) >= 250000 for d in cents)

    created = ac.post(
        "/deals",
        json={
            "deal": {
                "title": "Test deal",
                "contact": "5",
                "value": 45600,
                "currency": "usd",
                "group": "1",
                "owner": "2",
            }
        },
    )
    assert created.status_code == 201
    deal = created.json()["deal"]
    assert deal["value"] == 45600 and deal["stage"] == "1"  # first stage of the pipeline
    assert created.json()["contacts"][0]["id"] == "5" and created.json()["dealStages"][0]["id"] == "1"
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() - 60))
    recent = ac.get("/deals", params={"filters[updated_after]": stamp}).json()
    assert [d["id"] for d in recent["deals"]] == [deal["id"]] and recent["meta"]["total"] == 1
    moved = ac.put(f"/deals/{deal['id']}", json={"deal": {"stage": "3", "status": 1}})
    assert moved.json()["deal"]["stage"] == "3"
    assert ac.get(f"/deals/{deal['id']}").json()["deal"]["stage"] == "3"
    bad = ac.post("/deals", json={"deal": {"title": "x", "contact": "5"}})
    assert bad.status_code == 422 and bad.json()["errors"][0]["code"] == "field_missing"
    assert ac.delete(f"/deals/{deal['id']}").json() == {}
    assert ac.get(f"/deals/{deal['id']}").json() == {
        "message": f"No Result found for Deal with id {deal['id']}"
    }


def test_pipelines_stages_users(ac: httpx.Client) -> None:
    groups = ac.get("/dealGroups").json()
    titles = {g["title"]: g for g in groups["dealGroups"]}
    assert set(titles) == {"Sales", "Renewals"}
    stage_titles = {s["id"]: s["title"] for s in groups["dealStages"]}
    assert [stage_titles[s] for s in titles["Sales"]["stages"]] == ["Qualified", "Proposal", "Won"]
    renewals = ac.get("/dealStages", params={"filters[d_groupid]": titles["Renewals"]["id"]}).json()[
        "dealStages"
    ]
    assert renewals and all(s["group"] == titles["Renewals"]["id"] for s in renewals)
    assert ac.get("/users/me").json()["user"]["username"] == "admin"
    assert {s["name"] for s in ac.get("/scores").json()["scores"]} >= {"Lead score", "Engagement"}


def test_webhook_subscriptions(ac: httpx.Client) -> None:
    body = {
        "webhook": {
            "name": "tajo",
            "url": "https://hooks.example.org/ac?token=abc",
            "events": ["subscribe", "update"],
            "sources": ["public", "admin", "api", "system"],
        }
    }
    created = ac.post("/webhooks", json=body)
    assert created.status_code == 201
    hook = created.json()["webhook"]
    assert hook["listid"] == "0" and hook["links"] == []
    assert [h["id"] for h in ac.get("/webhooks").json()["webhooks"]] == [hook["id"]]
    bad_port = ac.post(
        "/webhooks", json={"webhook": {**body["webhook"], "url": "https://hooks.example.org:8443/x"}}
    )
    assert bad_port.status_code == 422
    bad_event = ac.post("/webhooks", json={"webhook": {**body["webhook"], "events": ["contact_deleted"]}})
    assert bad_event.status_code == 422
    assert ac.delete(f"/webhooks/{hook['id']}").json() == {}
    assert ac.get("/webhooks").json()["webhooks"] == []
    events = ac.get("/webhook/events").json()
    assert len(events["webhookEvents"]) == 25 and events["meta"]["total"] == 25


def test_stats_count_requests_per_template(
    sandbox: SandboxServer, ac: httpx.Client, control: httpx.Client
) -> None:
    control.post("/reset-stats")
    ac.get("/contacts/1")
    ac.get("/contacts/2")
    ac.get("/contacts/2/contactTags")
    httpx.get(sandbox.base_url + "/api/3/contacts/3")  # no token
    stats = control.get("/stats").json()
    assert stats["requests"]["GET /api/3/contacts/{id}"] == {"count": 3, "200": 2, "403": 1}
    assert stats["requests"]["GET /api/3/contacts/{id}/contactTags"]["count"] == 1
    assert stats["ac"]["contacts"] >= 150 and "contacts" in stats["brevo"]
    log = control.get("/requests", params={"api": "ac"}).json()
    assert [e["path"] for e in log["requests"]][:2] == ["/api/3/contacts/{id}", "/api/3/contacts/{id}"]
    assert all(e["t"] <= log["now"] for e in log["requests"])
    later = control.get("/requests", params={"since": log["now"]}).json()["requests"]
    assert all(e["t"] > log["now"] for e in later)
