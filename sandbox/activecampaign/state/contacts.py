"""Contact writes of the AC account: create, sync, update, delete, and their field values, tags and
list statuses."""

from __future__ import annotations

import re
import uuid
from bisect import insort
from typing import Any

from sandbox.activecampaign.errors import missing_attribute, not_found, related_not_found, validation
from sandbox.activecampaign.generator.account import CHILD_KINDS
from sandbox.activecampaign.generator.catalog import Row
from sandbox.activecampaign.state.rows import (
    clean_email,
    field_value_inputs,
    int_input,
    list_row,
    unwrap_body,
)
from sandbox.activecampaign.state.store import ACStore


class ContactWrites(ACStore):
    """Contacts and what hangs on them; every write takes the lock and notifies `on_change`."""

    # ------------------------------------------------------------------
    # contact writes
    # ------------------------------------------------------------------

    def create_contact(self, body: dict[str, Any], *, source: str = "api") -> tuple[Row, list[Row]]:
        """POST /contacts: create only; duplicate email -> 422 duplicate."""
        with self.lock:
            data = unwrap_body(body, "contact")
            email = clean_email(data, allow_null=bool(data.get("allowNullEmail")))
            if email and self._find_by_email(email):
                raise validation(
                    "Email address already exists in the system", "duplicate", "/data/attributes/email"
                )
            fvs = field_value_inputs(data, self.fields)
            contact = self._new_contact(email, data)
            rows = [self._put_field_value(int(contact["id"]), fid, value) for fid, value in fvs]
            self._emit("subscribe", self._event_payload(int(contact["id"]), source))
            return contact, rows

    def sync_contact(self, body: dict[str, Any], *, source: str = "api") -> tuple[bool, Row, list[Row]]:
        """POST /contact/sync: upsert by email. Returns (created, contact, field values)."""
        with self.lock:
            data = unwrap_body(body, "contact")
            email = clean_email(data, allow_null=False)
            fvs = field_value_inputs(data, self.fields)
            ids = self._find_by_email(email)
            if not ids:
                contact = self._new_contact(email, data)
                cid = int(contact["id"])
                rows = [self._put_field_value(cid, fid, value) for fid, value in fvs]
                self._emit("subscribe", self._event_payload(cid, source))
                return True, contact, rows
            cid = ids[0]
            contact, rows = self._update_contact(cid, data, fvs, source=source)
            return False, contact, rows

    def update_contact(self, cid: int, body: dict[str, Any], *, source: str = "api") -> tuple[Row, list[Row]]:
        """PUT /contacts/{id}: partial update."""
        with self.lock:
            self._require_contact(cid)
            data = unwrap_body(body, "contact")
            if "email" in data:
                email = clean_email(data, allow_null=False)
                others = [x for x in self._find_by_email(email) if x != cid]
                if others:
                    raise validation(
                        "Email address already exists in the system", "duplicate", "/data/attributes/email"
                    )
            fvs = field_value_inputs(data, self.fields)
            return self._update_contact(cid, data, fvs, source=source)

    def _update_contact(
        self, cid: int, data: dict[str, Any], fvs: list[tuple[str, str | None]], *, source: str
    ) -> tuple[Row, list[Row]]:
        contact = self._ensure_overlay(cid)
        changed = False
        for key in ("email", "firstName", "lastName", "phone"):
            if key in data and data[key] is not None and str(data[key]) != contact[key]:
                if key == "email":
                    self._index_email(cid, contact["email"], str(data[key]).strip())
                    contact["email"] = str(data[key]).strip()
                    contact["email_empty"] = contact["email"] == ""
                else:
                    contact[key] = str(data[key])
                changed = True
        rows = []
        for fid, value in fvs:
            before = next((r for r in self._children(cid, "fieldValues") if r["field"] == fid), None)
            rows.append(self._put_field_value(cid, fid, value))
            changed = changed or before is None or before["value"] != value
        if changed:
            self._touch(contact)
            self._emit("update", self._event_payload(cid, source))
        return contact, rows

    def _new_contact(self, email: str, data: dict[str, Any]) -> Row:
        cid = self.next_contact_id
        self.next_contact_id += 1
        now = self.clock.now()
        iso, wall = self.clock.iso(now), self.clock.wall(now)
        contact = {
            "cdate": iso,
            "email": email,
            "phone": str(data.get("phone") or ""),
            "firstName": str(data.get("firstName") or ""),
            "lastName": str(data.get("lastName") or ""),
            "orgid": "0",
            "orgname": "",
            "segmentio_id": "",
            "bounced_hard": "0",
            "bounced_soft": "0",
            "bounced_date": None,
            "ip": "0",
            "ua": None,
            "hash": uuid.uuid4().hex,
            "socialdata_lastcheck": None,
            "email_local": "",
            "email_domain": "",
            "sentcnt": "0",
            "rating_tstamp": None,
            "gravatar": "0",
            "deleted": "0",
            "anonymized": "0",
            "adate": None,
            "udate": iso,
            "edate": None,
            "deleted_at": None,
            "created_utc_timestamp": wall,
            "updated_utc_timestamp": wall,
            "created_timestamp": wall,
            "updated_timestamp": wall,
            "created_by": None,
            "updated_by": None,
            "mpp_tracking": "0",
            "email_empty": email == "",
            "scoreValues": [],
            "accountContacts": [],
            "id": str(cid),
            "organization": None,
        }
        self.contacts[cid] = contact
        self.contact_children[cid] = {k: [] for k in CHILD_KINDS}
        self.new_contact_ids.append(cid)
        self.touched.add(cid)
        self._index_email(cid, None, email)
        return contact

    def delete_contact(self, cid: int) -> None:
        with self.lock:
            if self._contact(cid) is None:
                raise not_found("contact", cid, lower=True)
            contact = self._ensure_overlay(cid)
            for kind in (
                "fieldValues",
                "contactTags",
                "contactLists",
                "scoreValues",
                "contactAutomations",
                "trackingLogs",
            ):
                for rid in list(self.contact_children.get(cid, {}).get(kind, ())):
                    self._remove_child(cid, kind, rid)
            self._index_email(cid, contact["email"], None)
            del self.contacts[cid]
            self.touched.discard(cid)
            if cid <= self.gen.n:
                insort(self.deleted_contacts, cid)
            else:
                self.new_contact_ids.remove(cid)
            # No webhook: AC sends no contact-deleted event.

    # ------------------------------------------------------------------
    # field values, tags, lists
    # ------------------------------------------------------------------

    def _put_field_value(self, cid: int, fid: str, value: str | None) -> Row:
        self._ensure_overlay(cid)
        now = self.clock.iso(self.clock.now())
        for row in self._children(cid, "fieldValues"):
            if row["field"] == fid:
                if row["value"] != value:
                    row["value"] = value
                    row["udate"] = now
                return row
        return self._add_child(
            cid,
            "fieldValues",
            {
                "contact": str(cid),
                "field": fid,
                "value": value,
                "cdate": now,
                "udate": now,
                "created_by": "0",
                "updated_by": "0",
                "id": "",
                "owner": str(cid),
            },
        )

    def set_field_value(self, body: dict[str, Any], *, source: str = "api") -> Row:
        """POST /fieldValues: create or replace one contact's value of one field."""
        with self.lock:
            data = unwrap_body(body, "fieldValue")
            for key in ("contact", "field"):
                if data.get(key) in (None, ""):
                    raise missing_attribute(key)
            cid = int_input(data["contact"], "contact")
            fid = str(data["field"])
            self._require_contact(cid)
            if fid not in self.fields:
                raise related_not_found("Field")
            value = data.get("value")
            row = self._put_field_value(cid, fid, None if value is None else str(value))
            self._touch(self.contacts[cid])
            self._emit("update", self._event_payload(cid, source))
            return row

    def add_contact_tag(self, body: dict[str, Any], *, source: str = "api") -> tuple[Row, bool]:
        """POST /contactTags. Returns (link row, created); an existing link is returned as is."""
        with self.lock:
            data = unwrap_body(body, "contactTag")
            for key in ("contact", "tag"):
                if data.get(key) in (None, ""):
                    raise missing_attribute(key)
            cid = int_input(data["contact"], "contact")
            tid = str(data["tag"])
            if self._contact(cid) is None:
                raise related_not_found("Contact")
            if tid not in self.tags:
                raise related_not_found("Tag")
            for row in self._children(cid, "contactTags"):
                if row["tag"] == tid:
                    return row, False
            self._ensure_overlay(cid)
            now = self.clock.now()
            row = self._add_child(
                cid,
                "contactTags",
                {
                    "contact": str(cid),
                    "tag": tid,
                    "cdate": self.clock.iso(now),
                    "created_timestamp": self.clock.wall(now),
                    "updated_timestamp": self.clock.wall(now),
                    "created_by": None,
                    "updated_by": None,
                    "id": "",
                },
            )
            self._emit("contact_tag_added", self._event_payload(cid, source, tag=self.tags[tid]["tag"]))
            return row, True

    def remove_contact_tag(self, link_id: int, *, source: str = "api") -> None:
        """DELETE /contactTags/{id} (the id of the link row, not of the tag)."""
        with self.lock:
            row = self.tables["contactTags"].get(link_id)
            if row is None:
                raise not_found("SubscriberTag", link_id)
            cid = int(row["contact"])
            self._ensure_overlay(cid)
            self._remove_child(cid, "contactTags", link_id)
            self._emit(
                "contact_tag_removed", self._event_payload(cid, source, tag=self.tags[row["tag"]]["tag"])
            )

    def set_list_status(self, body: dict[str, Any], *, source: str = "api") -> Row:
        """POST /contactLists: subscribe (1) or unsubscribe (2) a contact."""
        with self.lock:
            data = unwrap_body(body, "contactList")
            for key in ("list", "contact", "status"):
                if data.get(key) in (None, ""):
                    raise missing_attribute(key)
            cid = int_input(data["contact"], "contact")
            lid = str(data["list"])
            status = int_input(data["status"], "status")
            if status not in (0, 1, 2, 3):
                raise validation(
                    "Invalid attribute",
                    "field_invalid",
                    "/data/attributes/status",
                    "Status must be 1 (subscribed) or 2 (unsubscribed)",
                )
            contact = self._contact(cid)
            if contact is None:
                raise related_not_found("Contact")
            if lid not in self.lists:
                raise related_not_found("List")
            self._ensure_overlay(cid)
            contact = self.contacts[cid]
            now = self.clock.now()
            iso, wall = self.clock.iso(now), self.clock.wall(now)
            row = next((r for r in self._children(cid, "contactLists") if r["list"] == lid), None)
            if row is None:
                row = self._add_child(
                    cid,
                    "contactLists",
                    {
                        "contact": str(cid),
                        "list": lid,
                        "form": None,
                        "seriesid": "0",
                        "sdate": iso,
                        "udate": iso,
                        "status": str(status),
                        "responder": "1",
                        "sync": "0",
                        "unsubreason": None,
                        "campaign": None,
                        "message": None,
                        "first_name": contact["firstName"],
                        "last_name": contact["lastName"],
                        "ip4Sub": "0",
                        "sourceid": str(data.get("sourceid") or 0),
                        "autosyncLog": None,
                        "ip4_last": "0",
                        "ip4Unsub": "0",
                        "created_timestamp": wall,
                        "updated_timestamp": wall,
                        "created_by": None,
                        "updated_by": None,
                        "unsubscribeAutomation": None,
                        "id": "",
                        "automation": None,
                    },
                )
            else:
                # Re-subscribing someone who unsubscribed needs sourceid 4, otherwise AC keeps them out.
                if row["status"] == "2" and status == 1 and str(data.get("sourceid")) != "4":
                    return row
                if row["status"] != str(status):
                    row["status"] = str(status)
                    row["udate"] = iso
                    row["updated_timestamp"] = wall
                    if status == 2:
                        row["unsubreason"] = data.get("unsubreason") or ""
            event = "subscribe" if status == 1 else "unsubscribe" if status == 2 else None
            if event:
                self._emit(event, self._event_payload(cid, source, list=lid))
            return row

    def create_tag(self, body: dict[str, Any]) -> Row:
        with self.lock:
            data = unwrap_body(body, "tag")
            name = str(data.get("tag") or "").strip()
            if not name:
                raise missing_attribute("tag")
            tag_type = str(data.get("tagType") or "contact")
            if tag_type not in ("contact", "template"):
                raise validation("Invalid attribute", "field_invalid", "/data/attributes/tagType")
            if any(t["tag"].lower() == name.lower() and t["tagType"] == tag_type for t in self.tags.values()):
                raise validation("Tag already exists", "duplicate", "/data/attributes/tag")
            now = self.clock.now()
            return self._add_tag_row(
                name, tag_type, self.clock.iso(now), self.clock.wall(now), str(data.get("description") or "")
            )

    def create_list(self, name: str, *, source: str = "admin") -> Row:
        with self.lock:
            lid = str(max(int(k) for k in self.lists) + 1)
            now = self.clock.now()
            stringid = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
            row = list_row(lid, name, stringid, self.clock.iso(now), self.clock.wall(now))
            self.lists[lid] = row
            self._emit(
                "list_add",
                {
                    "date_time": self.clock.iso(now),
                    "initiated_from": source,
                    "initiated_by": source,
                    "list": lid,
                    "list_name": name,
                },
            )
            return row
