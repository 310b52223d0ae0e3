"""Webhook subscriptions, custom object records, and the shortcuts the control endpoints use."""

from __future__ import annotations

import uuid
from typing import Any

from sandbox.activecampaign.errors import not_found, related_not_found, validation
from sandbox.activecampaign.generator.account import CHILD_KINDS
from sandbox.activecampaign.generator.catalog import Row
from sandbox.activecampaign.generator.values import record_uuid
from sandbox.activecampaign.state.rows import (
    int_input,
    record_error,
    unwrap_body,
    url_port,
)
from sandbox.activecampaign.state.store import WEBHOOK_EVENTS, WEBHOOK_SOURCES, ACStore
from sandbox.clock import AccountClock


class ObjectWrites(ACStore):
    """Webhook subscriptions (delivery is the sender's), custom object records, control helpers."""

    # ------------------------------------------------------------------
    # webhooks (subscriptions only; delivery belongs to the webhook sender)
    # ------------------------------------------------------------------

    def create_webhook(self, body: dict[str, Any]) -> Row:
        with self.lock:
            data = unwrap_body(body, "webhook")
            for key in ("name", "url", "events", "sources"):
                if data.get(key) in (None, "", []):
                    raise validation(
                        f"The {key} field is required", "field_missing", f"/data/attributes/{key}"
                    )
            url = str(data["url"])
            if not url.startswith(("http://", "https://")):
                raise validation("Invalid URL", "field_invalid", "/data/attributes/url")
            if url.startswith("https://") and url_port(url) not in (None, 443):
                raise validation(
                    "HTTPS webhook URLs must use port 443", "field_invalid", "/data/attributes/url"
                )
            events, sources = list(data["events"]), list(data["sources"])
            bad = [
                e
                for e in events
                if e not in WEBHOOK_EVENTS
                and e
                not in (
                    "contact_task_add",
                    "account_add",
                    "account_update",
                    "account_contact_add",
                    "account_contact_update",
                )
            ]
            if bad:
                raise validation(f"Invalid event: {bad[0]}", "field_invalid", "/data/attributes/events")
            if any(s not in WEBHOOK_SOURCES for s in sources):
                raise validation("Invalid source", "field_invalid", "/data/attributes/sources")
            wid = str(self.next_webhook_id)
            self.next_webhook_id += 1
            row = {
                "cdate": self.clock.iso(self.clock.now()),
                "listid": str(data.get("listid") or 0),
                "name": str(data["name"]),
                "url": url,
                "events": events,
                "sources": sources,
                "id": wid,
                "state": "active",
            }
            self.webhooks[wid] = row
            return row

    def delete_webhook(self, wid: int) -> None:
        with self.lock:
            if self.webhooks.pop(str(wid), None) is None:
                raise not_found("Webhook", wid)

    # ------------------------------------------------------------------
    # custom object records
    # ------------------------------------------------------------------

    def record_by_id(self, record_id: str) -> Row | None:
        """Records carry their sequence number in the last 12 hex digits of the UUID."""
        with self.lock:
            try:
                seq = int(record_id.replace("-", "")[-12:], 16)
            except ValueError:
                return None
            row = self.tables["records"].get(seq)
            return row if row is not None and row["id"] == record_id else None

    def upsert_record(self, schema_id: str, body: dict[str, Any]) -> tuple[Row, bool]:
        """POST /customObjects/records/{schemaId}: create, or update the record with this id/externalId.

        A new record needs its primary contact; an update may leave relationships
        out, and its field values are merged by field id.
        """
        with self.lock:
            data = unwrap_body(body, "record")
            known = {f["id"] for f in self.schemas[schema_id]["fields"]}
            fields = data.get("fields") or []
            for f in fields:
                if not isinstance(f, dict) or f.get("id") not in known:
                    raise record_error(
                        f'Invalid value for field "{(f or {}).get("id")}"',
                        "Unknown field",
                        "/data/attributes/fields",
                    )
            rels = data.get("relationships") or {}
            contacts = [str(c) for c in rels.get("primary-contact", [])]
            cid = int_input(contacts[0], "relationships") if contacts else None
            if cid is not None and self._contact(cid) is None:
                raise related_not_found("Contact")
            existing = self.record_by_id(str(data["id"])) if data.get("id") else None
            if existing is None and data.get("externalId"):
                existing = next(
                    (r for r in self.tables["records"].iter_from() if r["externalId"] == data["externalId"]),
                    None,
                )
            now = AccountClock.utc_nanos(self.clock.now())
            if existing is not None:
                owner = int(existing["relationships"]["primary-contact"][0])
                self._ensure_overlay(owner)
                row = self.tables["records"].rows[existing["seq"]]
                merged = {f["id"]: f for f in row["fields"]}
                merged.update({f["id"]: f for f in fields})
                row["fields"] = list(merged.values())
                if cid is not None and cid != owner:
                    self._ensure_overlay(cid)
                    self.contact_children[owner]["records"].remove(row["seq"])
                    self.contact_children.setdefault(cid, {k: [] for k in CHILD_KINDS})["records"].append(
                        row["seq"]
                    )
                    row["relationships"] = {"primary-contact": [str(cid)]}
                row["updatedTimestamp"] = now
                return row, False
            if cid is None:
                raise record_error(
                    'Invalid value for field "record.relationships"',
                    "A primary contact is required",
                    "/data/attributes/relationships",
                )
            self._ensure_overlay(cid)
            row = self._add_child(
                cid,
                "records",
                {
                    "id": "",
                    "externalId": data.get("externalId") or "",
                    "schemaId": schema_id,
                    "fields": fields,
                    "relationships": {"primary-contact": [str(cid)]},
                    "createdTimestamp": now,
                    "updatedTimestamp": now,
                },
            )
            row["id"] = record_uuid(uuid.uuid4().int, row["seq"])
            return row, True

    # ------------------------------------------------------------------
    # control helpers (tests, demo)
    # ------------------------------------------------------------------

    def touch_contact(self, cid: int, *, source: str = "admin") -> Row:
        """Bump udate without changing anything else."""
        with self.lock:
            self._require_contact(cid)
            contact = self._ensure_overlay(cid)
            self._touch(contact)
            self._emit("update", self._event_payload(cid, source))
            return contact

    def tag_id(self, name_or_id: str) -> str | None:
        if name_or_id in self.tags:
            return name_or_id
        return next((tid for tid, t in self.tags.items() if t["tag"].lower() == name_or_id.lower()), None)

    def list_id(self, name_or_id: str) -> str | None:
        if name_or_id in self.lists:
            return name_or_id
        return next((lid for lid, li in self.lists.items() if li["name"].lower() == name_or_id.lower()), None)

    def remove_tag_from_contact(self, cid: int, tid: str, *, source: str = "admin") -> bool:
        with self.lock:
            row = next((r for r in self._children(cid, "contactTags") if r["tag"] == tid), None)
            if row is None:
                return False
            self.remove_contact_tag(int(row["id"]), source=source)
            return True
