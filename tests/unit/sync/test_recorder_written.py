"""One rule for recording what the contacts writer did with a contact."""

from __future__ import annotations

from types import SimpleNamespace

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


def test_values_left_out_fail_the_record_though_the_contact_was_written() -> None:
    recorder = _recorder()
    written = WriteOutcome("updated", dropped="SMS not sent: taken")
    assert recorder.record_written("contacts", ITEM, written, problems="BIRTHDAY: not a date")
    row = _only(recorder)
    assert (row.outcome, row.error_code) == ("failed", "field_rejected")
    assert row.message == "updated, but these values were not sent: BIRTHDAY: not a date; SMS not sent: taken"


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
