"""The mapping checks (admin, YAML import and pre-run share them) on unsaved rows. Pure."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mappings.catalog import AC, BREVO, CatalogIndex, Entry
from mappings.models import (
    AutomationMapping,
    CustomFieldMapping,
    CustomObjectFieldMapping,
    EventMapping,
    ListMapping,
    OwnerMapping,
    ScoreMapping,
    StageMapping,
    StandardFieldMapping,
    TagMapping,
)
from mappings.validation import MappingChecker, parse_tag_value

GONE = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def checker() -> MappingChecker:
    index = CatalogIndex(
        [
            Entry(AC, "field", "1", "Company", data_type="text", extra={"perstag": "COMPANY"}),
            Entry(
                AC, "field", "8", "Interests", data_type="listbox", extra={"options": ["Baking", "Coffee"]}
            ),
            Entry(AC, "field", "12", "Lifetime orders", data_type="number"),
            Entry(AC, "field", "13", "Old field", data_type="text", missing_since=GONE),
            Entry(AC, "list", "1", "Main List"),
            Entry(AC, "tag", "5", "vip"),
            Entry(AC, "pipeline", "1", "Sales"),
            Entry(AC, "pipeline", "2", "Renewals"),
            Entry(AC, "stage", "1", "Qualified", parent_id="1"),
            Entry(AC, "stage", "5", "Negotiation", parent_id="2"),
            Entry(AC, "user", "2", "Jae Kim <jae@example.org>"),
            Entry(AC, "automation", "1", "Welcome series"),
            Entry(AC, "score", "1", "Lead score", extra={"reltype": "contact"}),
            Entry(AC, "score", "3", "Deal health", extra={"reltype": "deal"}),
            Entry(AC, "custom_object", "s-1", "Subscription", extra={"slug": "subscription"}),
            Entry(AC, "custom_object_field", "mrr", "MRR", parent_id="s-1", data_type="currency"),
            Entry(AC, "event", "trial_started", "trial_started"),
            Entry(
                BREVO, "attribute", "FIRSTNAME", "FIRSTNAME", data_type="text", extra={"category": "normal"}
            ),
            Entry(BREVO, "attribute", "SMS", "SMS", data_type="text", extra={"category": "normal"}),
            Entry(BREVO, "attribute", "OPT_IN", "OPT_IN", data_type="boolean", extra={"category": "normal"}),
            Entry(BREVO, "attribute", "LTV", "LTV", data_type="float", extra={"category": "normal"}),
            Entry(BREVO, "attribute", "TOTAL", "TOTAL", extra={"category": "calculated"}),
            Entry(BREVO, "attribute", "GONE_ATTR", "GONE_ATTR", data_type="text", missing_since=GONE),
            Entry(BREVO, "list", "50", "Main List"),
            Entry(BREVO, "pipeline", "p-1", "Sales pipeline"),
            Entry(BREVO, "pipeline", "p-2", "Other pipeline"),
            Entry(BREVO, "stage", "st-1", "New", parent_id="p-1"),
            Entry(BREVO, "stage", "st-9", "Elsewhere", parent_id="p-2"),
        ]
    )
    return MappingChecker(index)


def _codes(problems) -> list[tuple[str | None, str]]:
    return [(p.field, p.code) for p in problems]


def test_a_good_row_has_no_problem(checker: MappingChecker) -> None:
    rows = [
        StandardFieldMapping(source="first_name", attribute="FIRSTNAME", transform="text"),
        StandardFieldMapping(source="phone", attribute="SMS", transform="phone"),
        CustomFieldMapping(ac_field_id=12, attribute="LTV", transform="number"),
        ListMapping(ac_list_id=1, brevo_list_id=50),
        TagMapping(
            ac_tag_id=5, brevo_list_id=50, attribute="OPT_IN", value="true", value_when_absent="false"
        ),
        StageMapping(ac_pipeline_id=1, ac_stage_id=1, brevo_pipeline_id="p-1", brevo_stage_id="st-1"),
        OwnerMapping(ac_user_id=2, brevo_owner="owner@example.org"),
        AutomationMapping(ac_automation_id=1, brevo_event_entered="welcome_started"),
        EventMapping(ac_event_name="trial_started", brevo_event_name="trial_started"),
        ScoreMapping(ac_score_id=1, attribute="LTV", transform="number"),
    ]
    # LTV twice on purpose below; here each row alone is fine.
    for row in rows:
        assert checker.check_rule(row) == [], row


def test_unknown_ac_id_and_drift(checker: MappingChecker) -> None:
    unknown = checker.check_rule(CustomFieldMapping(ac_field_id=99, attribute="FIRSTNAME", transform="text"))
    assert _codes(unknown) == [("ac_field_id", "unknown_ac_id")]
    assert "ActiveCampaign has no custom field 99" in unknown[0].message
    drift = checker.check_rule(CustomFieldMapping(ac_field_id=13, attribute="FIRSTNAME", transform="text"))
    assert _codes(drift) == [("ac_field_id", "drift")]
    assert (
        '"Old field" was deleted in ActiveCampaign (missing since 2026-03-01 12:00 UTC)' in drift[0].message
    )


def test_missing_attribute_offers_creation_with_the_right_type(checker: MappingChecker) -> None:
    problems = checker.check_rule(CustomFieldMapping(ac_field_id=8, attribute="interests", transform="multi"))
    assert _codes(problems) == [("attribute", "missing_attribute")]
    assert problems[0].fix == {
        "action": "create_attribute",
        "name": "INTERESTS",
        "type": "multiple-choice",
        "options": ["Baking", "Coffee"],
    }
    number = checker.check_rule(CustomFieldMapping(ac_field_id=12, attribute="ORDERS", transform="number"))
    assert number[0].fix["type"] == "float"
    gone = checker.check_rule(
        StandardFieldMapping(source="first_name", attribute="GONE_ATTR", transform="text")
    )
    assert _codes(gone) == [("attribute", "drift")]


def test_type_mismatches(checker: MappingChecker) -> None:
    # A number onto a boolean attribute.
    onto_boolean = checker.check_rule(
        StandardFieldMapping(source="deal.value", attribute="OPT_IN", transform="number")
    )
    assert _codes(onto_boolean) == [("attribute", "type_mismatch")]
    assert "Brevo attribute OPT_IN is boolean" in onto_boolean[0].message
    # A multi-select read as a date.
    as_date = checker.check_rule(CustomFieldMapping(ac_field_id=8, attribute="FIRSTNAME", transform="date"))
    assert ("transform", "type_mismatch") in _codes(as_date)
    # Calculated attributes cannot be written.
    calculated = checker.check_rule(CustomFieldMapping(ac_field_id=12, attribute="TOTAL", transform="number"))
    assert _codes(calculated) == [("attribute", "read_only_attribute")]


def test_brevo_naming_rules(checker: MappingChecker) -> None:
    bad = checker.check_rule(StandardFieldMapping(source="orgname", attribute="MY ATTR", transform="text"))
    assert _codes(bad) == [("attribute", "bad_name")]
    starts_with_digit = checker.check_rule(
        StandardFieldMapping(source="orgname", attribute="1ST", transform="text")
    )
    assert _codes(starts_with_digit) == [("attribute", "bad_name")]
    event = checker.check_rule(EventMapping(ac_event_name="trial_started", brevo_event_name="trial started"))
    assert _codes(event) == [("brevo_event_name", "bad_name")]


def test_stage_must_belong_to_its_pipeline_on_both_sides(checker: MappingChecker) -> None:
    problems = checker.check_rule(
        StageMapping(ac_pipeline_id=1, ac_stage_id=5, brevo_pipeline_id="p-1", brevo_stage_id="st-9")
    )
    assert _codes(problems) == [("ac_stage_id", "stage_pipeline"), ("brevo_stage_id", "stage_pipeline")]
    assert 'AC stage 5 "Negotiation" belongs to pipeline 2 "Renewals"' in problems[0].message
    assert 'Brevo stage st-9 "Elsewhere" belongs to pipeline p-2 "Other pipeline"' in problems[1].message


def test_two_sources_onto_one_attribute_and_duplicate_sources(checker: MappingChecker) -> None:
    rows = [
        CustomFieldMapping(ac_field_id=12, attribute="LTV", transform="number"),
        ScoreMapping(ac_score_id=1, attribute="ltv", transform="number"),
        TagMapping(ac_tag_id=5, attribute="LTV", value="1"),
        OwnerMapping(ac_user_id=2, brevo_owner="a@example.org"),
        OwnerMapping(ac_user_id=2, brevo_owner="b@example.org"),
    ]
    pairs = checker.duplicate_pairs(rows)
    assert [(rule, first) for rule, first, _ in pairs] == [
        (rows[1], rows[0]),
        (rows[2], rows[0]),
        (rows[4], rows[3]),
    ]
    assert pairs[0][2].message == (
        'attribute LTV is already filled by custom field 12 "Lifetime orders" → LTV'
    )
    assert pairs[2][2].code == "duplicate_source"


def test_scores_of_deals_and_custom_objects(checker: MappingChecker) -> None:
    deal_score = checker.check_rule(ScoreMapping(ac_score_id=3, attribute="LTV", transform="number"))
    assert _codes(deal_score) == [("ac_score_id", "deal_score")]
    good = CustomObjectFieldMapping(
        ac_schema_id="s-1", ac_field_key="mrr", attribute="LTV", transform="number"
    )
    assert checker.check_rule(good) == []
    wrong_schema = CustomObjectFieldMapping(
        ac_schema_id="s-2", ac_field_key="mrr", attribute="LTV", transform="number"
    )
    assert _codes(checker.check_rule(wrong_schema)) == [("ac_schema_id", "unknown_ac_id")]


def test_tags_need_a_target_and_values_of_the_attribute_type(checker: MappingChecker) -> None:
    assert _codes(checker.check_rule(TagMapping(ac_tag_id=5))) == [("brevo_list_id", "no_target")]
    bad_value = checker.check_rule(TagMapping(ac_tag_id=5, attribute="OPT_IN", value="maybe"))
    assert _codes(bad_value) == [("value", "bad_value")]
    assert parse_tag_value("yes", "boolean") is True
    assert parse_tag_value("2", "category") == 2
    assert parse_tag_value(3.5, "float") == 3.5
    with pytest.raises(ValueError, match="not a date"):
        parse_tag_value("tomorrow", "date")


def test_without_a_catalog_everything_asks_for_discovery() -> None:
    checker = MappingChecker(None)
    problems = checker.check_all([StandardFieldMapping(source="email", attribute="EMAIL", transform="text")])
    assert _codes(problems) == [(None, "no_catalog")]


def test_summary_shows_types_beside_ids(checker: MappingChecker) -> None:
    row = CustomFieldMapping(ac_field_id=12, attribute="LTV", transform="number")
    assert checker.summary(row) == 'custom field 12 "Lifetime orders" → LTV · number → float via number'
