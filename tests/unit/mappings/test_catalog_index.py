"""CatalogIndex lookups: by id, by name in rounds, ambiguity, drift. Pure."""

from __future__ import annotations

from datetime import UTC, datetime

from mappings.catalog import AC, BREVO, CatalogIndex, Entry, normalize_label

GONE = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)


def _index() -> CatalogIndex:
    return CatalogIndex(
        [
            Entry(AC, "field", "1", "Company", data_type="text", extra={"perstag": "COMPANY"}),
            Entry(AC, "field", "3", "Plan tier", data_type="dropdown", extra={"perstag": "PLAN_TIER"}),
            Entry(AC, "field", "7", "Plan Tier", data_type="text", extra={"perstag": "PLAN_TIER_OLD"}),
            Entry(AC, "field", "9", "Removed", missing_since=GONE),
            Entry(AC, "stage", "4", "Won", parent_id="1"),
            Entry(AC, "stage", "8", "Won", parent_id="2"),
            Entry(BREVO, "stage", "s-1", "Won", parent_id="p-1"),
        ]
    )


def test_get_by_id_and_parent() -> None:
    index = _index()
    assert index.get(AC, "field", 3).label == "Plan tier"
    assert index.get(AC, "stage", "8", "2").label == "Won"
    assert index.get(AC, "stage", "8", "1") is None
    assert index.get(BREVO, "field", "3") is None


def test_missing_items_are_kept_but_not_listed() -> None:
    index = _index()
    assert not index.get(AC, "field", "9").present
    assert [entry.external_id for entry in index.items(AC, "field")] == ["1", "3", "7"]
    assert len(index.items(AC, "field", include_missing=True)) == 4


def test_find_prefers_exact_id_then_names_then_normalised_labels() -> None:
    index = _index()
    assert [e.external_id for e in index.find(AC, "field", "3", keys=("perstag",))] == ["3"]
    assert [e.external_id for e in index.find(AC, "field", "company", keys=("perstag",))] == ["1"]
    assert [e.external_id for e in index.find(AC, "field", "plan_tier", keys=("perstag",))] == ["3"]
    # "plan tier" names two fields by label (case-insensitive): ambiguous, both returned.
    assert sorted(e.external_id for e in index.find(AC, "field", "PLAN TIER", keys=("perstag",))) == [
        "3",
        "7",
    ]
    assert index.find(AC, "field", "removed") == []  # gone since discovery
    assert index.find(AC, "field", "  ") == []


def test_children_and_normalise() -> None:
    index = _index()
    assert [e.external_id for e in index.children(AC, "stage", 2)] == ["8"]
    assert normalize_label("  Plan-Tier (new) ") == "plan_tier_new"


def test_describe_reads_well() -> None:
    assert _index().get(AC, "field", "3").describe() == 'custom field 3 "Plan tier"'
