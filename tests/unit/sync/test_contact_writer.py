"""The contact writer on a scripted Brevo: exact rows found, few calls, phone problems isolated."""

from __future__ import annotations

from types import SimpleNamespace

from connectors.brevo.schemas import BatchUpdateResult
from connectors.exceptions import ValidationFailed
from connectors.sync.brevo_contacts import ContactWriter, PendingContact


class ScriptedBrevo:
    """Knows some emails; refuses a batch naming the first row whose SMS is taken."""

    def __init__(self, known: set[str], taken_sms: set[str], *, name_rows: bool = True) -> None:
        self.known, self.taken_sms, self.name_rows = known, taken_sms, name_rows
        self.calls: list[int] = []
        self.imported: list[dict] = []

    def update_contacts_batch(self, bodies):
        self.calls.append(len(bodies))
        missing = [i for i, b in enumerate(bodies) if b["email"] not in self.known]
        if missing:
            return BatchUpdateResult(applied=False, missing_indexes=missing)
        for i, body in enumerate(bodies):
            if body.get("attributes", {}).get("SMS") in self.taken_sms:
                where = f"contacts[{i}]: " if self.name_rows else ""
                raise ValidationFailed(
                    f"Brevo: the sms is already used by another contact ({where}Unable to update contact)",
                    code="duplicate_parameter",
                )
        return BatchUpdateResult(applied=True)

    def import_contacts(self, *, json_body, list_ids, **kwargs):
        self.imported.extend(json_body)
        self.known.update(row["email"] for row in json_body)
        return 1

    def get_process(self, process_id):
        return SimpleNamespace(
            id=process_id, finished=True, status="completed", error=None, import_counters=None
        )


def _item(n: int, sms: str | None = None, lists=(50,)) -> PendingContact:
    attributes = {"FIRSTNAME": f"P{n}"} | ({"SMS": sms} if sms else {})
    return PendingContact(
        source_id=str(n),
        email=f"p{n}@example.org",
        body={"email": f"p{n}@example.org", "attributes": attributes, "listIds": list(lists)},
    )


def test_named_rows_cost_one_call_each_and_keep_the_rest_of_the_contact() -> None:
    items = [_item(n, sms="+15550001" if n in (3, 7) else None) for n in range(10)]
    brevo = ScriptedBrevo(known={i.email for i in items}, taken_sms={"+15550001"})
    outcomes = ContactWriter(brevo, sleep=lambda s: None).write(items)
    assert {o.outcome for o in outcomes.values()} == {"updated"}
    assert outcomes["3"].dropped.startswith("SMS not sent") and outcomes["7"].dropped
    assert not outcomes["0"].dropped
    assert len(brevo.calls) <= 6  # not one call per contact


def test_unnamed_refusals_are_bisected() -> None:
    items = [_item(n, sms="+15550001" if n == 5 else None) for n in range(16)]
    brevo = ScriptedBrevo(known={i.email for i in items}, taken_sms={"+15550001"}, name_rows=False)
    outcomes = ContactWriter(brevo, sleep=lambda s: None).write(items)
    assert outcomes["5"].dropped and all(o.outcome == "updated" for o in outcomes.values())
    assert len(brevo.calls) < 16


def test_unknown_contacts_are_imported_as_created() -> None:
    items = [_item(n) for n in range(4)]
    brevo = ScriptedBrevo(known={items[0].email}, taken_sms=set())
    outcomes = ContactWriter(brevo, sleep=lambda s: None).write(items)
    assert outcomes["0"].outcome == "updated"
    assert [outcomes[str(n)].outcome for n in (1, 2, 3)] == ["created"] * 3
    assert {row["email"] for row in brevo.imported} == {i.email for i in items[1:]}
