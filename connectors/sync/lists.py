"""Lists and tags: every mapped AC list or tag must land in an existing Brevo list.

Brevo lists are named in the mapping by id (chosen from the discovered catalog). This resource
checks each target still exists and records one outcome per mapped AC list or tag, so a list
deleted in Brevo since discovery shows up as a failed record with what to do, before contacts
are joined to it.
"""

from __future__ import annotations

from typing import Any

from connectors.models import Outcome
from connectors.sync.base import RequestEstimate, Resource, SliceResult, SyncContext, Volumes
from connectors.sync.cost import pages
from connectors.sync.registry import register


@register
class ListsResource(Resource):
    name = "lists"
    label = "Lists and tags"
    connection_flag = "sync_lists"

    def estimate_requests(self, counts: Volumes) -> RequestEstimate:
        """One read of the Brevo lists (50 a page) when any list or tag is mapped to one."""
        if not counts.mapping.lists and not any(rule.brevo_list_id for rule in counts.mapping.tags):
            return RequestEstimate()
        return RequestEstimate(brevo={"contacts": pages(counts.counts.get("brevo.list", 0), size=50)})

    def run_slice(self, ctx: SyncContext, state: dict[str, Any]) -> SliceResult:
        targets: list[tuple[str, int]] = [
            (f"list:{r.ac_list_id}", r.brevo_list_id) for r in ctx.mapping.lists
        ]
        targets += [(f"tag:{r.ac_tag_id}", r.brevo_list_id) for r in ctx.mapping.tags if r.brevo_list_id]
        if not targets:
            return SliceResult(state, done=True, total=0)
        existing: dict[int, str] = {}
        for page in ctx.brevo.iter_lists():
            existing.update({lst.id: lst.name for lst in page.lists})
        for source_id, brevo_list_id in targets:
            if brevo_list_id in existing:
                ctx.recorder.record(
                    self.name,
                    source_id,
                    Outcome.UNCHANGED,
                    key=f"Brevo list {brevo_list_id} ({existing[brevo_list_id]})",
                )
            else:
                ctx.recorder.record(
                    self.name,
                    source_id,
                    Outcome.FAILED,
                    key=f"Brevo list {brevo_list_id}",
                    code="list_missing",
                    message=f"Brevo list {brevo_list_id} does not exist (deleted since discovery?): "
                    "run discovery and map this list again",
                )
        return SliceResult(state, done=True, total=len(targets))
