"""The structure of a configuration file: pydantic models of its blocks, read into a `Spec` each.

The models say which keys each block takes and what type each value has; `read_spec` turns
pydantic's errors into the file's own `FILE:LINE: dotted.key: message` lines. A file with
errors is still read as far as it can be (the wrong values dropped, the rest kept), so that its
mapping sections are resolved too and every problem comes in one round.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, ValidationInfo
from pydantic_core import PydanticCustomError

from connectors.models import BREVO_DEFAULT_API_URL, PLAN_RATES
from connectors.validators import normalize_ac_api_url, normalize_brevo_api_url
from mappings.compat import NEW_ATTRIBUTE_RE
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
from tajo_config.parse import Document, Path_, _by_line

_SLUG_RE = re.compile(r"[-a-zA-Z0-9_]+")
# Errors carry their final wording in this pydantic error type.
_MESSAGE = "tajo_config"


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


def _refuse(message: str) -> PydanticCustomError:
    return PydanticCustomError(_MESSAGE, "{message}", {"message": message})


# ---------------------------------------------------------------------------- value types
# Each runs before pydantic's own validation and raises with the file's wording. A key that is
# absent keeps the field's default without running them; an explicit `null` runs them.


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _refuse(f"expected true or false, got {_kind(value)}")
    return value


def _text(value: Any) -> str | None:
    """Text, stripped; `null` means "not given"."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _refuse(f"expected text, got {_kind(value)}")
    return value.strip()


def _required_text(value: Any) -> str:
    """Text that may be left out but not given as `null` (credentials)."""
    if not isinstance(value, str) or not value.strip():
        raise _refuse(f"expected text, got {_kind(value)}")
    return value.strip()


def _choice(choices: tuple[str, ...]) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        text = _text(value)
        if text is not None and text.lower() not in choices:
            raise _refuse(f"'{text}' is not one of {', '.join(choices)}")
        return None if text is None else text.lower()

    return check


def _block(value: Any) -> Any:
    """A nested block: `null` reads as empty."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _refuse(f"expected a mapping of keys, got {_kind(value)}")
    return value


def _name(value: Any) -> str | None:
    name = _text(value)
    if name is not None and (not _SLUG_RE.fullmatch(name) or len(name) > 60):
        raise _refuse(f"'{name}' is not a valid name (letters, digits, - and _; at most 60)")
    return name


def _country(value: Any) -> str | None:
    country = _text(value)
    if country is not None and country.upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise _refuse(f"'{country}' is not an ISO two-letter country code")
    return None if country is None else country.upper()


def _tags_attribute(value: Any) -> str | None:
    """A Brevo attribute name, or `false` for none (tags then reach Brevo only through tag_mapping)."""
    if value is False:
        return ""
    name = _text(value)
    if name is not None and not NEW_ATTRIBUTE_RE.fullmatch(name.upper()):
        raise _refuse(
            f"'{name}' is not a Brevo attribute name (capital letters, digits and _, starting with a "
            "letter, at most 50 characters), or false for none"
        )
    return None if name is None else name.upper()


def _url(normalize: Callable[..., str]) -> Callable[[Any, ValidationInfo], str]:
    def check(value: Any, info: ValidationInfo) -> str:
        text = _required_text(value)
        allow_private = (info.context or {}).get("allow_private", False)
        try:
            return normalize(text, allow_private=allow_private)
        except DjangoValidationError as exc:
            raise _refuse(" ".join(exc.messages)) from exc

    return check


Flag = Annotated[bool | None, BeforeValidator(_flag)]
Text = Annotated[str | None, BeforeValidator(_text)]
Credential = Annotated[str | None, BeforeValidator(_required_text)]
Section = Annotated[dict[Any, Any] | None, BeforeValidator(_block)]


class _Block(BaseModel):
    """A block of the file: unknown keys are errors, values keep the file's spelling of keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        """The keys the block takes, in the documentation's order (for "expected one of")."""
        return tuple(info.alias or name for name, info in cls.model_fields.items())


class OptionsBlock(_Block):
    """`sync.options`: what a contact carries along."""

    include_tags: Flag = Field(None, alias="includeTags")
    include_custom_fields: Flag = Field(None, alias="includeCustomFields")
    include_scores: Flag = Field(None, alias="includeScores")
    include_list_memberships: Flag = Field(None, alias="includeListMemberships")
    deals_as_crm_objects: Flag = Field(None, alias="dealsAsCrmObjects")
    default_phone_country: Annotated[str | None, BeforeValidator(_country)] = Field(
        None, alias="defaultPhoneCountry"
    )
    tags_attribute: Annotated[str | None, BeforeValidator(_tags_attribute)] = Field(
        None, alias="tagsAttribute"
    )


class SyncBlock(_Block):
    """`sync`: which resources a run syncs."""

    sync_contacts: Flag = Field(None, alias="contacts")
    sync_deals: Flag = Field(None, alias="deals")
    sync_automations: Flag = Field(None, alias="automations")
    sync_events: Flag = Field(None, alias="events")
    sync_ecommerce: Flag = Field(None, alias="ecommerce")
    sync_custom_objects: Flag = Field(None, alias="custom_objects")
    sync_lists: Flag = Field(None, alias="lists")
    options: Annotated[OptionsBlock, BeforeValidator(_block)] = OptionsBlock()


class ActiveCampaignBlock(_Block):
    """`connectors.activecampaign`: one connection, its mappings and its debug settings."""

    enabled: Flag = None
    name: Annotated[str | None, BeforeValidator(_name)] = None
    api_url: Annotated[str | None, BeforeValidator(_url(normalize_ac_api_url))] = None
    api_key: Credential = None
    plan: Annotated[str | None, BeforeValidator(_choice(tuple(PLAN_RATES)))] = None
    sync: Annotated[SyncBlock, BeforeValidator(_block)] = SyncBlock()
    list_mapping: Section = None
    field_mapping: Section = None
    tag_mapping: Section = None
    stage_mapping: Section = None
    owner_mapping: Section = None
    automation_mapping: Section = None
    event_mapping: Section = None
    score_mapping: Section = None
    custom_object_mapping: Section = None
    debug: Flag = None
    log_level: Annotated[str | None, BeforeValidator(_choice(LOG_LEVELS))] = None
    log_webhooks: Flag = None


class BrevoBlock(_Block):
    """`connectors.brevo`: the Brevo account the connection writes to."""

    api_key: Annotated[str, BeforeValidator(_required_text)]
    api_url: Annotated[str | None, BeforeValidator(_url(normalize_brevo_api_url))] = None


class ConnectorsBlock(_Block):
    activecampaign: Annotated[ActiveCampaignBlock, BeforeValidator(_block)]
    brevo: Annotated[BrevoBlock | None, BeforeValidator(_block)] = None


class ConfigFile(_Block):
    """One document of a configuration file."""

    connectors: Annotated[ConnectorsBlock, BeforeValidator(_block)]

    BLOCKS: ClassVar[dict[Path_, type[_Block]]] = {}


ConfigFile.BLOCKS = {
    (): ConfigFile,
    ("connectors",): ConnectorsBlock,
    AC_PATH: ActiveCampaignBlock,
    BREVO_PATH: BrevoBlock,
    (*AC_PATH, "sync"): SyncBlock,
    (*AC_PATH, "sync", "options"): OptionsBlock,
}
# The block fields that stand for the Connection fields of the same name.
_SYNC_MODEL_FIELDS = tuple(SYNC_FIELDS.values())
_OPTION_MODEL_FIELDS = (*OPTION_FIELDS.values(), "default_phone_country", "tags_attribute")
_CREDENTIALS = {
    (*AC_PATH, "api_url"),
    (*AC_PATH, "api_key"),
    (*BREVO_PATH, "api_key"),
    (*BREVO_PATH, "api_url"),
}


# ---------------------------------------------------------------------------- errors


def _message(error: Any, blocks: dict[Path_, type[_Block]]) -> tuple[Path_, str]:
    """Where a pydantic error points in the file, and what to say there."""
    loc: Path_ = tuple(error["loc"])
    kind = error["type"]
    if kind == _MESSAGE:
        return loc, error["ctx"]["message"]
    if kind == "missing":
        return loc[:-1], f"missing required key '{loc[-1]}'"
    if kind in ("extra_forbidden", "invalid_key"):
        block = blocks.get(loc[:-1])
        allowed = ", ".join(block.keys()) if block is not None else ""
        return loc, f"unknown key '{loc[-1]}' (expected one of: {allowed})"
    return loc, f"{error['msg']}, got {_kind(error.get('input'))}"  # not expected: a safety net


def _without(data: Any, loc: Path_, *, empty: bool = False) -> Any:
    """`data` with the value at `loc` removed (or emptied), copying only the dicts on the way."""
    if not loc or not isinstance(data, dict):
        return data
    head, rest = loc[0], loc[1:]
    if head not in data:
        return data
    copy = dict(data)
    if rest:
        copy[head] = _without(data[head], rest, empty=empty)
    elif empty:
        copy[head] = {}
    else:
        del copy[head]
    return copy


def validate_leniently(
    model: type[_Block], data: Any, *, context: dict[str, Any] | None = None, blocks: dict | None = None
) -> tuple[_Block | None, list[tuple[Path_, str]]]:
    """Validate `data`, dropping what is wrong until the rest validates; every error is returned.

    A wrong value is dropped as if the key were absent (a wrong connection block reads as
    empty). None when what remains names no connection (no `connectors.activecampaign`), or a
    required key is missing from a block that cannot go without it.
    """
    blocks = blocks if blocks is not None else {(): model}
    found: list[tuple[Path_, str]] = []
    seen: set[tuple[Path_, str]] = set()
    for _ in range(8):  # each round drops at least one value; files this deep do not exist
        try:
            return model.model_validate(data, context=context), found
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
        # The checks a reader sees first come first: unknown keys, then missing ones, then values.
        errors.sort(key=lambda e: {"extra_forbidden": 0, "invalid_key": 0, "missing": 1}.get(e["type"], 2))
        for error in errors:
            where = _message(error, blocks)
            if where not in seen:
                seen.add(where)
                found.append(where)
        for error in errors:
            loc = tuple(error["loc"])
            if error["type"] == "missing":
                if loc[:-1] not in blocks or len(loc) <= 2:
                    return None, found  # no connection is named
                data = _without(data, loc[:-1])
            elif loc == AC_PATH:
                data = _without(data, loc, empty=True)
            elif model is ConfigFile and loc in ((), ("connectors",)):
                return None, found  # not a mapping: nothing names a connection
            else:
                data = _without(data, loc)
    return None, found


# ---------------------------------------------------------------------------- nested items


class AttributeItem(_Block):
    """`{attribute, transform}` in a field, score or custom object mapping."""

    attribute: Any
    transform: Any = None


class TagTarget(_Block):
    """What one AC tag becomes: a Brevo list, an attribute value, or both."""

    list: Any = None
    attribute: Any = None
    value: Any = None
    value_when_absent: Any = None
    unlink_when_absent: Flag = None


class StageTarget(_Block):
    """`{pipeline, stage}`: a Brevo pipeline stage."""

    pipeline: Any
    stage: Any


class AutomationTarget(_Block):
    """`{entered, completed}`: the Brevo events for an automation."""

    entered: Any
    completed: Any = None


def read_item(model: type[_Block], value: Any, path: Path_, doc: Document, errors: list[str]) -> dict:
    """One nested mapping of a section checked against `model`: the keys it gives that hold.

    Every problem is added to `errors` with its line; the caller decides what a missing key
    means for the row.
    """
    if value is None:
        value = {}
    if not isinstance(value, dict):
        errors.append(doc.error(path, f"expected a mapping of keys, got {_kind(value)}"))
        return {}
    checked, problems = validate_leniently(model, value)
    for where, message in problems:
        errors.append(doc.error((*path, *where), message))
    if checked is not None:
        return {key: getattr(checked, key) for key in checked.model_fields_set}
    allowed = model.keys()
    bad = {where[0] for where, _ in problems if where}
    return {key: val for key, val in value.items() if key in allowed and key not in bad}


# ---------------------------------------------------------------------------- the spec


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


def _hoist_top_level_sections(doc: Document, root: dict, errors: list[str]) -> dict:
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
            errors.append(
                doc.error(
                    (key,),
                    f"'{key}' is given twice: here and under connectors.activecampaign; keep one "
                    f"(it belongs under connectors.activecampaign)",
                )
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
    too and every problem of the file is reported at once; it is never applied. Its errors are
    added to `errors` in file order.
    """
    found: list[str] = []
    raw = doc.data
    if isinstance(raw, dict) and documents > 1:
        for key in TOP_LEVEL_SECTIONS:
            if key in raw:
                found.append(
                    doc.error(
                        (key,),
                        f"'{key}' belongs under connectors.activecampaign (a file with several "
                        f"connections cannot say which one a top-level '{key}' is for)",
                    )
                )
        raw = {k: v for k, v in raw.items() if k not in TOP_LEVEL_SECTIONS}
    elif isinstance(raw, dict):
        raw = _hoist_top_level_sections(doc, raw, found)
    checked, problems = validate_leniently(
        ConfigFile,
        raw,
        context={"allow_private": settings.TAJO_ALLOW_PRIVATE_URLS},
        blocks=ConfigFile.BLOCKS,
    )
    found.extend(doc.error(where, message) for where, message in problems if not doc.is_unresolved(where))
    errors.extend(_by_line(found))
    if checked is None:
        return None
    assert isinstance(checked, ConfigFile)
    ac = checked.connectors.activecampaign
    brevo = checked.connectors.brevo
    given = raw["connectors"]["activecampaign"] or {}
    gives_brevo = "brevo" in raw["connectors"]

    values: dict[str, Any] = {}
    for model_field in ("enabled", "debug", "log_webhooks", "log_level"):
        if getattr(ac, model_field) is not None:
            values[model_field] = getattr(ac, model_field)
    for block, model_fields in ((ac.sync, _SYNC_MODEL_FIELDS), (ac.sync.options, _OPTION_MODEL_FIELDS)):
        for model_field in model_fields:
            if getattr(block, model_field) is not None:
                values[model_field] = getattr(block, model_field)
    sections = {
        section: getattr(ac, section) or {}
        for section in MAPPING_SECTIONS
        if section in ac.model_fields_set and getattr(ac, section) is not None
    }
    wrong = {where for where, _ in problems}
    return Spec(
        doc=doc,
        name=ac.name or DEFAULT_NAME,
        values=values,
        api_url=ac.api_url,
        api_key=ac.api_key,
        plan=ac.plan,
        brevo_api_key=brevo.api_key if brevo else None,
        brevo_api_url=(brevo.api_url or BREVO_DEFAULT_API_URL) if brevo else None,
        sections=sections,
        broken=bool(found or doc.unresolved),
        gives_ac=isinstance(given, dict) and ("api_url" in given or "api_key" in given),
        gives_brevo=gives_brevo,
        unusable_credentials=bool((wrong | doc.unresolved) & _CREDENTIALS) or (gives_brevo and brevo is None),
    )
