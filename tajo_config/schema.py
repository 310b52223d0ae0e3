"""The structure of a configuration file, checked key by key into a `Spec` per connection."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError

from connectors.models import (
    BREVO_DEFAULT_API_URL,
    PLAN_RATES,
)
from connectors.validators import normalize_ac_api_url, normalize_brevo_api_url
from tajo_config.keys import (
    AC_PATH,
    BREVO_PATH,
    DEFAULT_NAME,
    LOG_LEVELS,
    MAPPING_SECTIONS,
    OPTION_FIELDS,
    SYNC_FIELDS,
    TOP_LEVEL_SECTIONS,
)
from tajo_config.parse import Document, Path_

_SLUG_RE = re.compile(r"[-a-zA-Z0-9_]+")


@dataclass
class Spec:
    """One connection as the file describes it (checked for keys and types).

    Credentials the file leaves out are `None` here and filled by `_complete_credentials`
    from the existing connection, the environment or the tenant's Brevo account.
    """

    doc: Document
    name: str
    values: dict[str, Any]  # Connection fields given by the file
    api_url: str | None
    api_key: str | None
    plan: str | None
    brevo_api_key: str | None
    brevo_api_url: str | None
    sections: dict[str, dict[Any, Any]]  # mapping sections present in the file
    # Some key of this document is wrong: resolve it to report everything, but never apply it.
    broken: bool = False
    # Which credentials the file itself gives (the others come from elsewhere).
    gives_ac: bool = True
    gives_brevo: bool = True
    # The file's api_url/api_key could not be read: discovery is impossible.
    unusable_credentials: bool = False

    def path(self, *parts: Any) -> Path_:
        return (*AC_PATH, *parts)


class _Checker:
    """Key/type checks of one document; collects errors instead of stopping at the first."""

    def __init__(self, doc: Document, errors: list[str]) -> None:
        self.doc = doc
        self.errors = errors

    def fail(self, path: Path_, message: str) -> None:
        self.errors.append(self.doc.error(path, message))

    def mapping(self, value: Any, path: Path_, allowed: Iterable[str], required: Iterable[str] = ()) -> dict:
        if value is None:
            value = {}
        if not isinstance(value, dict):
            self.fail(path, f"expected a mapping of keys, got {_kind(value)}")
            return {}
        allowed = tuple(allowed)
        for key in value:
            if key not in allowed:
                self.fail((*path, key), f"unknown key '{key}' (expected one of: {', '.join(allowed)})")
        for key in required:
            if key not in value:
                self.fail(path, f"missing required key '{key}'")
        return {key: val for key, val in value.items() if key in allowed}

    def boolean(self, data: dict, key: str, path: Path_) -> bool | None:
        if key not in data:
            return None
        value = data[key]
        if not isinstance(value, bool):
            self.fail((*path, key), f"expected true or false, got {_kind(value)}")
            return None
        return value

    def text(self, data: dict, key: str, path: Path_, *, required: bool = False) -> str | None:
        if key not in data:
            return None
        value = data[key]
        if not isinstance(value, str) or not value.strip():
            if required or value is not None:
                self.fail((*path, key), f"expected text, got {_kind(value)}")
            return None
        return value.strip()

    def choice(self, data: dict, key: str, path: Path_, choices: Iterable[str]) -> str | None:
        value = self.text(data, key, path)
        if value is None:
            return None
        choices = tuple(choices)
        if value.lower() not in choices:
            self.fail((*path, key), f"'{value}' is not one of {', '.join(choices)}")
            return None
        return value.lower()


def _kind(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, str):
        shown = value if len(value) <= 30 else value[:29] + "…"
        return f"text ('{shown}')"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


AC_KEYS = (
    "enabled",
    "name",
    "api_url",
    "api_key",
    "plan",
    "sync",
    *MAPPING_SECTIONS,
    "debug",
    "log_level",
    "log_webhooks",
)


def _hoist_top_level_sections(doc: Document, root: dict, check: _Checker) -> dict:
    """A top-level `field_mapping:` (as the documentation prints it) read as the connection's.

    Its keys keep their lines under the path they belong to, so errors name the real place.
    """
    loose = [key for key in TOP_LEVEL_SECTIONS if key in root]
    if not loose:
        return root
    connectors = root.get("connectors")
    if connectors is not None and not isinstance(connectors, dict):
        return root
    ac = connectors.get("activecampaign") if connectors else None
    if not isinstance(ac, dict | None):
        return root
    merged = dict(root)
    block = dict(ac or {})
    for key in loose:
        if key in block:
            check.fail(
                (key,),
                f"'{key}' is given twice: here and under connectors.activecampaign; keep one "
                f"(it belongs under connectors.activecampaign)",
            )
            continue
        block[key] = merged.pop(key)
        for path, line in list(doc.lines.items()):
            if path[:1] == (key,):
                doc.lines[(*AC_PATH, *path)] = line
        doc.lines.setdefault(AC_PATH, doc.lines.get((key,), doc.start_line))
        doc.lines.setdefault(("connectors",), doc.lines.get((key,), doc.start_line))
    merged["connectors"] = {**(connectors or {}), "activecampaign": block}
    return merged


def read_spec(doc: Document, errors: list[str], *, documents: int = 1) -> Spec | None:
    """Check one document's keys and types; None when it names no connection at all.

    A spec with errors is still returned (marked `broken`) so that its mappings are resolved
    too and every problem of the file is reported at once; it is never applied.
    """
    check = _Checker(doc, errors)
    before = len(errors)
    raw = doc.data
    if isinstance(raw, dict) and documents > 1:
        for key in TOP_LEVEL_SECTIONS:
            if key in raw:
                check.fail(
                    (key,),
                    f"'{key}' belongs under connectors.activecampaign (a file with several "
                    f"connections cannot say which one a top-level '{key}' is for)",
                )
        raw = {k: v for k, v in raw.items() if k not in TOP_LEVEL_SECTIONS}
    elif isinstance(raw, dict):
        raw = _hoist_top_level_sections(doc, raw, check)
    root = check.mapping(raw, (), ("connectors",), required=("connectors",))
    connectors = check.mapping(
        root.get("connectors"),
        ("connectors",),
        ("activecampaign", "brevo"),
        required=("activecampaign",),
    )
    if "activecampaign" not in connectors:
        return None
    ac = check.mapping(connectors.get("activecampaign"), AC_PATH, AC_KEYS)
    gives_brevo = "brevo" in connectors
    brevo = (
        check.mapping(connectors.get("brevo"), BREVO_PATH, ("api_key", "api_url"), required=("api_key",))
        if gives_brevo
        else {}
    )

    values: dict[str, Any] = {}
    for key, model_field in (("enabled", "enabled"), ("debug", "debug"), ("log_webhooks", "log_webhooks")):
        flag = check.boolean(ac, key, AC_PATH)
        if flag is not None:
            values[model_field] = flag
    if (level := check.choice(ac, "log_level", AC_PATH, LOG_LEVELS)) is not None:
        values["log_level"] = level
    name = check.text(ac, "name", AC_PATH) or DEFAULT_NAME
    if not _SLUG_RE.fullmatch(name) or len(name) > 60:
        check.fail((*AC_PATH, "name"), f"'{name}' is not a valid name (letters, digits, - and _; at most 60)")
    plan = check.choice(ac, "plan", AC_PATH, PLAN_RATES)
    credential_errors = len(errors)
    api_url = check.text(ac, "api_url", AC_PATH, required=True)
    api_key = check.text(ac, "api_key", AC_PATH, required=True)
    brevo_key = check.text(brevo, "api_key", BREVO_PATH, required=True) if gives_brevo else None
    brevo_url = (check.text(brevo, "api_url", BREVO_PATH) or BREVO_DEFAULT_API_URL) if gives_brevo else None
    allow_private = settings.TAJO_ALLOW_PRIVATE_URLS
    if api_url:
        try:
            api_url = normalize_ac_api_url(api_url, allow_private=allow_private)
        except ValidationError as exc:
            check.fail((*AC_PATH, "api_url"), " ".join(exc.messages))
    if "api_url" in brevo and brevo_url:
        try:
            brevo_url = normalize_brevo_api_url(brevo_url, allow_private=allow_private)
        except ValidationError as exc:
            check.fail((*BREVO_PATH, "api_url"), " ".join(exc.messages))
    unusable_credentials = len(errors) > credential_errors or (gives_brevo and not brevo_key)

    sync_path = (*AC_PATH, "sync")
    sync = check.mapping(ac.get("sync"), sync_path, (*SYNC_FIELDS, "options"))
    for key, model_field in SYNC_FIELDS.items():
        flag = check.boolean(sync, key, sync_path)
        if flag is not None:
            values[model_field] = flag
    options_path = (*sync_path, "options")
    options = check.mapping(sync.get("options"), options_path, (*OPTION_FIELDS, "defaultPhoneCountry"))
    for key, model_field in OPTION_FIELDS.items():
        flag = check.boolean(options, key, options_path)
        if flag is not None:
            values[model_field] = flag
    if (country := check.text(options, "defaultPhoneCountry", options_path)) is not None:
        import phonenumbers

        if country.upper() not in phonenumbers.SUPPORTED_REGIONS:
            check.fail(
                (*options_path, "defaultPhoneCountry"), f"'{country}' is not an ISO two-letter country code"
            )
        else:
            values["default_phone_country"] = country.upper()

    sections: dict[str, dict] = {}
    for section in MAPPING_SECTIONS:
        if section not in ac:
            continue
        value = ac[section]
        if value is None:
            value = {}
        if not isinstance(value, dict):
            check.fail((*AC_PATH, section), f"expected a mapping of keys, got {_kind(value)}")
            continue
        sections[section] = value
    return Spec(
        doc=doc,
        name=name,
        values=values,
        api_url=api_url,
        api_key=api_key,
        plan=plan,
        brevo_api_key=brevo_key,
        brevo_api_url=brevo_url,
        sections=sections,
        broken=len(errors) > before,
        gives_ac="api_url" in ac or "api_key" in ac,
        gives_brevo=gives_brevo,
        unusable_credentials=unusable_credentials,
    )


# ============================================================================ resolution
