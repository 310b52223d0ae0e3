"""Reading ahead in a thread: order, errors, budgets and early stops behave as plain iteration."""

from __future__ import annotations

import threading
import time

import pytest

from connectors.sync.readahead import ReadAhead


def _pages(n: int, log: list[int] | None = None, delay: float = 0.0):
    for i in range(n):
        if delay:
            time.sleep(delay)
        if log is not None:
            log.append(i)
        yield i


def test_items_arrive_in_order_and_all_of_them() -> None:
    pages = ReadAhead(_pages(50), depth=3)
    assert list(pages) == list(range(50))
    assert not pages.stopped


def test_the_next_item_is_read_while_the_caller_works_on_this_one() -> None:
    read_next = threading.Event()

    def pages():
        yield 0
        read_next.set()
        yield 1

    items = iter(ReadAhead(pages(), depth=1))
    assert next(items) == 0
    # Still holding item 0: the thread has gone on to read item 1.
    assert read_next.wait(timeout=10)
    assert list(items) == [1]


def test_an_error_is_raised_where_the_caller_would_meet_it() -> None:
    def failing():
        yield 1
        yield 2
        raise RuntimeError("AC went away")

    seen = []
    with pytest.raises(RuntimeError, match="AC went away"):
        for item in ReadAhead(failing()):
            seen.append(item)
    assert seen == [1, 2]


def test_the_budget_stops_reading_and_nothing_read_is_dropped() -> None:
    log: list[int] = []
    read = 0

    def more(_item: int) -> bool:
        nonlocal read
        read += 1
        return read < 4

    pages = ReadAhead(_pages(100, log), depth=5, more=more)
    assert list(pages) == [0, 1, 2, 3]
    assert pages.stopped
    assert log == [0, 1, 2, 3], "the thread read past the budget"


def test_breaking_off_stops_the_thread_before_its_next_read() -> None:
    log: list[int] = []
    before = threading.active_count()
    pages = iter(ReadAhead(_pages(1000, log, delay=0.001), depth=2))
    assert next(pages) == 0
    pages.close()
    assert threading.active_count() == before
    # The item taken, up to `depth` queued, and at most one more in flight when told to stop.
    assert len(log) <= 4


def test_what_was_read_and_not_taken_is_kept_in_order() -> None:
    log: list[int] = []
    reader = ReadAhead(_pages(1000, log, delay=0.001), depth=3)
    pages = iter(reader)
    taken = [next(pages), next(pages)]
    time.sleep(0.05)  # the thread fills its queue meanwhile
    pages.close()
    # Every item read is either taken or kept: none is dropped, none is read twice.
    assert taken + reader.unused == log
    assert reader.unused == list(range(2, 2 + len(reader.unused)))
    assert 1 <= len(reader.unused) <= 4


def test_nothing_is_kept_after_a_full_read() -> None:
    reader = ReadAhead(_pages(10), depth=3)
    assert list(reader) == list(range(10))
    assert reader.unused == [] and reader.exhausted


def test_a_read_stuck_in_a_long_wait_is_abandoned_and_its_item_dropped() -> None:
    release = threading.Event()

    def pages():
        yield 0
        yield 1
        release.wait(timeout=30)  # a provider's long Retry-After, slept out inside the read
        yield 2

    reader = ReadAhead(pages(), depth=3, in_flight_wait=0.3)
    items = iter(reader)
    assert next(items) == 0
    time.sleep(0.05)  # item 1 is queued, item 2 is being read
    started = time.monotonic()
    items.close()
    assert time.monotonic() - started < 2.0, "breaking off waited for the stuck read"
    assert reader.unused == [1]  # what was read is kept; the read that never ended is not
    release.set()
    time.sleep(0.2)
    assert reader.unused == [1]
