"""The project needs nothing beside its checkout: no code or test reads a folder next to it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = ("connectors", "mappings", "tenants", "tajo_site", "tests", "scripts")
# A path that climbs out of the checkout into a sibling folder, e.g. "../shared/reference".
OUTSIDE = re.compile(r"(?<!\.)\.\./[A-Za-z_]|parents\[\d\]\.parent\b|/shared/reference")


def test_nothing_reads_beside_the_checkout() -> None:
    offenders = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*")):
            if path.suffix not in (".py", ".sh", "") or not path.is_file() or path == Path(__file__):
                continue
            if "__pycache__" in path.parts:
                continue
            text = path.read_text(errors="replace")
            offenders += [
                f"{path.relative_to(ROOT)}:{number}"
                for number, line in enumerate(text.splitlines(), 1)
                if OUTSIDE.search(line)
            ]
    assert offenders == []
