"""Consent rules: how AC list statuses and tags become Brevo list changes and the blocklist flag.

One pure function, `decide_lists`, so every path that writes a contact (backfill, incremental,
webhook, retry) applies the same rules. docs/consent.md explains each decision.

Per Brevo list, the mapped AC sources vote:

* BLOCK  - AC status 2 unsubscribed or 3 bounced on a mapped AC list. Wins over everything:
           the contact is unlinked and never added, whatever another list or tag says.
* ADD    - AC status 1 active on a mapped list, or a mapped tag the contact carries.
* REMOVE - AC status 91 removed, or a mapped tag absent when its rule asks to unlink.
           Loses to ADD: being removed from one AC list is not an opt-out.
* none   - AC status 0 unconfirmed (no confirmed consent yet), not a member, unknown code.

`email_blacklisted` is True when the address bounced on any AC list, or when every AC list
membership that expresses consent (statuses 0-3) says unsubscribed/bounced (a global
opt-out). Otherwise it is None, meaning "leave Brevo's flag alone": Tajo never clears a
blocklist, because the opt-out may have been recorded in Brevo itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from mappings.records import ListStatus

_OPTED_OUT = frozenset({ListStatus.UNSUBSCRIBED, ListStatus.BOUNCED})
# Statuses that express the contact's own consent state. 91 "removed" is an administrative
# overwrite and unknown codes say nothing, so neither counts in the "opted out of every
# list" test.
_CONSENT_STATES = frozenset(
    {ListStatus.UNCONFIRMED, ListStatus.ACTIVE, ListStatus.UNSUBSCRIBED, ListStatus.BOUNCED}
)


@dataclass(frozen=True, slots=True)
class ListDecision:
    """What to change on the Brevo contact; ids are sorted so payloads hash stably."""

    list_ids: tuple[int, ...]
    unlink_list_ids: tuple[int, ...]
    email_blacklisted: bool | None
    blacklist_reason: str | None = None


NO_CHANGE = ListDecision((), (), None, None)


def decide_lists(
    memberships: Mapping[int, int],
    list_map: Mapping[int, tuple[int, ...]],
    *,
    tag_adds: Iterable[int] = (),
    tag_removes: Iterable[int] = (),
) -> ListDecision:
    """Decide Brevo list additions/removals and the blocklist flag for one contact.

    `memberships`: AC list id -> AC status for every list the contact is on (mapped or not).
    `list_map`: AC list id -> Brevo list ids it is mapped to.
    `tag_adds`: Brevo list ids a present mapped tag asks to add the contact to.
    `tag_removes`: Brevo list ids an absent mapped tag asks to unlink.
    """
    add: set[int] = set(tag_adds)
    remove: set[int] = set(tag_removes)
    block: set[int] = set()
    bounced = False
    consent_states = 0
    opted_out = 0
    for ac_list, status in memberships.items():
        if status in _CONSENT_STATES:
            consent_states += 1
            if status in _OPTED_OUT:
                opted_out += 1
                bounced = bounced or status == ListStatus.BOUNCED
        targets = list_map.get(ac_list)
        if not targets:
            continue
        if status in _OPTED_OUT:
            block.update(targets)
        elif status == ListStatus.ACTIVE:
            add.update(targets)
        elif status == ListStatus.REMOVED:
            remove.update(targets)
        # UNCONFIRMED and unknown codes: no change to the Brevo list.

    list_ids = tuple(sorted(add - block))
    unlink = tuple(sorted(block | (remove - add)))
    if bounced:
        return ListDecision(list_ids, unlink, True, "the address bounced in ActiveCampaign")
    if consent_states and opted_out == consent_states:
        return ListDecision(
            list_ids, unlink, True, "unsubscribed from every ActiveCampaign list it belongs to"
        )
    return ListDecision(list_ids, unlink, None, None)
