"""The one interface every synced resource implements, and the context the engine hands it."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from connectors.models import NOT_CONFIGURED

if TYPE_CHECKING:
    from connectors.models import Connection, SyncRun
    from connectors.providers.activecampaign.client import ActiveCampaignClient
    from connectors.providers.brevo.client import BrevoClient
    from connectors.sync.recorder import Recorder
    from mappings.transforms import CompiledMapping, MappingSet


@dataclass
class SyncContext:
    """Everything one slice of one run needs; providers are passed in, never looked up globally."""

    run: SyncRun
    connection: Connection
    ac: ActiveCampaignClient
    brevo: BrevoClient
    mapping: MappingSet
    compiled: CompiledMapping
    recorder: Recorder
    dry_run: bool
    mode: str
    deadline: float
    max_records: int
    # Incremental runs read changes since this instant (already minus the overlap window).
    since: datetime | None = None
    # Retry runs: the source ids that failed, per resource.
    only_ids: dict[str, set[str]] = field(default_factory=dict)
    trigger: str = "admin"
    counted_requests: tuple[int, int] = (0, 0)  # (AC, Brevo) already added to the run's totals
    # Set by a resource that stopped to wait for a provider budget (Brevo's hourly CRM bucket):
    # the next slice is enqueued this many seconds later instead of at once.
    resume_after: float = 0.0
    # Set by the engine for slices: `checkpoint(resource, state)` commits the outcomes recorded so
    # far with that position, mid-slice; resources call it about every `checkpoint_every` seconds
    # at a point where the state is consistent, so a killed worker loses only seconds of work.
    checkpoint: Callable[[str, dict[str, Any]], None] | None = None
    checkpoint_every: float = 5.0
    # When the slice must be over whatever it still holds (its deadline plus a short grace).
    hard_stop: float = float("inf")
    # Helper processes a resource may start for its pure per-record work (TAJO_TRANSFORM_PROCESSES).
    transform_processes: int = 0

    def out_of_time(self) -> bool:
        return time.monotonic() >= self.deadline or self.recorder.records_in_slice >= self.max_records


@dataclass
class SliceResult:
    """What a resource did in one slice: its new position and whether it has finished."""

    state: dict[str, Any]
    done: bool
    total: int | None = None  # best known number of records this resource will read, for progress
    next_cursor: datetime | None = None  # the incremental cursor to store when the run ends


def not_configured(state: dict[str, Any], reason: str) -> SliceResult:
    """Finish a resource the mapping does not write, reading nothing, with the reason on the run."""
    return SliceResult({**state, NOT_CONFIGURED: reason}, done=True, total=0)


class Resource(ABC):
    """A kind of data that syncs. Subclasses are registered in `connectors.sync.registry`.

    `run_slice` reads from ActiveCampaign from `state` onwards, maps, writes to Brevo (unless
    dry run), records one outcome per record through `ctx.recorder`, and returns before
    `ctx.out_of_time()`; the engine commits its state with the outcomes and continues in the
    next slice. It must be safe to run again from the same state after a crash: writes are
    upserts or guarded by RecordState.
    """

    name: ClassVar[str]
    label: ClassVar[str]
    # Resources that must finish first within a run (e.g. lists before contacts).
    after: ClassVar[tuple[str, ...]] = ()
    # Connection flag that enables it.
    connection_flag: ClassVar[str]

    @abstractmethod
    def run_slice(self, ctx: SyncContext, state: dict[str, Any]) -> SliceResult: ...

    def sync_one(self, ctx: SyncContext, source_id: str) -> None:
        """Re-read one record from ActiveCampaign and write it (webhooks, retries)."""
        raise NotImplementedError(f"{self.name} cannot sync a single record")

    def estimate_requests(self, counts: Volumes) -> RequestEstimate:
        """AC requests and Brevo requests per bucket a full backfill needs (for the run's floor).

        `counts` holds the catalog's counts and the AC record totals; see connectors/sync/estimate.py.
        """
        return RequestEstimate()


@dataclass(frozen=True)
class Volumes:
    """What a full backfill of one connection reads, for estimating its requests before it starts.

    `totals`: AC record totals by collection ("contacts", "deals", "contactTags",
    "contactLists", "contactAutomations", "ecomCustomers", "ecomOrders", "ecomOrderProducts",
    "fieldValues:<field id>", "customObjectRecords:<schema id>"); `counts`: the discovered
    catalog's counts per kind ("ac.automation": 4, "brevo.list": 12, ...).
    """

    connection: Connection
    mapping: MappingSet
    totals: dict[str, int] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def total(self, key: str) -> int:
        return int(self.totals.get(key) or 0)


@dataclass
class RequestEstimate:
    """Requests one resource needs: to ActiveCampaign, and to Brevo per rate-limit bucket."""

    ac: float = 0.0
    brevo: dict[str, float] = field(default_factory=dict)
