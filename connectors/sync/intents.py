"""Write-ahead marks for Brevo writes that must happen at most once: events and new CRM deals.

`POST /events` records one more event on every call and `POST /crm/deals` creates one more
deal, so neither may be repeated blindly after a crash. Before such a request the resource
writes (and, outside any transaction, commits) a RecordState row whose hash says "sending";
after Brevo confirms, the row gets the real hash (and the Brevo id). A later run that finds a
mark still saying "sending" knows an attempt was interrupted after the request may have gone
out: events are then not sent again (at most once), deals are looked up in Brevo before one
is created. The cost is two small database writes per request, next to a request that is
paced at 10 per second (events) or 100 per hour (CRM).
"""

from __future__ import annotations

from django.utils import timezone

from connectors.models import RecordState
from connectors.sync.base import SyncContext

SENDING = "sending:"


def is_interrupted(state: RecordState | None) -> bool:
    """True when an earlier attempt marked this record and never confirmed it."""
    return state is not None and state.content_hash.startswith(SENDING)


def mark_sending(ctx: SyncContext, resource: str, source_id: str, digest: str, *, brevo_id: str = "") -> None:
    _upsert(ctx, resource, source_id, SENDING + digest, brevo_id, None)


def confirm(
    ctx: SyncContext,
    resource: str,
    source_id: str,
    digest: str,
    *,
    brevo_id: str = "",
    modified_at=None,
) -> None:
    """Brevo accepted the write: store what was sent, at once (not at the end of the slice)."""
    _upsert(ctx, resource, source_id, digest, brevo_id, modified_at)


def clear(ctx: SyncContext, resource: str, source_id: str) -> None:
    """The request certainly did not reach Brevo (refused, rate limited): forget the mark."""
    RecordState.objects.filter(
        connection_id=ctx.connection.pk,
        resource=resource,
        source_id=source_id,
        content_hash__startswith=SENDING,
    ).delete()


def _upsert(
    ctx: SyncContext, resource: str, source_id: str, content_hash: str, brevo_id: str, modified_at
) -> None:
    RecordState.objects.bulk_create(
        [
            RecordState(
                tenant_id=ctx.run.tenant_id,
                connection_id=ctx.connection.pk,
                resource=resource,
                source_id=source_id,
                content_hash=content_hash,
                brevo_id=brevo_id,
                source_modified_at=modified_at,
                updated_at=timezone.now(),
            )
        ],
        update_conflicts=True,
        unique_fields=["connection", "resource", "source_id"],
        update_fields=["content_hash", "brevo_id", "source_modified_at", "updated_at"],
    )
