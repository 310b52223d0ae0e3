"""Validation of mapping rules and of the mapping set as a whole."""

import pytest
from pydantic import ValidationError

from mappings.transforms import (
    AutomationRule,
    EventRule,
    FieldRule,
    ListRule,
    MappingError,
    MappingSet,
    OwnerRule,
    StageRule,
    TagRule,
    Transform,
    compile_mapping,
    mapping_problems,
)


class TestFieldRule:
    def test_attribute_is_uppercased(self):
        assert FieldRule(source="first_name", attribute=" firstname ").attribute == "FIRSTNAME"

    def test_brevo_default_attribute_with_dash_is_allowed(self):
        assert (
            FieldRule(source="field", ac_field_id=1, attribute="double_opt-in").attribute == "DOUBLE_OPT-IN"
        )

    @pytest.mark.parametrize("name", ["", "first name", "-X", "A.B"])
    def test_bad_attribute_names(self, name):
        with pytest.raises(ValidationError, match="is not a Brevo attribute name"):
            FieldRule(source="first_name", attribute=name)

    def test_field_needs_id(self):
        with pytest.raises(ValidationError, match="source 'field' needs ac_field_id"):
            FieldRule(source="field", attribute="CITY")

    def test_score_needs_id(self):
        with pytest.raises(ValidationError, match="source 'score' needs score_id"):
            FieldRule(source="score", attribute="SCORE", transform="number", attribute_type="float")

    def test_custom_object_needs_schema_and_field(self):
        with pytest.raises(ValidationError, match="needs object_schema_id and object_field_id"):
            FieldRule(source="custom_object", object_schema_id="abc", attribute="PLAN")

    def test_unknown_deal_source(self):
        with pytest.raises(ValidationError, match=r"unknown deal source 'deal\.color'"):
            FieldRule(source="deal.color", attribute="X")

    @pytest.mark.parametrize("source", ["First Name", "", "9lives", "fieldValues[3]"])
    def test_unknown_source(self, source):
        with pytest.raises(ValidationError, match="unknown source"):
            FieldRule(source=source, attribute="X")

    def test_standard_column_names_are_sources(self):
        assert FieldRule(source="orgname", attribute="COMPANY").source == "orgname"

    def test_multi_into_text_suggests_joined(self):
        with pytest.raises(ValidationError, match="use multi_joined for a text attribute"):
            FieldRule(source="field", ac_field_id=3, attribute="INTERESTS", transform="multi")

    @pytest.mark.parametrize(
        ("transform", "attribute_type"),
        [
            ("text", "float"),
            ("date", "boolean"),
            ("phone", "date"),
            ("number", "multiple-choice"),
            ("boolean", "float"),
            ("multi_joined", "multiple-choice"),
        ],
    )
    def test_incompatible_transform_and_type(self, transform, attribute_type):
        with pytest.raises(ValidationError, match="cannot fill a"):
            FieldRule(
                source="field",
                ac_field_id=1,
                attribute="X",
                transform=transform,
                attribute_type=attribute_type,
            )

    def test_type_aliases(self):
        rule = FieldRule(
            source="field", ac_field_id=1, attribute="X", transform="number", attribute_type="Number"
        )
        assert rule.attribute_type == "float"

    def test_calculated_attributes_cannot_be_written(self):
        with pytest.raises(ValidationError, match="cannot be written by a sync"):
            FieldRule(source="field", ac_field_id=1, attribute="X", attribute_type="calculated")

    def test_labelled_deal_sources_take_text_or_number(self):
        with pytest.raises(ValidationError, match="gives a title"):
            FieldRule(source="deal.stage", attribute="DEAL_STAGE", transform="date", attribute_type="date")

    def test_unknown_transform(self):
        with pytest.raises(ValidationError):
            FieldRule(source="first_name", attribute="X", transform="uppercase")

    def test_transform_enum_values(self):
        assert {t.value for t in Transform} == {
            "text",
            "number",
            "date",
            "datetime",
            "boolean",
            "phone",
            "multi",
            "multi_joined",
        }

    def test_rules_are_frozen(self):
        rule = FieldRule(source="first_name", attribute="X")
        with pytest.raises(ValidationError):
            rule.attribute = "Y"


class TestOtherRules:
    def test_tag_rule_needs_a_target(self):
        with pytest.raises(ValidationError, match="needs a Brevo list or an attribute"):
            TagRule(ac_tag_id=3)

    def test_tag_rule_attribute_uppercased(self):
        assert TagRule(ac_tag_id=3, attribute="vip").attribute == "VIP"

    @pytest.mark.parametrize("name", ["has space", "é", "", "x" * 256, "a.b"])
    def test_event_names_follow_brevo_charset(self, name):
        with pytest.raises(ValidationError, match="is not a Brevo event name"):
            EventRule(ac_event_name="anything goes", brevo_event_name=name)

    def test_automation_completion_is_optional(self):
        rule = AutomationRule(ac_automation_id=4, brevo_event_entered="welcome_started")
        assert rule.brevo_event_completed is None

    def test_automation_completion_name_is_checked(self):
        with pytest.raises(ValidationError):
            AutomationRule(ac_automation_id=4, brevo_event_entered="ok", brevo_event_completed="not ok")


class TestMappingSet:
    def test_default_country_uppercased(self):
        assert MappingSet(default_country=" nl ").default_country == "NL"

    def test_blank_default_country_is_none(self):
        assert MappingSet(default_country="").default_country is None

    @pytest.mark.parametrize("code", ["XX", "Netherlands", "31"])
    def test_unknown_country(self, code):
        with pytest.raises(ValidationError, match="is not an ISO 3166 two-letter country code"):
            MappingSet(default_country=code)

    def test_round_trips_through_json_snapshot(self):
        mapping = MappingSet(
            default_country="NL",
            fields=(FieldRule(source="phone", attribute="SMS", transform="phone"),),
            lists=(ListRule(ac_list_id=1, brevo_list_id=2),),
            tags=(TagRule(ac_tag_id=3, attribute="VIP", value_when_absent=False),),
            stages=(StageRule(ac_pipeline_id=1, ac_stage_id=2, brevo_pipeline_id="p", brevo_stage_id="s"),),
            owners=(OwnerRule(ac_user_id=3, brevo_owner="sales@example.com"),),
            automations=(AutomationRule(ac_automation_id=4, brevo_event_entered="welcome"),),
            events=(EventRule(ac_event_name="trial started", brevo_event_name="trial_started"),),
        )
        snapshot = mapping.model_dump(mode="json")
        assert MappingSet.model_validate(snapshot) == mapping

    def test_extra_keys_are_refused(self):
        with pytest.raises(ValidationError):
            MappingSet(colour="blue")


class TestCrossRuleProblems:
    def test_clean_set_has_no_problems(self):
        assert mapping_problems(MappingSet()) == []

    def test_two_sources_for_one_attribute(self):
        mapping = MappingSet(
            fields=(
                FieldRule(source="field", ac_field_id=1, attribute="CITY"),
                FieldRule(source="field", ac_field_id=2, attribute="city"),
            )
        )
        with pytest.raises(MappingError) as info:
            compile_mapping(mapping)
        assert info.value.problems == ["attribute CITY is filled by both AC field 1 and AC field 2"]

    def test_tag_and_field_on_one_attribute(self):
        mapping = MappingSet(
            fields=(FieldRule(source="field", ac_field_id=1, attribute="VIP"),),
            tags=(TagRule(ac_tag_id=5, attribute="VIP"),),
        )
        assert mapping_problems(mapping) == ["attribute VIP is filled by both tag 5 and AC field 1"]

    def test_several_tags_on_one_attribute_are_fine(self):
        mapping = MappingSet(
            tags=(
                TagRule(ac_tag_id=5, attribute="TIER", value="gold"),
                TagRule(ac_tag_id=6, attribute="TIER", value="silver"),
            )
        )
        assert mapping_problems(mapping) == []

    def test_conflicting_stage_owner_automation_event(self):
        mapping = MappingSet(
            stages=(
                StageRule(ac_stage_id=2, brevo_pipeline_id="p", brevo_stage_id="s1"),
                StageRule(ac_stage_id=2, brevo_pipeline_id="p", brevo_stage_id="s2"),
            ),
            owners=(
                OwnerRule(ac_user_id=3, brevo_owner="a@x.org"),
                OwnerRule(ac_user_id=3, brevo_owner="b@x.org"),
            ),
            automations=(
                AutomationRule(ac_automation_id=4, brevo_event_entered="a"),
                AutomationRule(ac_automation_id=4, brevo_event_entered="b"),
            ),
            events=(
                EventRule(ac_event_name="x", brevo_event_name="a"),
                EventRule(ac_event_name="x", brevo_event_name="b"),
            ),
        )
        assert mapping_problems(mapping) == [
            "AC stage 2 is mapped to two different Brevo stages",
            "AC user 3 is mapped to two different Brevo owners",
            "AC automation 4 is mapped twice",
            "AC event 'x' is mapped to two different Brevo events",
        ]

    def test_identical_duplicates_are_harmless(self):
        rule = ListRule(ac_list_id=1, brevo_list_id=2)
        compiled = compile_mapping(MappingSet(lists=(rule, rule)))
        assert compiled.list_map == {1: (2,)}
