"""Jobs for the embedded-queue soak test: importable by a plain RQ worker, no Django needed."""

from __future__ import annotations

import time


def echo(value: int) -> int:
    return value


def nap(seconds: float) -> float:
    time.sleep(seconds)
    return seconds
