"""Deal writes of the AC account: create, update, delete, with AC's validation of values."""

from __future__ import annotations

import uuid
from typing import Any

from sandbox.activecampaign.errors import not_found, validation
from sandbox.activecampaign.generator import catalog as g
from sandbox.activecampaign.generator.account import CHILD_KINDS
from sandbox.activecampaign.generator.catalog import Row
from sandbox.activecampaign.state.rows import (
    int_input,
    unwrap_body,
)
from sandbox.activecampaign.state.store import ACStore


class DealWrites(ACStore):
    """Deals; `deal_add` and `deal_update` go to `on_change`."""

    # ------------------------------------------------------------------
    # deals
    # ------------------------------------------------------------------

    def create_deal(self, body: dict[str, Any], *, source: str = "api") -> Row:
        with self.lock:
            data = unwrap_body(body, "deal")
            values = self._deal_values(data, creating=True)
            cid = int(values["contact"])
            self._ensure_overlay(cid)
            now = self.clock.iso(self.clock.now())
            row = {
                "hash": uuid.uuid4().hex[:8],
                "owner": values["owner"],
                "contact": str(cid),
                "organization": None,
                "group": values["group"],
                "stage": values["stage"],
                "title": values["title"],
                "description": values.get("description", ""),
                "percent": "0",
                "cdate": now,
                "mdate": now,
                "nextdate": None,
                "nexttaskid": None,
                "value": values["value"],
                "currency": values["currency"],
                "winProbability": None,
                "winProbabilityMdate": None,
                "status": values["status"],
                "activitycount": "0",
                "nextdealid": "",
                "nextTask": None,
                "edate": None,
                "id": "",
                "isDisabled": False,
                "account": values.get("account"),
                "customerAccount": values.get("account"),
            }
            row = self._add_child(cid, "deals", row)
            row["nextdealid"] = row["id"]
            self._emit("deal_add", self._event_payload(cid, source, deal=self._deal_event(row)))
            return row

    def update_deal(self, did: int, body: dict[str, Any], *, source: str = "api") -> Row:
        with self.lock:
            row = self.tables["deals"].get(did)
            if row is None:
                raise not_found("Deal", did)
            data = unwrap_body(body, "deal")
            values = self._deal_values(data, creating=False, current=row)
            cid = int(row["contact"])
            self._ensure_overlay(cid)
            row = self.tables["deals"].rows[did]
            new_cid = int(values.get("contact", cid))
            if new_cid != cid:
                self._ensure_overlay(new_cid)
                self.contact_children[cid]["deals"].remove(did)
                self.contact_children.setdefault(new_cid, {k: [] for k in CHILD_KINDS})["deals"].append(did)
            for key, value in values.items():
                if key in row:
                    row[key] = value
            row["mdate"] = self.clock.iso(self.clock.now())
            self._emit("deal_update", self._event_payload(new_cid, source, deal=self._deal_event(row)))
            return row

    def delete_deal(self, did: int) -> None:
        with self.lock:
            row = self.tables["deals"].get(did)
            if row is None:
                raise not_found("Deal", did)
            cid = int(row["contact"])
            self._ensure_overlay(cid)
            self._remove_child(cid, "deals", did)

    def _deal_values(
        self, data: dict[str, Any], *, creating: bool, current: Row | None = None
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if creating and not data.get("title"):
            raise validation("Deal title is required", "field_missing", "/data/attributes/title")
        if "title" in data:
            out["title"] = str(data["title"])
        if "description" in data:
            out["description"] = str(data["description"] or "")
        if creating and data.get("contact") in (None, "") and data.get("account") in (None, ""):
            raise validation(
                "Deal must have a contact or an account", "field_missing", "/data/attributes/contact"
            )
        if data.get("contact") not in (None, ""):
            cid = int_input(data["contact"], "contact")
            if self._contact(cid) is None:
                raise validation("Contact not found", "related_missing", "/data/attributes/contact")
            out["contact"] = str(cid)
        elif creating:
            raise validation(
                "Contact is required in the sandbox", "field_missing", "/data/attributes/contact"
            )
        if data.get("account") not in (None, ""):
            out["account"] = str(data["account"])
        group = str(data["group"]) if data.get("group") not in (None, "") else None
        stage = str(data["stage"]) if data.get("stage") not in (None, "") else None
        if creating and group is None and stage is None:
            raise validation(
                "Deal must have a pipeline or a stage", "field_missing", "/data/attributes/group"
            )
        if group is not None and group not in self.deal_groups:
            raise validation("Pipeline not found", "related_missing", "/data/attributes/group")
        if stage is not None and stage not in self.deal_stages:
            raise validation("Stage not found", "related_missing", "/data/attributes/stage")
        if stage is None and group is not None:
            stage = (
                self.deal_groups[group]["stages"][0]
                if creating or (current and self.deal_stages[current["stage"]]["group"] != group)
                else current["stage"]
            )
        if group is None and stage is not None:
            group = self.deal_stages[stage]["group"]
        if group is not None and stage is not None and self.deal_stages[stage]["group"] != group:
            raise validation(
                "Stage does not belong to the pipeline", "field_invalid", "/data/attributes/stage"
            )
        if group is not None:
            out["group"], out["stage"] = group, stage
        if "value" in data or creating:
            try:
                value = int(data.get("value", 0))
            except (TypeError, ValueError):
                raise validation(
                    "Deal value must be a whole number of cents", "field_invalid", "/data/attributes/value"
                ) from None
            if value < 0:
                raise validation("Deal value must not be negative", "field_invalid", "/data/attributes/value")
            out["value"] = str(value)
        if "currency" in data or creating:
            out["currency"] = str(data.get("currency") or "usd").lower()
        owner = data.get("owner")
        if owner not in (None, ""):
            if str(owner) not in self.users:
                raise validation("Owner not found", "related_missing", "/data/attributes/owner")
            out["owner"] = str(owner)
        elif creating:
            if group and self.deal_groups[group]["autoassign"] != "1":
                raise validation(
                    "Deal owner is required for this pipeline", "field_missing", "/data/attributes/owner"
                )
            out["owner"] = g.DEAL_OWNERS[0]
        if "status" in data or creating:
            status = str(data.get("status", 0))
            if status not in ("0", "1", "2"):
                raise validation("Invalid attribute", "field_invalid", "/data/attributes/status")
            out["status"] = status
        return out

    def _deal_event(self, row: Row) -> dict[str, Any]:
        stage = self.deal_stages.get(row["stage"], {})
        group = self.deal_groups.get(row["group"], {})
        owner = self.users.get(row["owner"], {})
        contact = self._contact(int(row["contact"])) or {}
        return {
            "id": row["id"],
            "title": row["title"],
            "create_date": row["cdate"],
            "orgid": "0",
            "orgname": "",
            "stageid": row["stage"],
            "stage_title": stage.get("title", ""),
            "pipelineid": row["group"],
            "pipeline_title": group.get("title", ""),
            "value": row["value"],
            "currency": row["currency"],
            "currency_symbol": "$" if row["currency"] == "usd" else "€",
            "owner": row["owner"],
            "owner_firstname": owner.get("firstName", ""),
            "owner_lastname": owner.get("lastName", ""),
            "contactid": row["contact"],
            "contact_email": contact.get("email", ""),
            "contact_firstname": contact.get("firstName", ""),
            "contact_lastname": contact.get("lastName", ""),
            "status": row["status"],
        }
