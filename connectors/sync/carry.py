"""Pages a slice read but had no time to write, kept for the next slice of the same run.

A slice stops at its deadline even when its read-ahead holds pages; reading them again would
spend the account's rate limit twice, so they are parked with the run (StagedRow, deleted with
the run's other staged rows when it finishes) and the next slice starts with them. The run's
committed state names the parked set (`{"token", "items", "read_to"}`); a set the state does
not name is a leftover of a slice that died before committing, and is deleted.

Pages are stored pickled: they are parsed client objects, written and read only by Tajo's own
workers through its own database, the same trust as RQ's pickled jobs in Redis.
"""

from __future__ import annotations

import base64
import pickle
import time
from typing import Any

from django.db import transaction

from connectors.models import StagedRow

KIND = "c"


def park(run_id: int, units: list[Any], pages: list[Any], *, read_to: int) -> dict[str, Any]:
    """Store what a slice holds, in order: contacts taken off pages and not yet written (`units`)
    and whole pages not yet looked at. Returns the reference to keep in the resource's state;
    `read_to` is the keyset position the reading had reached."""
    token = time.time_ns() // 1000
    items = [units, *pages]
    rows = [
        StagedRow(
            run_id=run_id,
            kind=KIND,
            contact_id=-token,  # negative: never a contact id, so association joins never see it
            key=index,
            value=base64.b64encode(pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)).decode(),
        )
        for index, item in enumerate(items)
    ]
    with transaction.atomic():
        StagedRow.objects.bulk_create(rows, batch_size=50)
    return {"token": token, "items": len(items), "read_to": int(read_to)}


def take(run_id: int, ref: dict[str, Any] | None) -> tuple[list[Any], list[Any]]:
    """(units, pages) that `ref` names; ([], []) when there are none or they are gone (then the
    slice reads again from its committed position, which is always safe)."""
    stale = StagedRow.objects.filter(run_id=run_id, kind=KIND, contact_id__lt=0)
    if not ref:
        stale.delete()
        return [], []
    token = int(ref["token"])
    stale.exclude(contact_id=-token).delete()
    values = list(
        StagedRow.objects.filter(run_id=run_id, kind=KIND, contact_id=-token)
        .order_by("key")
        .values_list("value", flat=True)
    )
    if not values or len(values) != int(ref.get("items") or 0):
        return [], []
    items = [pickle.loads(base64.b64decode(value)) for value in values]  # noqa: S301 (written by park)
    return list(items[0]), items[1:]
