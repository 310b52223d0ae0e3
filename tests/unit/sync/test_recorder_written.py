"""One rule for recording what the contacts writer did with a contact."""

from __future__ import annotations

from types import SimpleNamespace

import orjson

from connectors.sync.brevo_contacts import PendingContact, WriteOutcome
from connectors.sync.recorder import Recorder


def _recorder() -> Recorder:
    return Recorder(SimpleNamespace(tenant_id=1, pk=1, connection_id=1), trigger="admin")


ITEM = PendingContact(source_id="7", email="p7@example.org", body={"email": "p7@example.org"})


def _only(recorder: Recorder):
    (row,) = recorder._records
    return row


def test_a_clean_write_records_its_outcome() -> None:
    recorder = _recorder()
    assert recorder.record_written("contacts", ITEM, WriteOutcome("created"))
    assert (_only(recorder).outcome, _only(recorder).error_code) == ("created", "")


def test_values_not_in_brevo_make_a_write_with_warnings_not_a_failure() -> None:
    recorder = _recorder()
    written = WriteOutcome("updated", warnings=[{"field": "SMS", "reason": "Brevo did not keep it"}])
    assert recorder.record_written(
        "contacts", ITEM, written, problems=[{"field": "BIRTHDAY", "reason": "not a date"}]
    )
    row = _only(recorder)
    assert (row.outcome, row.error_code) == ("updated", "with_warnings")
    assert orjson.loads(row.warnings) == [
        {"field": "BIRTHDAY", "reason": "not a date"},
        {"field": "SMS", "reason": "Brevo did not keep it"},
    ]
    assert row.message == "not in Brevo: BIRTHDAY: not a date; SMS: Brevo did not keep it"
    assert dict(recorder.counters["contacts"]) == {"read": 1, "updated": 1, "with_warnings": 1}


def test_problems_given_as_text_become_warnings_too() -> None:
    recorder = _recorder()
    assert recorder.record_written("contacts", ITEM, WriteOutcome("created"), problems="A: bad; B: worse")
    assert [w["field"] for w in orjson.loads(_only(recorder).warnings)] == ["A", "B"]


def test_warnings_are_bounded() -> None:
    recorder = _recorder()
    many = [{"field": f"F{i}", "reason": "x" * 1000} for i in range(100)]
    recorder.record("contacts", "1", "created", warnings=many + many)
    stored = orjson.loads(_only(recorder).warnings)
    assert len(stored) == 20 and all(len(w["reason"]) == 300 for w in stored)


def test_a_refusal_is_failed_with_brevos_reason() -> None:
    recorder = _recorder()
    refused = WriteOutcome("failed", "Brevo rejected the contact: bad", "brevo_invalid")
    assert not recorder.record_written("contacts", ITEM, refused)
    assert (_only(recorder).outcome, _only(recorder).error_code) == ("failed", "brevo_invalid")


def test_a_write_without_outcome_is_recorded_not_lost() -> None:
    recorder = _recorder()
    assert not recorder.record_written("contacts", ITEM, None)
    assert (_only(recorder).outcome, _only(recorder).error_code) == ("failed", "internal")
    assert recorder.counters["contacts"]["read"] == 1
