"""Duplicate AC contacts merged into one Brevo contact: no merge ever subscribes an opt-out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.sync.contact_merge import Member, group_contacts
from mappings.consent import decide_lists, merge_memberships
from mappings.records import SourceContact
from mappings.transforms import (
    ListRule,
    MappingSet,
    TagRule,
    compile_mapping,
    consent_payload,
    transform_contact,
)

UNCONFIRMED, ACTIVE, UNSUBSCRIBED, BOUNCED, REMOVED, UNKNOWN = 0, 1, 2, 3, 91, 7
STATUSES = [UNCONFIRMED, ACTIVE, UNSUBSCRIBED, BOUNCED, REMOVED, UNKNOWN]
OPTED_OUT = {UNSUBSCRIBED, BOUNCED}
AC_LISTS = [1, 2, 3, 4]
BREVO_LISTS = [50, 51, 52]

memberships = st.dictionaries(st.sampled_from(AC_LISTS), st.sampled_from(STATUSES), max_size=4)
list_maps = st.dictionaries(
    st.sampled_from(AC_LISTS),
    st.lists(st.sampled_from(BREVO_LISTS), min_size=1, max_size=2, unique=True).map(
        lambda x: tuple(sorted(x))
    ),
    max_size=4,
)


def _targets(member: dict[int, int], list_map: dict[int, tuple[int, ...]], wanted: set[int]) -> set[int]:
    return {b for ac, status in member.items() if status in wanted for b in list_map.get(ac, ())}


@settings(max_examples=400, deadline=None)
@given(
    members=st.lists(memberships, min_size=1, max_size=6),
    list_map=list_maps,
    tag_adds=st.lists(st.sampled_from(BREVO_LISTS), max_size=3),
)
def test_no_merge_turns_an_unsubscribe_or_bounce_into_a_subscription(members, list_map, tag_adds):
    decision = decide_lists(members[0], list_map, tag_adds=tag_adds, duplicates=members[1:])
    for member in members:
        opted_out = _targets(member, list_map, OPTED_OUT)
        assert not opted_out & set(decision.list_ids)
        assert opted_out <= set(decision.unlink_list_ids)
        # Each member alone: whatever it would not be subscribed to because of an opt-out, or
        # whatever blocklists it, stays so after the merge.
        alone = decide_lists(member, list_map)
        if alone.email_blacklisted:
            assert decision.email_blacklisted is True


@settings(max_examples=300, deadline=None)
@given(members=st.lists(memberships, min_size=1, max_size=6), list_map=list_maps)
def test_a_merge_subscribes_only_where_some_contact_is_active_and_nobody_objects(members, list_map):
    decision = decide_lists(members[0], list_map, duplicates=members[1:])
    for brevo_list in decision.list_ids:
        sources = [ac for ac, targets in list_map.items() if brevo_list in targets]
        statuses = [m[ac] for m in members for ac in sources if ac in m]
        assert ACTIVE in statuses
        # On the AC list that subscribes, every duplicate on it is active too.
        assert any(all(m.get(ac, ACTIVE) == ACTIVE for m in members) for ac in sources)


@settings(max_examples=200, deadline=None)
@given(members=st.lists(memberships, min_size=2, max_size=5), list_map=list_maps, data=st.data())
def test_the_merge_does_not_depend_on_reading_order(members, list_map, data):
    order = data.draw(st.permutations(members))
    one = decide_lists(members[0], list_map, duplicates=members[1:])
    other = decide_lists(order[0], list_map, duplicates=order[1:])
    assert (one.list_ids, one.unlink_list_ids, one.email_blacklisted) == (
        other.list_ids,
        other.unlink_list_ids,
        other.email_blacklisted,
    )


def test_merge_memberships_keeps_the_most_restrictive_status_per_list():
    merged = merge_memberships(
        [{1: ACTIVE, 2: UNSUBSCRIBED}, {1: BOUNCED, 2: ACTIVE, 3: ACTIVE}, {3: REMOVED}]
    )
    assert merged == {1: BOUNCED, 2: UNSUBSCRIBED, 3: REMOVED}
    assert merge_memberships([{1: ACTIVE}, {1: UNCONFIRMED}]) == {1: UNCONFIRMED}
    assert merge_memberships([{1: ACTIVE}, {1: UNKNOWN}]) == {1: UNKNOWN}


def test_without_duplicates_the_decision_is_unchanged():
    assert decide_lists({1: ACTIVE}, {1: (50,)}, duplicates=()) == decide_lists({1: ACTIVE}, {1: (50,)})


# ----------------------------------------------------------------------------- grouping

T0 = datetime(2025, 1, 1, tzinfo=UTC)
MAPPING = compile_mapping(
    MappingSet(
        lists=(ListRule(ac_list_id=1, brevo_list_id=50), ListRule(ac_list_id=2, brevo_list_id=51)),
        tags=(TagRule(ac_tag_id=9, brevo_list_id=52),),
    )
)


def _contact(ac_id: int, email: str, days: int, lists: dict[int, int], tags=()) -> SourceContact:
    return SourceContact(
        ac_id=ac_id,
        email=email,
        first_name=f"name {ac_id}",
        udate=T0 + timedelta(days=days),
        lists=lists,
        tags=frozenset(tags),
    )


def test_the_reported_case_newer_unsubscribe_is_kept():
    # The lower id subscribed in 2023; the newer contact unsubscribed from the list in 2025.
    old = _contact(10, "Ana@Example.com", 0, {1: ACTIVE})
    new = _contact(20, "ana@example.com", 700, {1: UNSUBSCRIBED, 2: ACTIVE})
    (group,) = group_contacts([old, new])
    assert group.winner_id == "20" and [c.ac_id for c in group.merged] == [10]
    payload = transform_contact(group.write, MAPPING).payload
    assert 50 not in payload.list_ids and 50 in payload.unlink_list_ids
    assert payload.list_ids == (51,)


def test_values_come_from_the_most_recently_updated_and_consent_from_all():
    newer = _contact(10, "a@example.com", 5, {1: ACTIVE}, tags=[9])
    older = _contact(20, "A@example.com", 1, {1: BOUNCED})
    (group,) = group_contacts([older, newer])
    assert group.winner_id == "10"
    payload = transform_contact(group.write, MAPPING).payload
    assert payload.email_blacklisted is True
    assert payload.list_ids == (52,)  # the winner's tag list; the bounce blocks list 50
    assert payload.attributes == {}  # no field rules in this mapping


def test_a_tie_in_update_time_goes_to_the_higher_id():
    one = _contact(10, "a@example.com", 3, {})
    two = _contact(11, "a@example.com", 3, {})
    (group,) = group_contacts([two, one])
    assert group.winner_id == "11"


def test_a_newer_contact_read_before_makes_this_one_send_only_its_consent():
    older = _contact(10, "a@example.com", 1, {1: UNSUBSCRIBED})
    known = {"a@example.com": [Member("99", T0 + timedelta(days=9), {1: ACTIVE, 2: ACTIVE})]}
    (group,) = group_contacts([older], known)
    assert group.lists_only and group.winner_id == "99" and group.merged == []
    payload = consent_payload(group.write, MAPPING)
    assert payload.attributes == {}
    assert payload.list_ids == (51,) and payload.unlink_list_ids == (50,)
    assert group.new_statuses


def test_an_older_duplicate_that_adds_no_status_has_nothing_to_send():
    older = _contact(10, "a@example.com", 1, {1: ACTIVE})
    known = {"a@example.com": [Member("99", T0 + timedelta(days=9), {1: ACTIVE, 2: UNSUBSCRIBED})]}
    (group,) = group_contacts([older], known)
    assert group.lists_only and not group.new_statuses


def test_an_older_contact_read_before_is_merged_into_this_one():
    newer = _contact(10, "a@example.com", 9, {1: ACTIVE})
    known = {"a@example.com": [Member("5", T0, {1: UNSUBSCRIBED})]}
    (group,) = group_contacts([newer], known)
    assert not group.lists_only and group.winner_id == "10"
    payload = transform_contact(group.write, MAPPING).payload
    assert 50 not in payload.list_ids and 50 in payload.unlink_list_ids


def test_the_stored_row_of_a_contact_read_now_is_not_a_duplicate_of_it():
    contact = _contact(10, "a@example.com", 9, {1: ACTIVE})
    known = {"a@example.com": [Member("10", T0, {1: UNSUBSCRIBED})]}
    (group,) = group_contacts([contact], known)
    assert group.write.duplicate_lists == () and group.merged == []


def test_contacts_without_an_address_are_never_grouped():
    groups = group_contacts([_contact(1, "", 0, {}), _contact(2, "  ", 0, {})])
    assert [g.winner_id for g in groups] == ["1", "2"]


@settings(max_examples=300, deadline=None)
@given(
    statuses=st.lists(memberships, min_size=1, max_size=5),
    days=st.lists(st.integers(0, 5), min_size=5, max_size=5),
    split=st.integers(0, 5),
)
def test_read_together_or_apart_no_opt_out_is_lost(statuses, days, split):
    """However the duplicates are spread over units (read before or now), every opt-out holds."""
    contacts = [
        _contact(100 + i, f"{'A' if i % 2 else 'a'}@example.com", days[i], lists)
        for i, lists in enumerate(statuses)
    ]
    before, now = contacts[:split], contacts[split:]
    known = {"a@example.com": [Member(str(c.ac_id), c.udate, dict(c.lists)) for c in before]}
    if not now:
        return
    (group,) = group_contacts(now, known)
    newest = max(contacts, key=lambda c: (c.udate, c.ac_id))
    assert group.winner_id == str(newest.ac_id)
    assert group.lists_only == (newest in before)
    payload = (consent_payload if group.lists_only else transform_contact)(group.write, MAPPING)
    payload = payload if group.lists_only else payload.payload
    for contact in contacts:
        blocked = _targets(contact.lists, MAPPING.list_map, OPTED_OUT)
        assert not blocked & set(payload.list_ids)
        assert blocked <= set(payload.unlink_list_ids)
