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


class ImportingBrevo(ScriptedBrevo):
    """Imports land when `finish()` is called; some emails are refused by every import."""

    def __init__(self, *, refused: set[str] = frozenset(), status: str = "completed") -> None:
        super().__init__(known=set(), taken_sms=set())
        self.refused, self.status = set(refused), status
        self.imports: list[tuple[list[int], list[str]]] = []
        self.waiting: list[list[str]] = []
        self.polls = 0
        self.created_one: list[str] = []
        self.batches: list[list[dict]] = []

    def import_contacts(self, *, json_body, list_ids, **kwargs):
        emails = [row["email"] for row in json_body]
        self.imports.append((list(list_ids), emails))
        self.waiting.append(emails)
        return len(self.imports)

    def finish(self) -> None:
        for emails in self.waiting:
            self.known.update(e for e in emails if e not in self.refused)
        self.waiting = []

    def update_contacts_batch(self, bodies):
        self.batches.append(list(bodies))
        return super().update_contacts_batch(bodies)

    def get_process(self, process_id):
        self.polls += 1
        finished = not self.waiting
        return SimpleNamespace(
            id=process_id, finished=finished, status=self.status if finished else "in_process", error=None
        )

    def create_contact(self, body):
        self.created_one.append(body["email"])
        self.known.add(body["email"])


def test_one_import_per_first_list_and_the_confirmation_adds_the_other_lists() -> None:
    items = [_item(n, lists=(50, 51) if n % 2 else (50,)) for n in range(6)] + [_item(9, lists=(52,))]
    brevo = ImportingBrevo()
    writer = ContactWriter(brevo, sleep=lambda s: brevo.finish())
    writer.create(items)
    assert sorted(lists for lists, _ in brevo.imports) == [[50], [52]]
    assert {o.outcome for o in writer.outcomes.values()} == {"created"}
    assert all(o.confirmed for o in writer.outcomes.values())
    confirmed = {body["email"]: body for batch in brevo.batches for body in batch}
    assert confirmed["p1@example.org"] == {"email": "p1@example.org", "listIds": [50, 51]}
    assert brevo.polls == 0, "nothing was missing: the import process need not be asked"


def test_rows_an_import_refused_fail_with_the_reason_and_the_rest_are_created() -> None:
    items = [_item(n) for n in range(5)]
    brevo = ImportingBrevo(refused={"p3@example.org"})
    writer = ContactWriter(brevo, sleep=lambda s: brevo.finish())
    writer.create(items)
    assert writer.outcomes["3"].outcome == "failed"
    assert writer.outcomes["3"].code == "brevo_import_rejected"
    assert [writer.outcomes[str(n)].outcome for n in (0, 1, 2, 4)] == ["created"] * 4
    assert brevo.polls == 1


def test_an_unfinished_import_is_reported_unconfirmed_after_the_waits() -> None:
    brevo = ImportingBrevo()
    writer = ContactWriter(brevo, sleep=lambda s: None)  # Brevo never finishes
    writer.create([_item(1), _item(2)])
    assert {(o.outcome, o.confirmed) for o in writer.outcomes.values()} == {("created", False)}
    assert "not yet confirmed" in writer.outcomes["1"].message


def test_settling_without_waiting_keeps_what_is_still_coming() -> None:
    brevo = ImportingBrevo()
    writer = ContactWriter(brevo, sleep=lambda s: None)
    settled = writer.submit([_item(1), _item(2, lists=())])
    assert [i.source_id for i in settled] == ["2"], "a contact without lists is created at once"
    assert brevo.created_one == ["p2@example.org"]
    assert writer.settle(wait=False) == [], "too young to ask about"
    assert writer.settle(wait=False, min_age=0) == [] and writer.pending() == 1
    brevo.finish()
    assert [i.source_id for i in writer.settle(wait=False, min_age=0)] == ["1"]
    assert writer.pending() == 0 and writer.outcomes["1"].outcome == "created"


def test_an_import_not_there_yet_costs_one_batch_call_not_one_per_500() -> None:
    items = [_item(n) for n in range(1200)]
    brevo = ImportingBrevo()
    writer = ContactWriter(brevo, sleep=lambda s: None)
    writer.submit(items)
    assert writer.settle(wait=False, min_age=0) == []
    assert len(brevo.batches) == 1 and brevo.polls == 1
    writer._poll_would_block = lambda: True  # the hourly bucket is used up
    assert writer.settle(wait=False, min_age=0) == []
    assert len(brevo.batches) == 2 and brevo.polls == 1, "no poll, and the rest was not sent"
    brevo.finish()
    assert len(writer.settle(wait=False, min_age=0)) == 1200
