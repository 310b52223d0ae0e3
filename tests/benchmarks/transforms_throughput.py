"""Throughput of the per-record mapping path (transform + content hash).

Run: .venv/bin/python -m tests.benchmarks.transforms_throughput [N]
Prints contacts per second on one core for a realistic mapping of 12 rules.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime

from mappings.records import DealSummary, SourceContact
from mappings.transforms import (
    FieldRule,
    ListRule,
    MappingLabels,
    MappingSet,
    TagRule,
    compile_mapping,
    content_hash,
    transform_contact,
)


def build_mapping() -> MappingSet:
    return MappingSet(
        default_country="NL",
        fields=(
            FieldRule(source="first_name", attribute="FIRSTNAME"),
            FieldRule(source="last_name", attribute="LASTNAME"),
            FieldRule(source="phone", attribute="SMS", transform="phone"),
            FieldRule(source="orgname", attribute="COMPANY"),
            FieldRule(source="field", ac_field_id=1, attribute="CITY"),
            FieldRule(
                source="field", ac_field_id=2, attribute="BIRTHDATE", transform="date", attribute_type="date"
            ),
            FieldRule(
                source="field",
                ac_field_id=3,
                attribute="INTERESTS",
                transform="multi",
                attribute_type="multiple-choice",
            ),
            FieldRule(
                source="field",
                ac_field_id=4,
                attribute="OPTIN",
                transform="boolean",
                attribute_type="boolean",
            ),
            FieldRule(
                source="field", ac_field_id=5, attribute="SEATS", transform="number", attribute_type="float"
            ),
            FieldRule(
                source="score", score_id=1, attribute="SCORE", transform="number", attribute_type="float"
            ),
            FieldRule(
                source="deal.value", attribute="DEAL_VALUE", transform="number", attribute_type="float"
            ),
            FieldRule(source="deal.stage", attribute="DEAL_STAGE"),
        ),
        lists=tuple(ListRule(ac_list_id=i, brevo_list_id=100 + i) for i in range(1, 6)),
        tags=(TagRule(ac_tag_id=1, brevo_list_id=200), TagRule(ac_tag_id=2, attribute="VIP")),
        labels=MappingLabels(stage_titles={7: "Proposal sent"}),
    )


def build_contacts(count: int) -> list[SourceContact]:
    return [
        SourceContact(
            ac_id=i,
            email=f"Person.{i}@Example.org",
            first_name="Maria",
            last_name="Lopez",
            phone=f"+316{i % 100000000:08d}",
            udate=datetime(2024, 5, 21, tzinfo=UTC),
            standard={"orgname": "Lopez Bakery"},
            field_values={1: "Austin", 2: "1990-04-17", 3: "||yoga||running||", 4: "yes", 5: "12"},
            tags=frozenset({1, 2}) if i % 2 else frozenset(),
            lists={1: 1, 2: 2, 3: 0},
            scores={1: 40.0},
            deal=DealSummary(value_cents=249900, stage_id=7),
        )
        for i in range(count)
    ]


def main(count: int = 20_000) -> float:
    mapping = compile_mapping(build_mapping())
    contacts = build_contacts(count)
    start = time.perf_counter()
    for contact in contacts:
        result = transform_contact(contact, mapping)
        if result.payload is not None:
            content_hash(result.payload)
    elapsed = time.perf_counter() - start
    rate = count / elapsed
    print(
        f"{count} contacts in {elapsed:.2f} s: {rate:,.0f} contacts/s ({elapsed / count * 1e6:.0f} µs each)"
    )
    return rate


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
