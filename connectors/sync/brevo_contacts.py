"""Writing contacts to Brevo in bulk while keeping every record's outcome true.

Strategy (docs/write-strategy.md has the reasoning and the cost per 1,000 contacts):

1. Everything is validated locally first (the transforms), so Brevo sees only plausible rows.
2. All changed contacts go through `POST /contacts/batch` (update only, ≤500 a call, contacts
   budget). Brevo answers 404 naming the indexes it does not know: those are new contacts.
   The rest is sent again and is truly "updated".
3. A batch refused with 400 is split in halves until the offending rows are isolated
   (log2(n) extra calls, not one per contact); each such row fails with Brevo's own message.
4. New contacts are imported (`POST /contacts/import`, one call per first list: an import puts
   every row in the same lists). A batch update of the imported contacts then confirms them and
   adds their other lists; the rows it does not find are the only reason to ask the import
   process (Brevo's 100-per-hour bucket) whether they are still coming or were refused. New
   contacts without any list are created one by one (`POST /contacts`).
"""

from __future__ import annotations

import logging
import re
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from connectors.brevo.client import BrevoClient
from connectors.exceptions import ApiError, ValidationFailed

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
IMPORT_MAX_ROWS = 5000
IMPORT_FLUSH_ROWS = 2000  # new contacts gathered per round of imports (confirmed a round later)
POLL_MAX_WAIT = 30.0  # seconds we may wait for a slot in the hourly bucket to poll an import
IMPORT_POLL_DELAYS = (0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 30, 30, 30, 30)


@dataclass
class PendingContact:
    source_id: str
    email: str
    body: dict[str, Any]  # the batch-update item: email, attributes, listIds, unlinkListIds, emailBlacklisted
    known: bool = False  # Tajo wrote it before (RecordState), so it most likely exists in Brevo
    dropped: str = ""  # carried to the outcome once the contact is created


@dataclass
class WriteOutcome:
    outcome: str  # created | updated | failed
    message: str = ""
    code: str = ""
    confirmed: bool = True  # False: sent in an import whose result Brevo has not reported yet
    dropped: str = ""  # a value left out so that the rest could be written (e.g. a phone Brevo refused)


@dataclass
class SubmittedImport:
    process_id: int
    items: list[PendingContact]
    at: float  # time.monotonic() when submitted


@dataclass
class ContactWriter:
    brevo: BrevoClient
    sleep: Callable[[float], None] = time.sleep
    outcomes: dict[str, WriteOutcome] = field(default_factory=dict)
    imports: list[SubmittedImport] = field(default_factory=list)  # submitted, not settled

    def write(self, items: list[PendingContact]) -> dict[str, WriteOutcome]:
        """Update what exists, create the rest; outcomes by source id."""
        new = self.update(items)
        if new:
            self.create(new)
        return self.outcomes

    def update(self, items: list[PendingContact]) -> list[PendingContact]:
        """Batch-update contacts Brevo has; return those it does not have (to create later)."""
        new: list[PendingContact] = []
        for start in range(0, len(items), BATCH_SIZE):
            new.extend(self._update_existing(items[start : start + BATCH_SIZE]))
        return new

    # -- existing contacts --------------------------------------------------------------------

    def _update_existing(self, chunk: list[PendingContact], success: str = "updated") -> list[PendingContact]:
        """Batch-update; return the items Brevo does not know (to be created)."""
        missing: list[PendingContact] = []
        pending = list(chunk)
        while pending:
            try:
                result = self.brevo.update_contacts_batch([item.body for item in pending])
            except ValidationFailed as exc:
                index = _failing_index(exc, len(pending))
                if index is None:
                    missing.extend(self._bisect(pending, exc, success))
                    return missing
                # Brevo named the row it refused: set that one aside and send the rest again.
                missing.extend(self._refused(pending.pop(index), exc, success))
                continue
            if result.applied:
                failed_ids = {str(x) for x in result.failure_ids}
                for item in pending:
                    if item.email in failed_ids:
                        self.outcomes[item.source_id] = WriteOutcome(
                            "failed", "Brevo refused the update", "brevo"
                        )
                    else:
                        self.outcomes.setdefault(item.source_id, WriteOutcome(success))
                return missing
            unknown = set(result.missing_indexes)
            missing.extend(item for i, item in enumerate(pending) if i in unknown)
            pending = [item for i, item in enumerate(pending) if i not in unknown]
        return missing

    def _bisect(
        self, pending: list[PendingContact], exc: ValidationFailed, success: str
    ) -> list[PendingContact]:
        """Split a refused batch until the rows Brevo objects to are isolated."""
        if len(pending) == 1:
            return self._refused(pending[0], exc, success)
        middle = len(pending) // 2
        return self._update_existing(pending[:middle], success) + self._update_existing(
            pending[middle:], success
        )

    def _refused(self, item: PendingContact, exc: ValidationFailed, success: str) -> list[PendingContact]:
        """One contact Brevo refused. A phone problem must not block the rest of the contact
        (reference §10, quirk 4): send it again without SMS and say so."""
        attributes = item.body.get("attributes") or {}
        if "SMS" in attributes and _about_phone(exc):
            reason = f"SMS not sent: {_row_message(exc)}"
            item.body = {**item.body, "attributes": {k: v for k, v in attributes.items() if k != "SMS"}}
            missing = self._update_existing([item], success)
            outcome = self.outcomes.get(item.source_id)
            if outcome is not None and outcome.outcome != "failed":
                outcome.dropped = reason
            for again in missing:
                again.dropped = reason
            return missing
        self.outcomes[item.source_id] = WriteOutcome(
            "failed", f"Brevo rejected the contact: {_row_message(exc)}", exc.code or "brevo_invalid"
        )
        return []

    # -- new contacts -------------------------------------------------------------------------

    def create(self, items: list[PendingContact]) -> None:
        """Create new contacts and wait until Brevo has them (or says why not)."""
        self.submit(items)
        self.settle(wait=True)

    def submit(self, items: list[PendingContact]) -> list[PendingContact]:
        """Start creating new contacts: imports, one per first list, settled later by `settle()`.

        Contacts without a list are created one by one now (an import needs a list); they are
        returned, settled.
        """
        groups: dict[tuple[int, bool], list[PendingContact]] = defaultdict(list)
        created_now: list[PendingContact] = []
        for item in items:
            lists = sorted(item.body.get("listIds") or ())
            if not lists:
                self._create_one(item)
                created_now.append(item)
                continue
            groups[(lists[0], bool(item.body.get("emailBlacklisted")))].append(item)
        for (first_list, blacklisted), group in groups.items():
            for start in range(0, len(group), IMPORT_MAX_ROWS):
                chunk = group[start : start + IMPORT_MAX_ROWS]
                process_id = self._submit_import(chunk, [first_list], blacklisted)
                self.imports.append(SubmittedImport(process_id, chunk, time.monotonic()))
        return created_now

    def pending(self) -> int:
        """Contacts in imports not settled yet."""
        return sum(len(i.items) for i in self.imports)

    def settle(
        self, *, wait: bool, min_age: float = IMPORT_POLL_DELAYS[0], until: float | None = None
    ) -> list[PendingContact]:
        """Confirm submitted imports; returns the contacts settled (outcomes in `self.outcomes`).

        A batch update of the imported contacts (email and lists only: it adds the lists the
        import could not) is the confirmation: Brevo applies it to the contacts it has and names
        the others. Only then is the import process asked (Brevo's scarce hourly bucket) whether
        those are still coming or were refused. Imports younger than `min_age` seconds are left
        for later; with `wait`, the rest is then awaited with growing pauses, and what Brevo has
        not finished by then is reported as created but unconfirmed, so the next run checks it.
        `until` (a `time.monotonic()` instant) ends the waiting early: a slice keeps its length.
        """
        settled: list[PendingContact] = []
        target = 0.0  # how old the youngest import should be before the next attempt
        for delay in (0.0, *IMPORT_POLL_DELAYS) if wait else (0.0,):
            if not self.imports:
                break
            if delay:
                target += delay
                pause = target - (time.monotonic() - max(i.at for i in self.imports))
                if until is not None and time.monotonic() + max(pause, 0.0) >= until:
                    break
                if pause > 0:
                    self.sleep(pause)
            still: list[SubmittedImport] = []
            for submitted in self.imports:
                if not delay and time.monotonic() - submitted.at < min_age:
                    still.append(submitted)
                    continue
                done, missing = self._confirm(submitted)
                settled.extend(done)
                if missing:
                    still.append(SubmittedImport(submitted.process_id, missing, submitted.at))
            self.imports = still
        if wait:
            for submitted in self.imports:
                for item in submitted.items:
                    self.outcomes[item.source_id] = WriteOutcome(
                        "created",
                        f"queued in Brevo import {submitted.process_id}; not yet confirmed (Brevo had not "
                        "finished it, or its hourly budget for status checks was used up): the next run "
                        "confirms it",
                        confirmed=False,
                    )
                settled.extend(submitted.items)
            self.imports = []
        return settled

    def _confirm(self, submitted: SubmittedImport) -> tuple[list[PendingContact], list[PendingContact]]:
        """(settled, still missing) for one import's contacts."""
        items = submitted.items
        by_id = {item.source_id: item for item in items}
        missing: list[PendingContact] = []
        for start in range(0, len(items), BATCH_SIZE):
            chunk = [_lists_only(item) for item in items[start : start + BATCH_SIZE]]
            not_found = [by_id[item.source_id] for item in self._update_existing(chunk, success="created")]
            missing.extend(not_found)
            # Nothing of it there yet: most likely still importing. Ask before sending the rest,
            # or, when the hourly bucket has no slot, assume so.
            if (
                start == 0
                and len(not_found) == len(chunk)
                and (self._poll_would_block() or not self.brevo.get_process(submitted.process_id).finished)
            ):
                return [], items
        if not missing:
            return submitted.items, []
        if self._poll_would_block():
            return _without(submitted.items, missing), missing
        process = self.brevo.get_process(submitted.process_id)
        if not process.finished:
            return _without(submitted.items, missing), missing
        if process.status != "completed":
            reason, code = (
                f"Brevo import {process.id} ended '{process.error or process.status}'",
                "brevo_import_failed",
            )
        else:
            reason = (
                f"Brevo import {process.id} did not create this contact (invalid or duplicate identifier: "
                "see the import report in Brevo)"
            )
            code = "brevo_import_rejected"
        for item in missing:
            self.outcomes[item.source_id] = WriteOutcome("failed", reason, code)
        return submitted.items, []

    def _create_one(self, item: PendingContact) -> None:
        body = {k: v for k, v in item.body.items() if k not in ("unlinkListIds",)}
        body["updateEnabled"] = True
        try:
            self.brevo.create_contact(body)
            self.outcomes[item.source_id] = WriteOutcome("created", dropped=item.dropped)
        except ApiError as exc:
            if not exc.retryable:
                self.outcomes[item.source_id] = WriteOutcome(
                    "failed", f"Brevo rejected the contact: {exc.operator_message}", exc.code or "brevo_error"
                )
            else:
                raise

    def _submit_import(self, group: list[PendingContact], lists: list[int], blacklisted: bool) -> int:
        rows = [{"email": item.email, "attributes": item.body.get("attributes") or {}} for item in group]
        return self.brevo.import_contacts(
            json_body=rows, list_ids=lists, update_existing=True, email_blacklist=blacklisted
        )

    def _poll_would_block(self) -> bool:
        """True when Brevo's hourly bucket has no slot soon: better to report than to sleep for it."""
        limiter = self.brevo.bucket_limiter("other") if hasattr(self.brevo, "bucket_limiter") else None
        return limiter is not None and limiter.peek() > POLL_MAX_WAIT


def _lists_only(item: PendingContact) -> PendingContact:
    """The confirmation of an imported contact: its lists (the import set its attributes)."""
    body = {"email": item.email, "listIds": sorted(item.body.get("listIds") or ())}
    return PendingContact(item.source_id, item.email, body, dropped=item.dropped)


def _without(items: list[PendingContact], missing: list[PendingContact]) -> list[PendingContact]:
    gone = {id(item) for item in missing}
    return [item for item in items if id(item) not in gone]


_ROW_INDEX = re.compile(r"contacts\[(\d+)\]")


def _failing_index(exc: ValidationFailed, size: int) -> int | None:
    """The batch position Brevo names in its error (`contacts[14]: ...`), when it names one."""
    match = _ROW_INDEX.search(getattr(exc, "provider_message", "") or exc.operator_message)
    if match and int(match.group(1)) < size:
        return int(match.group(1))
    return None


def _about_phone(exc: ValidationFailed) -> bool:
    metadata = getattr(exc, "metadata", None) or {}
    identifiers = {str(x).lower() for x in metadata.get("duplicate_identifiers") or ()}
    text = (exc.operator_message or "").lower()
    return bool(identifiers & {"sms", "phone"}) or "sms" in text or "phone number" in text


def _row_message(exc: ValidationFailed) -> str:
    # Brevo names the position in the batch ("contacts[14]: ..."); alone, the position means nothing.
    return re.sub(r"\(contacts\[\d+\]: ", "(", exc.operator_message)
