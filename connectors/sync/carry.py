"""Pages a slice read but had no time to write, kept for the next slice of the same run.

A slice stops at its deadline even when its read-ahead holds pages; reading them again would
spend the account's rate limit twice, so they are parked with the run (StagedRow, deleted with
the run's other staged rows when it finishes) and the next slice starts with them. The run's
committed state names the parked set (`{"token", "pages", "read_to"}`); a set the state does
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


def park(run_id: int, pages: list[Any]) -> dict[str, Any]:
    """Store `pages` in order; returns the reference to keep in the resource's state."""
    token = time.time_ns() // 1000
    rows = [
        StagedRow(
            run_id=run_id,
            kind=KIND,
            contact_id=-token,  # negative: never a contact id, so association joins never see it
            key=index,
            value=base64.b64encode(pickle.dumps(page, protocol=pickle.HIGHEST_PROTOCOL)).decode(),
        )
        for index, page in enumerate(pages)
    ]
    with transaction.atomic():
        StagedRow.objects.bulk_create(rows, batch_size=50)
    last = pages[-1]
    return {"token": token, "pages": len(pages), "read_to": int(getattr(last, "last_id", 0) or 0)}


def take(run_id: int, ref: dict[str, Any] | None) -> list[Any]:
    """The pages `ref` names, in order; [] when there are none or they are gone (then the slice
    reads again from its committed position, which is always safe)."""
    stale = StagedRow.objects.filter(run_id=run_id, kind=KIND, contact_id__lt=0)
    if not ref:
        stale.delete()
        return []
    token = int(ref["token"])
    stale.exclude(contact_id=-token).delete()
    values = list(
        StagedRow.objects.filter(run_id=run_id, kind=KIND, contact_id=-token)
        .order_by("key")
        .values_list("value", flat=True)
    )
    if len(values) != int(ref.get("pages") or 0):
        return []
    return [pickle.loads(base64.b64decode(value)) for value in values]  # noqa: S301 (written by park above)
