"""`mapping_snapshot`: the validated MappingSet the sync engine runs with (PostgreSQL, no HTTP)."""

from __future__ import annotations

import pytest

from mappings.catalog import AC, BREVO, Entry
from mappings.exceptions import MappingInvalid
from mappings.models import (
    AutomationMapping,
    CustomFieldMapping,
    EventMapping,
    ListMapping,
    OwnerMapping,
    ScoreMapping,
    StageMapping,
    StandardFieldMapping,
    TagMapping,
)
from mappings.records import DealSummary, SourceContact
from mappings.selectors import mapping_snapshot
from mappings.services import Discovery, catalog_store
from mappings.transforms import Transform, compile_mapping, transform_contact
from tests.factories import ConnectionFactory

pytestmark = pytest.mark.django_db

CATALOG = [
    Entry(AC, "field", "3", "Plan tier", data_type="dropdown", extra={"perstag": "PLAN_TIER"}),
    Entry(AC, "list", "1", "Main List"),
    Entry(AC, "tag", "7", "vip"),
    Entry(AC, "pipeline", "1", "Sales"),
    Entry(AC, "stage", "2", "Proposal", parent_id="1"),
    Entry(AC, "user", "3", "Marta Rossi <marta@example.org>"),
    Entry(AC, "automation", "1", "Welcome series"),
    Entry(AC, "score", "1", "Lead score", extra={"reltype": "contact"}),
    Entry(AC, "event", "trial_started", "trial_started"),
    *[
        Entry(BREVO, "attribute", name, name, data_type=kind, extra={"category": "normal"})
        for name, kind in (
            ("EMAIL", "text"),
            ("FIRSTNAME", "text"),
            ("LASTNAME", "text"),
            ("SMS", "text"),
            ("PLAN_TIER", "text"),
            ("VIP", "boolean"),
            ("LEAD_SCORE", "float"),
            ("DEAL_STAGE", "text"),
        )
    ],
    Entry(BREVO, "list", "50", "Main List"),
    Entry(BREVO, "pipeline", "p1", "Sales pipeline"),
    Entry(BREVO, "stage", "s2", "Proposal", parent_id="p1"),
]


@pytest.fixture
def connection():
    connection = ConnectionFactory(default_phone_country="NL")
    catalog_store(connection=connection, discovery=Discovery(entries=list(CATALOG)))
    return connection


def _add(connection, model, **values):
    return model.objects.create(tenant=connection.tenant, connection=connection, **values)


def test_a_new_connection_starts_with_the_documented_defaults(connection) -> None:
    rows = StandardFieldMapping.objects.filter(connection=connection).values_list(
        "source", "attribute", "transform"
    )
    assert sorted(rows) == [
        ("email", "EMAIL", "text"),
        ("first_name", "FIRSTNAME", "text"),
        ("last_name", "LASTNAME", "text"),
        ("phone", "SMS", "phone"),
    ]


def test_snapshot_holds_every_kind_with_ids_types_and_labels(connection) -> None:
    _add(connection, CustomFieldMapping, ac_field_id=3, attribute="PLAN_TIER", transform="text")
    _add(connection, StandardFieldMapping, source="deal.stage", attribute="DEAL_STAGE", transform="text")
    _add(connection, ScoreMapping, ac_score_id=1, attribute="LEAD_SCORE", transform="number")
    _add(connection, ListMapping, ac_list_id=1, brevo_list_id=50)
    _add(connection, TagMapping, ac_tag_id=7, attribute="VIP", value="yes", value_when_absent="no")
    _add(connection, StageMapping, ac_stage_id=2, brevo_pipeline_id="p1", brevo_stage_id="s2")
    _add(connection, OwnerMapping, ac_user_id=3, brevo_owner="marta@example.org")
    _add(connection, AutomationMapping, ac_automation_id=1, brevo_event_entered="welcome_started")
    _add(connection, EventMapping, ac_event_name="trial_started", brevo_event_name="trial_started")

    mapping = mapping_snapshot(connection=connection)

    assert mapping.default_country == "NL"
    by_attribute = {rule.attribute: rule for rule in mapping.fields}
    assert "EMAIL" not in by_attribute  # the identifier is always sent, not mapped as an attribute
    assert by_attribute["SMS"].transform is Transform.PHONE
    assert (by_attribute["PLAN_TIER"].source, by_attribute["PLAN_TIER"].ac_field_id) == ("field", 3)
    assert by_attribute["PLAN_TIER"].source_type == "dropdown"  # the AC type, for normalising values
    assert (by_attribute["LEAD_SCORE"].score_id, by_attribute["LEAD_SCORE"].attribute_type) == (1, "float")
    assert mapping.tags[0].value is True and mapping.tags[0].value_when_absent is False
    assert mapping.stages[0].ac_pipeline_id == 1  # filled in from the catalog
    assert mapping.labels.stage_titles == {2: "Proposal"}
    assert mapping.labels.owner_names == {3: "Marta Rossi"}

    result = transform_contact(
        SourceContact(
            ac_id=1,
            email="Ana@Example.org",
            first_name="Ana",
            phone="0612345678",
            field_values={3: "||Pro||"},  # a single choice in AC's multi-value form
            tags=frozenset({7}),
            lists={1: 1},
            scores={1: 40.0},
            deal=DealSummary(stage_id=2),
        ),
        compile_mapping(mapping),
    )
    assert result.payload.attributes == {
        "FIRSTNAME": "Ana",
        "SMS": "+31612345678",
        "PLAN_TIER": "Pro",
        "DEAL_STAGE": "Proposal",
        "LEAD_SCORE": 40.0,
        "VIP": True,
    }
    assert result.payload.list_ids == (50,)


def test_switched_off_kinds_are_left_out_and_not_checked(connection) -> None:
    _add(connection, TagMapping, ac_tag_id=999, brevo_list_id=50)  # unknown tag
    _add(connection, ScoreMapping, ac_score_id=1, attribute="LEAD_SCORE", transform="number")
    with pytest.raises(MappingInvalid, match="ActiveCampaign has no tag 999"):
        mapping_snapshot(connection=connection)
    connection.include_tags = False
    connection.include_scores = False
    mapping = mapping_snapshot(connection=connection)
    assert mapping.tags == () and all(rule.source != "score" for rule in mapping.fields)


def test_problems_are_listed_in_one_clear_error() -> None:
    undiscovered = ConnectionFactory()
    with pytest.raises(MappingInvalid) as caught:
        mapping_snapshot(connection=undiscovered)
    assert "no discovery yet" in str(caught.value)


def test_every_blocking_problem_is_listed(connection) -> None:
    _add(connection, CustomFieldMapping, ac_field_id=3, attribute="FIRSTNAME", transform="text")
    _add(connection, EventMapping, ac_event_name="trial_started", brevo_event_name="trial started")
    with pytest.raises(MappingInvalid) as caught:
        mapping_snapshot(connection=connection)
    assert [p.code for p in caught.value.problems] == ["bad_name", "duplicate_target"]
    assert str(caught.value).startswith(f"The mappings of {connection} have 2 problem(s): ")
