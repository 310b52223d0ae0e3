"""What a slice holds at its deadline, kept for the next slice of the same run.

A slice stops at its deadline whatever it holds. Two kinds of holding are parked with the run
(StagedRow, deleted with the run's other staged rows when it finishes):

- pages (and contacts taken off them) read but not yet mapped: reading them again would spend
  the account's rate limit twice (`park` / `take`);
- writes under way: contacts mapped but not yet sent, imports Brevo accepted but has not
  confirmed (with their process ids), and list fixes not yet made (`park_writes` /
  `take_writes`). The next slice settles them first; they are never re-read from
  ActiveCampaign, and never recorded as written before Brevo confirms them.

The run's committed state names each parked set (`{"token", "items", ...}`); a set the state does
not name is a leftover of a slice that died before committing, and is deleted.

What is parked is stored pickled: parsed client objects and the writer's own records, written and
read only by Tajo's own workers through its own database, the same trust as RQ's pickled jobs in
Redis.
"""

from __future__ import annotations

import base64
import pickle
import time
from typing import Any

from django.db import transaction

from connectors.models import StagedRow

KIND = "c"  # pages and contacts read, not mapped
WRITES = "w"  # writes under way


def _store(run_id: int, kind: str, items: list[Any]) -> dict[str, Any]:
    token = time.time_ns() // 1000
    rows = [
        StagedRow(
            run_id=run_id,
            kind=kind,
            contact_id=-token,  # negative: never a contact id, so association joins never see it
            key=index,
            value=base64.b64encode(pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)).decode(),
        )
        for index, item in enumerate(items)
    ]
    with transaction.atomic():
        StagedRow.objects.bulk_create(rows, batch_size=50)
    return {"token": token, "items": len(items)}


def _load(run_id: int, kind: str, ref: dict[str, Any] | None) -> list[Any] | None:
    """The items `ref` names, in order; None when there are none or they are gone. Sets of this
    kind that `ref` does not name are deleted."""
    stale = StagedRow.objects.filter(run_id=run_id, kind=kind, contact_id__lt=0)
    if not ref:
        stale.delete()
        return None
    token = int(ref["token"])
    stale.exclude(contact_id=-token).delete()
    values = list(
        StagedRow.objects.filter(run_id=run_id, kind=kind, contact_id=-token)
        .order_by("key")
        .values_list("value", flat=True)
    )
    if not values or len(values) != int(ref.get("items") or 0):
        return None
    return [pickle.loads(base64.b64decode(value)) for value in values]  # noqa: S301 (written by _store)


def prune(run_id: int, kind: str, *, keep: dict[str, Any] | None) -> None:
    """Delete the sets of `kind` other than `keep` (the one the run's committed state names)."""
    stale = StagedRow.objects.filter(run_id=run_id, kind=kind, contact_id__lt=0)
    if keep:
        stale = stale.exclude(contact_id=-int(keep["token"]))
    stale.delete()


def park(run_id: int, units: list[Any], pages: list[Any], *, read_to: int) -> dict[str, Any]:
    """Store what a slice holds, in order: contacts taken off pages and not yet written (`units`)
    and whole pages not yet looked at. Returns the reference to keep in the resource's state;
    `read_to` is the keyset position the reading had reached."""
    return {**_store(run_id, KIND, [units, *pages]), "read_to": int(read_to)}


def take(run_id: int, ref: dict[str, Any] | None) -> tuple[list[Any], list[Any]]:
    """(units, pages) that `ref` names; ([], []) when there are none or they are gone (then the
    slice reads again from its committed position, which is always safe)."""
    items = _load(run_id, KIND, ref)
    if items is None:
        return [], []
    return list(items[0]), items[1:]


def park_writes(run_id: int, writes: dict[str, Any]) -> dict[str, Any]:
    """Store the writes a slice has under way (one pickled record); returns its reference."""
    return _store(run_id, WRITES, [writes])


def take_writes(run_id: int, ref: dict[str, Any] | None) -> dict[str, Any] | None:
    """The writes `ref` names; None when it names none. A set is parked (and committed) before
    any state that names it, so a named set is always there."""
    items = _load(run_id, WRITES, ref)
    return items[0] if items else None
