"""transform_contact: attributes, per-field errors, lists, consent, skips."""

from datetime import UTC, datetime

import pytest

from mappings.records import DealSummary, SourceContact
from mappings.transforms import (
    FieldRule,
    ListRule,
    MappingLabels,
    MappingSet,
    TagRule,
    compile_mapping,
    normalize_email,
    transform_contact,
)


def compiled(*fields: FieldRule, **kwargs):
    return compile_mapping(MappingSet(fields=fields, **kwargs))


def contact(**kwargs) -> SourceContact:
    kwargs.setdefault("ac_id", 2381)
    kwargs.setdefault("email", "maria.lopez@example.org")
    return SourceContact(**kwargs)


def rule(source: str = "field", **kwargs) -> FieldRule:
    return FieldRule(source=source, **kwargs)


class TestEmail:
    def test_lowercased_and_trimmed(self):
        result = transform_contact(contact(email="  Maria.Lopez@Example.ORG \n"), compiled())
        assert result.payload.email == "maria.lopez@example.org"

    @pytest.mark.parametrize("email", [None, "", "   "])
    def test_missing_email_is_skipped(self, email):
        result = transform_contact(contact(email=email, phone="+31612345678"), compiled())
        assert result.payload is None
        assert result.skip_code == "no_email"
        assert result.skip_reason == "no email address: contact cannot be matched in Brevo"

    @pytest.mark.parametrize(
        "email", ["maria", "a..b@example.org", "a@b", "a@[1.2.3.4]", '"a b"@x.org', "a@localhost"]
    )
    def test_invalid_email_is_rejected_with_reason(self, email):
        result = transform_contact(contact(email=email), compiled())
        assert result.payload is None
        assert result.skip_code == "invalid_email"
        assert result.skip_reason.startswith(f"email '{email.strip()}' is not a valid address: ")

    def test_test_domains_are_accepted(self):
        assert normalize_email("someone@sandbox.test")[0] == "someone@sandbox.test"

    def test_internationalised_domain_is_accepted(self):
        assert normalize_email("Ana@Bücher.de")[0] == "ana@bücher.de"

    def test_non_ascii_local_part_is_refused(self):
        assert normalize_email("ü@example.org")[1] == "invalid_email"

    @pytest.mark.parametrize(
        "email",
        [
            "o'brien@example.org",
            "a+tag@example.org",
            "x@sub.example.co.uk",
            "a@xn--bcher-kva.de",
            "a" * 64 + "@x.org",
        ],
    )
    def test_fast_path_agrees_with_full_validator(self, email):
        assert normalize_email(email) == (email.lower(), None, None)

    @pytest.mark.parametrize("email", ["a@" + "b" * 64 + ".org", "a@-x.org", "a@x_y.org", "a@x.local"])
    def test_fast_path_rejects_what_the_validator_rejects(self, email):
        assert normalize_email(email)[1] == "invalid_email"


class TestAttributes:
    def test_standard_and_custom_fields(self):
        mapping = compiled(
            rule("first_name", attribute="FIRSTNAME"),
            rule("last_name", attribute="LASTNAME"),
            rule("orgname", attribute="COMPANY"),
            rule(ac_field_id=3, attribute="CITY"),
        )
        result = transform_contact(
            contact(
                first_name="Maria",
                last_name="Lopez",
                standard={"orgname": "Lopez Bakery"},
                field_values={3: "Austin"},
            ),
            mapping,
        )
        assert result.payload.attributes == {
            "FIRSTNAME": "Maria",
            "LASTNAME": "Lopez",
            "COMPANY": "Lopez Bakery",
            "CITY": "Austin",
        }
        assert result.errors == ()

    def test_empty_and_missing_values_are_not_sent(self):
        mapping = compiled(
            rule(ac_field_id=3, attribute="CITY"),
            rule(ac_field_id=4, attribute="ZIP"),
            rule("first_name", attribute="FIRSTNAME"),
        )
        result = transform_contact(contact(field_values={3: "", 5: "x"}, first_name="  "), mapping)
        assert result.payload.attributes == {}
        assert result.errors == ()

    def test_bad_date_drops_only_that_attribute(self):
        mapping = compiled(
            rule(ac_field_id=7, attribute="BIRTHDATE", transform="date", attribute_type="date"),
            rule(ac_field_id=3, attribute="CITY"),
        )
        result = transform_contact(contact(field_values={7: "31/02/2024", 3: "Austin"}), mapping)
        assert result.payload.attributes == {"CITY": "Austin"}
        assert len(result.errors) == 1
        error = result.errors[0]
        assert error.field == "BIRTHDATE"
        assert error.source == "AC field 7"
        assert error.reason == (
            "date '31/02/2024' is not a valid date (expected YYYY-MM-DD) for attribute BIRTHDATE"
        )

    def test_phone_with_default_country(self):
        mapping = compiled(rule("phone", attribute="SMS", transform="phone"), default_country="NL")
        assert transform_contact(contact(phone="06 1234 5678"), mapping).payload.attributes == {
            "SMS": "+31612345678"
        }

    def test_bad_phone_is_a_field_error_not_a_failed_contact(self):
        mapping = compiled(rule("phone", attribute="SMS", transform="phone"), default_country="NL")
        result = transform_contact(contact(phone="0612"), mapping)
        assert result.payload is not None
        assert "SMS" not in result.payload.attributes
        assert result.errors[0].reason == (
            "phone '0612' has no country code and default country NL makes it invalid for attribute SMS"
        )

    def test_number_boolean_multi_joined_datetime(self):
        mapping = compiled(
            rule(ac_field_id=1, attribute="SEATS", transform="number", attribute_type="float"),
            rule(ac_field_id=2, attribute="OPTIN", transform="boolean", attribute_type="boolean"),
            rule(ac_field_id=3, attribute="INTERESTS", transform="multi", attribute_type="multiple-choice"),
            rule(ac_field_id=3, attribute="INTERESTS_TEXT", transform="multi_joined"),
            rule(ac_field_id=4, attribute="SIGNED_UP", transform="datetime", attribute_type="date"),
            rule(ac_field_id=4, attribute="SIGNED_UP_AT", transform="datetime"),
            rule(ac_field_id=1, attribute="SEATS_TEXT", transform="number"),
            rule(ac_field_id=2, attribute="OPTIN_TEXT", transform="boolean"),
            rule(ac_field_id=5, attribute="TIER", transform="number", attribute_type="category"),
        )
        values = {1: "12", 2: "||Yes||", 3: "||yoga||running||", 4: "2024-05-21T23:30:00-05:00", 5: "2"}
        result = transform_contact(contact(field_values=values), mapping)
        assert result.errors == ()
        assert result.payload.attributes == {
            "SEATS": 12.0,
            "OPTIN": True,
            "INTERESTS": ["running", "yoga"],
            "INTERESTS_TEXT": "yoga, running",
            "SIGNED_UP": "2024-05-21",
            "SIGNED_UP_AT": "2024-05-21T23:30:00-05:00",
            "SEATS_TEXT": "12",
            "OPTIN_TEXT": "true",
            "TIER": 2,
        }
        assert isinstance(result.payload.attributes["SEATS"], float)

    def test_category_needs_a_whole_number(self):
        mapping = compiled(
            rule(ac_field_id=5, attribute="TIER", transform="number", attribute_type="category")
        )
        result = transform_contact(contact(field_values={5: "2.5"}), mapping)
        assert result.errors[0].reason == "value '2.5' is not a whole number for attribute TIER"

    def test_huge_category_number(self):
        mapping = compiled(
            rule(ac_field_id=5, attribute="TIER", transform="number", attribute_type="category")
        )
        result = transform_contact(contact(field_values={5: "1e300"}), mapping)
        assert result.errors[0].reason == "value '1e300' is too large for attribute TIER"

    def test_huge_deal_value(self):
        mapping = compiled(
            rule("deal.value", attribute="DEAL_VALUE", transform="number", attribute_type="float")
        )
        result = transform_contact(contact(deal=DealSummary(value_cents=10**400)), mapping)
        assert result.errors[0].reason.endswith("cents is too large for attribute DEAL_VALUE")

    def test_oversize_text_is_rejected_with_reason(self):
        mapping = compiled(rule(ac_field_id=9, attribute="NOTES"))
        result = transform_contact(contact(field_values={9: "n" * 5000}), mapping)
        assert "NOTES" not in result.payload.attributes
        assert result.errors[0].reason == (
            "text of 5000 characters is longer than the 4000 allowed for attribute NOTES"
        )

    def test_udate_column(self):
        mapping = compiled(rule("udate", attribute="AC_UPDATED", transform="date", attribute_type="date"))
        result = transform_contact(contact(udate=datetime(2024, 6, 2, 11, 40, tzinfo=UTC)), mapping)
        assert result.payload.attributes == {"AC_UPDATED": "2024-06-02"}

    def test_score(self):
        mapping = compiled(
            rule("score", score_id=2, attribute="ENGAGEMENT", transform="number", attribute_type="float")
        )
        assert transform_contact(contact(scores={2: 40.0}), mapping).payload.attributes == {
            "ENGAGEMENT": 40.0
        }

    def test_custom_object_field(self):
        mapping = compiled(
            rule(
                "custom_object",
                object_schema_id="sub",
                object_field_id="seats",
                attribute="SEATS",
                transform="number",
                attribute_type="float",
            ),
            rule("custom_object", object_schema_id="sub", object_field_id="plan", attribute="PLAN"),
            rule("custom_object", object_schema_id="other", object_field_id="x", attribute="OTHER"),
        )
        result = transform_contact(contact(custom_objects={"sub": {"seats": 12, "plan": "Pro"}}), mapping)
        assert result.payload.attributes == {"SEATS": 12.0, "PLAN": "Pro"}


class TestDealAttributes:
    labels = MappingLabels(
        stage_titles={7: "Proposal sent"}, pipeline_titles={2: "Renewals"}, owner_names={3: "Jae Kim"}
    )

    def mapping(self):
        return compiled(
            rule("deal.value", attribute="DEAL_VALUE", transform="number", attribute_type="float"),
            rule("deal.stage", attribute="DEAL_STAGE"),
            rule("deal.stage", attribute="DEAL_STAGE_ID", transform="number", attribute_type="float"),
            rule("deal.owner", attribute="DEAL_OWNER"),
            rule("deal.pipeline", attribute="DEAL_PIPELINE"),
            rule("deal.status", attribute="DEAL_STATUS"),
            rule("deal.currency", attribute="DEAL_CURRENCY"),
            labels=self.labels,
        )

    def test_readable_deal_attributes(self):
        deal = DealSummary(
            value_cents=249900, currency="usd", stage_id=7, pipeline_id=2, owner_id=3, status=1
        )
        result = transform_contact(contact(deal=deal), self.mapping())
        assert result.errors == ()
        assert result.payload.attributes == {
            "DEAL_VALUE": 2499.0,
            "DEAL_STAGE": "Proposal sent",
            "DEAL_STAGE_ID": 7.0,
            "DEAL_OWNER": "Jae Kim",
            "DEAL_PIPELINE": "Renewals",
            "DEAL_STATUS": "won",
            "DEAL_CURRENCY": "USD",
        }

    def test_no_deal_sends_nothing(self):
        result = transform_contact(contact(), self.mapping())
        assert result.payload.attributes == {}
        assert result.errors == ()

    def test_unknown_stage_title_is_a_field_error(self):
        deal = DealSummary(stage_id=99, status=5)
        result = transform_contact(contact(deal=deal), self.mapping())
        reasons = {error.field: error.reason for error in result.errors}
        assert reasons["DEAL_STAGE"] == (
            "deal stage 99 has no name in the discovered catalog (run discovery again) "
            "for attribute DEAL_STAGE"
        )
        assert reasons["DEAL_STATUS"].startswith("deal status 5 is unknown")
        assert result.payload.attributes == {"DEAL_STAGE_ID": 99.0}


class TestTagsAndLists:
    def test_the_tags_attribute_holds_the_names_of_the_contacts_tags_now(self):
        labels = MappingLabels(tag_names={5: "vip", 6: "Newsletter", 7: "x" * 250})
        mapping = compiled(tags_attribute="TAGS", labels=labels)
        tagged = transform_contact(contact(tags=frozenset({6, 5, 7, 99})), mapping).payload
        assert tagged.attributes == {"TAGS": ["Newsletter", "vip", "x" * 200]}  # unknown id 99 left out
        # No tags left: the attribute is emptied, so a removed tag leaves Brevo too.
        assert transform_contact(contact(), mapping).payload.attributes == {"TAGS": []}

    def test_without_a_tags_attribute_tags_write_no_attribute(self):
        mapping = compiled(labels=MappingLabels(tag_names={5: "vip"}))
        assert transform_contact(contact(tags=frozenset({5})), mapping).payload.attributes == {}

    def test_tag_attribute_present_and_absent(self):
        mapping = compiled(tags=(TagRule(ac_tag_id=5, attribute="VIP", value=True, value_when_absent=False),))
        assert transform_contact(contact(tags=frozenset({5})), mapping).payload.attributes == {"VIP": True}
        assert transform_contact(contact(), mapping).payload.attributes == {"VIP": False}

    def test_tag_without_absent_value_sends_nothing_when_absent(self):
        mapping = compiled(tags=(TagRule(ac_tag_id=5, attribute="VIP"),))
        assert transform_contact(contact(), mapping).payload.attributes == {}

    def test_present_tag_wins_over_other_absent_value_and_first_present_wins(self):
        mapping = compiled(
            tags=(
                TagRule(ac_tag_id=5, attribute="TIER", value="gold", value_when_absent="none"),
                TagRule(ac_tag_id=6, attribute="TIER", value="silver", value_when_absent="none"),
            )
        )
        assert transform_contact(contact(tags=frozenset({6})), mapping).payload.attributes == {
            "TIER": "silver"
        }
        assert transform_contact(contact(tags=frozenset({5, 6})), mapping).payload.attributes == {
            "TIER": "gold"
        }
        assert transform_contact(contact(), mapping).payload.attributes == {"TIER": "none"}

    def test_tag_list(self):
        mapping = compiled(
            tags=(
                TagRule(ac_tag_id=5, brevo_list_id=40, unlink_when_absent=True),
                TagRule(ac_tag_id=6, brevo_list_id=41),
            )
        )
        with_tag = transform_contact(contact(tags=frozenset({5, 6})), mapping).payload
        assert (with_tag.list_ids, with_tag.unlink_list_ids) == ((40, 41), ())
        without = transform_contact(contact(), mapping).payload
        assert (without.list_ids, without.unlink_list_ids) == ((), (40,))

    def test_lists_and_consent(self):
        mapping = compiled(
            lists=(
                ListRule(ac_list_id=1, brevo_list_id=10),
                ListRule(ac_list_id=2, brevo_list_id=11),
                ListRule(ac_list_id=3, brevo_list_id=12),
            )
        )
        result = transform_contact(contact(lists={1: 1, 2: 2, 3: 0}), mapping)
        assert result.payload.list_ids == (10,)
        assert result.payload.unlink_list_ids == (11,)
        assert result.payload.email_blacklisted is None

    def test_bounced_contact_is_blacklisted_with_reason(self):
        mapping = compiled(lists=(ListRule(ac_list_id=1, brevo_list_id=10),))
        result = transform_contact(contact(lists={1: 3}), mapping)
        assert result.payload.email_blacklisted is True
        assert result.blacklist_reason == "the address bounced in ActiveCampaign"
        assert result.payload.to_brevo() == {
            "email": "maria.lopez@example.org",
            "attributes": {},
            "unlinkListIds": [10],
            "emailBlacklisted": True,
        }

    def test_unsubscribed_tag_list_is_not_added(self):
        mapping = compiled(
            lists=(ListRule(ac_list_id=1, brevo_list_id=10),), tags=(TagRule(ac_tag_id=5, brevo_list_id=10),)
        )
        result = transform_contact(contact(lists={1: 2}, tags=frozenset({5})), mapping)
        assert result.payload.list_ids == ()
        assert result.payload.unlink_list_ids == (10,)


def test_to_brevo_leaves_out_empty_parts():
    result = transform_contact(contact(), compiled())
    assert result.payload.to_brevo() == {"email": "maria.lopez@example.org", "attributes": {}}


def test_result_fields_for_the_engine():
    result = transform_contact(contact(ac_id=77), compiled())
    assert result.ac_id == 77
    assert result.skip_reason is None and result.skip_code is None
