"""Brevo contact imports and the processes they run as (reference §2.8-2.9): queued, then in process,
then completed, with CSV reports and an optional notify URL."""

from __future__ import annotations

import contextlib
import csv
import io
import threading
import time
from collections.abc import Iterable
from typing import Any

import httpx
from starlette.requests import Request

from sandbox.brevo.state import BrevoState, Process
from sandbox.brevo.values import (
    IMPORT_DUP_COUNTER,
    INDEXED_ATTRS,
    PHONE_ATTRS,
    REPORT_NAMES,
    Fail,
    Text,
    as_int,
    iso,
    normalise_phone,
    qint,
    v3_base,
    valid_email,
)


class ImportRoutes(BrevoState):
    """`/contacts/import` and `/processes`: asynchronous imports on the sandbox's own clock."""

    # ------------------------------------------------------------ imports and processes

    def _import(self, request: Request, body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict):
            raise Fail(400, "bad_request", "Request body must be a JSON object")
        json_body, file_body, file_url = body.get("jsonBody"), body.get("fileBody"), body.get("fileUrl")
        if sum(x is not None for x in (json_body, file_body, file_url)) != 1:
            raise Fail(400, "missing_parameter", "Exactly one of jsonBody, fileBody or fileUrl is required")
        if file_url is not None:
            raise Fail(
                400,
                "invalid_parameter",
                "fileUrl cannot be fetched by the sandbox; send jsonBody or fileBody",
            )
        if json_body is not None and not isinstance(json_body, list):
            raise Fail(400, "invalid_parameter", "jsonBody must be an array")
        if file_body is not None and not isinstance(file_body, str):
            raise Fail(400, "invalid_parameter", "fileBody must be a string")
        new_list = body.get("newList")
        list_ids = body.get("listIds")
        if not list_ids and not new_list:
            raise Fail(400, "missing_parameter", "listIds or newList is mandatory")
        list_ids = self._check_lists(list_ids or [])
        if new_list:
            if not isinstance(new_list, dict) or not new_list.get("listName"):
                raise Fail(400, "invalid_parameter", "newList.listName is mandatory")
            folder_id = new_list.get("folderId", 1)
            if folder_id not in self._folders:
                raise Fail(404, "document_not_found", "Folder does not exist")
            list_ids.append(self._add_list(str(new_list["listName"]), folder_id))
        options = {
            "update_existing": body.get("updateExistingContacts", True) is not False,
            "erase_empty": bool(body.get("emptyContactsAttributes", False)),
            "email_blacklist": bool(body.get("emailBlacklist", False)),
            "sms_blacklist": bool(body.get("smsBlacklist", False)),
            "list_ids": list_ids,
        }
        rows = json_body if json_body is not None else self._csv_rows(file_body)
        process = self._new_process("IMPORTUSER", notify_url=body.get("notifyUrl"))
        process.apply = lambda: self._run_import(rows, **options)
        if self.import_failure:
            process.extra["failure"] = self.import_failure
        self._schedule(process)
        return 202, {"processId": process.id}

    @staticmethod
    def _csv_rows(text: str) -> list[dict]:
        reader = csv.reader(io.StringIO(text), delimiter=";")
        header = next(reader, None)
        if not header:
            raise Fail(400, "invalid_parameter", "fileBody must start with a header line")
        names = [h.strip().upper() for h in header]
        rows = []
        for cells in reader:
            if not any(cells):
                continue
            attrs = dict(zip(names, cells, strict=False))
            rows.append({"email": attrs.pop("EMAIL", None), "attributes": attrs})
        return rows

    def _run_import(
        self,
        rows: Iterable[Any],
        *,
        update_existing: bool,
        erase_empty: bool,
        email_blacklist: bool,
        sms_blacklist: bool,
        list_ids: list[int],
    ) -> dict:
        info = {
            "invalid_emails": 0,
            "duplicate_contact_id": 0,
            "duplicate_ext_id": 0,
            "duplicate_email_id": None,
            "duplicate_phone_id": 0,
            "duplicate_whatsapp_id": 0,
            "duplicate_landline_number_id": 0,
        }
        duplicate_emails: list[str] = []
        # Rows behind each CSV report of the 2026 shape: report name -> [(identifier, reason)].
        reports: dict[str, list[tuple[str, str]]] = {name: [] for name in REPORT_NAMES}
        seen: dict[str, set[str]] = {k: set() for k in ("EMAIL", *INDEXED_ATTRS)}
        now = time.time()
        for row in rows:
            if not isinstance(row, dict):
                info["invalid_emails"] += 1
                continue
            try:
                attrs = self._prepare_attributes(row.get("attributes"), from_text=True, drop_unknown=True)
            except Fail:
                info["invalid_emails"] += 1
                continue
            email = row.get("email") or attrs.get("EMAIL")
            ids: dict[str, str] = {}
            if email:
                if not valid_email(email):
                    info["invalid_emails"] += 1
                    reports["invalid_emails"].append((str(email), "invalid email address"))
                    continue
                ids["EMAIL"] = email.strip().lower()
            if attrs.get("EXT_ID") is not None:
                ids["EXT_ID"] = str(attrs["EXT_ID"])
            for name in PHONE_ATTRS:
                if attrs.get(name) is not None:
                    digits = normalise_phone(attrs[name])
                    if digits:
                        ids[name] = digits
            if not ids:
                info["invalid_emails"] += 1
                reports["invalid_emails"].append(("", "no identifier"))
                continue
            if "EMAIL" in ids and ids["EMAIL"] in seen["EMAIL"]:
                duplicate_emails.append(ids["EMAIL"])
                reports["duplicate_email_id"].append((ids["EMAIL"], "twice in this import"))
                continue
            for kind in INDEXED_ATTRS:
                if kind in ids and ids[kind] in seen[kind]:
                    info[IMPORT_DUP_COUNTER[kind]] += 1
                    reports[IMPORT_DUP_COUNTER[kind]].append((ids[kind], "twice in this import"))
                    del ids[kind]
            if not ids:
                continue
            for kind, value in ids.items():
                seen[kind].add(value)
            primary = next(k for k in ("EMAIL", "EXT_ID", *PHONE_ATTRS) if k in ids)
            owner = self._find_normalised(primary, ids[primary])
            for kind in list(ids):
                holder = self._find_normalised(kind, ids[kind])
                if kind != primary and holder is not None and holder != owner:
                    info[IMPORT_DUP_COUNTER[kind]] += 1
                    reports[IMPORT_DUP_COUNTER[kind]].append((ids[kind], "held by another contact"))
                    del ids[kind]
            if owner is not None and not update_existing:
                continue
            c = self._contacts[owner] if owner is not None else self._new_contact(now)
            self._apply(c, ids, attrs, erase_empty=erase_empty and owner is not None, now=now)
            if email_blacklist:
                c["emailBlacklisted"] = True
            if sms_blacklist:
                c["smsBlacklisted"] = True
            c["listIds"].update(list_ids)
        if duplicate_emails:
            info["duplicate_email_id"] = "https://sandbox.brevo.invalid/imports/duplicate_emails.csv"
        return {"import": info, "_duplicate_emails": duplicate_emails, "_reports": reports}

    def _new_process(self, name: str, *, notify_url: str | None = None) -> Process:
        process = Process(
            id=self._next_process,
            name=name,
            created=time.time(),
            started=self._clock(),
            queued_for=self.import_queued_seconds,
            duration=self.import_seconds,
            notify_url=notify_url,
        )
        self._next_process += 1
        self._processes[process.id] = process
        self._pending.append(process)
        return process

    def _schedule(self, process: Process) -> None:
        # Completion happens on the next request after the deadline, or on this timer if none comes.
        timer = threading.Timer(process.duration + 0.001, self._advance_locked)
        timer.daemon = True
        timer.start()

    def _advance_locked(self) -> None:
        with self._lock:
            self._advance()

    def _advance(self) -> None:
        if not self._pending:
            return
        now = self._clock()
        due = [p for p in self._pending if now - p.started >= p.duration]
        if not due:
            return
        self._pending = [p for p in self._pending if p not in due]
        for process in due:
            if process.completed is None:
                if process.name == "IMPORTUSER" and process.extra.get("failure"):
                    process.status = process.extra["failure"]
                    process.apply = None
                result = process.apply() if process.apply else {}
                process.extra["duplicate_emails"] = result.pop("_duplicate_emails", [])
                process.extra["reports"] = result.pop("_reports", {})
                process.info = result or None
                process.completed = time.time()
                process.apply = None
                if process.notify_url and self.call_notify_url:
                    self._notify(process)

    def _notify(self, process: Process) -> None:
        payload = {"processId": process.id, "status": "completed", "info": process.info}
        url = process.notify_url

        def post() -> None:
            # Brevo does not retry either, as far as documented. A plain client, as the sandbox's
            # webhook sender uses: the simulators stand apart from the product and call loopback.
            with contextlib.suppress(Exception), httpx.Client(timeout=5.0) as client:
                client.post(url, json=payload)

        threading.Thread(target=post, daemon=True).start()

    def _process_status(self, p: Process) -> str:
        if p.completed is not None:
            return p.status
        if self._clock() - p.started < p.queued_for:
            return "queued"
        return "in_process" if self.legacy else "processing"

    def _process_json(self, p: Process, base_url: str = "") -> dict:
        out: dict[str, Any] = {"id": p.id, "status": self._process_status(p), "name": p.name}
        if self.legacy:
            out["created_at"] = iso(p.created)
            if p.completed is not None:
                out["completed_at"] = iso(p.completed)
            if p.error:
                out["error"] = p.error
        if p.completed is not None and p.info:
            if self.legacy or "import" not in p.info:
                out["info"] = p.info
            else:
                # 2026 shape: each field the URL of a CSV report, or null when it would be empty.
                reports = p.extra.get("reports") or {}
                out["info"] = {
                    "import": {
                        name: (f"{base_url}processes/{p.id}/reports/{name}" if reports.get(name) else None)
                        for name in REPORT_NAMES
                    }
                }
        return out

    def _process_report(self, request: Request, body: Any) -> tuple[int, Any]:
        pid = as_int(request.path_params["process_id"])
        process = self._processes.get(pid) if pid is not None else None
        name = request.path_params["name"]
        if process is None or process.completed is None or name not in REPORT_NAMES:
            raise Fail(404, "document_not_found", "Report does not exist")
        rows = (process.extra.get("reports") or {}).get(name) or []
        text = "identifier;reason\n" + "".join(f"{value};{reason}\n" for value, reason in rows)
        return 200, Text(text)

    def _get_process(self, request: Request, body: Any) -> tuple[int, Any]:
        pid = as_int(request.path_params["process_id"])
        if pid is None:
            raise Fail(400, "invalid_parameter", "processId is invalid")
        process = self._processes.get(pid)
        if process is None:
            raise Fail(404, "document_not_found", "Process does not exist")
        return 200, self._process_json(process, v3_base(request))

    def _list_processes(self, request: Request, body: Any) -> tuple[int, Any]:
        limit = qint(request.query_params, "limit", 10, 50)
        offset = qint(request.query_params, "offset", 0)
        rows = list(self._processes.values())
        if request.query_params.get("sort", "desc") == "desc":
            rows.reverse()
        return 200, {
            "processes": [self._process_json(p, v3_base(request)) for p in rows[offset : offset + limit]],
            "count": len(rows),
        }
