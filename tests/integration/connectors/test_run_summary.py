"""The run's summary (run page, CLI): counters, what is not configured, groups with true examples."""

from __future__ import annotations

from io import StringIO

import pytest

from connectors.management.commands.tajo_sync import Command
from connectors.models import RunStatus
from connectors.selectors import COUNTER_KEYS, run_summary
from tests.factories import SyncRecordFactory, SyncRunFactory

pytestmark = pytest.mark.django_db

INVALID = (
    "created, but these values were not sent: SMS: phone '{}' is not a valid number for its country code"
)
SHARED = (
    "created, but these values were not sent: SMS: {} is also the phone of ActiveCampaign contact {} "
    "(one per number)"
)


@pytest.fixture
def run():
    run = SyncRunFactory(
        status=RunStatus.SUCCEEDED,
        resources=["contacts", "deals", "automations"],
        counters={"contacts": {"read": 9, "created": 3, "merged": 1, "failed": 5}},
        state={
            "contacts": {"done": True},
            "deals": {"done": True, "not_configured": "deal values ride on the contact's attributes"},
            "automations": {"done": True, "not_configured": "no ActiveCampaign automation is mapped"},
        },
    )
    for i in range(3):
        SyncRecordFactory(
            run=run,
            tenant=run.tenant,
            resource="contacts",
            source_id=str(i),
            outcome="failed",
            error_code="field_rejected",
            message=INVALID.format(f"+1 555 01{i}"),
        )
    for i in range(2):
        SyncRecordFactory(
            run=run,
            tenant=run.tenant,
            resource="contacts",
            source_id=str(10 + i),
            outcome="failed",
            error_code="field_rejected",
            message=SHARED.format(f"+3161234567{i}", 100 + i),
        )
    return run


def test_each_group_has_an_example_of_itself(run) -> None:
    groups = run_summary(run=run)["failures"]
    assert [(g["count"], g["error_code"]) for g in groups] == [(3, "field_rejected"), (2, "field_rejected")]
    assert "is not a valid number" in groups[0]["example"]
    assert "is also the phone" in groups[1]["example"]


def test_counters_include_merged_and_not_configured_is_said_once(run) -> None:
    summary = run_summary(run=run)
    contacts = summary["resources"][0]
    assert {o["name"]: o["count"] for o in contacts["outcomes"]}["merged"] == 1
    assert contacts["read"] == sum(o["count"] for o in contacts["outcomes"])
    assert summary["not_configured"] == {
        "deals": "deal values ride on the contact's attributes",
        "automations": "no ActiveCampaign automation is mapped",
    }
    assert "merged" in COUNTER_KEYS


def test_cli_summary_agrees_with_the_run(run) -> None:
    out = StringIO()
    command = Command(stdout=out)
    command._summary(run)
    lines = out.getvalue().splitlines()
    counts = "9 read, 3 created, 0 updated, 0 unchanged, 1 merged, 0 skipped, 5 failed"
    assert lines[0] == f"Run #{run.pk} succeeded: {counts}"
    assert "  deals: not configured: deal values ride on the contact's attributes" in lines
    assert "  automations: not configured: no ActiveCampaign automation is mapped" in lines
    group_lines = [line for line in lines if "[field_rejected]" in line]
    assert "3 failed contacts" in group_lines[0] and "is not a valid number" in group_lines[0]
    assert "2 failed contacts" in group_lines[1] and "is also the phone" in group_lines[1]
