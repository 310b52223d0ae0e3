"""Errors of the mappings app. Each message is written for the person who has to fix it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mappings.validation import Problem


class DiscoveryFailed(Exception):
    """Discovery could not read one side at all (bad key, unreachable host, ...)."""


class MappingInvalid(Exception):
    """A connection's mappings cannot be used for a sync; `problems` lists every reason."""

    def __init__(self, connection_label: str, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        lines = "; ".join(problem.text() for problem in self.problems[:20])
        more = f" (and {len(self.problems) - 20} more)" if len(self.problems) > 20 else ""
        super().__init__(
            f"The mappings of {connection_label} have {len(self.problems)} problem(s): {lines}{more}"
        )


class ConfigError(Exception):
    """A YAML configuration file cannot be imported; `errors` holds one line per problem.

    Each line reads `FILE:LINE: dotted.key: what is wrong`, so an editor can jump to it.
    """

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))
