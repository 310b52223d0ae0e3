"""docs/benchmarks.md keeps each benchmark's latest figures: a new run replaces its own block."""

from __future__ import annotations

import os
import platform
from datetime import UTC, datetime
from pathlib import Path

PATH = Path(__file__).resolve().parents[2] / "docs" / "benchmarks.md"
HEADER = "# Benchmarks\n\nFigures written by the benchmark commands in the README.\n"


def heading(title: str) -> str:
    """`title — <date> (<machine>)`: when and where the figures below it were measured."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    return f"{title} — {stamp} ({machine})"


def write_section(name: str, lines: list[str]) -> None:
    """Replace benchmark `name`'s block of figures (or add it at the end the first time)."""
    start, end = f"<!-- {name} figures: replaced by each run -->", f"<!-- end of {name} figures -->"
    block = "\n".join([start, *lines, end])
    text = PATH.read_text() if PATH.exists() else HEADER
    if start in text and end in text:
        before, rest = text.split(start, 1)
        text = before + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    PATH.write_text(text)
