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

Duplicates: several AC contacts with one email address are one Brevo contact. Their list
statuses merge per AC list to the most restrictive one any of them has (`merge_memberships`),
and the address is blocklisted when any one of them alone would be; so a merge can unlink or
block but never subscribes anybody an AC contact of that address opted out for.
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

# How restrictive each status is when duplicates disagree about one AC list (higher wins).
# Bounced and unsubscribed are the person's (or the mailbox's) own "no"; removed is an
# administrative "not here"; unconfirmed has no confirmed consent yet; a code Tajo does not
# know says nothing, so it ranks just above active: it may keep a duplicate's "active" from
# adding the list, never the other way round.
_RESTRICTION = {
    ListStatus.BOUNCED: 5,
    ListStatus.UNSUBSCRIBED: 4,
    ListStatus.REMOVED: 3,
    ListStatus.UNCONFIRMED: 2,
    ListStatus.ACTIVE: 0,
}
_UNKNOWN_RESTRICTION = 1


def restriction(status: int) -> int:
    """Rank of an AC list status in a merge: the higher, the less it lets Brevo send."""
    return _RESTRICTION.get(status, _UNKNOWN_RESTRICTION)


def merge_memberships(memberships: Iterable[Mapping[int, int]]) -> dict[int, int]:
    """Per AC list, the most restrictive status any of the given contacts has on it."""
    merged: dict[int, int] = {}
    for one in memberships:
        for ac_list, status in one.items():
            seen = merged.get(ac_list)
            if seen is None or restriction(status) > restriction(seen):
                merged[ac_list] = status
    return merged


def decide_lists(
    memberships: Mapping[int, int],
    list_map: Mapping[int, tuple[int, ...]],
    *,
    tag_adds: Iterable[int] = (),
    tag_removes: Iterable[int] = (),
    duplicates: Iterable[Mapping[int, int]] = (),
) -> ListDecision:
    """Decide Brevo list additions/removals and the blocklist flag for one contact.

    `memberships`: AC list id -> AC status for every list the contact is on (mapped or not).
    `list_map`: AC list id -> Brevo list ids it is mapped to.
    `tag_adds`: Brevo list ids a present mapped tag asks to add the contact to.
    `tag_removes`: Brevo list ids an absent mapped tag asks to unlink.
    `duplicates`: the memberships of other AC contacts with the same email address, merged
    into this one (see the module docstring).
    """
    duplicates = tuple(duplicates)
    if not duplicates:
        return _decide(memberships, list_map, tag_adds, tag_removes)
    merged = _decide(merge_memberships((memberships, *duplicates)), list_map, tag_adds, tag_removes)
    if merged.email_blacklisted:
        return merged
    for one in (memberships, *duplicates):
        alone = _decide(one, {}, (), ())
        if alone.email_blacklisted:
            reason = f"an ActiveCampaign contact with this email: {alone.blacklist_reason}"
            return ListDecision(merged.list_ids, merged.unlink_list_ids, True, reason)
    return merged


def _decide(
    memberships: Mapping[int, int],
    list_map: Mapping[int, tuple[int, ...]],
    tag_adds: Iterable[int],
    tag_removes: Iterable[int],
) -> ListDecision:
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
