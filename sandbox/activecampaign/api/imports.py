"""AC bulk import: synchronous in the sandbox, so its status answers `completed` at once."""

from __future__ import annotations

import uuid

from starlette.requests import Request
from starlette.responses import Response

from sandbox.activecampaign.api.base import APIBase
from sandbox.activecampaign.api.responses import JSONBody, error_response


class ImportRoutes(APIBase):
    """`/import/bulk_import` and `/import/info`."""

    # -- bulk import (synchronous in the sandbox; status answers "completed") --

    async def bulk_import(self, request: Request) -> Response:
        body = await self._json(request)
        contacts = body.get("contacts") if isinstance(body, dict) else None
        if not isinstance(contacts, list) or not contacts:
            return error_response(
                400,
                {
                    "success": 0,
                    "message": "JSON payload did not pass validation. 'contacts' is required",
                    "failureReasons": [],
                },
            )
        if len(contacts) > 250:
            return error_response(
                400,
                {
                    "success": 0,
                    "message": "JSON payload did not pass validation. "
                    "Up to 250 contacts may be imported per request",
                    "failureReasons": [],
                },
            )
        failures = []
        for n, item in enumerate(contacts):
            email = str((item or {}).get("email") or "")
            if "@" not in email or email.count("@") != 1:
                failures.append({"contact": n, "failureReason": "Field 'email' incorrect format"})
        if failures:
            return error_response(
                400,
                {
                    "success": 0,
                    "message": "JSON payload did not pass validation. See failureReasons for details",
                    "failureReasons": failures,
                },
            )
        st = self.state
        success: list[str] = []
        for item in contacts:
            data = {
                "email": item["email"],
                "firstName": item.get("first_name"),
                "lastName": item.get("last_name"),
                "phone": item.get("phone"),
                "fieldValues": [
                    {"field": f.get("id"), "value": f.get("value")} for f in item.get("fields") or []
                ],
            }
            _created, contact, _fvs = st.sync_contact(
                {"contact": {k: v for k, v in data.items() if v is not None}}, source="system"
            )
            cid = int(contact["id"])
            for name in item.get("tags") or []:
                tid = st.tag_id(str(name)) or st.create_tag({"tag": {"tag": str(name)}})["id"]
                st.add_contact_tag({"contactTag": {"contact": cid, "tag": tid}}, source="system")
            for sub in item.get("subscribe") or []:
                st.set_list_status(
                    {"contactList": {"contact": cid, "list": sub.get("listid"), "status": 1}}, source="system"
                )
            for sub in item.get("unsubscribe") or []:
                st.set_list_status(
                    {"contactList": {"contact": cid, "list": sub.get("listid"), "status": 2}}, source="system"
                )
            success.append(str(cid))
        batch = str(uuid.uuid4())
        with st.lock:
            st.imports[batch] = {"status": "completed", "success": success, "failure": []}
        return JSONBody(
            {
                "Success": 1,
                "queued_contacts": len(contacts),
                "batchId": batch,
                "message": "Contact import queued",
            }
        )

    async def bulk_import_status(self, request: Request) -> Response:
        day = self.state.clock.date(self.state.clock.now())
        done = sum(len(v["success"]) for v in self.state.imports.values())
        return JSONBody(
            {
                "outstanding": [],
                "recentlyCompleted": [
                    {"forDate": day, "batches": str(len(self.state.imports)), "contacts": str(done)}
                ]
                if done
                else [],
            }
        )

    async def import_info(self, request: Request) -> Response:
        batch = request.query_params.get("batchId")
        if not batch:
            return error_response(400, {"success": 0, "message": "'batchId' is a required field."})
        row = self.state.imports.get(batch)
        if row is None:
            return error_response(404, {"message": "Not Found"})
        return JSONBody(row)
