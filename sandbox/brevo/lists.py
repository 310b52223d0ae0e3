"""Brevo folders and lists, and adding or removing contacts (reference §4)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request

from sandbox.brevo.state import BrevoState
from sandbox.brevo.values import (
    Fail,
    as_int,
    iso,
    qint,
    since_param,
)


class ListRoutes(BrevoState):
    """`/contacts/folders` and `/contacts/lists`, with list membership."""

    # ------------------------------------------------------------ folders and lists

    def _folder_json(self, f: dict) -> dict:
        return {
            "id": f["id"],
            "name": f["name"],
            "totalBlacklisted": 0,
            "totalSubscribers": 0,
            "uniqueSubscribers": 0,
        }

    def _list_json(self, li: dict) -> dict:
        return {
            "id": li["id"],
            "name": li["name"],
            "totalBlacklisted": 0,
            "totalSubscribers": 0,
            "uniqueSubscribers": 0,
            "folderId": li["folderId"],
        }

    @staticmethod
    def _page(request: Request, rows: list, *, default: int, maximum: int) -> list:
        limit = qint(request.query_params, "limit", default, maximum)
        offset = qint(request.query_params, "offset", 0)
        if request.query_params.get("sort", "desc") == "desc":
            rows = list(reversed(rows))
        return rows[offset : offset + limit]

    def _id_param(self, request: Request, name: str, table: Mapping[int, Any], what: str) -> int:
        value = as_int(request.path_params[name])
        if value is None:
            raise Fail(400, "invalid_parameter", f"{name} must be an integer")
        if value not in table:
            raise Fail(404, "document_not_found", f"{what} ID does not exist")
        return value

    def _list_folders(self, request: Request, body: Any) -> tuple[int, Any]:
        rows = list(self._folders.values())
        page = self._page(request, rows, default=10, maximum=50)
        return 200, {"folders": [self._folder_json(f) for f in page], "count": len(rows)}

    def _create_folder(self, request: Request, body: Any) -> tuple[int, Any]:
        name = (body or {}).get("name")
        if not isinstance(name, str) or not name.strip():
            raise Fail(400, "missing_parameter", "name is mandatory")
        fid = self._next_folder
        self._next_folder += 1
        self._folders[fid] = {"id": fid, "name": name}
        return 201, {"id": fid}

    def _get_folder(self, request: Request, body: Any) -> tuple[int, Any]:
        fid = self._id_param(request, "folder_id", self._folders, "Folder")
        return 200, self._folder_json(self._folders[fid])

    def _delete_folder(self, request: Request, body: Any) -> tuple[int, Any]:
        fid = self._id_param(request, "folder_id", self._folders, "Folder")
        del self._folders[fid]
        for lid in [lid for lid, li in self._lists.items() if li["folderId"] == fid]:
            self._drop_list(lid)
        return 204, None

    def _folder_lists(self, request: Request, body: Any) -> tuple[int, Any]:
        fid = self._id_param(request, "folder_id", self._folders, "Folder")
        rows = [li for li in self._lists.values() if li["folderId"] == fid]
        page = self._page(request, rows, default=10, maximum=50)
        return 200, {"lists": [self._list_json(li) for li in page], "count": len(rows)}

    def _list_lists(self, request: Request, body: Any) -> tuple[int, Any]:
        rows = list(self._lists.values())
        page = self._page(request, rows, default=10, maximum=50)
        return 200, {"lists": [self._list_json(li) for li in page], "count": len(rows)}

    def _add_list(self, name: str, folder_id: int) -> int:
        lid = self._next_list
        self._next_list += 1
        self._lists[lid] = {"id": lid, "name": name, "folderId": folder_id, "created": time.time()}
        return lid

    def _create_list(self, request: Request, body: Any) -> tuple[int, Any]:
        body = body or {}
        name, folder_id = body.get("name"), body.get("folderId")
        if not isinstance(name, str) or not name.strip() or folder_id is None:
            raise Fail(400, "missing_parameter", "name and folderId are mandatory")
        if as_int(folder_id) is None or isinstance(folder_id, str):
            raise Fail(400, "invalid_parameter", "folderId must be an integer")
        if folder_id not in self._folders:
            raise Fail(404, "document_not_found", "Folder ID does not exist")
        return 201, {"id": self._add_list(name, folder_id)}

    def _get_list(self, request: Request, body: Any) -> tuple[int, Any]:
        lid = self._id_param(request, "list_id", self._lists, "List")
        li = self._lists[lid]
        return 200, {
            **self._list_json(li),
            "createdAt": iso(li["created"]),
            "campaignStats": [],
            "dynamicList": False,
        }

    def _drop_list(self, lid: int) -> None:
        del self._lists[lid]
        for c in self._contacts.values():
            c["listIds"].discard(lid)

    def _delete_list(self, request: Request, body: Any) -> tuple[int, Any]:
        self._drop_list(self._id_param(request, "list_id", self._lists, "List"))
        return 204, None

    def _list_contacts_of_list(self, request: Request, body: Any) -> tuple[int, Any]:
        lid = self._id_param(request, "list_id", self._lists, "List")
        params = request.query_params
        limit = qint(params, "limit", 50, 500)
        offset = qint(params, "offset", 0)
        since = since_param(params, "modifiedSince")
        rows = [
            c
            for c in self._contacts.values()
            if lid in c["listIds"] and (since is None or c["modified"] >= since)
        ]
        if params.get("sort", "desc") == "desc":
            rows.reverse()
        return 200, {
            "contacts": [self._contact_json(c) for c in rows[offset : offset + limit]],
            "count": len(rows),
        }

    def _membership_targets(self, body: Any) -> tuple[str, list]:
        if not isinstance(body, dict):
            raise Fail(400, "bad_request", "Request body must be a JSON object")
        given = [k for k in ("emails", "ids", "extIds") if k in body]
        if len(given) != 1:
            raise Fail(400, "invalid_parameter", "Pass exactly one of emails, ids or extIds")
        key = given[0]
        values = body[key]
        if not isinstance(values, list) or not values:
            raise Fail(400, "invalid_parameter", f"{key} must be a non-empty array")
        if len(values) > 150:
            raise Fail(
                400,
                "invalid_parameter",
                f"You can pass a maximum of 150 {key} per request; use /contacts/import for more",
            )
        return key, values

    def _membership(self, key: str, values: list) -> list[tuple[Any, int | None]]:
        kind = {"emails": "EMAIL", "ids": "ID", "extIds": "EXT_ID"}[key]
        return [(v, self._find(kind, v)) for v in values]

    def _list_add(self, request: Request, body: Any) -> tuple[int, Any]:
        lid = self._id_param(request, "list_id", self._lists, "List")
        key, values = self._membership_targets(body)
        success, failure = [], []
        now = time.time()
        for value, cid in self._membership(key, values):
            c = self._contacts.get(cid) if cid is not None else None
            if c is None or lid in c["listIds"]:
                failure.append(value)
                continue
            c["listIds"].add(lid)
            c["modified"] = now
            success.append(value)
        return 201, {"contacts": {"success": success, "failure": failure}}

    def _list_remove(self, request: Request, body: Any) -> tuple[int, Any]:
        lid = self._id_param(request, "list_id", self._lists, "List")
        now = time.time()
        if isinstance(body, dict) and body.get("all") is True:
            members = [c for c in self._contacts.values() if lid in c["listIds"]]
            for c in members:
                c["listIds"].discard(lid)
                c["modified"] = now
            process = self._new_process("REMOVE_CONTACTS_FROM_LIST")
            self._schedule(process)
            return 201, {"contacts": {"total": len(members), "processId": process.id}}
        key, values = self._membership_targets(body)
        success, failure = [], []
        for value, cid in self._membership(key, values):
            c = self._contacts.get(cid) if cid is not None else None
            if c is None or lid not in c["listIds"]:
                failure.append(value)
                continue
            c["listIds"].discard(lid)
            c["modified"] = now
            success.append(value)
        return 201, {"contacts": {"success": success, "failure": failure}}
