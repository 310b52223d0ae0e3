"""Brevo CRM: pipelines and deals, with their attributes and contact links (reference §6)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request

from sandbox.brevo.state import BrevoState
from sandbox.brevo.values import (
    DEAL_ID_RE,
    Fail,
    as_int,
    iso,
    parse_ts,
    qint,
    since_param,
)


class CrmRoutes(BrevoState):
    """`/crm/pipeline/...`, `/crm/attributes/deals` and `/crm/deals`."""

    # ------------------------------------------------------------ CRM

    def _pipelines_all(self, request: Request, body: Any) -> tuple[int, Any]:
        if not self._pipelines:
            # The spec documents a 400 "Pipeline not found" for this route (an account without CRM).
            raise Fail(400, "invalid_parameter", "Pipeline not found")
        return 200, self._pipelines

    def _pipeline_default(self, request: Request, body: Any) -> tuple[int, Any]:
        if not self._pipelines:
            raise Fail(400, "invalid_parameter", "Pipeline not found")
        return 200, self._pipelines[0]

    def _pipeline_one(self, request: Request, body: Any) -> tuple[int, Any]:
        pid = request.path_params["pipeline_id"]
        found = [p for p in self._pipelines if p["pipeline"] == pid]
        if not found:
            raise Fail(400, "invalid_parameter", "Pipeline not found")
        return 200, found

    def _get_deal_attributes(self, request: Request, body: Any) -> tuple[int, Any]:
        return 200, self._deal_attributes

    def _deal_json(self, d: dict) -> dict:
        return {
            "id": d["id"],
            "attributes": dict(d["attributes"]),
            "linkedContactsIds": list(d["linkedContactsIds"]),
            "linkedCompaniesIds": list(d["linkedCompaniesIds"]),
        }

    def _deal_from_path(self, request: Request) -> dict:
        deal_id = request.path_params["deal_id"]
        if not DEAL_ID_RE.match(deal_id):
            raise Fail(400, "invalid_parameter", "Route attribute id is not valid.")
        deal = self._deals.get(deal_id)
        if deal is None:
            raise Fail(404, "document_not_found", "Document not found")
        return deal

    def _check_contact_ids(self, ids: Any, name: str) -> list[int]:
        if ids is None:
            return []
        if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            raise Fail(400, "invalid_parameter", f"{name} must be an array of integers")
        missing = [i for i in ids if i not in self._contacts]
        if missing:
            raise Fail(
                400, "invalid_parameter", f"{name}: contact(s) not found: {', '.join(map(str, missing))}"
            )
        return list(dict.fromkeys(ids))

    @staticmethod
    def _check_company_ids(ids: Any, name: str) -> list[str]:
        if ids is None:
            return []
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise Fail(400, "invalid_parameter", f"{name} must be an array of strings")
        return list(dict.fromkeys(ids))

    def _check_deal_attributes(self, attributes: Any, current: Mapping[str, Any]) -> dict[str, Any]:
        if attributes is None:
            return {}
        if not isinstance(attributes, dict):
            raise Fail(400, "invalid_parameter", "attributes must be an object")
        known = {a["internalName"]: a for a in self._deal_attributes}
        for key, value in attributes.items():
            attr = known.get(key)
            if attr is None:
                raise Fail(400, "invalid_parameter", f"Deal attribute {key} does not exist")
            if attr["isValueReadonly"]:
                raise Fail(400, "invalid_parameter", f"Deal attribute {key} is read-only")
            if (
                attr["attributeTypeName"] == "number"
                and value is not None
                and (isinstance(value, bool) or not isinstance(value, int | float))
            ):
                raise Fail(400, "invalid_parameter", f"Deal attribute {key} must be a number")
        pipeline_id = attributes.get("pipeline", current.get("pipeline"))
        stage_id = attributes.get("deal_stage", current.get("deal_stage"))
        pipeline = next((p for p in self._pipelines if p["pipeline"] == pipeline_id), None)
        if "pipeline" in attributes and pipeline is None:
            raise Fail(400, "invalid_parameter", "Pipeline not found")
        if "deal_stage" in attributes and stage_id is not None:
            pipelines = [pipeline] if pipeline else self._pipelines
            if not any(s["id"] == stage_id for p in pipelines for s in p["stages"]):
                raise Fail(400, "invalid_parameter", "Deal stage not found in the pipeline")
        return dict(attributes)

    def _create_deal(self, request: Request, body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict):
            raise Fail(400, "bad_request", "Not valid data.")
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise Fail(400, "missing_parameter", "name is mandatory")
        attrs = self._check_deal_attributes(body.get("attributes"), {})
        contacts = self._check_contact_ids(body.get("linkedContactsIds"), "linkedContactsIds")
        companies = self._check_company_ids(body.get("linkedCompaniesIds"), "linkedCompaniesIds")
        if self._pipelines and "pipeline" not in attrs:
            # Without a pipeline the deal lands in the stage's pipeline, else the default's first stage.
            stage = attrs.get("deal_stage")
            owner = next(
                (p for p in self._pipelines if any(s["id"] == stage for s in p["stages"])), self._pipelines[0]
            )
            attrs["pipeline"] = owner["pipeline"]
            attrs.setdefault("deal_stage", owner["stages"][0]["id"])
        elif "pipeline" in attrs and "deal_stage" not in attrs:
            pipeline = next(p for p in self._pipelines if p["pipeline"] == attrs["pipeline"])
            attrs["deal_stage"] = pipeline["stages"][0]["id"]
        deal_id = hashlib.sha256(f"deal-{self._next_deal}".encode()).hexdigest()[:24]
        self._next_deal += 1
        now = iso(time.time())
        attrs.update(
            deal_name=name,
            created_at=now,
            last_updated_date=now,
            stage_updated_at=now,
            number_of_contacts=len(contacts),
            number_of_activities=0,
            last_activity_date=None,
            next_activity_date=None,
        )
        self._deals[deal_id] = {
            "id": deal_id,
            "attributes": attrs,
            "linkedContactsIds": contacts,
            "linkedCompaniesIds": companies,
            "created": time.time(),
        }
        return 201, {"id": deal_id}

    def _touch_deal(self, deal: dict, *, stage_before: Any) -> None:
        now = iso(time.time())
        deal["attributes"]["last_updated_date"] = now
        if deal["attributes"].get("deal_stage") != stage_before:
            deal["attributes"]["stage_updated_at"] = now
        deal["attributes"]["number_of_contacts"] = len(deal["linkedContactsIds"])

    def _update_deal(self, request: Request, body: Any) -> tuple[int, Any]:
        deal = self._deal_from_path(request)
        if not isinstance(body, dict):
            raise Fail(400, "bad_request", "Not valid data.")
        attrs = self._check_deal_attributes(body.get("attributes"), deal["attributes"])
        contacts = (
            self._check_contact_ids(body["linkedContactsIds"], "linkedContactsIds")
            if "linkedContactsIds" in body
            else None
        )
        companies = (
            self._check_company_ids(body["linkedCompaniesIds"], "linkedCompaniesIds")
            if "linkedCompaniesIds" in body
            else None
        )
        stage_before = deal["attributes"].get("deal_stage")
        deal["attributes"].update(attrs)
        if isinstance(body.get("name"), str) and body["name"].strip():
            deal["attributes"]["deal_name"] = body["name"]
        # PATCH replaces the linked arrays (reference §6.1).
        if contacts is not None:
            deal["linkedContactsIds"] = contacts
        if companies is not None:
            deal["linkedCompaniesIds"] = companies
        self._touch_deal(deal, stage_before=stage_before)
        return 204, None

    def _link_unlink_deal(self, request: Request, body: Any) -> tuple[int, Any]:
        deal = self._deal_from_path(request)
        if not isinstance(body, dict):
            raise Fail(400, "bad_request", "Not valid data.")
        link = self._check_contact_ids(body.get("linkContactIds"), "linkContactIds")
        unlink = set(self._check_contact_ids(body.get("unlinkContactIds"), "unlinkContactIds"))
        link_co = self._check_company_ids(body.get("linkCompanyIds"), "linkCompanyIds")
        unlink_co = set(self._check_company_ids(body.get("unlinkCompanyIds"), "unlinkCompanyIds"))
        deal["linkedContactsIds"] = [
            i for i in dict.fromkeys(deal["linkedContactsIds"] + link) if i not in unlink
        ]
        deal["linkedCompaniesIds"] = [
            i for i in dict.fromkeys(deal["linkedCompaniesIds"] + link_co) if i not in unlink_co
        ]
        self._touch_deal(deal, stage_before=deal["attributes"].get("deal_stage"))
        return 204, None

    def _get_deal(self, request: Request, body: Any) -> tuple[int, Any]:
        return 200, self._deal_json(self._deal_from_path(request))

    def _delete_deal(self, request: Request, body: Any) -> tuple[int, Any]:
        del self._deals[self._deal_from_path(request)["id"]]
        return 204, None

    def _list_deals(self, request: Request, body: Any) -> tuple[int, Any]:
        params = request.query_params
        limit = qint(params, "limit", 50, 500)
        offset = qint(params, "offset", 0)
        name = params.get("filters[attributes.deal_name]")
        contact = as_int(params.get("filters[linkedContactsIds]"))
        company = params.get("filters[linkedCompaniesIds]")
        since = since_param(params, "modifiedSince")
        rows = [
            d
            for d in self._deals.values()
            if (name is None or d["attributes"].get("deal_name") == name)
            and (contact is None or contact in d["linkedContactsIds"])
            and (company is None or company in d["linkedCompaniesIds"])
            and (since is None or parse_ts(d["attributes"]["last_updated_date"], "x") >= since)
        ]
        if params.get("sort", "desc") == "desc":
            rows.reverse()
        return 200, {"items": [self._deal_json(d) for d in rows[offset : offset + limit]]}
