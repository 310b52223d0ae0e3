"""build_source: every standard column an operator can map reaches the transform."""

from datetime import datetime, timedelta, timezone

from connectors.providers.activecampaign.schemas import Contact
from connectors.sync.contact_plan import build_source
from mappings.models import StandardSource
from mappings.transforms import FieldRule, MappingSet, compile_mapping, transform_contact

ZONE = timezone(timedelta(hours=-5))


def page_contact() -> Contact:
    return Contact.model_validate(
        {
            "id": "17",
            "email": "Ana@Example.org",
            "firstName": "Ana",
            "lastName": "Silva",
            "phone": "+15125550143",
            "orgname": "Silva Bakery",
            "cdate": "2019-01-07T16:45:28-05:00",
            "udate": "2021-09-23T10:07:57-05:00",
        }
    )


def test_every_standard_contact_column_is_sent_when_mapped():
    columns = [s.value for s in StandardSource if not s.value.startswith("deal.") and s.value != "email"]
    rules = [FieldRule(source=name, attribute=f"A_{name.upper()}") for name in columns]
    compiled = compile_mapping(MappingSet(fields=tuple(rules), default_country="US"))
    result = transform_contact(build_source(page_contact(), None, {}), compiled)
    sent = result.payload.attributes
    assert set(sent) == {f"A_{name.upper()}" for name in columns}, result.errors
    assert sent["A_ORGNAME"] == "Silva Bakery"
    assert sent["A_CDATE"].startswith("2019-01-07")


def test_a_created_at_keeps_its_instant_and_an_empty_one_is_none():
    source = build_source(page_contact(), None, {})
    assert datetime.fromisoformat(source.standard["cdate"]) == datetime(2019, 1, 7, 16, 45, 28, tzinfo=ZONE)
    blank = Contact.model_validate({"id": "18", "cdate": "0000-00-00 00:00:00", "orgname": ""})
    assert build_source(blank, None, {}).standard == {"orgname": None, "cdate": None}
