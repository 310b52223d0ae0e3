"""Id arithmetic over the generated account: windows of time, slices of sorted ids, pages that merge
generated rows with the overlay, and how many generated rows stay cached."""

from __future__ import annotations

import heapq
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from typing import Any

from sandbox.activecampaign.generator.account import CHILD_KINDS, GROUP_KINDS, GROUP_OF

# Generated rows kept warm, in contacts and in (contact, group) entries: a whole
# 100,000-contact benchmark account fits (about 1 GB; under 1.5 GB when full).
CONTACT_CACHE = 1 << 17
GROUP_CACHE = 3 * CONTACT_CACHE
GROUP_INDEX = {kind: GROUP_KINDS[GROUP_OF[kind]].index(kind) for kind in CHILD_KINDS}

Window = tuple[float | None, float | None]  # [start, end) in epoch seconds; None = open


class TimeIndex:
    """Generated ids whose timestamp falls in a window, computed once per window and cached."""

    def __init__(self, times: Any, size: int = 8) -> None:
        self.times = times
        self.size = size
        self.cache: dict[Window, array] = {}

    def ids(self, start: float | None, end: float | None) -> array:
        key = (start, end)
        hit = self.cache.get(key)
        if hit is None:
            lo = float("-inf") if start is None else start
            hi = float("inf") if end is None else end
            hit = array("Q", (i + 1 for i, t in enumerate(self.times) if lo <= t < hi))
            if len(self.cache) >= self.size:
                self.cache.pop(next(iter(self.cache)))
            self.cache[key] = hit
        return hit


def in_window(value: float | None, window: Window) -> bool:
    if window == (None, None):
        return True
    if value is None:
        return False
    return (window[0] is None or value >= window[0]) and (window[1] is None or value < window[1])


class Slice:
    """A read-only view of a sorted array between two positions (no copy)."""

    def __init__(self, data: Any, start: int, stop: int) -> None:
        self.data, self.start, self.stop = data, start, max(start, stop)

    def __len__(self) -> int:
        return self.stop - self.start

    def __iter__(self) -> Iterator[int]:
        data = self.data
        for k in range(self.start, self.stop):
            yield data[k]

    def __getitem__(self, k: int) -> int:
        return self.data[self.start + k]


def ids_between(sorted_ids: Any, first: int, last: int) -> Slice:
    return Slice(sorted_ids, bisect_left(sorted_ids, first), bisect_right(sorted_ids, last))


def membership_test(ids: Any) -> Callable[[int], bool]:
    """Fast "is x in this sorted id collection" for ranges, slices and lists."""
    if isinstance(ids, range):
        return ids.__contains__
    if isinstance(ids, Slice):
        data, start, stop = ids.data, ids.start, ids.stop

        def member(x: int) -> bool:
            k = bisect_left(data, x, start, stop)
            return k < stop and data[k] == x

        return member
    as_set = set(ids)
    return as_set.__contains__


def merge_page(generated: Iterator[int], overlay: list[int], offset: int, limit: int) -> list[int]:
    """Ids ``offset .. offset + limit`` of two ascending id streams merged."""
    out: list[int] = []
    for k, cid in enumerate(heapq.merge(generated, overlay)):
        if k >= offset + limit:
            break
        if k >= offset:
            out.append(cid)
    return out
