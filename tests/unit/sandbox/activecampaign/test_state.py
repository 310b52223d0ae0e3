"""The AC account state without HTTP: overlay writes, id paging with deletions, windows, hooks."""

from __future__ import annotations

import pytest

from sandbox.activecampaign.generator.catalog import EPOCH_END
from sandbox.activecampaign.state import ACError, ACState
from sandbox.clock import AccountClock
from sandbox.stats import max_in_window, template_for


@pytest.fixture
def state() -> ACState:
    return ACState(seed=4, contacts=60)


def live_ids(state: ACState, kind: str) -> list[int]:
    return [int(r["id"]) for r in state.tables[kind].iter_from(1)]


def test_untouched_state_serves_generated_rows(state: ACState) -> None:
    assert state.contact_count() == 60
    assert state.get_contact(1)["id"] == "1"
    assert state.get_contact(61) is None
    ids = live_ids(state, "contactTags")
    assert ids == list(range(1, state.tables["contactTags"].count() + 1))


def test_create_sync_update_delete_contact(state: ACState) -> None:
    events: list[tuple[str, dict]] = []
    state.on_change.append(lambda ev, payload: events.append((ev, payload)))
    contact, fvs = state.create_contact(
        {
            "contact": {
                "email": "new.person@example.org",
                "firstName": "New",
                "fieldValues": [{"field": 1, "value": "Acme"}],
            }
        }
    )
    cid = int(contact["id"])
    assert cid == 61 and fvs[0]["value"] == "Acme"
    assert state.find_by_email("NEW.PERSON@example.org") == [cid]
    with pytest.raises(ACError) as dup:
        state.create_contact({"contact": {"email": "New.Person@example.org"}})
    assert dup.value.status == 422 and dup.value.body["errors"][0]["code"] == "duplicate"

    created, again, _ = state.sync_contact(
        {"contact": {"email": "new.person@example.org", "lastName": "Later"}}
    )
    assert not created and again["id"] == str(cid) and again["lastName"] == "Later"
    created, other, _ = state.sync_contact({"contact": {"email": "third@example.org"}})
    assert created and other["id"] == "62"

    state.delete_contact(cid)
    assert state.get_contact(cid) is None
    assert state.find_by_email("new.person@example.org") == []
    assert state.contact_count() == 61
    with pytest.raises(ACError) as gone:
        state.delete_contact(cid)
    assert gone.value.body == {"message": f"No result found for contact with id {cid}"}
    assert [e for e, _ in events] == ["subscribe", "update", "subscribe"]
    assert events[0][1]["contact"]["fields"] == {"1": "Acme"}


def test_validation_errors_have_ac_shapes(state: ACState) -> None:
    with pytest.raises(ACError) as missing:
        state.create_contact({"email": "x@example.org"})
    assert missing.value.body == {
        "errors": [
            {"status": 422, "title": "Missing attribute", "source": {"pointer": "/data/attributes/contact"}}
        ]
    }
    with pytest.raises(ACError) as bad:
        state.create_contact({"contact": {"email": "not-an-email"}})
    assert bad.value.body["errors"][0]["code"] == "field_invalid"
    with pytest.raises(ACError) as no_contact:
        state.add_contact_tag({"contactTag": {"contact": 999, "tag": 1}})
    assert no_contact.value.status == 404
    assert no_contact.value.body["errors"][0]["detail"] == "Contact not found"


def test_changing_a_generated_contact_moves_udate_and_keeps_ids(state: ACState) -> None:
    before_tags = live_ids(state, "contactTags")
    before = state.udate_of(10)
    contact, _ = state.update_contact(10, {"contact": {"firstName": "Renamed"}})
    assert contact["firstName"] == "Renamed"
    assert state.udate_of(10) > before
    assert state.udate_of(10) > EPOCH_END
    assert live_ids(state, "contactTags") == before_tags  # materialising copies rows with their ids


def test_deleting_rows_keeps_offset_paging_exact(state: ACState) -> None:
    table = state.tables["contactTags"]
    before = live_ids(state, "contactTags")
    victims = [r for r in state.children_of(5, "contactTags")] + [
        r for r in state.children_of(6, "contactTags")
    ]
    assert victims, "seed 4 gives contacts 5 and 6 tags"
    for r in victims:
        state.remove_contact_tag(int(r["id"]))
    new_row, created = state.add_contact_tag({"contactTag": {"contact": 2, "tag": 3}})
    expected = [i for i in before if i not in {int(r["id"]) for r in victims}]
    if created:
        expected.append(int(new_row["id"]))
    assert live_ids(state, "contactTags") == expected
    assert table.count() == len(expected)
    # Every offset lands on the right row.
    for offset in range(len(expected)):
        if offset < table.generated - len(table.deleted):
            assert int(next(table.iter_from(table.start_for_offset(offset)))["id"]) == expected[offset]


def test_contact_window_counts_and_pages(state: ACState) -> None:
    ids, total = state.contact_window(
        lo=1, hi=None, updated=(None, None), created=(None, None), offset=0, limit=100
    )
    assert ids == list(range(1, 61)) and total == 60
    ids, total = state.contact_window(
        lo=41, hi=None, updated=(None, None), created=(None, None), offset=0, limit=5
    )
    assert ids == [41, 42, 43, 44, 45] and total == 20
    # Only contacts changed after the generated data qualify for a recent window.
    state.touch_contact(7)
    state.delete_contact(8)
    state.create_contact({"contact": {"email": "late@example.org"}})
    ids, total = state.contact_window(
        lo=1, hi=None, updated=(EPOCH_END + 1, None), created=(None, None), offset=0, limit=100
    )
    assert ids == [7, 61] and total == 2
    middle = sorted(state.gen.udate)[30]
    ids, total = state.contact_window(
        lo=1, hi=None, updated=(middle, None), created=(None, None), offset=0, limit=100
    )
    expected = [i for i in range(1, 62) if i != 8 and (state.udate_of(i) or 0) >= middle]
    assert ids == expected and total == len(expected)


def test_deal_windows_and_currencies(state: ACState) -> None:
    all_deals, total = state.deal_window(created=(None, None), updated=(None, None), offset=0, limit=1000)
    assert total == len(all_deals) == state.tables["deals"].count()
    sums = state.deal_currencies(created=(None, None), updated=(None, None))
    assert sum(n for n, _ in sums.values()) == total
    assert sum(v for _, v in sums.values()) == sum(int(d["value"]) for d in all_deals)
    row = state.create_deal({"deal": {"title": "Fresh", "contact": 3, "group": 1, "value": 1234}})
    recent, n = state.deal_window(created=(None, None), updated=(EPOCH_END + 1, None), offset=0, limit=10)
    assert [d["id"] for d in recent] == [row["id"]] and n == 1
    after = state.deal_currencies(created=(None, None), updated=(None, None))
    assert after["USD"][1] == sums["USD"][1] + 1234


def test_deal_validation(state: ACState) -> None:
    with pytest.raises(ACError) as no_owner:
        state.create_deal({"deal": {"title": "x", "contact": 1, "group": 2}})  # Renewals: auto-assign off
    assert no_owner.value.body["errors"][0]["code"] == "field_missing"
    with pytest.raises(ACError) as wrong_stage:
        state.create_deal({"deal": {"title": "x", "contact": 1, "group": 1, "stage": 5, "owner": 2}})
    assert wrong_stage.value.status == 422
    with pytest.raises(ACError) as negative:
        state.create_deal({"deal": {"title": "x", "contact": 1, "group": 1, "value": -1}})
    assert "negative" in negative.value.body["errors"][0]["title"]


def test_clock_parses_filter_values() -> None:
    clock = AccountClock("-05:00")
    midnight = clock.parse("2024-05-01")
    assert clock.iso(midnight) == "2024-05-01T00:00:00-05:00"
    assert clock.parse("2024-05-01T00:00:00-05:00") == midnight
    assert clock.parse("2024-05-01T05:00:00Z") == midnight
    assert clock.parse("2024-05-01T05:00:00 00:00") == midnight  # "+" decoded to a space
    assert clock.parse("2024-05-01 00:00:00") == midnight
    assert clock.wall(midnight) == "2024-05-01 00:00:00"
    with pytest.raises(ValueError):
        clock.parse("yesterday")


def test_stats_helpers() -> None:
    assert max_in_window([0.0, 0.1, 0.5, 0.99, 1.0, 1.5, 1.6], 1.0) == 4
    assert max_in_window([], 1.0) == 0
    assert template_for("/api/3/contacts/3/contactTags", {"id": 3}) == "/api/3/contacts/{id}/contactTags"
    assert template_for("/api/3/contacts/77", None) == "/api/3/contacts/{id}"
    assert template_for("/v3/contacts/a%40b.c", {"identifier": "a%40b.c"}) == "/v3/contacts/{identifier}"


def test_warming_generates_the_account_once_and_changes_nothing_served() -> None:
    cold = ACState(seed=9, contacts=40)
    warm = ACState(seed=9, contacts=40)
    assert warm.warm() == 40
    assert warm.contact_row.cache_info().currsize == 40
    generated = warm.group_rows.cache_info()
    for cid in (1, 17, 40):
        assert warm.get_contact(cid) == cold.get_contact(cid)
        for kind in ("fieldValues", "contactTags", "contactLists", "deals"):
            assert warm.children_of(cid, kind) == cold.children_of(cid, kind)
    assert warm.group_rows.cache_info().misses == generated.misses, "served rows were generated again"
