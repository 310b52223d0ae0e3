"""YAML configuration: the connector documentation's format, imported and exported.

```yaml
connectors:
  activecampaign: {enabled, name, api_url, api_key, plan, sync, list_mapping, field_mapping,
                   tag_mapping, stage_mapping, owner_mapping, automation_mapping,
                   event_mapping, score_mapping, custom_object_mapping, debug, log_level,
                   log_webhooks}
  brevo: {api_key, api_url}
```

Import runs in phases so that nothing is half-done:

1. parse every document (one connection each) with line numbers, interpolate `${ENV_VAR}`,
   check keys and types;
2. discover both accounts with the file's credentials (HTTP, outside any transaction);
3. resolve labels to ids against that discovery and check every mapping (the same checks as
   the admin); Brevo attributes and lists the file names but Brevo lacks are errors, or with
   `create_missing` are planned for creation;
4. create the planned Brevo attributes/lists;
5. write tenant, accounts, connection, catalog and mappings in one transaction.

Any error in phases 1-3 stops the import before anything is written, and every error names
the file, the line and the dotted key: `config.yaml:12: connectors.activecampaign.field_mapping.company: ...`.
A document with a wrong key is still resolved (never applied), so that its mapping errors come
in the same round. A mapping section that is present replaces that kind of mapping; an absent
one leaves it alone.

The connector documentation's blocks import as printed: `field_mapping` keys in its spelling
(`firstName`, `deals.value`, `fieldValues.<perstag|title|id>`, `score`, `rating`), a block
without credentials updates the existing connection, a file without `brevo:` takes the key
from the existing connection, `BREVO_API_KEY` or the tenant's only Brevo account, and a
top-level `field_mapping:` belongs to the file's one connection.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from connectors.exceptions import ApiError
from connectors.models import (
    BREVO_DEFAULT_API_URL,
    PLAN_RATES,
    ActiveCampaignAccount,
    BrevoAccount,
    Connection,
)
from connectors.validators import normalize_ac_api_url, normalize_brevo_api_url
from mappings.catalog import AC, BREVO, CatalogIndex, Entry
from mappings.compat import (
    SCORE_SOURCE_TYPE,
    STANDARD_SOURCE_TYPES,
    brevo_type,
    default_transform,
    source_type,
)
from mappings.exceptions import ConfigError, DiscoveryFailed
from mappings.models import (
    AutomationMapping,
    CustomFieldMapping,
    CustomObjectFieldMapping,
    EventMapping,
    ListMapping,
    MappingRule,
    OwnerMapping,
    ScoreMapping,
    StageMapping,
    StandardFieldMapping,
    TagMapping,
)
from mappings.selectors import catalog_index_for
from mappings.transforms import Transform
from mappings.validation import MappingChecker, parse_tag_value
from tenants.models import Tenant

Path_ = tuple[Any, ...]

DEFAULT_NAME = "activecampaign"
PENDING_LIST = -1  # a Brevo list the import will create
AC_PATH: Path_ = ("connectors", "activecampaign")
BREVO_PATH: Path_ = ("connectors", "brevo")

SYNC_FIELDS = {
    "contacts": "sync_contacts",
    "deals": "sync_deals",
    "automations": "sync_automations",
    "events": "sync_events",
    "ecommerce": "sync_ecommerce",
    "custom_objects": "sync_custom_objects",
    "lists": "sync_lists",
}
OPTION_FIELDS = {
    "includeTags": "include_tags",
    "includeCustomFields": "include_custom_fields",
    "includeScores": "include_scores",
    "includeListMemberships": "include_list_memberships",
    "dealsAsCrmObjects": "deals_as_crm_objects",
}
# `verbose` is the documentation's Debug Mode spelling: it logs like `debug: true`.
LOG_LEVELS = ("verbose", "debug", "info", "warning", "error")
# Sections the documentation prints on their own, outside `connectors.activecampaign`.
TOP_LEVEL_SECTIONS = ("field_mapping",)

# field_mapping keys naming standard contact columns and the contact's primary deal (the
# documentation's `firstName`/`deals.value` and the older `first_name`/`deal_value`), matched
# ignoring case. The primary deal is the contact's most recently changed open deal, else its
# latest deal (connectors.sync.staging.primary_deal).
STANDARD_KEYS = {
    "email": "email",
    "first_name": "first_name",
    "firstName": "first_name",
    "last_name": "last_name",
    "lastName": "last_name",
    "phone": "phone",
    "orgname": "orgname",
    "cdate": "cdate",
    "udate": "udate",
}
for _part in ("value", "currency", "stage", "pipeline", "owner", "status"):
    STANDARD_KEYS[f"deal_{_part}"] = f"deal.{_part}"
    STANDARD_KEYS[f"deals.{_part}"] = f"deal.{_part}"
for _source in STANDARD_SOURCE_TYPES:
    STANDARD_KEYS.setdefault(_source, _source)  # "deal.value" works too
_STANDARD_BY_LOWER = {key.lower(): source for key, source in STANDARD_KEYS.items()}
# `list_mapping: {"*": same}` / `tag_mapping: {"*": same}`: replicate AC's structure (see replicate).
REPLICATE_KEY = "*"
REPLICATE_VALUES = ("same", "same-name")
REPLICATE_MAX = 50
# `score`: the contact's score; `rating`: its engagement rating (see choose_contact_score).
SCORE_KEYS = ("score", "rating")
FIELD_VALUES_PREFIX = "fieldvalues."
FIELD_VALUES_DISPLAY = "fieldValues."
# The spellings the connector documentation uses, offered when a key is not recognised.
DOCUMENTED_KEYS = (
    "email",
    "firstName",
    "lastName",
    "phone",
    "score",
    "rating",
    "deals.value",
    "deals.stage",
    "deals.owner",
    "deals.pipeline",
    "deals.status",
    "deals.currency",
    "orgname",
    "cdate",
    "udate",
)


def standard_key(key: Any) -> str | None:
    """The standard source a field_mapping key names (any documented spelling, any case), else None."""
    if not isinstance(key, str):
        return None
    return _STANDARD_BY_LOWER.get(key.strip().lower())


def choose_contact_score(key: str, scores: list[Entry]) -> Entry | None:
    """Which AC contact score `score` or `rating` means.

    AC's v3 API has no contact "rating" value (only `rating_tstamp`, reference §3.2), so the
    engagement rating is read from the contact score whose name contains "engagement" (scores
    are defined by `GET /scores` and valued by `scoreValues`, reference §7). `score` is the
    contact score whose name contains "lead", else one named "score", else, when the account
    has several, the first by id that is not the engagement score.
    """
    ordered = sorted(scores, key=lambda e: (int(e.external_id) if e.external_id.isdigit() else 0, e.label))
    engagement = [e for e in ordered if "engagement" in e.label.lower()]
    if key == "rating":
        return engagement[0] if engagement else None
    for test in (lambda e: "lead" in e.label.lower(), lambda e: e.label.strip().lower() == "score"):
        hits = [e for e in ordered if test(e)]
        if hits:
            return hits[0]
    others = [e for e in ordered if e not in engagement]
    return (others or ordered or [None])[0]


# Export writes the documentation's spellings.
EXPORT_STANDARD_KEY = {
    "email": "email",
    "first_name": "firstName",
    "last_name": "lastName",
    "phone": "phone",
    "orgname": "orgname",
    "cdate": "cdate",
    "udate": "udate",
    "deal.value": "deals.value",
    "deal.currency": "deals.currency",
    "deal.stage": "deals.stage",
    "deal.pipeline": "deals.pipeline",
    "deal.owner": "deals.owner",
    "deal.status": "deals.status",
}

MAPPING_SECTIONS = (
    "list_mapping",
    "field_mapping",
    "tag_mapping",
    "stage_mapping",
    "owner_mapping",
    "automation_mapping",
    "event_mapping",
    "score_mapping",
    "custom_object_mapping",
)
# Which models a section replaces.
SECTION_MODELS: dict[str, tuple[type[MappingRule], ...]] = {
    "list_mapping": (ListMapping,),
    "field_mapping": (StandardFieldMapping, CustomFieldMapping),
    "tag_mapping": (TagMapping,),
    "stage_mapping": (StageMapping,),
    "owner_mapping": (OwnerMapping,),
    "automation_mapping": (AutomationMapping,),
    "event_mapping": (EventMapping,),
    "score_mapping": (ScoreMapping,),
    "custom_object_mapping": (CustomObjectFieldMapping,),
}
# Columns that identify a row (same key: update in place, keeping its history).
NATURAL_KEYS: dict[type[MappingRule], tuple[str, ...]] = {
    StandardFieldMapping: ("source", "attribute"),
    CustomFieldMapping: ("ac_field_id", "attribute"),
    ScoreMapping: ("ac_score_id", "attribute"),
    CustomObjectFieldMapping: ("ac_schema_id", "ac_field_key", "attribute"),
    ListMapping: ("ac_list_id", "brevo_list_id"),
    TagMapping: ("ac_tag_id", "brevo_list_id", "attribute"),
    StageMapping: ("ac_stage_id",),
    OwnerMapping: ("ac_user_id",),
    AutomationMapping: ("ac_automation_id",),
    EventMapping: ("ac_event_name",),
}
VALUE_FIELDS: dict[type[MappingRule], tuple[str, ...]] = {
    StandardFieldMapping: ("transform",),
    CustomFieldMapping: ("transform",),
    ScoreMapping: ("transform",),
    CustomObjectFieldMapping: ("transform",),
    ListMapping: (),
    TagMapping: ("value", "value_when_absent", "unlink_when_absent"),
    StageMapping: ("ac_pipeline_id", "brevo_pipeline_id", "brevo_stage_id"),
    OwnerMapping: ("brevo_owner",),
    AutomationMapping: ("brevo_event_entered", "brevo_event_completed"),
    EventMapping: ("brevo_event_name",),
}

_LOCATION_RE = re.compile(r"^(.*?):(\d+):")
_ENV_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_PLAIN_KEY_RE = re.compile(r"[A-Za-z0-9_-]+")
_SLUG_RE = re.compile(r"[-a-zA-Z0-9_]+")


# ============================================================================ parsing


def _by_line(errors: list[str]) -> list[str]:
    """Errors in file order (stable for errors on one line)."""

    def key(line: str) -> tuple[str, int]:
        match = _LOCATION_RE.match(line)
        return (match.group(1), int(match.group(2))) if match else ("", 0)

    return sorted(errors, key=key)


def dotted(path: Path_) -> str:
    """`connectors.activecampaign.list_mapping."Main List"`; list positions print as `[0]`."""
    text = ""
    for part in path:
        if isinstance(part, _Index):
            text += f"[{int(part)}]"
            continue
        if isinstance(part, str) and _PLAIN_KEY_RE.fullmatch(part):
            piece = part
        elif isinstance(part, int | float) and not isinstance(part, bool):
            piece = str(part)
        else:
            piece = '"' + str(part).replace('"', '\\"') + '"'
        text += piece if not text else "." + piece
    return text


class _Index(int):
    """A list position inside a path (prints as [n])."""

    def __repr__(self) -> str:
        return f"[{int(self)}]"


@dataclass
class Document:
    """One YAML document of a file: its data and the line of every key."""

    filename: str
    data: Any
    lines: dict[Path_, int]
    start_line: int

    def line(self, path: Path_) -> int:
        probe = tuple(path)
        while probe:
            if probe in self.lines:
                return self.lines[probe]
            probe = probe[:-1]
        return self.start_line

    def error(self, path: Path_, message: str) -> str:
        return f"{self.filename}:{self.line(path)}: {dotted(path) or '(document)'}: {message}"


# A configuration file is a few kilobytes; these bounds only stop files built to exhaust the
# process (a short alias "bomb" expands to gigabytes; deep nesting overflows the stack).
MAX_FILE_BYTES = 1024 * 1024
MAX_DEPTH = 40
MAX_ALIASES = 50
MAX_VALUES = 20_000

# `${NAME}` may read only variables meant for configuration files: the connector
# documentation's own `${AC_API_KEY}` and `${BREVO_API_KEY}`, the URL and per-connection
# variants the export writes (`${AC_API_KEY_<NAME>}`), and anything under `TAJO_CONFIG_`.
# Everything else (SECRET_KEY, FIELD_ENCRYPTION_KEY, DATABASE_URL, REDIS_URL, ...) is refused,
# set or not, so a file from someone else cannot read the server's secrets.
READABLE_ENV = re.compile(r"^(?:(?:AC|BREVO)_API_(?:KEY|URL)(?:_[A-Z0-9_]+)?|TAJO_CONFIG_[A-Z0-9_]+)$")


def env_readable(name: str) -> bool:
    """Whether a configuration file may read the environment variable `name`."""
    return bool(READABLE_ENV.match(name))


def _check_shape(text: str, filename: str) -> None:
    """Refuse oversize, too deep or alias-heavy YAML before anything is built from it.

    Walks the parser's event stream, which PyYAML produces without recursion, so a file nested
    20,000 deep is counted, not composed.
    """
    size = len(text.encode("utf-8", errors="replace"))
    if size > MAX_FILE_BYTES:
        raise ConfigError(
            [f"{filename}:1: the file is {size} bytes; a configuration file has at most {MAX_FILE_BYTES}"]
        )
    depth = aliases = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise ConfigError(
                        [f"{filename}:{event.start_mark.line + 1}: nested deeper than {MAX_DEPTH} levels"]
                    )
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
            elif isinstance(event, yaml.AliasEvent):
                aliases += 1
                if aliases > MAX_ALIASES:
                    raise ConfigError(
                        [
                            f"{filename}:{event.start_mark.line + 1}: more than {MAX_ALIASES} "
                            "aliases (*name); write the values out"
                        ]
                    )
    except yaml.YAMLError:
        return  # parse_documents reports the syntax error with its line


def parse_documents(text: str, filename: str, *, env: Mapping[str, str] | None = None) -> list[Document]:
    """Parse a YAML stream into documents with line numbers; `${VAR}` is read from `env`.

    Only variables `env_readable` allows are read. Files over the size, depth or alias
    bounds are refused with one line.
    """
    env = os.environ if env is None else env
    _check_shape(text, filename)
    errors: list[str] = []
    documents: list[Document] = []
    try:
        loader = yaml.SafeLoader(text)
    except yaml.YAMLError as exc:  # the reader refuses control characters up front
        raise ConfigError([f"{filename}:1: not valid YAML: {exc}".splitlines()[0]]) from exc
    budget = _Budget(filename)
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            lines: dict[Path_, int] = {}
            data = _build(node, (), lines, loader, errors, filename, budget)
            document = Document(filename, data, lines, node.start_mark.line + 1)
            document.data = _interpolate(document, document.data, (), env, errors)
            documents.append(document)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise ConfigError([f"{filename}:{line}: not valid YAML: {exc.problem or exc}"]) from exc
    except yaml.YAMLError as exc:
        raise ConfigError([f"{filename}:1: not valid YAML: {exc}"]) from exc
    except (ValueError, OverflowError, RecursionError) as exc:
        # PyYAML's constructors raise these for values such as a timestamp out of range.
        raise ConfigError([f"{filename}:1: not valid YAML: {type(exc).__name__}: {str(exc)[:200]}"]) from exc
    finally:
        loader.dispose()
    if errors:
        raise ConfigError(_by_line(errors))
    if not documents:
        raise ConfigError([f"{filename}:1: the file is empty (expected a 'connectors:' block)"])
    return documents


class _Budget:
    """Counts the values built, aliases expanded included, so shared nodes cannot multiply."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.left = MAX_VALUES

    def spend(self, node: yaml.Node) -> None:
        self.left -= 1
        if self.left < 0:
            raise ConfigError(
                [
                    f"{self.filename}:{node.start_mark.line + 1}: the file expands to more than "
                    f"{MAX_VALUES} values (aliases included)"
                ]
            )


def _build(
    node: yaml.Node,
    path: Path_,
    lines: dict,
    loader: yaml.SafeLoader,
    errors: list,
    filename: str,
    budget: _Budget,
) -> Any:
    budget.spend(node)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                errors.append(
                    f"{filename}:{line}: {dotted(path) or '(document)'}: a key must be a plain value"
                )
                continue
            key = loader.construct_object(key_node)
            if key_node.tag == "tag:yaml.org,2002:merge":
                errors.append(
                    f"{filename}:{line}: {dotted(path) or '(document)'}: merge keys (<<) are not supported"
                )
                continue
            if key in result:
                errors.append(f"{filename}:{line}: {dotted((*path, key))}: this key appears twice")
                continue
            lines[(*path, key)] = line
            result[key] = _build(value_node, (*path, key), lines, loader, errors, filename, budget)
        return result
    if isinstance(node, yaml.SequenceNode):
        items = []
        for position, item in enumerate(node.value):
            lines[(*path, _Index(position))] = item.start_mark.line + 1
            items.append(_build(item, (*path, _Index(position)), lines, loader, errors, filename, budget))
        return items
    return loader.construct_object(node)


def _interpolate(document: Document, value: Any, path: Path_, env: Mapping[str, str], errors: list) -> Any:
    if isinstance(value, dict):
        return {k: _interpolate(document, v, (*path, k), env, errors) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(document, v, (*path, _Index(i)), env, errors) for i, v in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if not env_readable(name):
            errors.append(
                document.error(
                    path,
                    f"environment variable {name} may not be read from a configuration file "
                    "(allowed: AC_API_KEY, AC_API_URL, BREVO_API_KEY, BREVO_API_URL, their _<NAME> "
                    "variants, and TAJO_CONFIG_*)",
                )
            )
            return ""
        if name not in env:
            errors.append(document.error(path, f"environment variable {name} is not set"))
            return ""
        return env[name]

    return _ENV_RE.sub(replace, value)


# ============================================================================ structure


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


@dataclass
class Plan:
    """What importing one document will do."""

    spec: Spec
    index: CatalogIndex
    entries: list[Entry]
    discovery_errors: dict[str, str]
    rows: dict[type[MappingRule], list[MappingRule]] = field(default_factory=dict)
    # Brevo attributes to create: name -> (type, options, path)
    new_attributes: dict[str, tuple[str, list[str], Path_]] = field(default_factory=dict)
    # Brevo lists to create: name -> rows waiting for the new id (field brevo_list_id)
    new_lists: dict[str, list[MappingRule]] = field(default_factory=dict)
    paths: dict[int, Path_] = field(default_factory=dict)

    def add(self, row: MappingRule, path: Path_) -> None:
        self.rows.setdefault(type(row), []).append(row)
        self.paths[id(row)] = path

    def all_rows(self) -> list[MappingRule]:
        return [row for model in SECTION_MODELS_ORDER for row in self.rows.get(model, [])]


SECTION_MODELS_ORDER: tuple[type[MappingRule], ...] = tuple(
    model for section in MAPPING_SECTIONS for model in SECTION_MODELS[section]
)


class _Resolver:
    """Turns one spec's mapping sections into unsaved rows, ids resolved against the index."""

    def __init__(self, plan: Plan, errors: list[str], *, create_missing: bool) -> None:
        self.plan = plan
        self.spec = plan.spec
        self.index = plan.index
        self.errors = errors
        self.create_missing = create_missing
        self.checker = MappingChecker(self.index)

    def fail(self, path: Path_, message: str) -> None:
        self.errors.append(self.spec.doc.error(path, message))

    # ------------------------------------------------------------------ generic lookups

    def ac(
        self, kind: str, key: Any, path: Path_, *, keys: tuple[str, ...] = (), noun: str = ""
    ) -> Entry | None:
        noun = noun or kind.replace("_", " ")
        if isinstance(key, bool) or key is None or (not isinstance(key, int | str)):
            self.fail(path, f"expected an ActiveCampaign {noun} name or id, got {_kind(key)}")
            return None
        found = self.index.find(AC, kind, str(key), keys=keys)
        if isinstance(key, int):
            found = [entry for entry in found if entry.external_id == str(key)]
        if not found:
            failed = self.plan.discovery_errors.get(f"ac.{kind}")
            hint = f" (discovery could not read them: {failed})" if failed else ""
            self.fail(path, f"ActiveCampaign has no {noun} named or numbered '{key}'{hint}")
            return None
        if len(found) > 1:
            names = ", ".join(entry.describe() for entry in found[:5])
            self.fail(
                path, f"'{key}' matches {len(found)} ActiveCampaign {noun}s ({names}); use the id instead"
            )
            return None
        return found[0]

    def brevo_list(self, value: Any, path: Path_, row: MappingRule, *, create: bool = False) -> int | None:
        """A Brevo list given by id or name; a missing name may be created (the row waits for the id)."""
        if (
            isinstance(value, bool)
            or not isinstance(value, int | str)
            or (isinstance(value, str) and not value.strip())
        ):
            self.fail(path, f"expected a Brevo list id or name, got {_kind(value)}")
            return None
        text = str(value).strip()
        if isinstance(value, int) or text.isdigit():
            entry = self.index.get(BREVO, "list", text)
            if entry is None or not entry.present:
                self.fail(
                    path,
                    f"Brevo has no list {text} (a list given by name can be created with --create-missing)",
                )
                return None
            return int(text)
        found = [
            entry for entry in self.index.items(BREVO, "list") if entry.label.strip().lower() == text.lower()
        ]
        if len(found) > 1:
            self.fail(path, f"'{text}' matches {len(found)} Brevo lists; use the list id")
            return None
        if found:
            return int(found[0].external_id)
        if not (self.create_missing or create):
            self.fail(path, f"Brevo has no list named '{text}' (run with --create-missing to create it)")
            return None
        self.plan.new_lists.setdefault(text, []).append(row)
        return PENDING_LIST  # replaced by the new list's id once it exists

    def attribute_and_transform(
        self, value: Any, path: Path_, source: str
    ) -> list[tuple[str, Transform, Path_]]:
        """`ATTR`, `{attribute, transform}` or a list of those."""
        items = value if isinstance(value, list) else [value]
        result = []
        for position, item in enumerate(items):
            item_path = (*path, _Index(position)) if isinstance(value, list) else path
            if isinstance(item, str) and item.strip():
                attribute, transform = item.strip().upper(), None
            elif isinstance(item, dict):
                _Checker(self.spec.doc, self.errors).mapping(
                    item, item_path, ("attribute", "transform"), ("attribute",)
                )
                attribute = item.get("attribute")
                if not isinstance(attribute, str) or not attribute.strip():
                    if "attribute" in item:
                        self.fail(
                            (*item_path, "attribute"),
                            f"expected a Brevo attribute name, got {_kind(attribute)}",
                        )
                    continue
                attribute = attribute.strip().upper()
                transform = None
                if "transform" in item:
                    try:
                        transform = Transform(str(item["transform"]).strip().lower())
                    except ValueError:
                        known = ", ".join(t.value for t in Transform)
                        self.fail(
                            (*item_path, "transform"), f"'{item['transform']}' is not a transform ({known})"
                        )
                        continue
            else:
                self.fail(
                    item_path,
                    f"expected a Brevo attribute name or {{attribute, transform}}, got {_kind(item)}",
                )
                continue
            if transform is None:
                entry = self.index.get(BREVO, "attribute", attribute)
                existing = brevo_type(entry.data_type) if entry is not None and entry.present else None
                transform = default_transform(source, existing)
            result.append((attribute, transform, item_path))
        return result

    # ------------------------------------------------------------------ sections

    def field_mapping(self, section: dict) -> None:
        base = self.spec.path("field_mapping")
        for key, value in section.items():
            path = (*base, key)
            standard = standard_key(key)
            if standard is not None:
                for attribute, transform, item_path in self.attribute_and_transform(
                    value, path, STANDARD_SOURCE_TYPES[standard]
                ):
                    self.plan.add(
                        StandardFieldMapping(source=standard, attribute=attribute, transform=transform.value),
                        item_path,
                    )
                continue
            if isinstance(key, str) and key.strip().lower() in SCORE_KEYS:
                score = self.contact_score(key.strip().lower(), path)
                if score is None:
                    continue
                for attribute, transform, item_path in self.attribute_and_transform(
                    value, path, SCORE_SOURCE_TYPE
                ):
                    self.plan.add(
                        ScoreMapping(
                            ac_score_id=int(score.external_id), attribute=attribute, transform=transform.value
                        ),
                        item_path,
                    )
                continue
            entry = self.custom_field(key, path)
            if entry is None:
                continue
            for attribute, transform, item_path in self.attribute_and_transform(
                value, path, source_type(entry.data_type)
            ):
                self.plan.add(
                    CustomFieldMapping(
                        ac_field_id=int(entry.external_id), attribute=attribute, transform=transform.value
                    ),
                    item_path,
                )

    def contact_score(self, key: str, path: Path_) -> Entry | None:
        """`score` / `rating`: the account's contact score that key means (see choose_contact_score)."""
        scores = [
            entry
            for entry in self.index.items(AC, "score")
            if (entry.extra.get("reltype") or "contact") == "contact"
        ]
        chosen = choose_contact_score(key, scores)
        if chosen is None:
            failed = self.plan.discovery_errors.get("ac.score")
            names = ", ".join(f"'{e.label}'" for e in scores) or "none"
            wanted = "a contact score" if key == "score" else "a contact score named like 'Engagement'"
            hint = f" (discovery could not read scores: {failed})" if failed else ""
            self.fail(
                path,
                f"'{key}' needs {wanted} in ActiveCampaign; its contact scores: {names}{hint}. "
                f'Name one in score_mapping instead (score_mapping: {{"Lead score": ATTRIBUTE}})',
            )
        return chosen

    def custom_field(self, key: Any, path: Path_) -> Entry | None:
        prefixed = isinstance(key, str) and key.strip().lower().startswith(FIELD_VALUES_PREFIX)
        if prefixed:
            key = key.strip()[len(FIELD_VALUES_PREFIX) :].strip()
            if key.isdigit():
                key = int(key)
        elif isinstance(key, str) and key.lower().startswith("field:"):
            key = key.split(":", 1)[1].strip()
            if key.isdigit():
                key = int(key)
        if isinstance(key, str) and not key:
            self.fail(path, "expected a custom field after 'fieldValues.' (its perstag, title or id)")
            return None
        if isinstance(key, bool) or key is None or not isinstance(key, int | str):
            self.fail(path, f"expected an ActiveCampaign custom field name or id, got {_kind(key)}")
            return None
        found = self.index.find(AC, "field", str(key), keys=("perstag",))
        if isinstance(key, int):
            found = [entry for entry in found if entry.external_id == str(key)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            names = ", ".join(entry.describe() for entry in found[:5])
            self.fail(
                path,
                f"'{key}' matches {len(found)} ActiveCampaign custom fields ({names}); "
                f"use fieldValues.<id> instead",
            )
            return None
        failed = self.plan.discovery_errors.get("ac.field")
        hint = f" (discovery could not read them: {failed})" if failed else ""
        self.fail(path, f"'{key}' is not a field_mapping key ActiveCampaign knows{hint}; {self.suggest(key)}")
        return None

    def suggest(self, key: Any) -> str:
        """The accepted spelling closest to a key nobody recognised, and what is accepted."""
        import difflib

        candidates: dict[str, str] = {name.lower(): name for name in DOCUMENTED_KEYS}
        candidates.update({alias.lower(): alias for alias in STANDARD_KEYS if "_" in alias or "." in alias})
        for entry in self.index.items(AC, "field"):
            perstag = str(entry.extra.get("perstag") or "")
            for name in (perstag, entry.label):
                if name:
                    spelled = FIELD_VALUES_DISPLAY + name.lower().replace(" ", "_")
                    candidates.setdefault(name.lower(), spelled)
                    candidates.setdefault(spelled.lower(), spelled)
        text = str(key).strip().lower()
        match = difflib.get_close_matches(text, list(candidates), n=1, cutoff=0.6)
        accepted = (
            "accepted: email, firstName, lastName, phone, deals.value|stage|owner|pipeline|status|currency, "
            "score, rating, fieldValues.<perstag, title or id>"
        )
        if match:
            return f"did you mean '{candidates[match[0]]}'? ({accepted})"
        return accepted

    def replicate(self, kind: str, section: dict, path: Path_) -> dict:
        """`"*": same`: every AC list (or tag) onto the Brevo list of the same name, created if missing.

        Replicates the structure once, at import (an AC list added later needs another import).
        Items the section names explicitly keep their own mapping. Creating a Brevo list spends
        Brevo's hourly budget for "other" endpoints (about 100 an hour, reference §1.4), so a
        replication that would create more than REPLICATE_MAX lists is refused.
        """
        value = section[REPLICATE_KEY]
        if not (isinstance(value, str) and value.strip().lower() in REPLICATE_VALUES):
            self.fail(
                path,
                f"'*' takes {' or '.join(REPLICATE_VALUES)} (every AC {kind} onto the Brevo list "
                f"of the same name, created if missing), got {_kind(value)}",
            )
            return {}
        named = {str(key).strip().lower() for key in section if key != REPLICATE_KEY}
        items = [e for e in self.index.items(AC, kind) if e.label.strip().lower() not in named]
        existing = {e.label.strip().lower() for e in self.index.items(BREVO, "list")}
        missing = [e for e in items if e.label.strip().lower() not in existing]
        if len(missing) > REPLICATE_MAX:
            self.fail(
                path,
                f"replicating would create {len(missing)} Brevo lists (at most {REPLICATE_MAX}: each costs a "
                f"request of Brevo's hourly budget); map the {kind}s you need by name instead",
            )
            return {}
        return {int(e.external_id): e.label.strip() for e in items if e.external_id.isdigit()}

    def list_mapping(self, section: dict) -> None:
        base = self.spec.path("list_mapping")
        if REPLICATE_KEY in section:
            for list_id, label in self.replicate("list", section, (*base, REPLICATE_KEY)).items():
                row = ListMapping(ac_list_id=list_id, brevo_list_id=PENDING_LIST)
                target = self.brevo_list(label, (*base, REPLICATE_KEY), row, create=True)
                if target is not None:
                    row.brevo_list_id = target
                    self.plan.add(row, (*base, REPLICATE_KEY))
            section = {k: v for k, v in section.items() if k != REPLICATE_KEY}
        for key, value in section.items():
            path = (*base, key)
            entry = self.ac("list", key, path)
            if entry is None:
                continue
            for position, target in enumerate(value if isinstance(value, list) else [value]):
                item_path = (*path, _Index(position)) if isinstance(value, list) else path
                row = ListMapping(ac_list_id=int(entry.external_id), brevo_list_id=PENDING_LIST)
                list_id = self.brevo_list(target, item_path, row)
                if list_id is not None:
                    row.brevo_list_id = list_id
                    self.plan.add(row, item_path)

    def tag_mapping(self, section: dict) -> None:
        base = self.spec.path("tag_mapping")
        if REPLICATE_KEY in section:
            # Tags are AC's segments: each becomes a Brevo list of its name, to segment on in Brevo.
            for tag_id, label in self.replicate("tag", section, (*base, REPLICATE_KEY)).items():
                row = TagMapping(ac_tag_id=tag_id, value="true")
                row.brevo_list_id = self.brevo_list(label, (*base, REPLICATE_KEY), row, create=True)
                if row.brevo_list_id is not None:
                    self.plan.add(row, (*base, REPLICATE_KEY))
            section = {k: v for k, v in section.items() if k != REPLICATE_KEY}
        for key, value in section.items():
            path = (*base, key)
            entry = self.ac("tag", key, path)
            if entry is None:
                continue
            for position, target in enumerate(value if isinstance(value, list) else [value]):
                item_path = (*path, _Index(position)) if isinstance(value, list) else path
                row = TagMapping(ac_tag_id=int(entry.external_id), value="true")
                if isinstance(target, dict):
                    data = _Checker(self.spec.doc, self.errors).mapping(
                        target,
                        item_path,
                        ("list", "attribute", "value", "value_when_absent", "unlink_when_absent"),
                    )
                    if "list" in data and data["list"] is not None:
                        row.brevo_list_id = self.brevo_list(data["list"], (*item_path, "list"), row)
                        if row.brevo_list_id is None:
                            continue
                    if "attribute" in data:
                        if not isinstance(data["attribute"], str):
                            self.fail(
                                (*item_path, "attribute"),
                                f"expected an attribute name, got {_kind(data['attribute'])}",
                            )
                            continue
                        row.attribute = data["attribute"].strip().upper()
                    if "value" in data:
                        row.value = _scalar_text(data["value"])
                    if data.get("value_when_absent") is not None:
                        row.value_when_absent = _scalar_text(data["value_when_absent"])
                    flag = _Checker(self.spec.doc, self.errors).boolean(data, "unlink_when_absent", item_path)
                    row.unlink_when_absent = bool(flag)
                else:
                    row.brevo_list_id = self.brevo_list(target, item_path, row)
                    if row.brevo_list_id is None:
                        continue
                self.plan.add(row, item_path)

    def stage_mapping(self, section: dict) -> None:
        base = self.spec.path("stage_mapping")
        for key, value in section.items():
            path = (*base, key)
            stage = self.ac_stage(key, path)
            if stage is None:
                continue
            if isinstance(value, str):
                pipeline_name, _, stage_name = value.rpartition("/")
                if not pipeline_name:
                    self.fail(path, "expected 'Brevo pipeline/Brevo stage' or {pipeline, stage}")
                    continue
                target = {"pipeline": pipeline_name, "stage": stage_name}
            else:
                target = _Checker(self.spec.doc, self.errors).mapping(
                    value, path, ("pipeline", "stage"), ("pipeline", "stage")
                )
                if "pipeline" not in target or "stage" not in target:
                    continue
            pipeline = self.brevo_named("pipeline", target["pipeline"], (*path, "pipeline"))
            if pipeline is None:
                continue
            candidates = self.index.children(BREVO, "stage", pipeline.external_id)
            wanted = str(target["stage"]).strip()
            found = [e for e in candidates if e.external_id == wanted] or [
                e for e in candidates if e.label.strip().lower() == wanted.lower()
            ]
            if len(found) != 1:
                where = f"in Brevo pipeline '{pipeline.label}'"
                problem = "no stage" if not found else f"{len(found)} stages"
                self.fail((*path, "stage"), f"{where} there is {problem} named '{wanted}'")
                continue
            self.plan.add(
                StageMapping(
                    ac_pipeline_id=int(stage.parent_id) if stage.parent_id.isdigit() else None,
                    ac_stage_id=int(stage.external_id),
                    brevo_pipeline_id=pipeline.external_id,
                    brevo_stage_id=found[0].external_id,
                ),
                path,
            )

    def ac_stage(self, key: Any, path: Path_) -> Entry | None:
        if isinstance(key, str) and "/" in key:
            pipeline_name, _, stage_name = key.rpartition("/")
            pipeline = self.ac("pipeline", pipeline_name, path)
            if pipeline is None:
                return None
            children = self.index.children(AC, "stage", pipeline.external_id)
            found = [e for e in children if e.external_id == stage_name.strip()] or [
                e for e in children if e.label.strip().lower() == stage_name.strip().lower()
            ]
            if len(found) != 1:
                problem = "no stage" if not found else f"{len(found)} stages"
                self.fail(
                    path, f"ActiveCampaign pipeline '{pipeline.label}' has {problem} named '{stage_name}'"
                )
                return None
            return found[0]
        return self.ac("stage", key, path)

    def brevo_named(self, kind: str, value: Any, path: Path_) -> Entry | None:
        text = str(value).strip() if isinstance(value, int | str) and not isinstance(value, bool) else ""
        if not text:
            self.fail(path, f"expected a Brevo {kind} name or id, got {_kind(value)}")
            return None
        items = self.index.items(BREVO, kind)
        found = [e for e in items if e.external_id == text] or [
            e for e in items if e.label.strip().lower() == text.lower()
        ]
        if len(found) != 1:
            problem = f"no {kind}" if not found else f"{len(found)} {kind}s"
            self.fail(path, f"Brevo has {problem} named '{text}' (Tajo does not create pipelines)")
            return None
        return found[0]

    def owner_mapping(self, section: dict) -> None:
        base = self.spec.path("owner_mapping")
        for key, value in section.items():
            path = (*base, key)
            user = self.ac("user", key, path, keys=("email", "username"))
            if user is None:
                continue
            if not isinstance(value, str | int) or isinstance(value, bool):
                self.fail(path, f"expected the Brevo owner's email or user id, got {_kind(value)}")
                continue
            self.plan.add(
                OwnerMapping(ac_user_id=int(user.external_id), brevo_owner=str(value).strip()), path
            )

    def automation_mapping(self, section: dict) -> None:
        base = self.spec.path("automation_mapping")
        for key, value in section.items():
            path = (*base, key)
            automation = self.ac("automation", key, path)
            if automation is None:
                continue
            if isinstance(value, str):
                entered, completed = value.strip(), ""
            else:
                data = _Checker(self.spec.doc, self.errors).mapping(
                    value, path, ("entered", "completed"), ("entered",)
                )
                if not isinstance(data.get("entered"), str):
                    continue
                entered = data["entered"].strip()
                completed = str(data.get("completed") or "").strip()
            self.plan.add(
                AutomationMapping(
                    ac_automation_id=int(automation.external_id),
                    brevo_event_entered=entered,
                    brevo_event_completed=completed,
                ),
                path,
            )

    def event_mapping(self, section: dict) -> None:
        base = self.spec.path("event_mapping")
        for key, value in section.items():
            path = (*base, key)
            if not isinstance(key, str):
                self.fail(path, f"expected an ActiveCampaign event name, got {_kind(key)}")
                continue
            if not isinstance(value, str):
                self.fail(path, f"expected a Brevo event name, got {_kind(value)}")
                continue
            self.plan.add(EventMapping(ac_event_name=key, brevo_event_name=value.strip()), path)

    def score_mapping(self, section: dict) -> None:
        base = self.spec.path("score_mapping")
        for key, value in section.items():
            path = (*base, key)
            score = self.ac("score", key, path)
            if score is None:
                continue
            for attribute, transform, item_path in self.attribute_and_transform(
                value, path, SCORE_SOURCE_TYPE
            ):
                self.plan.add(
                    ScoreMapping(
                        ac_score_id=int(score.external_id), attribute=attribute, transform=transform.value
                    ),
                    item_path,
                )

    def custom_object_mapping(self, section: dict) -> None:
        base = self.spec.path("custom_object_mapping")
        for key, value in section.items():
            path = (*base, key)
            if not isinstance(key, str) or "/" not in key:
                self.fail(path, "expected 'schema/field' (schema slug, name or id, then field id or name)")
                continue
            schema_name, _, field_name = key.partition("/")
            schema = self.ac("custom_object", schema_name, path, keys=("slug",), noun="custom object")
            if schema is None:
                continue
            children = self.index.children(AC, "custom_object_field", schema.external_id)
            wanted = field_name.strip()
            found = [e for e in children if e.external_id == wanted] or [
                e for e in children if e.label.strip().lower() == wanted.lower()
            ]
            if len(found) != 1:
                problem = "no field" if not found else f"{len(found)} fields"
                self.fail(path, f"custom object '{schema.label}' has {problem} named '{wanted}'")
                continue
            entry = found[0]
            for attribute, transform, item_path in self.attribute_and_transform(
                value, path, source_type(entry.data_type)
            ):
                self.plan.add(
                    CustomObjectFieldMapping(
                        ac_schema_id=schema.external_id,
                        ac_field_key=entry.external_id,
                        attribute=attribute,
                        transform=transform.value,
                    ),
                    item_path,
                )

    # ------------------------------------------------------------------ checks

    def check(self) -> None:
        """The admin's checks on every row; missing attributes become creations with create_missing."""
        rows = self.plan.all_rows()
        for row in rows:
            path = self.plan.paths[id(row)]
            for problem in self.checker.check_rule(row):
                if (
                    problem.code == "unknown_brevo_id"
                    and problem.field == "brevo_list_id"
                    and row.brevo_list_id == PENDING_LIST
                ):
                    continue  # a list that will be created
                if problem.code == "missing_attribute" and self.create_missing and problem.fix:
                    name = problem.fix["name"]
                    kind = problem.fix["type"]
                    planned = self.plan.new_attributes.get(name)
                    if planned is not None and planned[0] != kind:
                        self.fail(
                            path,
                            f"attribute {name} would be created as {kind} here but as {planned[0]} at "
                            f"line {self.spec.doc.line(planned[2])}",
                        )
                        continue
                    self.plan.new_attributes[name] = (kind, problem.fix.get("options", []), path)
                    continue
                if not problem.blocking:
                    continue
                message = problem.message
                if problem.code == "missing_attribute":
                    kind = f" as {problem.fix['type']}" if problem.fix else ""
                    message = f"{message.split(' (it can')[0]} (run with --create-missing to create it{kind})"
                self.fail(path, message)
        for rule, _first, problem in self.checker.duplicate_pairs(rows):
            self.fail(self.plan.paths[id(rule)], problem.message)
        # Created (and reported) in the order the file names them.
        line = self.spec.doc.line
        planned = sorted(self.plan.new_attributes.items(), key=lambda item: line(item[1][2]))
        self.plan.new_attributes = dict(planned)


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


# ============================================================================ import


@dataclass
class ImportReport:
    """What an import did (or would do, for a dry run)."""

    connections: list[str] = field(default_factory=list)
    created_attributes: list[str] = field(default_factory=list)
    created_lists: list[str] = field(default_factory=list)
    rows_created: int = 0
    rows_updated: int = 0
    rows_deleted: int = 0
    dry_run: bool = False

    def lines(self) -> list[str]:
        verb = "would import" if self.dry_run else "imported"
        out = [f"{verb} {', '.join(self.connections)}"]
        if self.created_attributes:
            out.append(f"created Brevo attributes: {', '.join(self.created_attributes)}")
        if self.created_lists:
            out.append(f"created Brevo lists: {', '.join(self.created_lists)}")
        if not self.dry_run:
            out.append(
                f"mappings: {self.rows_created} added, {self.rows_updated} changed, "
                f"{self.rows_deleted} removed"
            )
        return out


Discoverer = Callable[[Spec, "Connection | None"], Any]


def _discover_with_file_credentials(spec: Spec, existing: Connection | None) -> Any:
    """Discovery with the file's credentials, before anything is stored.

    An existing connection lends its accounts' ids and rate, so the discovery is paced within
    the same shared budgets as that account's syncs.
    """
    from connectors.services import build_clients
    from mappings.services import discover

    rate = PLAN_RATES.get(spec.plan or "lite", 5.0)
    if existing is not None:  # a plan in the file keeps the account's own rate (plan_change)
        rate = existing.ac_account.requests_per_second
    ac_account = ActiveCampaignAccount(
        pk=existing.ac_account_id if existing else None,
        api_url=spec.api_url,
        api_key=spec.api_key,
        requests_per_second=rate,
    )
    brevo_account = BrevoAccount(
        pk=existing.brevo_account_id if existing else None,
        api_url=spec.brevo_api_url,
        api_key=spec.brevo_api_key,
    )
    connection = Connection(name=spec.name, ac_account=ac_account, brevo_account=brevo_account)
    ac, brevo = build_clients(connection)
    with ac, brevo:
        return discover(ac, brevo)


def config_import(
    *,
    text: str,
    filename: str,
    tenant_slug: str,
    create_tenant: bool = False,
    create_missing: bool = False,
    dry_run: bool = False,
    env: Mapping[str, str] | None = None,
    discoverer: Discoverer | None = None,
    user: Any = None,
) -> ImportReport:
    """Import a YAML configuration for one tenant. Raises ConfigError listing every problem."""
    documents = parse_documents(text, filename, env=env)
    errors: list[str] = []
    tenant = Tenant.objects.filter(slug=tenant_slug).first()
    if tenant is None and not create_tenant:
        raise ConfigError(
            [f"{filename}: tenant '{tenant_slug}' does not exist (add --create-tenant to create it)"]
        )
    specs = [
        spec for doc in documents if (spec := read_spec(doc, errors, documents=len(documents))) is not None
    ]
    names: dict[str, Spec] = {}
    for spec in specs:
        if spec.name in names:
            errors.append(
                spec.doc.error((*AC_PATH, "name"), f"a second connection named '{spec.name}' in this file")
            )
        names[spec.name] = spec

    # Every document is resolved as far as it can be, so that the file's problems all come at once.
    env = os.environ if env is None else env
    discoverer = discoverer or _discover_with_file_credentials
    plans: list[Plan] = []
    for spec in specs:
        existing = (
            Connection.objects.filter(tenant=tenant, name=spec.name)
            .select_related("ac_account", "brevo_account")
            .first()
            if tenant is not None
            else None
        )
        if not _complete_credentials(spec, existing, tenant, env, errors) or spec.unusable_credentials:
            continue
        try:
            discovery = discoverer(spec, existing)
        except DiscoveryFailed as exc:
            side = BREVO_PATH if str(exc).startswith("Brevo") else AC_PATH
            errors.append(spec.doc.error((*side, "api_key"), f"discovery failed: {exc}"))
            continue
        except ApiError as exc:
            errors.append(spec.doc.error((*AC_PATH, "api_url"), f"discovery failed: {exc.operator_message}"))
            continue
        plan = Plan(
            spec=spec,
            index=discovery.index(),
            entries=list(discovery.entries),
            discovery_errors=dict(discovery.errors),
        )
        resolver = _Resolver(plan, errors, create_missing=create_missing)
        for section, value in spec.sections.items():
            getattr(resolver, section)(value)
        resolver.check()
        plans.append(plan)
    if errors:
        raise ConfigError(_by_line(errors))

    report = ImportReport(connections=[f"{tenant_slug}/{plan.spec.name}" for plan in plans], dry_run=dry_run)
    for plan in plans:
        report.created_attributes.extend(plan.new_attributes)
        report.created_lists.extend(plan.new_lists)
    if dry_run:
        return report

    for plan in plans:
        _create_in_brevo(plan)
    with transaction.atomic():
        if tenant is None:
            tenant = Tenant.objects.create(slug=tenant_slug, name=tenant_slug)
        for plan in plans:
            _apply(plan, tenant, report, reason=f"tajo_config import {Path(filename).name}", user=user)
    return report


def _complete_credentials(
    spec: Spec, existing: Connection | None, tenant: Tenant | None, env: Mapping[str, str], errors: list[str]
) -> bool:
    """Fill the credentials the file leaves out; False (with an error) when some cannot be found.

    ActiveCampaign: a block without `api_url`/`api_key` changes the settings of the existing
    connection of that name. Brevo, without a `brevo:` block: the existing connection's
    account, else `BREVO_API_KEY` (and `BREVO_API_URL`) from the environment, else the tenant's
    only Brevo account.
    """
    ok = True
    if not spec.api_url or not spec.api_key:
        if existing is not None and not spec.gives_ac:
            spec.api_url = existing.ac_account.api_url
            spec.api_key = existing.ac_account.api_key
        else:
            where = f"tenant '{tenant.slug}' has" if tenant is not None else "the tenant is new and has"
            for key in ("api_url", "api_key"):
                if not getattr(spec, key) and not spec.unusable_credentials:
                    errors.append(
                        spec.doc.error(
                            AC_PATH,
                            f"missing required key '{key}' ({where} no connection "
                            f"'{spec.name}' yet whose credentials this block could keep)"
                            if existing is None
                            else f"missing required key '{key}' (give both api_url and api_key, "
                            f"or neither to keep the connection's current ones)",
                        )
                    )
            ok = False
    if spec.gives_brevo:
        return ok
    if existing is not None:
        spec.brevo_api_key = existing.brevo_account.api_key
        spec.brevo_api_url = existing.brevo_account.api_url
        return ok
    if env.get("BREVO_API_KEY"):
        spec.brevo_api_key = env["BREVO_API_KEY"]
        spec.brevo_api_url = BREVO_DEFAULT_API_URL
        if env.get("BREVO_API_URL"):
            try:
                spec.brevo_api_url = normalize_brevo_api_url(
                    env["BREVO_API_URL"], allow_private=settings.TAJO_ALLOW_PRIVATE_URLS
                )
            except ValidationError as exc:
                errors.append(spec.doc.error(("connectors",), "BREVO_API_URL: " + " ".join(exc.messages)))
                return False
        return ok
    accounts = list(BrevoAccount.objects.filter(tenant=tenant)[:2]) if tenant is not None else []
    if len(accounts) == 1:
        spec.brevo_api_key = accounts[0].api_key
        spec.brevo_api_url = accounts[0].api_url
        return ok
    reason = (
        f"tenant '{tenant.slug}' has {len(accounts) or 'no'} Brevo accounts"
        if tenant is not None
        else "the tenant is new"
    )
    errors.append(
        spec.doc.error(
            ("connectors",),
            f"no Brevo key: add a 'brevo:' block with api_key under connectors, or set BREVO_API_KEY "
            f"({reason}, so none can be taken from it)",
        )
    )
    return False


def _create_in_brevo(plan: Plan) -> None:
    """Create the attributes and lists the file needs (HTTP; before the database transaction)."""
    if not plan.new_attributes and not plan.new_lists:
        return
    from connectors.providers.brevo.client import BrevoClient

    spec = plan.spec
    client = BrevoClient(
        api_url=spec.brevo_api_url, api_key=spec.brevo_api_key, allow_private=settings.TAJO_ALLOW_PRIVATE_URLS
    )
    errors = []
    with client:
        for name, (kind, options, path) in plan.new_attributes.items():
            try:
                client.create_attribute(
                    "normal",
                    name,
                    type=kind,
                    multi_category_options=options if kind == "multiple-choice" else None,
                )
            except ApiError as exc:
                errors.append(
                    spec.doc.error(path, f"Brevo refused to create attribute {name}: {exc.operator_message}")
                )
                continue
            entry = Entry(
                BREVO,
                "attribute",
                name,
                label=name,
                data_type=kind,
                extra={"category": "normal", **({"options": options} if options else {})},
            )
            plan.entries.append(entry)
            plan.index.add(entry)
        if plan.new_lists:
            folders = sorted(
                plan.index.items(BREVO, "folder"),
                key=lambda e: int(e.external_id) if e.external_id.isdigit() else 0,
            )
            if folders:
                folder_id = int(folders[0].external_id)
            else:
                folder_id = client.create_folder("ActiveCampaign")
                entry = Entry(BREVO, "folder", str(folder_id), label="ActiveCampaign")
                plan.entries.append(entry)
                plan.index.add(entry)
            for name, rows in plan.new_lists.items():
                try:
                    list_id = client.create_list(name, folder_id)
                except ApiError as exc:
                    errors.append(
                        spec.doc.error(
                            plan.paths[id(rows[0])],
                            f"Brevo refused to create list '{name}': {exc.operator_message}",
                        )
                    )
                    continue
                for row in rows:
                    row.brevo_list_id = list_id
                entry = Entry(BREVO, "list", str(list_id), label=name, extra={"folder_id": folder_id})
                plan.entries.append(entry)
                plan.index.add(entry)
    if errors:
        raise ConfigError(_by_line(errors))


def _apply(plan: Plan, tenant: Tenant, report: ImportReport, *, reason: str, user: Any) -> None:
    from mappings.services import Discovery, catalog_store

    spec = plan.spec
    connection = (
        Connection.objects.filter(tenant=tenant, name=spec.name)
        .select_related("ac_account", "brevo_account")
        .first()
    )
    ac_account = _ac_account(tenant, spec, connection, reason)
    brevo_account = _brevo_account(tenant, spec, connection, reason)
    if connection is None:
        connection = Connection(
            tenant=tenant, name=spec.name, ac_account=ac_account, brevo_account=brevo_account
        )
    connection.ac_account = ac_account
    connection.brevo_account = brevo_account
    for name, value in spec.values.items():
        setattr(connection, name, value)
    _save(connection, reason, user)
    catalog_store(
        connection=connection, discovery=Discovery(entries=plan.entries, errors=plan.discovery_errors)
    )
    for section in spec.sections:
        for model in SECTION_MODELS[section]:
            _sync_rows(model, connection, plan.rows.get(model, []), report, reason, user)
    if "score_mapping" not in spec.sections and plan.rows.get(ScoreMapping):
        # `score`/`rating` in field_mapping add to the score mappings; only score_mapping replaces them.
        _sync_rows(
            ScoreMapping, connection, plan.rows[ScoreMapping], report, reason, user, delete_others=False
        )


def _save(instance: Any, reason: str, user: Any) -> None:
    instance._change_reason = reason
    if user is not None:
        instance._history_user = user
    instance.save()


def _ac_account(
    tenant: Tenant, spec: Spec, connection: Connection | None, reason: str
) -> ActiveCampaignAccount:
    accounts = ActiveCampaignAccount.objects.filter(tenant=tenant)
    account = (
        connection.ac_account if connection is not None else accounts.filter(api_url=spec.api_url).first()
    )
    if account is None:
        account = ActiveCampaignAccount(tenant=tenant, name=_free_name(accounts, _host(spec.api_url)))
        account.plan = spec.plan or "lite"
        account.requests_per_second = PLAN_RATES[account.plan]
    dirty = account.pk is None or account.api_url != spec.api_url or account.api_key != spec.api_key
    if spec.plan and spec.plan != account.plan:
        account.plan_change(spec.plan)
        dirty = True
    account.api_url = spec.api_url
    account.api_key = spec.api_key
    if dirty:
        _save(account, reason, None)
    return account


def _brevo_account(tenant: Tenant, spec: Spec, connection: Connection | None, reason: str) -> BrevoAccount:
    accounts = BrevoAccount.objects.filter(tenant=tenant)
    account = connection.brevo_account if connection is not None else None
    if account is None:
        account = next(
            (a for a in accounts.filter(api_url=spec.brevo_api_url) if a.api_key == spec.brevo_api_key), None
        )
    if account is None:
        account = BrevoAccount(tenant=tenant, name=_free_name(accounts, "Brevo"))
    if account.pk is None or account.api_url != spec.brevo_api_url or account.api_key != spec.brevo_api_key:
        account.api_url = spec.brevo_api_url
        account.api_key = spec.brevo_api_key
        _save(account, reason, None)
    return account


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).netloc or url


def _free_name(accounts: Any, base: str) -> str:
    taken = set(accounts.values_list("name", flat=True))
    name, counter = base[:200], 2
    while name in taken:
        name = f"{base[:190]} ({counter})"
        counter += 1
    return name


def _sync_rows(
    model: type[MappingRule],
    connection: Connection,
    wanted: list[MappingRule],
    report: ImportReport,
    reason: str,
    user: Any,
    *,
    delete_others: bool = True,
) -> None:
    """Make the connection's rows of `model` equal `wanted`, keeping rows (and history) that match."""
    key_fields = NATURAL_KEYS[model]
    value_fields = VALUE_FIELDS[model]
    existing: dict[tuple, MappingRule] = {}
    for row in model.objects.filter(connection=connection).order_by("id"):
        existing.setdefault(_row_key(row, key_fields), row)
    keep: set[int] = set()
    for row in wanted:
        key = _row_key(row, key_fields)
        current = existing.get(key)
        if current is not None and current.pk not in keep:
            keep.add(current.pk)
            changed = [name for name in value_fields if getattr(current, name) != getattr(row, name)]
            if changed:
                for name in changed:
                    setattr(current, name, getattr(row, name))
                _save(current, reason, user)
                report.rows_updated += 1
            continue
        row.tenant = connection.tenant
        row.connection = connection
        _save(row, reason, user)
        keep.add(row.pk)
        report.rows_created += 1
    if not delete_others:
        return
    for row in model.objects.filter(connection=connection).exclude(pk__in=keep):
        row._change_reason = reason
        if user is not None:
            row._history_user = user
        row.delete()
        report.rows_deleted += 1


def _row_key(row: MappingRule, fields: tuple[str, ...]) -> tuple:
    values = []
    for name in fields:
        value = getattr(row, name)
        values.append(value.strip().upper() if name == "attribute" and isinstance(value, str) else value)
    return tuple(values)


# ============================================================================ export


def config_export(*, tenant: Tenant, connection_name: str | None = None) -> str:
    """The tenant's connections as YAML documents (one per connection), keys never included."""
    connections = (
        Connection.objects.filter(tenant=tenant)
        .select_related("ac_account", "brevo_account")
        .order_by("name")
    )
    if connection_name:
        connections = connections.filter(name=connection_name)
    documents = [_export_connection(connection) for connection in connections]
    if not documents:
        what = f"connection '{connection_name}'" if connection_name else "connections"
        raise ConfigError([f"tenant '{tenant.slug}' has no {what}"])
    return "---\n".join(
        yaml.safe_dump(document, sort_keys=False, allow_unicode=True, default_flow_style=False, width=110)
        for document in documents
    )


def _env_name(prefix: str, connection: Connection) -> str:
    if connection.name == DEFAULT_NAME:
        return prefix
    return f"{prefix}_{re.sub(r'[^A-Z0-9]+', '_', connection.name.upper()).strip('_')}"


def _export_connection(connection: Connection) -> dict:
    index = catalog_index_for(connection) or CatalogIndex([])
    labels = _Labeller(index)
    ac_account = connection.ac_account
    ac: dict[str, Any] = {
        "enabled": connection.enabled,
        "name": connection.name,
        "api_url": ac_account.api_url,
        "api_key": "${" + _env_name("AC_API_KEY", connection) + "}",
        "plan": ac_account.plan,
        "sync": {
            **{key: getattr(connection, model_field) for key, model_field in SYNC_FIELDS.items()},
            "options": {
                **{key: getattr(connection, model_field) for key, model_field in OPTION_FIELDS.items()},
                "defaultPhoneCountry": connection.default_phone_country,
            },
        },
    }
    rows = {
        model: list(model.objects.filter(connection=connection).order_by("id"))
        for model in SECTION_MODELS_ORDER
    }
    ac["list_mapping"] = _group(
        (labels.ac_key("list", row.ac_list_id), row.brevo_list_id)
        for row in sorted(rows[ListMapping], key=lambda r: (r.ac_list_id, r.brevo_list_id))
    )
    ac["field_mapping"] = labels.field_mapping(rows[StandardFieldMapping], rows[CustomFieldMapping])
    ac["tag_mapping"] = _group(
        (labels.ac_key("tag", row.ac_tag_id), labels.tag_value(row))
        for row in sorted(rows[TagMapping], key=lambda r: (r.ac_tag_id, r.pk))
    )
    ac["stage_mapping"] = {
        labels.stage_key(row.ac_stage_id): labels.brevo_stage(row)
        for row in sorted(rows[StageMapping], key=lambda r: (r.ac_pipeline_id or 0, r.ac_stage_id))
    }
    ac["owner_mapping"] = {
        labels.ac_key("user", row.ac_user_id, keys=("email",)): row.brevo_owner
        for row in sorted(rows[OwnerMapping], key=lambda r: r.ac_user_id)
    }
    ac["automation_mapping"] = {
        labels.ac_key("automation", row.ac_automation_id): (
            {"entered": row.brevo_event_entered, "completed": row.brevo_event_completed}
            if row.brevo_event_completed
            else row.brevo_event_entered
        )
        for row in sorted(rows[AutomationMapping], key=lambda r: r.ac_automation_id)
    }
    ac["event_mapping"] = {
        row.ac_event_name: row.brevo_event_name
        for row in sorted(rows[EventMapping], key=lambda r: r.ac_event_name)
    }
    ac["score_mapping"] = _group(
        (labels.ac_key("score", row.ac_score_id), labels.attribute_value(row, SCORE_SOURCE_TYPE))
        for row in sorted(rows[ScoreMapping], key=lambda r: (r.ac_score_id, r.attribute))
    )
    ac["custom_object_mapping"] = _group(
        (labels.object_key(row), labels.attribute_value(row, labels.object_source(row)))
        for row in sorted(
            rows[CustomObjectFieldMapping], key=lambda r: (r.ac_schema_id, r.ac_field_key, r.attribute)
        )
    )
    ac["debug"] = connection.debug
    ac["log_level"] = connection.log_level
    ac["log_webhooks"] = connection.log_webhooks
    brevo: dict[str, Any] = {"api_key": "${" + _env_name("BREVO_API_KEY", connection) + "}"}
    if connection.brevo_account.api_url.rstrip("/") != BREVO_DEFAULT_API_URL:
        brevo["api_url"] = connection.brevo_account.api_url
    return {"connectors": {"activecampaign": ac, "brevo": brevo}}


def _group(pairs: Iterable[tuple[Any, Any]]) -> dict:
    """Pairs as a mapping; a key given twice gets a list of values."""
    result: dict[Any, Any] = {}
    for key, value in pairs:
        if key in result:
            current = result[key]
            result[key] = [*current, value] if isinstance(current, list) else [current, value]
        else:
            result[key] = value
    return result


class _Labeller:
    """Readable keys for export that import resolves back to the same ids (else the id)."""

    def __init__(self, index: CatalogIndex) -> None:
        self.index = index

    def _unique(self, kind: str, ident: object, candidate: str, keys: tuple[str, ...] = ()) -> bool:
        if not candidate or candidate.strip() != candidate or candidate.isdigit():
            return False
        found = self.index.find(AC, kind, candidate, keys=keys)
        return len(found) == 1 and found[0].external_id == str(ident)

    def ac_key(self, kind: str, ident: object, *, keys: tuple[str, ...] = ()) -> Any:
        entry = self.index.get(AC, kind, ident)
        if entry is not None and entry.present:
            for key in keys:
                value = str(entry.extra.get(key) or "")
                if self._unique(kind, ident, value, keys):
                    return value
            if self._unique(kind, ident, entry.label, keys):
                return entry.label
        return int(ident) if str(ident).isdigit() else ident

    def field_key(self, field_id: int) -> Any:
        """`fieldValues.<perstag>` (the documentation's spelling) when it finds this field again."""
        entry = self.index.get(AC, "field", field_id)
        if entry is not None and entry.present:
            for candidate in (str(entry.extra.get("perstag") or "").lower(), entry.label):
                if candidate and self._unique("field", field_id, candidate, ("perstag",)):
                    return FIELD_VALUES_DISPLAY + candidate
        return f"{FIELD_VALUES_DISPLAY}{field_id}"

    def attribute_value(self, row: Any, source: str) -> Any:
        entry = self.index.get(BREVO, "attribute", row.attribute)
        existing = brevo_type(entry.data_type) if entry is not None and entry.present else None
        if default_transform(source, existing).value == row.transform:
            return row.attribute
        return {"attribute": row.attribute, "transform": row.transform}

    def field_mapping(self, standard: list[StandardFieldMapping], custom: list[CustomFieldMapping]) -> dict:
        order = list(EXPORT_STANDARD_KEY)
        pairs = [
            (EXPORT_STANDARD_KEY[row.source], self.attribute_value(row, STANDARD_SOURCE_TYPES[row.source]))
            for row in sorted(
                standard, key=lambda r: (order.index(r.source) if r.source in order else 99, r.pk)
            )
            if not row.source.startswith("deal.")
        ]
        for row in sorted(custom, key=lambda r: (r.ac_field_id, r.pk)):
            entry = self.index.get(AC, "field", row.ac_field_id)
            source = source_type(entry.data_type) if entry is not None else "text"
            pairs.append((self.field_key(row.ac_field_id), self.attribute_value(row, source)))
        pairs.extend(
            (EXPORT_STANDARD_KEY[row.source], self.attribute_value(row, STANDARD_SOURCE_TYPES[row.source]))
            for row in sorted(
                standard, key=lambda r: (order.index(r.source) if r.source in order else 99, r.pk)
            )
            if row.source.startswith("deal.")
        )
        return _group(pairs)

    def tag_value(self, row: TagMapping) -> Any:
        if not row.attribute and not row.unlink_when_absent:
            return row.brevo_list_id
        value: dict[str, Any] = {}
        if row.brevo_list_id:
            value["list"] = row.brevo_list_id
        if row.attribute:
            value["attribute"] = row.attribute
            entry = self.index.get(BREVO, "attribute", row.attribute)
            kind = brevo_type(entry.data_type) if entry is not None else "text"
            value["value"] = _typed(row.value, kind)
            if row.value_when_absent:
                value["value_when_absent"] = _typed(row.value_when_absent, kind)
        if row.unlink_when_absent:
            value["unlink_when_absent"] = True
        return value

    def stage_key(self, stage_id: int) -> Any:
        entry = self.index.get(AC, "stage", stage_id)
        pipeline = self.index.get(AC, "pipeline", entry.parent_id) if entry is not None else None
        if entry is not None and pipeline is not None and "/" not in entry.label and entry.present:
            key = f"{pipeline.label}/{entry.label}"
            if self._unique("pipeline", pipeline.external_id, pipeline.label):
                siblings = [
                    e
                    for e in self.index.children(AC, "stage", pipeline.external_id)
                    if e.label.strip().lower() == entry.label.strip().lower()
                ]
                if len(siblings) == 1:
                    return key
        return stage_id

    def brevo_stage(self, row: StageMapping) -> dict:
        pipeline = self.index.get(BREVO, "pipeline", row.brevo_pipeline_id)
        stage = self.index.get(BREVO, "stage", row.brevo_stage_id, row.brevo_pipeline_id)
        pipelines = self.index.items(BREVO, "pipeline")
        pipeline_name = row.brevo_pipeline_id
        if (
            pipeline is not None
            and sum(1 for p in pipelines if p.label.lower() == pipeline.label.lower()) == 1
        ):
            pipeline_name = pipeline.label
        stage_name = row.brevo_stage_id
        if stage is not None:
            siblings = self.index.children(BREVO, "stage", row.brevo_pipeline_id)
            if sum(1 for s in siblings if s.label.lower() == stage.label.lower()) == 1:
                stage_name = stage.label
        return {"pipeline": pipeline_name, "stage": stage_name}

    def object_key(self, row: CustomObjectFieldMapping) -> str:
        schema = self.index.get(AC, "custom_object", row.ac_schema_id)
        slug = str(schema.extra.get("slug") or "") if schema is not None else ""
        head = (
            slug
            if slug and "/" not in slug and self._unique("custom_object", row.ac_schema_id, slug, ("slug",))
            else row.ac_schema_id
        )
        return f"{head}/{row.ac_field_key}"

    def object_source(self, row: CustomObjectFieldMapping) -> str:
        entry = self.index.get(AC, "custom_object_field", row.ac_field_key, row.ac_schema_id)
        return source_type(entry.data_type) if entry is not None else "text"


def _typed(raw: str, kind: str) -> Any:
    try:
        return parse_tag_value(raw, kind)
    except ValueError:
        return raw


def import_config(
    path: str | Path,
    *,
    tenant_slug: str,
    create_tenant: bool = False,
    create_missing: bool = False,
    dry_run: bool = False,
    env: Mapping[str, str] | None = None,
) -> ImportReport:
    """`config_import` for a file on disk (the demo and scripts use this)."""
    file = Path(path)
    return config_import(
        text=file.read_text(encoding="utf-8"),
        filename=str(file),
        tenant_slug=tenant_slug,
        create_tenant=create_tenant,
        create_missing=create_missing,
        dry_run=dry_run,
        env=env,
    )
