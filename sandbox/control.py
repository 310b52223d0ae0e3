"""``/_sandbox/*``: read what happened and change AC data the way a user in the AC UI would.

Changes made here go through the same `ACState` methods as the API, with
``source="admin"``, so udate moves and the `on_change` hooks fire exactly as
for a change made in ActiveCampaign itself.

Routes (JSON in and out):

* ``GET  /_sandbox/health``
* ``GET  /_sandbox/stats`` and ``POST /_sandbox/reset-stats``
* ``GET  /_sandbox/requests?since=<monotonic>&api=ac|brevo&limit=N``
* ``GET  /_sandbox/brevo/contacts?email=...`` (404 if Brevo has no such contact)
* ``GET  /_sandbox/ac/contacts/{id}``: the contact with its tags, lists, field values and deals
* ``POST /_sandbox/ac/contacts``: create
  ``{"email", "firstName", "lastName", "phone", "fields", "tags", "lists"}``
* ``POST /_sandbox/ac/contacts/{id}``: change ``{"email"?, "firstName"?, "lastName"?, "phone"?,
  "fields": {<field id | name | perstag>: value}}`` (bumps udate)
* ``DELETE /_sandbox/ac/contacts/{id}``
* ``POST /_sandbox/ac/contacts/{id}/touch``: bump udate only
* ``POST /_sandbox/ac/contacts/{id}/tags`` ``{"tag": <id | name>}`` (unknown names are created)
* ``DELETE /_sandbox/ac/contacts/{id}/tags/{tag}``
* ``POST /_sandbox/ac/contacts/{id}/lists`` ``{"list": <id | name>, "status": 1 | 2}``
* ``POST /_sandbox/ac/deals`` (AC deal body) and ``POST /_sandbox/ac/deals/{id}`` (fields to change)
* ``POST /_sandbox/ac/lists`` ``{"name": ...}``
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.activecampaign.api.responses import JSONBody
from sandbox.activecampaign.errors import ACError, not_found
from sandbox.activecampaign.generator.catalog import FIELD_NAMES

if TYPE_CHECKING:
    from sandbox.instance import Sandbox


async def json_object(request: Request) -> dict[str, Any]:
    """The request's JSON object (empty body: {}); an AC-style 400 for anything else."""
    raw = await request.body()
    try:
        data = orjson.loads(raw or b"{}")
    except orjson.JSONDecodeError:
        raise ACError(400, {"message": "Malformed JSON body"}) from None
    if not isinstance(data, dict):
        raise ACError(400, {"message": "Expected a JSON object"})
    return data


def control_routes(sandbox: Sandbox) -> list[Route]:
    c = Control(sandbox)
    return [
        Route("/_sandbox/health", c.health, methods=["GET"]),
        Route("/_sandbox/stats", c.stats, methods=["GET"]),
        Route("/_sandbox/reset-stats", c.reset_stats, methods=["POST"]),
        Route("/_sandbox/requests", c.requests, methods=["GET"]),
        Route("/_sandbox/brevo/contacts", c.brevo_contact, methods=["GET"]),
        Route("/_sandbox/ac/contacts", c.wrap(c.contact_create), methods=["POST"]),
        Route("/_sandbox/ac/contacts/{id:int}", c.wrap(c.contact_get), methods=["GET"]),
        Route("/_sandbox/ac/contacts/{id:int}", c.wrap(c.contact_change), methods=["POST"]),
        Route("/_sandbox/ac/contacts/{id:int}", c.wrap(c.contact_delete), methods=["DELETE"]),
        Route("/_sandbox/ac/contacts/{id:int}/touch", c.wrap(c.contact_touch), methods=["POST"]),
        Route("/_sandbox/ac/contacts/{id:int}/tags", c.wrap(c.tag_add), methods=["POST"]),
        Route("/_sandbox/ac/contacts/{id:int}/tags/{tag}", c.wrap(c.tag_remove), methods=["DELETE"]),
        Route("/_sandbox/ac/contacts/{id:int}/lists", c.wrap(c.list_set), methods=["POST"]),
        Route("/_sandbox/ac/deals", c.wrap(c.deal_create), methods=["POST"]),
        Route("/_sandbox/ac/deals/{id:int}", c.wrap(c.deal_change), methods=["POST"]),
        Route("/_sandbox/ac/lists", c.wrap(c.list_create), methods=["POST"]),
    ]


class Control:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.ac = sandbox.ac

    @staticmethod
    def wrap(handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            try:
                return await handler(request)
            except ACError as exc:
                return JSONBody(exc.body, status_code=exc.status)

        return endpoint

    # -- observation -------------------------------------------------------

    async def health(self, request: Request) -> Response:
        return JSONBody({"ok": True})

    async def stats(self, request: Request) -> Response:
        sb = self.sandbox
        body: dict[str, Any] = {
            "requests": sb.stats.snapshot(),
            "brevo": sb.brevo.counts(),
            "ac": self.ac.counts(),
            "faults": dict(sb.faults.injected) if sb.faults is not None else {},
            "log": {"size": len(sb.stats.log), "capacity": sb.stats.log.maxlen},
        }
        return JSONBody(body)

    async def reset_stats(self, request: Request) -> Response:
        self.sandbox.stats.reset()
        if self.sandbox.faults is not None:
            self.sandbox.faults.injected.clear()
        return JSONBody({"ok": True})

    async def requests(self, request: Request) -> Response:
        q = request.query_params
        try:
            since = float(q["since"]) if q.get("since") else None
            limit = int(q["limit"]) if q.get("limit") else None
        except ValueError:
            return JSONBody({"message": "since must be a number, limit an integer"}, status_code=400)
        entries = self.sandbox.stats.entries(since=since, api=q.get("api") or None, limit=limit)
        return JSONBody({"now": time.monotonic(), "requests": [e.as_dict() for e in entries]})

    async def brevo_contact(self, request: Request) -> Response:
        email = request.query_params.get("email", "")
        brevo = self.sandbox.brevo
        contact = brevo.contact_by_email(email) if email else None
        if contact is None:
            return JSONBody({"message": "Contact does not exist"}, status_code=404)
        return JSONBody(contact)

    # -- AC changes ----------------------------------------------------------

    def _field_id(self, key: str) -> str:
        ac = self.ac
        if key in ac.fields:
            return key
        if key in FIELD_NAMES:
            return FIELD_NAMES[key]
        for fid, f in ac.fields.items():
            if key.upper() == f["perstag"] or key.lower() == f["title"].lower():
                return fid
        raise ACError(
            422,
            {
                "errors": [
                    {
                        "title": f"Unknown field {key!r}",
                        "detail": "",
                        "code": "related_missing",
                        "source": {"pointer": "/data/attributes/fields"},
                    }
                ]
            },
        )

    def _contact_body(self, data: dict[str, Any]) -> dict[str, Any]:
        contact = {k: data[k] for k in ("email", "firstName", "lastName", "phone") if k in data}
        fields = data.get("fields") or {}
        if not isinstance(fields, dict):
            raise ACError(
                422,
                {
                    "errors": [
                        {
                            "title": "fields must be an object",
                            "detail": "",
                            "code": "field_invalid",
                            "source": {"pointer": "/data/attributes/fields"},
                        }
                    ]
                },
            )
        contact["fieldValues"] = [{"field": self._field_id(str(k)), "value": v} for k, v in fields.items()]
        return {"contact": contact}

    def _snapshot(self, cid: int) -> dict[str, Any]:
        ac = self.ac
        with ac.lock:
            contact = ac.get_contact(cid)
            if contact is None:
                raise not_found("Subscriber", cid)
            return {
                "contact": contact,
                "tags": [
                    ac.tags[t["tag"]]["tag"]
                    for t in ac.children_of(cid, "contactTags")
                    if t["tag"] in ac.tags
                ],
                "contactTags": ac.children_of(cid, "contactTags"),
                "contactLists": ac.children_of(cid, "contactLists"),
                "fieldValues": ac.children_of(cid, "fieldValues"),
                "deals": ac.children_of(cid, "deals"),
                "scoreValues": ac.children_of(cid, "scoreValues"),
            }

    async def contact_get(self, request: Request) -> Response:
        return JSONBody(self._snapshot(request.path_params["id"]))

    async def contact_create(self, request: Request) -> Response:
        data = await json_object(request)
        contact, _fvs = self.ac.create_contact(self._contact_body(data), source="admin")
        cid = int(contact["id"])
        for tag in data.get("tags") or []:
            self._add_tag(cid, str(tag))
        for lst in data.get("lists") or []:
            self._set_list(cid, str(lst), 1)
        return JSONBody(self._snapshot(cid), status_code=201)

    async def contact_change(self, request: Request) -> Response:
        cid = request.path_params["id"]
        data = await json_object(request)
        self.ac.update_contact(cid, self._contact_body(data), source="admin")
        # A change to nothing still counts as an edit in the UI: make udate move.
        if not any(k in data for k in ("email", "firstName", "lastName", "phone")) and not data.get("fields"):
            self.ac.touch_contact(cid)
        return JSONBody(self._snapshot(cid))

    async def contact_delete(self, request: Request) -> Response:
        self.ac.delete_contact(request.path_params["id"])
        return JSONBody({})

    async def contact_touch(self, request: Request) -> Response:
        cid = request.path_params["id"]
        self.ac.touch_contact(cid)
        return JSONBody(self._snapshot(cid))

    def _add_tag(self, cid: int, tag: str) -> None:
        tid = self.ac.tag_id(tag)
        if tid is None:
            tid = self.ac.create_tag({"tag": {"tag": tag, "tagType": "contact"}})["id"]
        self.ac.add_contact_tag({"contactTag": {"contact": cid, "tag": tid}}, source="admin")

    def _set_list(self, cid: int, lst: str, status: int) -> None:
        lid = self.ac.list_id(lst)
        if lid is None:
            raise ACError(
                404, {"errors": [{"status": 404, "title": "Not Found", "detail": f"List {lst!r} not found"}]}
            )
        # sourceid 4 lets a UI change re-subscribe someone who unsubscribed.
        self.ac.set_list_status(
            {"contactList": {"contact": cid, "list": lid, "status": status, "sourceid": 4}}, source="admin"
        )

    async def tag_add(self, request: Request) -> Response:
        cid = request.path_params["id"]
        data = await json_object(request)
        if not data.get("tag"):
            raise ACError(
                422,
                {
                    "errors": [
                        {
                            "status": 422,
                            "title": "Missing attribute",
                            "source": {"pointer": "/data/attributes/tag"},
                        }
                    ]
                },
            )
        self._add_tag(cid, str(data["tag"]))
        return JSONBody(self._snapshot(cid))

    async def tag_remove(self, request: Request) -> Response:
        cid = request.path_params["id"]
        tid = self.ac.tag_id(request.path_params["tag"])
        if tid is None or not self.ac.remove_tag_from_contact(cid, tid):
            raise not_found("SubscriberTag", request.path_params["tag"])
        return JSONBody(self._snapshot(cid))

    async def list_set(self, request: Request) -> Response:
        cid = request.path_params["id"]
        data = await json_object(request)
        if data.get("list") in (None, ""):
            raise ACError(
                422,
                {
                    "errors": [
                        {
                            "status": 422,
                            "title": "Missing attribute",
                            "source": {"pointer": "/data/attributes/list"},
                        }
                    ]
                },
            )
        try:
            status = int(data.get("status", 1))
        except (TypeError, ValueError):
            status = -1
        if status not in (1, 2):
            raise ACError(
                422,
                {
                    "errors": [
                        {
                            "title": "status must be 1 or 2",
                            "detail": "",
                            "code": "field_invalid",
                            "source": {"pointer": "/data/attributes/status"},
                        }
                    ]
                },
            )
        self._set_list(cid, str(data["list"]), status)
        return JSONBody(self._snapshot(cid))

    async def deal_create(self, request: Request) -> Response:
        data = await json_object(request)
        row = self.ac.create_deal({"deal": data.get("deal", data)}, source="admin")
        return JSONBody({"deal": row}, status_code=201)

    async def deal_change(self, request: Request) -> Response:
        data = await json_object(request)
        row = self.ac.update_deal(request.path_params["id"], {"deal": data.get("deal", data)}, source="admin")
        return JSONBody({"deal": row})

    async def list_create(self, request: Request) -> Response:
        data = await json_object(request)
        name = str(data.get("name") or "").strip()
        if not name:
            raise ACError(
                422,
                {
                    "errors": [
                        {
                            "status": 422,
                            "title": "Missing attribute",
                            "source": {"pointer": "/data/attributes/name"},
                        }
                    ]
                },
            )
        return JSONBody({"list": self.ac.create_list(name)}, status_code=201)
