"""Contacts' transforms in a helper process, so that mapping runs on another core.

A contact sync is one worker process that waits on ActiveCampaign, Brevo and PostgreSQL and
works in between; the work is Python and holds the GIL, so the reading thread cannot share it.
The largest part of it is the mapping itself (phone numbers above all: parsing and validating
one takes about 0.1 ms), which is pure (`mappings.transforms`): a helper process does it for
the pages read ahead while the worker writes the pages before them.

The helper changes no outcome: it returns what `transform_contact` would have returned in the
worker, and whenever it cannot (not started yet, gone, failed, late) the worker transforms the
page itself. It is started with `spawn`, never `fork`: the worker has threads and open database
and Redis connections a forked child must not share. `TAJO_TRANSFORM_PROCESSES` sets how many
helpers a worker may start (0: none); docs/runtime.md says when to change it.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import multiprocessing
import pickle
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TYPE_CHECKING

from mappings.transforms.batch import started, transform_page

if TYPE_CHECKING:
    from mappings.records import SourceContact
    from mappings.transforms import ContactResult, MappingSet

logger = logging.getLogger(__name__)

# A run smaller than this is transformed in the worker: starting a helper costs about half a
# second of CPU (a new interpreter importing pydantic and phonenumbers), which a few hundred
# contacts do not pay back.
MIN_CONTACTS = 2_000
# How long the worker waits for a page once a helper is up (before that, a page not ready yet is
# transformed in the worker: it never waits for a helper that is still starting). Past it, the
# helper is given up for the slice.
WAIT_SECONDS = 10.0


class PageTransform:
    """One page handed to the helper: how many contacts it holds and, once taken, the results
    (the caller keeps each source with its place in the page)."""

    __slots__ = ("declined", "future", "results", "size")

    def __init__(self, size: int, future: Future) -> None:
        self.size = size
        self.future = future
        self.results: list[ContactResult] | None = None
        self.declined = False  # the worker transforms this page itself


class TransformPool:
    """Up to `processes` helpers transforming pages of contacts under one mapping."""

    def __init__(self, mapping: MappingSet, processes: int) -> None:
        self._mapping = pickle.dumps(mapping, protocol=pickle.HIGHEST_PROTOCOL)
        self._key = hashlib.sha256(self._mapping).hexdigest()
        self.pages = 0  # pages the helper transformed
        self.fallbacks = 0  # pages the worker transformed itself after handing them over
        self._executor: ProcessPoolExecutor | None = None
        # Done once a helper is up (at once for helpers kept from an earlier slice).
        self._started: Future | None = None
        try:
            self._executor = _executor(processes)
            self._started = self._executor.submit(started)
        except Exception as exc:  # no process could be started: the worker maps every page
            self._give_up(exc)

    @property
    def working(self) -> bool:
        return self._executor is not None

    def submit(self, sources: list[SourceContact]) -> PageTransform | None:
        """Hand a page's sources to a helper; None when there is no helper (any more)."""
        if self._executor is None or not sources:
            return None
        try:
            future = self._executor.submit(transform_page, self._key, self._mapping, sources)
        except Exception as exc:  # a broken or shut-down pool: the worker does the pages itself
            self._give_up(exc)
            return None
        return PageTransform(len(sources), future)

    def results(self, page: PageTransform) -> list[ContactResult] | None:
        """The helper's results for `page`, or None: then the worker transforms it itself."""
        if page.results is not None or page.declined:
            return page.results
        if self._executor is None or not (page.future.done() or (self._started and self._started.done())):
            # No helper, or one still starting: the worker does not wait for it.
            return self._decline(page)
        try:
            results = page.future.result(timeout=WAIT_SECONDS)
        except Exception as exc:  # gone, failed or late: the same work is done here instead
            self._give_up(exc)
            return self._decline(page)
        if len(results) != page.size:
            self._give_up(RuntimeError(f"{len(results)} results for {page.size} contacts"))
            return self._decline(page)
        self.pages += 1
        page.results = results
        return results

    def _decline(self, page: PageTransform) -> None:
        page.future.cancel()
        page.declined = True
        self.fallbacks += 1

    def close(self) -> None:
        logger.debug("Transform helper: %d pages mapped there, %d by the worker", self.pages, self.fallbacks)
        executor, self._executor = self._executor, None
        if executor is not None:
            _release(executor, broken=False)

    def _give_up(self, exc: BaseException) -> None:
        logger.warning(
            "Contact transform helper stopped (%s: %s); the worker transforms the rest of the slice itself",
            type(exc).__name__,
            exc,
        )
        executor, self._executor = self._executor, None
        if executor is not None:
            _release(executor, broken=True)


_shared: dict[int, ProcessPoolExecutor] = {}
_keep = False


@contextlib.contextmanager
def kept_between_slices() -> Iterator[None]:
    """Keep the helpers from one slice to the next while this runs (a run's slices in one
    process: `tajo_sync --inline`); they stop when it ends. Elsewhere each slice (an RQ job,
    in a work horse of its own) starts its helpers and stops them when it ends."""
    global _keep
    _keep = True
    try:
        yield
    finally:
        _keep = False
        _stop_all()


def _executor(processes: int) -> ProcessPoolExecutor:
    executor = _shared.get(processes)
    if executor is None:  # a broken one was dropped by the pool that found it broken
        executor = _shared[processes] = ProcessPoolExecutor(
            max_workers=processes, mp_context=multiprocessing.get_context("spawn")
        )
    return executor


def _release(executor: ProcessPoolExecutor, *, broken: bool) -> None:
    if broken or not _keep:
        for key, shared in list(_shared.items()):
            if shared is executor:
                del _shared[key]
        executor.shutdown(wait=not broken, cancel_futures=True)


def _stop_all() -> None:
    while _shared:
        _, executor = _shared.popitem()
        executor.shutdown(wait=True, cancel_futures=True)
