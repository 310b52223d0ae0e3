"""Consent rules: every AC list status x mapped/unmapped, precedence, and properties."""

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mappings.consent import decide_lists
from mappings.records import ListStatus

UNCONFIRMED, ACTIVE, UNSUBSCRIBED, BOUNCED, REMOVED = 0, 1, 2, 3, 91
UNKNOWN = 7
ALL_STATUSES = [UNCONFIRMED, ACTIVE, UNSUBSCRIBED, BOUNCED, REMOVED, UNKNOWN]

AC_LIST, OTHER_AC_LIST, BREVO_LIST = 10, 11, 500
MAPPED = {AC_LIST: (BREVO_LIST,)}

# status -> (list_ids, unlink_list_ids, email_blacklisted) when AC_LIST is the contact's only list.
SINGLE_LIST_EXPECTATIONS = {
    ACTIVE: ((BREVO_LIST,), (), None),
    UNCONFIRMED: ((), (), None),
    UNSUBSCRIBED: ((), (BREVO_LIST,), True),
    BOUNCED: ((), (BREVO_LIST,), True),
    REMOVED: ((), (BREVO_LIST,), None),
    UNKNOWN: ((), (), None),
}


@pytest.mark.parametrize("status", ALL_STATUSES)
def test_each_status_on_a_mapped_list(status):
    decision = decide_lists({AC_LIST: status}, MAPPED)
    assert (decision.list_ids, decision.unlink_list_ids, decision.email_blacklisted) == (
        SINGLE_LIST_EXPECTATIONS[status]
    )


@pytest.mark.parametrize("status", ALL_STATUSES)
def test_each_status_on_an_unmapped_list_changes_no_brevo_list(status):
    decision = decide_lists({OTHER_AC_LIST: status}, MAPPED)
    assert decision.list_ids == ()
    assert decision.unlink_list_ids == ()
    # The blocklist flag is about the address, so unmapped lists count for it.
    assert decision.email_blacklisted == SINGLE_LIST_EXPECTATIONS[status][2]


@pytest.mark.parametrize("status", ALL_STATUSES)
def test_each_status_with_no_list_mapping_at_all(status):
    decision = decide_lists({AC_LIST: status}, {})
    assert decision.list_ids == decision.unlink_list_ids == ()


def test_bounce_on_an_unmapped_list_blacklists_even_if_active_elsewhere():
    decision = decide_lists({AC_LIST: ACTIVE, OTHER_AC_LIST: BOUNCED}, MAPPED)
    assert decision.list_ids == (BREVO_LIST,)
    assert decision.email_blacklisted is True
    assert decision.blacklist_reason == "the address bounced in ActiveCampaign"


def test_unsubscribed_from_one_of_two_lists_is_not_a_global_opt_out():
    decision = decide_lists({AC_LIST: UNSUBSCRIBED, OTHER_AC_LIST: ACTIVE}, MAPPED)
    assert decision.email_blacklisted is None
    assert decision.unlink_list_ids == (BREVO_LIST,)


def test_unsubscribed_from_every_list_is_a_global_opt_out():
    decision = decide_lists({AC_LIST: UNSUBSCRIBED, OTHER_AC_LIST: UNSUBSCRIBED}, MAPPED)
    assert decision.email_blacklisted is True
    assert decision.blacklist_reason == "unsubscribed from every ActiveCampaign list it belongs to"


def test_pending_double_opt_in_elsewhere_prevents_global_opt_out():
    decision = decide_lists({AC_LIST: UNSUBSCRIBED, OTHER_AC_LIST: UNCONFIRMED}, MAPPED)
    assert decision.email_blacklisted is None


def test_removed_lists_do_not_count_for_the_global_opt_out():
    decision = decide_lists({AC_LIST: UNSUBSCRIBED, OTHER_AC_LIST: REMOVED}, MAPPED)
    assert decision.email_blacklisted is True


def test_only_removed_lists_is_not_an_opt_out():
    assert decide_lists({AC_LIST: REMOVED, OTHER_AC_LIST: REMOVED}, MAPPED).email_blacklisted is None


def test_no_memberships_changes_nothing():
    decision = decide_lists({}, MAPPED)
    assert (decision.list_ids, decision.unlink_list_ids, decision.email_blacklisted) == ((), (), None)


def test_blacklist_is_never_cleared():
    for status in ALL_STATUSES:
        assert decide_lists({AC_LIST: status}, MAPPED).email_blacklisted is not False


# Two AC lists mapped to the same Brevo list: opt-out beats active beats removed.
def _expected_for_pair(first: int, second: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    statuses = {first, second}
    if statuses & {UNSUBSCRIBED, BOUNCED}:
        return (), (BREVO_LIST,)
    if ACTIVE in statuses:
        return (BREVO_LIST,), ()
    if REMOVED in statuses:
        return (), (BREVO_LIST,)
    return (), ()


@pytest.mark.parametrize(("first", "second"), list(itertools.product(ALL_STATUSES, repeat=2)))
def test_two_ac_lists_feeding_one_brevo_list(first, second):
    mapping = {AC_LIST: (BREVO_LIST,), OTHER_AC_LIST: (BREVO_LIST,)}
    decision = decide_lists({AC_LIST: first, OTHER_AC_LIST: second}, mapping)
    assert (decision.list_ids, decision.unlink_list_ids) == _expected_for_pair(first, second)


@pytest.mark.parametrize("status", ALL_STATUSES)
def test_tag_adds_the_brevo_list_unless_a_list_opted_out(status):
    decision = decide_lists({AC_LIST: status}, MAPPED, tag_adds=[BREVO_LIST])
    if status in (UNSUBSCRIBED, BOUNCED):
        assert decision.list_ids == ()
        assert decision.unlink_list_ids == (BREVO_LIST,)
    else:
        assert decision.list_ids == (BREVO_LIST,)
        assert decision.unlink_list_ids == ()


def test_absent_tag_unlink_loses_to_an_active_list():
    decision = decide_lists({AC_LIST: ACTIVE}, MAPPED, tag_removes=[BREVO_LIST])
    assert decision.list_ids == (BREVO_LIST,)
    assert decision.unlink_list_ids == ()


def test_absent_tag_unlink_alone_unlinks():
    decision = decide_lists({}, MAPPED, tag_removes=[BREVO_LIST])
    assert decision.unlink_list_ids == (BREVO_LIST,)


def test_one_ac_list_to_several_brevo_lists_and_sorted_output():
    decision = decide_lists(
        {AC_LIST: ACTIVE, OTHER_AC_LIST: UNSUBSCRIBED}, {AC_LIST: (9, 3), OTHER_AC_LIST: (7, 2)}
    )
    assert decision.list_ids == (3, 9)
    assert decision.unlink_list_ids == (2, 7)


def test_list_status_enum_matches_ac_codes():
    assert [int(s) for s in ListStatus] == [0, 1, 2, 3, 91]


ids = st.integers(min_value=1, max_value=8)
statuses = st.sampled_from([*ALL_STATUSES, -1, 4])


@settings(max_examples=200, deadline=None)
@given(
    memberships=st.dictionaries(ids, statuses, max_size=8),
    list_map=st.dictionaries(ids, st.lists(ids.map(lambda i: i + 100), min_size=1, max_size=3).map(tuple)),
    tag_adds=st.lists(ids.map(lambda i: i + 100), max_size=4),
    tag_removes=st.lists(ids.map(lambda i: i + 100), max_size=4),
)
def test_an_opted_out_list_never_lands_in_list_ids(memberships, list_map, tag_adds, tag_removes):
    decision = decide_lists(memberships, list_map, tag_adds=tag_adds, tag_removes=tag_removes)
    blocked = {
        brevo
        for ac, status in memberships.items()
        if status in (UNSUBSCRIBED, BOUNCED)
        for brevo in list_map.get(ac, ())
    }
    assert not blocked & set(decision.list_ids)
    assert blocked <= set(decision.unlink_list_ids)
    assert not set(decision.list_ids) & set(decision.unlink_list_ids)
    assert list(decision.list_ids) == sorted(set(decision.list_ids))
    assert list(decision.unlink_list_ids) == sorted(set(decision.unlink_list_ids))
    if any(status == BOUNCED for status in memberships.values()):
        assert decision.email_blacklisted is True
    assert decision.email_blacklisted in (True, None)
