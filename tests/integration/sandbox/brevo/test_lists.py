"""Brevo simulator folders, lists, membership reports (reference §4) and attributes (§3)."""

from __future__ import annotations

import pytest

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
