"""Read the next pages while the current one is mapped and written.

A sync alternates between waiting for ActiveCampaign and working (mapping, Brevo writes, the
per-record log). Reading one or two pages ahead in a thread overlaps the two: the socket wait
releases the GIL, so the thread costs almost nothing while it waits. Pages still reach the
caller in order, and errors are raised where the caller would have met them.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")

_END = object()


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


class ReadAhead(Generic[T]):
    """Iterate `items` with up to `depth` of them read ahead in a background thread.

    `more(item)` runs in the thread after each item and decides whether to read another: a
    slice's time and record budget belong there, so that every page read is also used (a
    dropped page would be a request wasted against the account's rate limit). `stopped` says
    whether `more` ended the read before `items` ran out.

    If the caller breaks off anyway (a slice at its deadline), the thread stops before its next
    read and its request in flight is waited for, up to `in_flight_wait` seconds; what was read
    and not yet handed over is kept in `unused`, in order, for the caller to carry on with: a
    read is never thrown away. A read still under way after that wait (one sleeping out a
    provider's long Retry-After) is abandoned: its item, if it ever comes, is dropped (the
    caller reads it again from its position after the last item in `unused`), and a slice
    keeps its length.
    """

    def __init__(
        self,
        items: Iterator[T],
        *,
        depth: int = 2,
        more: Callable[[T], bool] | None = None,
        in_flight_wait: float = 3.0,
    ) -> None:
        self._items = items
        self._depth = max(1, depth)
        self._more = more or (lambda _item: True)
        self._in_flight_wait = in_flight_wait
        self.stopped = False
        self.exhausted = False  # `items` ran out: nothing more to read after what was handed over
        self.unused: list[T] = []

    def __iter__(self) -> Iterator[T]:
        ready: queue.Queue = queue.Queue(maxsize=self._depth)
        quit_ = threading.Event()
        abandoned = threading.Event()

        def hand(item: object) -> bool:
            # Blocks while the queue is full (the caller sets the pace), unless abandoned.
            while not abandoned.is_set():
                with contextlib.suppress(queue.Full):
                    ready.put(item, timeout=0.05)
                    return True
            return False

        def produce() -> None:
            try:
                for item in self._items:
                    # Also when told to quit meanwhile: the caller keeps it in `unused`.
                    if not hand(item) or quit_.is_set():
                        return
                    if not self._more(item):
                        self.stopped = True
                        break
                    if quit_.is_set():
                        return
                else:
                    self.exhausted = True
                hand(_END)
            except BaseException as exc:  # handed to the caller, raised there
                hand(_Failure(exc))

        worker = threading.Thread(target=produce, name="tajo-read-ahead", daemon=True)
        worker.start()
        try:
            while True:
                item = ready.get()
                if item is _END:
                    return
                if isinstance(item, _Failure):
                    raise item.exc
                yield item
        finally:
            quit_.set()
            give_up = time.monotonic() + self._in_flight_wait
            while worker.is_alive() and time.monotonic() < give_up:  # unblock a producer on a full queue
                with contextlib.suppress(queue.Empty):
                    self._keep(ready.get(timeout=0.05))
            abandoned.set()
            worker.join(timeout=0.5)  # a put under way lands before the queue is emptied below
            while True:
                try:
                    self._keep(ready.get_nowait())
                except queue.Empty:
                    break

    def _keep(self, item: object) -> None:
        # A failure after the caller stopped is the next slice's to meet (it reads again from there).
        if item is not _END and not isinstance(item, _Failure):
            self.unused.append(item)  # type: ignore[arg-type]
