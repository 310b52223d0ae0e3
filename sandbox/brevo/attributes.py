"""Brevo contact attributes: list, create, update, delete (reference §3)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from sandbox.brevo.state import BrevoState
from sandbox.brevo.values import (
    ATTRIBUTE_CATEGORIES,
    ATTRIBUTE_NAME_RE,
    TYPES_BY_CATEGORY,
    Fail,
    as_int,
)


class AttributeRoutes(BrevoState):
    """`/contacts/attributes`."""

    # ------------------------------------------------------------ attributes

    def _list_attributes(self, request: Request, body: Any) -> tuple[int, Any]:
        out = []
        for a in self._attributes.values():
            a = dict(a)
            if a.get("enumeration"):
                a["enumeration"] = [
                    {k: v for k, v in e.items() if k != "valueStr"}
                    if self.legacy
                    else {
                        "value": e["value"],
                        "valueStr": e.get("valueStr") or str(e["value"]),
                        "label": e["label"],
                    }
                    for e in a["enumeration"]
                ]
            out.append(a)
        return 200, {"attributes": out}

    def _attribute_path(self, request: Request) -> tuple[str, str]:
        category, name = request.path_params["category"], request.path_params["name"]
        if category not in ATTRIBUTE_CATEGORIES:
            raise Fail(
                400,
                "invalid_parameter",
                f"attributeCategory must be one of: {', '.join(ATTRIBUTE_CATEGORIES)}",
            )
        return category, name.upper()

    def _create_attribute(self, request: Request, body: Any) -> tuple[int, Any]:
        category, name = self._attribute_path(request)
        body = body or {}
        if not ATTRIBUTE_NAME_RE.match(name):
            raise Fail(
                400,
                "invalid_parameter",
                "Attribute name must start with a letter and contain only "
                "letters, digits, '_' or '-' (max 50 characters)",
            )
        if name in self._attributes:
            raise Fail(400, "duplicate_parameter", "Attribute name must be unique")
        attr: dict[str, Any] = {"name": name, "category": category}
        kind = body.get("type")
        if category in ("calculated", "global"):
            if not isinstance(body.get("value"), str) or not body["value"]:
                raise Fail(
                    400, "missing_parameter", "value is mandatory for calculated and global attributes"
                )
            attr["calculatedValue"] = body["value"]
        elif category == "category":
            enumeration = body.get("enumeration")
            if kind not in (None, "category"):
                raise Fail(400, "invalid_parameter", "type must be category for category attributes")
            if (
                not isinstance(enumeration, list)
                or not enumeration
                or not all(
                    isinstance(e, dict)
                    and (as_int(e.get("value")) is not None or isinstance(e.get("valueStr"), str))
                    and isinstance(e.get("label"), str)
                    and 0 < len(e["label"]) <= 200
                    for e in enumeration
                )
            ):
                raise Fail(
                    400,
                    "invalid_parameter",
                    "enumeration must be a non-empty array of "
                    "{value: int or valueStr: string, label: string (max 200 characters)}",
                )
            attr["type"] = "category"
            attr["enumeration"] = [
                {"value": int(e["value"]), "label": e["label"]}
                if as_int(e.get("value")) is not None and not e.get("valueStr")
                else {
                    "value": as_int(e.get("valueStr")) or 0,
                    "valueStr": str(e["valueStr"]),
                    "label": e["label"],
                }
                for e in enumeration
            ]
        else:
            kind = kind or "text"
            if kind not in TYPES_BY_CATEGORY[category]:
                raise Fail(
                    400,
                    "invalid_parameter",
                    f"type must be one of: {', '.join(sorted(TYPES_BY_CATEGORY[category]))}",
                )
            if kind == "id" and any(a.get("type") == "id" for a in self._attributes.values()):
                raise Fail(400, "invalid_parameter", "Only one transactional attribute of type id is allowed")
            attr["type"] = kind
            if kind == "multiple-choice":
                options = body.get("multiCategoryOptions")
                if (
                    not isinstance(options, list)
                    or not options
                    or not all(isinstance(o, str) and 0 < len(o) <= 200 for o in options)
                ):
                    raise Fail(
                        400,
                        "invalid_parameter",
                        "multiCategoryOptions must be a non-empty array of strings (max 200 characters)",
                    )
                attr["multiCategoryOptions"] = list(dict.fromkeys(options))
        self._attributes[name] = attr
        return 201, None

    def _update_attribute(self, request: Request, body: Any) -> tuple[int, Any]:
        category, name = self._attribute_path(request)
        attr = self._attributes.get(name)
        if attr is None or attr["category"] != category:
            raise Fail(404, "document_not_found", "Attribute does not exist")
        body = body or {}
        if "multiCategoryOptions" in body and attr.get("type") == "multiple-choice":
            attr["multiCategoryOptions"] = list(
                dict.fromkeys(attr["multiCategoryOptions"] + list(body["multiCategoryOptions"]))
            )
        if "enumeration" in body and category == "category":
            attr["enumeration"] = [
                {"value": int(e["value"]), "label": e["label"]} for e in body["enumeration"]
            ]
        if "value" in body and category in ("calculated", "global"):
            attr["calculatedValue"] = body["value"]
        return 204, None

    def _delete_attribute(self, request: Request, body: Any) -> tuple[int, Any]:
        category, name = self._attribute_path(request)
        attr = self._attributes.get(name)
        if attr is None or attr["category"] != category:
            raise Fail(404, "document_not_found", "Attribute does not exist")
        del self._attributes[name]
        return 204, None
