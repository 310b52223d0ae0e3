"""Brevo contacts: create, update, get, delete, list and the batch update (reference §2.1-2.7)."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote_plus

from starlette.requests import Request

from sandbox.brevo.state import BrevoState
from sandbox.brevo.values import (
    DROP,
    DUP_NAME,
    IDENTIFIER_TYPES,
    INDEXED_ATTRS,
    PHONE_ATTRS,
    SMS_MESSAGE,
    Fail,
    as_int,
    coerce,
    iso,
    normalise_phone,
    qint,
    since_param,
    valid_email,
)


class ContactRoutes(BrevoState):
    """`/contacts` and `/contacts/{identifier}`, and the identifier and attribute rules they share."""

    # ------------------------------------------------------------ contacts: internals

    def _contact_json(self, c: dict, *, statistics: bool = False) -> dict:
        out: dict[str, Any] = {"id": c["id"]}
        if c["email"]:
            out["email"] = c["email"]
        out.update(
            emailBlacklisted=c["emailBlacklisted"],
            smsBlacklisted=c["smsBlacklisted"],
            **({} if self.legacy else {"whatsappBlacklisted": c.get("whatsappBlacklisted", False)}),
            createdAt=iso(c["created"]),
            modifiedAt=iso(c["modified"]),
            listIds=sorted(c["listIds"]),
            attributes=dict(c["attributes"]),
        )
        if c["listUnsubscribed"]:
            out["listUnsubscribed"] = sorted(c["listUnsubscribed"])
        if statistics:
            out["statistics"] = {
                "messagesSent": [],
                "hardBounces": [],
                "softBounces": [],
                "complaints": [],
                "unsubscriptions": {"userUnsubscription": [], "adminUnsubscription": []},
                "opened": [],
                "clicked": [],
                "transacAttributes": [],
                "delivered": [],
            }
        return out

    def _find(self, kind: str, value: Any) -> int | None:
        """Contact id for an identifier of `kind` (EMAIL, ID, EXT_ID, SMS, WHATSAPP, LANDLINE_NUMBER)."""
        if kind == "EMAIL":
            return self._by_email.get(str(value).strip().lower()) if value is not None else None
        if kind == "ID":
            cid = as_int(value)
            return cid if cid in self._contacts else None
        if kind in PHONE_ATTRS:
            digits = normalise_phone(value)
            return self._by_attr[kind].get(digits) if digits else None
        return self._by_attr[kind].get(str(value))

    def _resolve_path_identifier(self, request: Request, *, allow_sms: bool) -> int:
        raw_path = request.scope.get("raw_path")
        if raw_path:
            # Decode the raw segment ourselves: like Brevo, an unencoded '+' means a space.
            segment = raw_path.split(b"?", 1)[0].rstrip(b"/").rsplit(b"/", 1)[-1]
            identifier = unquote_plus(segment.decode("ascii", "replace"))
        else:
            identifier = request.path_params["identifier"]
        id_type = request.query_params.get("identifierType")
        if id_type:
            kind = IDENTIFIER_TYPES.get(id_type)
            if kind is None:
                raise Fail(
                    400, "invalid_parameter", f"identifierType must be one of: {', '.join(IDENTIFIER_TYPES)}"
                )
            cid = self._find(kind, identifier)
        elif "@" in identifier:
            cid = self._find("EMAIL", identifier)
        elif identifier.isdigit():
            cid = self._find("ID", identifier)
            if cid is None and allow_sms:
                cid = self._find("SMS", identifier)
        elif allow_sms and normalise_phone(identifier):
            cid = self._find("SMS", identifier)
        else:
            raise Fail(
                400,
                "invalid_parameter",
                "Invalid identifier: pass an email, a contact id or an identifierType",
            )
        if cid is None:
            raise Fail(404, "document_not_found", "Contact does not exist")
        return cid

    def _check_lists(self, list_ids: Any, name: str = "listIds") -> list[int]:
        if list_ids is None:
            return []
        if not isinstance(list_ids, list) or any(as_int(x) is None or isinstance(x, str) for x in list_ids):
            raise Fail(400, "invalid_parameter", f"{name} must be an array of integers")
        missing = [x for x in list_ids if x not in self._lists]
        if missing:
            raise Fail(
                400,
                "invalid_parameter",
                f"{name} contains unknown list id(s): {', '.join(map(str, missing))}",
            )
        return list(list_ids)

    def _prepare_attributes(self, attributes: Any, *, from_text: bool, drop_unknown: bool) -> dict[str, Any]:
        """Known attributes coerced to their type; `None`/"" kept as erase markers."""
        if attributes is None:
            return {}
        if not isinstance(attributes, dict):
            raise Fail(400, "invalid_parameter", "attributes must be an object")
        out: dict[str, Any] = {}
        unknown = []
        for raw_name, value in attributes.items():
            name = str(raw_name).upper()
            attr = self._attributes.get(name)
            if attr is None:
                unknown.append(name)
                continue
            if value is None or value == "":
                out[name] = None
                continue
            if name in PHONE_ATTRS or name in ("EXT_ID", "EMAIL"):
                out[name] = value  # identifiers are validated by the caller
                continue
            coerced = coerce(attr, value, from_text=from_text)
            if coerced is not DROP:
                out[name] = coerced
        if unknown and not drop_unknown and self.unknown_attributes == "reject":
            raise Fail(
                400,
                "invalid_parameter",
                f"Attribute(s) not found in the account: {', '.join(sorted(unknown))}",
            )
        return out

    def _identifiers_from(self, email: Any, ext_id: Any, attrs: dict[str, Any]) -> dict[str, str]:
        """Validated identifiers of a create/update body: {EMAIL|SMS|EXT_ID|...: normalised value}."""
        ids: dict[str, str] = {}
        if email is not None and email != "":
            if not valid_email(email):
                raise Fail(400, "invalid_parameter", "Invalid email address")
            ids["EMAIL"] = email.strip().lower()
        if ext_id is not None and ext_id != "":
            ids["EXT_ID"] = str(ext_id)
        for name, message in (
            ("SMS", SMS_MESSAGE),
            ("WHATSAPP", "Invalid WhatsApp number"),
            ("LANDLINE_NUMBER", "Invalid landline number"),
        ):
            value = attrs.get(name)
            if value is None:
                continue
            digits = normalise_phone(value)
            if digits is None:
                raise Fail(400, "invalid_parameter", message)
            ids[name] = digits
        return ids

    def _conflicts(self, ids: Mapping[str, str], owner: int | None) -> list[str]:
        """Identifier names already used by a contact other than `owner`."""
        return [
            DUP_NAME[k]
            for k, v in ids.items()
            if (cid := self._find_normalised(k, v)) is not None and cid != owner
        ]

    def _find_normalised(self, kind: str, value: str) -> int | None:
        return self._by_email.get(value) if kind == "EMAIL" else self._by_attr[kind].get(value)

    def _new_contact(self, now: float) -> dict:
        cid = self._next_contact
        self._next_contact += 1
        c = {
            "id": cid,
            "email": None,
            "emailBlacklisted": False,
            "smsBlacklisted": False,
            "created": now,
            "modified": now,
            "listIds": set(),
            "listUnsubscribed": set(),
            "attributes": {},
        }
        self._contacts[cid] = c
        return c

    def _set_identifier(self, c: dict, kind: str, value: str | None) -> None:
        if kind == "EMAIL":
            if c["email"]:
                self._by_email.pop(c["email"], None)
            c["email"] = value
            if value:
                self._by_email[value] = c["id"]
            return
        old = c["attributes"].get(kind)
        if old is not None:
            self._by_attr[kind].pop(old, None)
        if value:
            c["attributes"][kind] = value
            self._by_attr[kind][value] = c["id"]
        else:
            c["attributes"].pop(kind, None)

    def _apply(
        self,
        c: dict,
        ids: Mapping[str, str | None],
        attrs: Mapping[str, Any],
        *,
        erase_empty: bool,
        now: float,
    ) -> None:
        for kind, value in ids.items():
            self._set_identifier(c, kind, value)
        for name, value in attrs.items():
            if name in INDEXED_ATTRS or name == "EMAIL":
                continue
            if value is None:
                if erase_empty:
                    c["attributes"].pop(name, None)
            else:
                c["attributes"][name] = value
        c["modified"] = now

    def _apply_common(self, c: dict, body: Mapping[str, Any]) -> None:
        if isinstance(body.get("emailBlacklisted"), bool):
            c["emailBlacklisted"] = body["emailBlacklisted"]
        if isinstance(body.get("smsBlacklisted"), bool):
            c["smsBlacklisted"] = body["smsBlacklisted"]

    # ------------------------------------------------------------ contacts: routes

    def _create_contact(self, request: Request, body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict):
            raise Fail(400, "bad_request", "Request body must be a JSON object")
        attrs = self._prepare_attributes(body.get("attributes"), from_text=False, drop_unknown=False)
        email = body.get("email", attrs.get("EMAIL"))
        ids = self._identifiers_from(email, body.get("ext_id", attrs.get("EXT_ID")), attrs)
        if not ids:
            raise Fail(
                400, "missing_parameter", "An email or SMS phone number is mandatory to create a new contact."
            )
        list_ids = self._check_lists(body.get("listIds"))
        matches = {k: cid for k, v in ids.items() if (cid := self._find_normalised(k, v)) is not None}
        now = time.time()
        if matches and not body.get("updateEnabled"):
            dups = [DUP_NAME[k] for k in matches]
            if "email" in dups:
                message = "Unable to create contact, email is already associated with another Contact"
            elif "sms" in dups:
                message = (
                    "SMS phone number is already associated with another contact. Please enter "
                    "unique SMS phone number."
                )
            else:
                message = f"Unable to create contact, {dups[0]} is already associated with another Contact"
            raise Fail(400, "duplicate_parameter", message, {"duplicate_identifiers": dups})
        if matches:
            # Upsert: the contact matched by the strongest identifier is the one updated.
            owner = next(matches[k] for k in ("EMAIL", "EXT_ID", *PHONE_ATTRS) if k in matches)
            conflicts = self._conflicts(ids, owner)
            if conflicts:
                raise Fail(
                    400,
                    "duplicate_parameter",
                    f"Unable to update contact, {conflicts[0]} is already associated with another Contact",
                    {"duplicate_identifiers": conflicts},
                )
            c = self._contacts[owner]
            self._apply(c, ids, attrs, erase_empty=False, now=now)
            self._apply_common(c, body)
            c["listIds"].update(list_ids)
            return 204, None
        c = self._new_contact(now)
        self._apply(c, ids, attrs, erase_empty=False, now=now)
        self._apply_common(c, body)
        c["listIds"].update(list_ids)
        return 201, {"id": c["id"]}

    def _update_fields(self, c: dict, body: Mapping[str, Any]) -> Callable[[], None]:
        """Validate an update body against contact `c`; return the closure that applies it."""
        attrs = self._prepare_attributes(body.get("attributes"), from_text=False, drop_unknown=False)
        new_ids: dict[str, str | None] = {}
        if "EMAIL" in attrs:
            if attrs["EMAIL"] is None:
                new_ids["EMAIL"] = None
            elif not valid_email(attrs["EMAIL"]):
                raise Fail(400, "invalid_parameter", "Invalid email address")
            else:
                new_ids["EMAIL"] = attrs["EMAIL"].strip().lower()
        ext_id = body.get("ext_id", attrs.get("EXT_ID"))
        if ext_id is not None or "EXT_ID" in attrs:
            new_ids["EXT_ID"] = str(ext_id) if ext_id not in (None, "") else None
        phone_ids = self._identifiers_from(
            None, None, {k: v for k, v in attrs.items() if k in PHONE_ATTRS and v is not None}
        )
        new_ids.update(phone_ids)
        for name in PHONE_ATTRS:
            if name in attrs and attrs[name] is None:
                new_ids[name] = None
        conflicts = self._conflicts({k: v for k, v in new_ids.items() if v}, c["id"])
        if conflicts:
            what = conflicts[0]
            raise Fail(
                400,
                self.update_duplicate_code,
                f"Unable to update contact, {what} is already associated with another Contact",
                {"duplicate_identifiers": conflicts},
            )
        remaining = {"EMAIL": c["email"], **{k: c["attributes"].get(k) for k in INDEXED_ATTRS}}
        remaining.update(new_ids)
        if not any(remaining.values()):
            raise Fail(400, "invalid_parameter", "A contact must keep at least one identifier")
        add = self._check_lists(body.get("listIds"))
        remove = self._check_lists(body.get("unlinkListIds"), "unlinkListIds")

        def apply() -> None:
            now = time.time()
            if "EMAIL" in new_ids and c["emailBlacklisted"] and new_ids["EMAIL"] != c["email"]:
                c["emailBlacklisted"] = False  # a new address re-subscribes (reference §2.3)
            self._apply(c, new_ids, attrs, erase_empty=True, now=now)
            self._apply_common(c, body)
            c["listIds"].update(add)
            c["listIds"].difference_update(remove)

        return apply

    def _update_contact(self, request: Request, body: Any) -> tuple[int, Any]:
        cid = self._resolve_path_identifier(request, allow_sms=False)
        if not isinstance(body, dict):
            raise Fail(400, "bad_request", "Request body must be a JSON object")
        self._update_fields(self._contacts[cid], body)()
        return 204, None

    def _get_contact(self, request: Request, body: Any) -> tuple[int, Any]:
        cid = self._resolve_path_identifier(request, allow_sms=True)
        params = request.query_params
        if bool(params.get("startDate")) != bool(params.get("endDate")):
            raise Fail(400, "invalid_parameter", "startDate and endDate must be passed together")
        return 200, self._contact_json(self._contacts[cid], statistics=True)

    def _delete_contact(self, request: Request, body: Any) -> tuple[int, Any]:
        cid = self._resolve_path_identifier(request, allow_sms=False)
        c = self._contacts.pop(cid)
        if c["email"]:
            self._by_email.pop(c["email"], None)
        for name in INDEXED_ATTRS:
            if c["attributes"].get(name):
                self._by_attr[name].pop(c["attributes"][name], None)
        return 204, None

    def _list_contacts(self, request: Request, body: Any) -> tuple[int, Any]:
        params = request.query_params
        limit = qint(params, "limit", 50, 1000)
        offset = qint(params, "offset", 0)
        sort = params.get("sort", "desc")
        if sort not in ("asc", "desc"):
            raise Fail(400, "invalid_parameter", "sort must be asc or desc")
        modified_since = since_param(params, "modifiedSince")
        created_since = since_param(params, "createdSince")
        list_filter = {int(x) for x in params.getlist("listIds") if x.isdigit()}
        # The dict keeps creation (= id) order.
        if modified_since is None and created_since is None and not list_filter:
            # Unfiltered paging must not cost a scan of the whole account per page.
            ordered = self._contacts.values() if sort == "asc" else reversed(self._contacts.values())
            page = list(itertools.islice(ordered, offset, offset + limit))
            return 200, {"contacts": [self._contact_json(c) for c in page], "count": len(self._contacts)}
        rows = [
            c
            for c in self._contacts.values()
            if (modified_since is None or c["modified"] >= modified_since)
            and (created_since is None or c["created"] >= created_since)
            and (not list_filter or c["listIds"] & list_filter)
        ]
        if sort == "desc":
            rows.reverse()
        page = rows[offset : offset + limit]
        return 200, {"contacts": [self._contact_json(c) for c in page], "count": len(rows)}

    def _batch_update(self, request: Request, body: Any) -> tuple[int, Any]:
        if not self.legacy:
            raise Fail(
                404,
                "document_not_found",
                "POST /contacts/batch was removed on 2026-10-30; use POST /v3/contacts/import",
            )
        items = body.get("contacts") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            raise Fail(400, "missing_parameter", "contacts is mandatory and must be a non-empty array")
        targets: list[int | None] = []
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                raise Fail(400, "invalid_parameter", f"contacts[{index}] must be an object")
            given = [k for k in ("email", "id", "sms") if item.get(k) not in (None, "")]
            if len(given) != 1:
                raise Fail(
                    400, "invalid_parameter", f"contacts[{index}]: pass exactly one of email, id or sms"
                )
            key = given[0]
            if key == "email" and not valid_email(item["email"]):
                raise Fail(400, "invalid_parameter", f"contacts[{index}]: Invalid email address")
            targets.append(self._find({"email": "EMAIL", "id": "ID", "sms": "SMS"}[key], item[key]))
        missing = [i for i, cid in enumerate(targets) if cid is None]
        if missing and self.batch_unknown == "all_or_nothing":
            raise Fail(
                404, "document_not_found", f"No contact found for indexes {','.join(map(str, missing))}"
            )
        appliers = []
        for index, (item, cid) in enumerate(zip(items, targets, strict=True)):
            if cid is None:
                continue
            try:
                appliers.append((cid, self._update_fields(self._contacts[cid], item)))
            except Fail as fail:
                raise Fail(
                    fail.status, fail.code, f"contacts[{index}]: {fail.message}", fail.metadata
                ) from None
        for _cid, apply in appliers:
            apply()
        if missing:
            return 207, {"successIds": [cid for cid, _ in appliers], "failureIds": missing}
        return 204, None
