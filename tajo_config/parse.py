"""Parsing a configuration file: YAML documents with the line of every key, `${VAR}` read safely.

Nothing here knows what the keys mean; `Document.error` gives every later phase the
`FILE:LINE: dotted.key: message` form.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from mappings.exceptions import ConfigError

Path_ = tuple[Any, ...]

_LOCATION_RE = re.compile(r"^(.*?):(\d+):")
_ENV_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_PLAIN_KEY_RE = re.compile(r"[A-Za-z0-9_-]+")


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
    # Values whose `${VAR}` could not be read: they keep their text and already have their error,
    # so later phases say nothing more about them (and never use them as credentials).
    unresolved: set[Path_] = field(default_factory=set)

    def line(self, path: Path_) -> int:
        probe = tuple(path)
        while probe:
            if probe in self.lines:
                return self.lines[probe]
            probe = probe[:-1]
        return self.start_line

    def error(self, path: Path_, message: str) -> str:
        return f"{self.filename}:{self.line(path)}: {dotted(path) or '(document)'}: {message}"

    def is_unresolved(self, path: Path_) -> bool:
        """Whether the value at `path` (or around it) kept an unread `${VAR}`."""
        probe = tuple(path)
        while probe:
            if probe in self.unresolved:
                return True
            probe = probe[:-1]
        return False


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


def parse_documents(
    text: str,
    filename: str,
    *,
    env: Mapping[str, str] | None = None,
    env_errors: list[str] | None = None,
) -> list[Document]:
    """Parse a YAML stream into documents with line numbers; `${VAR}` is read from `env`.

    Only variables `env_readable` allows are read. A variable that cannot be read is an error
    raised here, or, given `env_errors`, added to it so that the caller reports it together
    with the file's other problems (the value keeps its text, see `Document.unresolved`).
    Files over the size, depth or alias bounds are refused with one line.
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
            document.data = _interpolate(
                document, document.data, (), env, errors if env_errors is None else env_errors
            )
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

    unread: list[str] = []

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in env and env_readable(name):
            return env[name]
        unread.append(name)
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
        errors.append(document.error(path, f"environment variable {name} is not set"))
        return ""

    result = _ENV_RE.sub(replace, value)
    if unread:
        document.unresolved.add(path)
        return value  # the text as written: nothing of the environment, nothing half-filled
    return result
