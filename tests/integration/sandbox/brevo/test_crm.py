"""Brevo simulator CRM deals: lifecycle, validation, route errors and attributes (reference §6)."""

from __future__ import annotations

import pytest

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
