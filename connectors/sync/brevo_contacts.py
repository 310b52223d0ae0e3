"""Writing contacts to Brevo in bulk, and learning per contact what Brevo kept.

`POST /contacts/batch` is deprecated (effective 2026-10-30, reference brevo-api-v3.md §0) and is
never sent. The strategy (docs/write-strategy.md has the reasoning and the cost per 1,000):

1. Everything is validated locally first (the transforms); category values are turned into the
   option Brevo knows (`valueStr` first), or left out with a warning when no option matches.
2. Every contact, new or known, goes through `POST /contacts/import` (`jsonBody`,
   `updateExistingContacts: true`, `disableNotification: true`, `emptyContactsAttributes: false`;
   bodies split under Brevo's advised 8 MB). An import puts all its rows in the same lists, so
   rows are grouped either by their whole set of lists or by their first list (the rest added
   afterwards, 150 per call): whichever costs fewer requests for the rows at hand. Every import
   also carries the connection's list of all synced contacts, so a contact on no mapped list costs
   nothing extra. Rows to blocklist go in imports of their own with `emailBlacklist: true`, so
   they never exist in Brevo unblocked.
3. Once an import is old enough, the contacts are read back (`GET /contacts?modifiedSince=…`,
   1,000 a page, Brevo's own clock from the import's `Date` header; by email for one or two) and
   compared with what was sent: created, updated or unchanged, and each value Brevo did not keep
   named as a warning. What an import cannot express is then done for exactly the contacts that
   need it: list removals and missing lists (list add/remove, 150 per call), the blocklist flag
   (`PUT /contacts/{id}`).
4. The import process (Brevo's 100-per-hour bucket) is asked only when the read-back misses rows
   or finds dropped values: a failed or cancelled import fails its missing rows with that reason;
   a completed one has its missing rows looked up by email, and those Brevo does not have fail.
   The process's CSV report links are kept for the run page; no outcome depends on them.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
import weakref
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from connectors.exceptions import ApiError, NotFoundError, ValidationFailed
from connectors.providers.brevo.client import (
    LIST_MEMBERSHIP_CHUNK,
    MAX_CONTACTS_PAGE,
    BrevoClient,
    split_import_rows,
)
from connectors.providers.brevo.schemas import Contact, Process
from connectors.sync.brevo_attributes import REPORTED_ATTRIBUTES, AttributeBook, same_value, why_dropped

logger = logging.getLogger(__name__)

IMPORT_MAX_ROWS = 5000
IMPORT_FLUSH_ROWS = 2000  # contacts gathered per round of imports (read back a round later)
POLL_MAX_WAIT = 30.0  # seconds we may wait for a slot in the hourly bucket to ask about an import
POLL_RESERVE = 20  # hourly requests left to other uses: below this, imports are not asked about
IMPORT_POLL_DELAYS = (0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 30, 30, 30, 30)
BY_EMAIL_MAX = 2  # up to this many contacts to read back: one GET each beats a listing
LOOKUP_MAX = 200  # missing rows of a completed import looked up one by one, at most
CLOCK_MARGIN = timedelta(seconds=2)  # without Brevo's Date header: our clock, read after the answer
CREATED_SPREAD = timedelta(milliseconds=500)  # createdAt to modifiedAt of a contact an import created
KNOWN_CREATED_SPREAD = timedelta(milliseconds=20)  # the same, for a contact Tajo wrote before


@dataclass
class PendingContact:
    source_id: str
    email: str
    body: dict[str, Any]  # email, attributes, listIds, unlinkListIds, emailBlacklisted
    known: bool = False  # Tajo wrote it before (RecordState), so it most likely exists in Brevo
    warnings: list[dict[str, str]] = field(default_factory=list)  # values left out before sending


@dataclass
class WriteOutcome:
    outcome: str  # created | updated | unchanged | failed
    message: str = ""
    code: str = ""
    confirmed: bool = True  # False: Brevo had not finished the import when the slice ended
    warnings: list[dict[str, str]] = field(default_factory=list)  # {field, reason}: not in Brevo


@dataclass
class SubmittedImport:
    process_id: int
    items: list[PendingContact]
    at: float  # time.monotonic() when submitted
    accepted_at: datetime  # Brevo's clock
    lists: tuple[int, ...] = ()
    process: Process | None = None  # the last answer of GET /processes/{id}, when asked
    polled_at: float | None = None
    brevo_clock: bool = True  # accepted_at came from Brevo's Date header


_BOOKS: weakref.WeakKeyDictionary[Any, AttributeBook] = weakref.WeakKeyDictionary()


@dataclass
class ContactWriter:
    brevo: BrevoClient
    home_list: int | Callable[[], int | None] | None = None  # the connection's all-synced-contacts list
    sleep: Callable[[float], None] = time.sleep
    outcomes: dict[str, WriteOutcome] = field(default_factory=dict)
    imports: list[SubmittedImport] = field(default_factory=list)  # submitted, not settled
    processes: list[dict[str, Any]] = field(default_factory=list)  # for the run page
    book: AttributeBook | None = None
    # The `time.monotonic()` instant after which no request is started (a slice keeps its length;
    # a function, as a slice may shorten itself meanwhile): what is left stays in `imports`,
    # `held` and `fixes` for the caller to park. None: no limit.
    until: Callable[[], float] | None = None
    held: list[PendingContact] = field(default_factory=list)  # read back, waiting for their fixes
    fixes: _Fixes = field(default_factory=lambda: _Fixes())  # what the imports could not do, not done yet
    _dropped: set[int] = field(default_factory=set)  # imports whose contacts lost values

    def write(self, items: list[PendingContact]) -> dict[str, WriteOutcome]:
        """Write contacts and wait until Brevo says what it kept; outcomes by source id."""
        self.submit(items)
        self.settle(wait=True)
        return self.outcomes

    def _has_time(self) -> bool:
        return time.monotonic() < self._until()

    def _until(self) -> float:
        return self.until() if self.until is not None else math.inf

    # -- parking ------------------------------------------------------------------------------

    def under_way(self) -> dict[str, Any]:
        """What this writer holds unsettled, as plain data to park with the run (no client).

        Instants become wall-clock times: the next slice may run in another process."""
        wall = time.time() - time.monotonic()
        imports = [
            replace(
                submitted,
                at=submitted.at + wall,
                polled_at=None if submitted.polled_at is None else submitted.polled_at + wall,
            )
            for submitted in self.imports
        ]
        return {
            "imports": imports,
            "held": self.held,
            "outcomes": {item.source_id: self.outcomes[item.source_id] for item in self.held},
            "fixes": self.fixes,
            "processes": self.processes,
            "dropped": self._dropped,
        }

    def resume(self, parked: dict[str, Any]) -> None:
        """Take over what `under_way()` returned in an earlier slice."""
        wall = time.time() - time.monotonic()
        for submitted in parked["imports"]:
            submitted.at -= wall
            if submitted.polled_at is not None:
                submitted.polled_at -= wall
        self.imports = [*parked["imports"], *self.imports]
        self.held = [*parked["held"], *self.held]
        self.outcomes.update(parked["outcomes"])
        self.fixes.merge(parked["fixes"])
        self.processes = [*parked["processes"], *self.processes]
        self._dropped |= set(parked["dropped"])

    def forget(self, source_ids: set[str]) -> None:
        """Drop contacts already recorded (by a slice that failed after recording them)."""
        for submitted in self.imports:
            submitted.items = [i for i in submitted.items if i.source_id not in source_ids]
        self.imports = [i for i in self.imports if i.items]
        self.held = [i for i in self.held if i.source_id not in source_ids]
        self.fixes.drop(source_ids)

    # -- sending ------------------------------------------------------------------------------

    def prepare(self) -> None:
        """Find (or create) the connection's list of all synced contacts, which every submit
        needs, while a slice still has time rather than at its deadline. Remembered on the
        connection: after the first run this costs nothing."""
        self._home()

    def _home(self) -> int | None:
        if callable(self.home_list):
            self.home_list = self.home_list()
        return self.home_list

    def _attributes(self) -> AttributeBook | None:
        """Brevo's attributes, read once per client (a client serves one slice): writers made
        per page (e-commerce, custom objects) share it."""
        if self.book is None:
            self.book = _BOOKS.get(self.brevo)
        if self.book is None:
            try:
                self.book = AttributeBook(self.brevo.list_attributes())
            except ApiError as exc:
                if exc.retryable:
                    raise
                logger.warning("Brevo attributes could not be read: %s", exc)
                self.book = AttributeBook(())
            with contextlib.suppress(TypeError):  # a client that cannot be weakly referenced
                _BOOKS[self.brevo] = self.book
        return self.book

    def _prepare(self, item: PendingContact) -> None:
        """Category values as Brevo's options; a value no option matches is left out, with why."""
        attributes = item.body.get("attributes") or {}
        if not attributes:
            return
        book = self._attributes()
        if book is None:
            return
        changed = dict(attributes)
        for name, value in attributes.items():
            matched, real = book.category_option(name, value)
            if not matched:
                del changed[name]
                options = ", ".join(book.options(name)[:10])
                item.warnings.append(
                    {
                        "field": name,
                        "reason": f"no option of Brevo attribute {name} matches {value!r} "
                        f"(options: {options})",
                    }
                )
            elif real != value:
                changed[name] = real
        if changed != attributes:
            item.body = {**item.body, "attributes": changed}

    def submit(self, items: list[PendingContact]) -> list[PendingContact]:
        """Start writing contacts: imports grouped by lists, read back later by `settle()`.

        Returns the contacts not sent because `until` came first, for the caller to keep."""
        if not items:
            return []
        if not self._has_time():
            return list(items)
        home = self._home()
        if not self._has_time():
            return list(items)
        if any(item.body.get("attributes") for item in items):
            self._attributes()  # read now, so that the time it took is seen before an import starts
        if not self._has_time():
            return list(items)
        groups: dict[tuple[tuple[int, ...], bool], list[PendingContact]] = defaultdict(list)
        for item in items:
            self._prepare(item)
        by_set, by_first = _group(items, home, whole=True), _group(items, home, whole=False)
        chosen = (
            by_set if _cost(by_set, items, whole=True) <= _cost(by_first, items, whole=False) else by_first
        )
        for key, group in chosen.items():
            if not key[0]:
                for item in group:
                    self.outcomes[item.source_id] = WriteOutcome(
                        "failed",
                        "no Brevo list to import this contact into: map a list or set the connection's "
                        "list for all synced contacts",
                        "no_brevo_list",
                    )
                continue
            groups[key] = group
        unsent: list[PendingContact] = []
        for (lists, blacklisted), group in groups.items():
            for start in range(0, len(group), IMPORT_MAX_ROWS):
                unsent += self._import(group[start : start + IMPORT_MAX_ROWS], lists, blacklisted)
        return unsent

    def _import(
        self, group: list[PendingContact], lists: tuple[int, ...], blacklisted: bool
    ) -> list[PendingContact]:
        """Import `group` (split under Brevo's body size); returns the rows `until` kept back."""
        rows = [{"email": item.email, "attributes": item.body.get("attributes") or {}} for item in group]
        offset = 0
        unsent: list[PendingContact] = []
        for chunk in split_import_rows(rows):
            part = group[offset : offset + len(chunk)]
            offset += len(chunk)
            if not self._has_time():
                unsent += part
                continue
            try:
                receipt = self.brevo.import_contacts(
                    json_body=chunk,
                    list_ids=list(lists),
                    update_existing=True,
                    # Rows never carry a blank (transforms leave blanks out), so this only says
                    # what Brevo should do if one slipped through: keep its value.
                    empty_contacts_attributes=False,
                    disable_notification=True,
                    email_blacklist=blacklisted,
                )
            except ValidationFailed as exc:
                unsent += self._refused_import(part, lists, blacklisted, exc)
                continue
            self.imports.append(
                SubmittedImport(
                    receipt.process_id,
                    part,
                    time.monotonic(),
                    receipt.accepted_at,
                    lists,
                    brevo_clock=receipt.brevo_clock,
                )
            )
            # Listed for the run page; its status and report links once Brevo is asked about it.
            self.processes.append(
                {"process_id": receipt.process_id, "status": None, "reports": {}, "rows": len(part)}
            )
        return unsent

    def _refused_import(
        self, part: list[PendingContact], lists: tuple[int, ...], blacklisted: bool, exc: ValidationFailed
    ) -> list[PendingContact]:
        """Brevo refused a whole import (400): halve it until the refused rows are alone, unless
        the refusal is about what every row shares (its lists), which no halving can fix."""
        if len(part) > 1 and "list" not in (exc.operator_message or "").lower():
            middle = len(part) // 2
            return self._import(part[:middle], lists, blacklisted) + self._import(
                part[middle:], lists, blacklisted
            )
        item = part[0]
        self.outcomes[item.source_id] = WriteOutcome(
            "failed",
            f"Brevo refused the import of this contact: {exc.operator_message}",
            exc.code or "brevo_invalid",
        )
        return []

    def pending(self) -> int:
        """Contacts sent and not settled yet: in imports, or waiting for their fixes."""
        return sum(len(i.items) for i in self.imports) + len(self.held)

    def waiting(self) -> list[PendingContact]:
        """The contacts `pending()` counts."""
        return [item for submitted in self.imports for item in submitted.items] + list(self.held)

    # -- reading back -------------------------------------------------------------------------

    def settle(self, *, wait: bool, min_age: float = IMPORT_POLL_DELAYS[0]) -> list[PendingContact]:
        """Read back submitted imports; returns the contacts settled (outcomes in `self.outcomes`).

        Imports younger than `min_age` seconds are left for later. With `wait`, the rest is
        awaited with growing pauses. When `until` comes first, what is left stays in `imports`,
        `held` and `fixes` (a slice parks it for the next one). What Brevo has not finished
        after the whole schedule is reported as written but not verified (and is not
        remembered, so the next run sends and checks it again).
        """
        now = time.monotonic()
        due = [i for i in self.imports if now - i.at >= min_age]
        if not wait:
            return self._check(due)
        # A read-back lists every contact modified since its oldest import, the younger imports'
        # rows included: when those are awaited anyway, one read-back after them covers all.
        checked = bool(due) and len(due) == len(self.imports)
        settled = self._check(due) if checked else []
        target = 0.0
        for delay in IMPORT_POLL_DELAYS:
            if not self.imports and not self.held:
                return settled
            if not self._has_time():
                return settled
            if not self.imports:  # only fixes left to make
                settled += self._check([])
                continue
            target += delay
            pause = target - (time.monotonic() - max(i.at for i in self.imports))
            if pause <= 0:
                if checked:
                    continue  # that moment has passed: the last check covered it
                pause = 0.0
            if time.monotonic() + pause >= self._until():
                return settled
            if pause:
                self.sleep(pause)
            settled += self._check(list(self.imports))
            checked = True
        if not self._has_time():
            return settled
        for submitted in self.imports:
            for item in submitted.items:
                self.outcomes[item.source_id] = WriteOutcome(
                    "updated" if item.known else "created",
                    f"sent in Brevo import {submitted.process_id}; Brevo had not finished it (or its "
                    "hourly budget for status checks was used up), so the values are not verified: "
                    "the next run sends and checks them again",
                    confirmed=False,
                    warnings=[
                        *item.warnings,
                        {
                            "field": "*",
                            "reason": f"not verified: Brevo import {submitted.process_id} unfinished",
                        },
                    ],
                )
            settled.extend(submitted.items)
        self.imports = []
        return settled

    def _check(self, due: list[SubmittedImport]) -> list[PendingContact]:
        """Read back the contacts of `due` imports; ask a process only about rows not found.

        Contacts found wait in `held` until the fixes they need (lists, blocklist) are made, then
        are returned settled with the others Brevo gave an answer for."""
        settled: list[PendingContact] = []
        emails = {item.email for submitted in due for item in submitted.items}
        found = self._read_back(emails, since=min(_since(i) for i in due)) if emails else {}
        if found is None:
            due = []  # no time left to read them back: they wait for the next check
        for submitted in due:
            missing = []
            for item in submitted.items:
                contact = found.get(item.email)
                if contact is None or not _touched(contact, submitted):
                    missing.append(item)
                    continue
                self._evaluate(item, contact, submitted)
            submitted.items = missing
        self._missing(due, settled)
        self._apply()
        self._ask_about_drops(due)
        self.imports = [i for i in self.imports if i.items]
        waiting = self.fixes.members()
        settled += [item for item in self.held if item.source_id not in waiting]
        self.held = [item for item in self.held if item.source_id in waiting]
        return settled

    def _fail_all(self, submitted: SubmittedImport, process: Process, settled: list[PendingContact]) -> None:
        # The rows the read-back found were written before Brevo stopped (a cancelled import
        # may have written some); these were not.
        for item in submitted.items:
            self.outcomes[item.source_id] = WriteOutcome(
                "failed",
                f"Brevo import {process.id} ended '{process.status}' before writing this contact",
                f"brevo_import_{process.status}"[:60],
            )
        settled.extend(submitted.items)
        submitted.items = []

    def _read_back(self, emails: set[str], *, since: datetime) -> dict[str, Contact] | None:
        """What Brevo holds for these emails, among contacts modified since `since`; None when
        `until` came before the whole answer."""
        found: dict[str, Contact] = {}
        if len(emails) <= BY_EMAIL_MAX:
            for email in emails:
                if not self._has_time():
                    return None
                contact = self._by_email(email)
                if contact is not None:
                    found[email] = contact
            return found
        offset = 0
        while True:
            if not self._has_time():
                return None
            page = self.brevo.list_contacts(
                modified_since=since, limit=MAX_CONTACTS_PAGE, offset=offset, sort="asc"
            )
            for contact in page.contacts:
                email = (contact.email or "").lower()
                if email in emails:
                    found[email] = contact
            offset += len(page.contacts)
            if len(found) == len(emails) or len(page.contacts) < MAX_CONTACTS_PAGE or offset >= page.count:
                return found

    def _by_email(self, email: str) -> Contact | None:
        try:
            return self.brevo.get_contact(email, identifier_type="email_id")
        except (NotFoundError, ValidationFailed):
            return None

    def _missing(self, due: list[SubmittedImport], settled: list[PendingContact]) -> None:
        """Rows the read-back did not find: ask the process (sparingly) what became of them."""
        for submitted in due:
            if not submitted.items:
                continue
            process = self._process(submitted)
            if process is None or not process.finished:
                continue
            if not process.succeeded:
                self._fail_all(submitted, process, settled)
                continue
            # Completed: a contact the listing did not show may be one Brevo left untouched
            # (whether a no-op import bumps modifiedAt is not documented), or one it refused.
            lookups, rest = submitted.items[:LOOKUP_MAX], submitted.items[LOOKUP_MAX:]
            unasked = []
            for item in lookups:
                if not self._has_time():
                    unasked.append(item)
                    continue
                contact = self._by_email(item.email)
                if contact is None:
                    self.outcomes[item.source_id] = WriteOutcome(
                        "failed",
                        f"Brevo import {process.id} completed without this contact: Brevo refused the row "
                        "(invalid or duplicate identifier; the import's reports on the run page list them)",
                        "brevo_import_rejected",
                    )
                    settled.append(item)
                else:
                    self._evaluate(item, contact, submitted)
            if unasked:
                submitted.items = unasked + rest  # looked up at the next check
                continue
            for item in rest:
                self.outcomes[item.source_id] = WriteOutcome(
                    "updated" if item.known else "created",
                    f"Brevo import {process.id} completed, but this contact was not among those it "
                    "modified and too many were missing to look up one by one: the next run checks again",
                    confirmed=False,
                    warnings=[*item.warnings, {"field": "*", "reason": "not verified by read-back"}],
                )
                settled.append(item)
            submitted.items = []

    def _process(self, submitted: SubmittedImport) -> Process | None:
        """The import's process, asked only when Brevo's hourly bucket has a slot soon, and no
        more often than every half of the import's age (it shares the 100-per-hour bucket)."""
        if submitted.process is not None and submitted.process.finished:
            return submitted.process
        if not self._has_time():
            return None
        now = time.monotonic()
        if submitted.polled_at is not None and now - submitted.polled_at < max(1.0, (now - submitted.at) / 2):
            return submitted.process
        if self._poll_would_block():
            return None
        submitted.polled_at = now
        try:
            submitted.process = self.brevo.get_process(submitted.process_id)
        except ApiError as exc:
            if exc.retryable:
                return None
            raise
        self._note_process(submitted.process)
        return submitted.process

    def _note_process(self, process: Process) -> None:
        entry = {"process_id": process.id, "status": process.status, "reports": process.reports}
        for existing in self.processes:
            if existing["process_id"] == process.id:
                existing.update(entry)
                return
        self.processes.append(entry)

    def _ask_about_drops(self, due: list[SubmittedImport]) -> None:
        """A finished import whose contacts lost values: fetch its report links for the run page."""
        for submitted in due:
            if submitted.process is None and submitted.process_id in self._dropped:
                self._process(submitted)

    def _poll_would_block(self) -> bool:
        """True when Brevo's hourly bucket has no slot soon, or few left this hour (CRM writes and
        order batches need them more): the read-back alone then decides."""
        limiter = self.brevo.bucket_limiter("other") if hasattr(self.brevo, "bucket_limiter") else None
        left = min(POLL_MAX_WAIT, self._until() - time.monotonic())
        if limiter is not None and limiter.peek() > left:
            return True
        budget = self.brevo.budget("other") if hasattr(self.brevo, "budget") else None
        return budget is not None and budget.remaining is not None and budget.remaining < POLL_RESERVE

    # -- comparing ----------------------------------------------------------------------------

    def _evaluate(self, item: PendingContact, contact: Contact, submitted: SubmittedImport) -> None:
        """Compare what Brevo holds with what was sent; the contact then waits in `held` for the
        fixes it needs (none, often)."""
        fixes = self.fixes
        since = _since(submitted)
        book = self._attributes() if item.body.get("attributes") else None
        warnings = list(item.warnings)
        for name, sent in (item.body.get("attributes") or {}).items():
            got = contact.attributes.get(name.upper())
            if not same_value(name, sent, got, book):
                warnings.append({"field": name, "reason": why_dropped(name, sent, got, book)})
        if any(w["field"].upper() in REPORTED_ATTRIBUTES for w in warnings[len(item.warnings) :]):
            # A dropped identifier shows up in the import's duplicate reports: link them.
            self._dropped.add(submitted.process_id)
        held = set(contact.list_ids)
        for list_id in sorted(set(item.body.get("listIds") or ()) - held):
            fixes.add[list_id].append(item)
        for list_id in sorted(set(item.body.get("unlinkListIds") or ()) & held):
            fixes.remove[list_id].append(item)
        if item.body.get("emailBlacklisted") and not contact.email_blacklisted:
            fixes.block.append((item, contact.id))
        # The Date header has whole seconds (and may lag), hence the margin. A contact this
        # import created was modified when it was created; one created a little earlier and
        # modified now existed already.
        created = contact.created_at is not None and contact.created_at >= since
        # Tajo wrote a known contact before: it was re-created only if Brevo lost it meanwhile,
        # so only a contact modified at its very creation counts as created then.
        spread = KNOWN_CREATED_SPREAD if item.known else CREATED_SPREAD
        if created and contact.modified_at is not None and contact.modified_at - contact.created_at > spread:
            created = False
        if created and item.known and contact.created_at < submitted.accepted_at:
            created = False  # Tajo wrote it before, and Brevo had it before this import
        if created:
            outcome = "created"
        elif contact.modified_at is not None and contact.modified_at >= since:
            outcome = "updated"
        else:
            outcome = "unchanged"
        message = "Brevo already held these values" if outcome == "unchanged" and not warnings else ""
        self.outcomes[item.source_id] = WriteOutcome(outcome, message, warnings=warnings)
        self.held.append(item)

    def _apply(self) -> None:
        """What the imports could not do: list changes (150 per call) and the blocklist flag.

        Each call made is taken off `fixes`; what `until` leaves is made at a later check."""
        fixes = self.fixes
        for action, table in (("add", fixes.add), ("remove", fixes.remove)):
            for list_id in list(table):
                while table[list_id]:
                    if not self._has_time():
                        return
                    members = table[list_id][:LIST_MEMBERSHIP_CHUNK]
                    self._change_list(action, list_id, members)
                    del table[list_id][: len(members)]
                del table[list_id]
        while fixes.block:
            if not self._has_time():
                return
            item, contact_id = fixes.block[0]
            try:
                self.brevo.update_contact(
                    contact_id, {"emailBlacklisted": True}, identifier_type="contact_id"
                )
            except ApiError as exc:
                if exc.retryable:
                    raise
                self._warn(
                    item, "emailBlacklisted", f"Brevo refused the blocklist flag: {exc.operator_message}"
                )
            fixes.block.pop(0)

    def _change_list(self, action: str, list_id: int, members: list[PendingContact]) -> None:
        by_email = {m.email: m for m in members}
        emails = sorted(by_email)
        try:
            if action == "add":
                report = self.brevo.add_contacts_to_list(list_id, emails=emails)
            else:
                report = self.brevo.remove_contacts_from_list(list_id, emails=emails)
        except ApiError as exc:
            if exc.retryable:
                raise
            for member in members:
                self._warn(member, f"list {list_id}", f"could not be {action}ed: {exc.operator_message}")
            return
        failed = {str(x).lower() for x in report.failure}
        for email in failed & set(by_email):
            verb = "added to" if action == "add" else "removed from"
            self._warn(by_email[email], f"list {list_id}", f"Brevo did not let the contact be {verb} it")

    def _warn(self, item: PendingContact, name: str, reason: str) -> None:
        outcome = self.outcomes.get(item.source_id)
        if outcome is not None and outcome.outcome != "failed":
            outcome.warnings.append({"field": name, "reason": reason})


@dataclass
class _Fixes:
    add: dict[int, list[PendingContact]] = field(default_factory=lambda: defaultdict(list))
    remove: dict[int, list[PendingContact]] = field(default_factory=lambda: defaultdict(list))
    block: list[tuple[PendingContact, int]] = field(default_factory=list)

    def members(self) -> set[str]:
        """Source ids of the contacts a fix still waits for."""
        waiting = {m.source_id for table in (self.add, self.remove) for ms in table.values() for m in ms}
        return waiting | {item.source_id for item, _ in self.block}

    def merge(self, other: _Fixes) -> None:
        for mine, theirs in ((self.add, other.add), (self.remove, other.remove)):
            for list_id, members in theirs.items():
                mine[list_id].extend(members)
        self.block.extend(other.block)

    def drop(self, source_ids: set[str]) -> None:
        for table in (self.add, self.remove):
            for list_id in list(table):
                table[list_id] = [m for m in table[list_id] if m.source_id not in source_ids]
                if not table[list_id]:
                    del table[list_id]
        self.block = [(item, cid) for item, cid in self.block if item.source_id not in source_ids]


def _since(submitted: SubmittedImport) -> datetime:
    """The earliest time the import's changes can carry. Brevo's `Date` header is rounded down
    to the second (and may lag), so it never comes after the import's own writes; a local
    clock read after the answer can, hence the margin without it."""
    return submitted.accepted_at - (timedelta(0) if submitted.brevo_clock else CLOCK_MARGIN)


def _touched(contact: Contact, submitted: SubmittedImport) -> bool:
    """Whether the listing's contact reflects this import (not an older state)."""
    return contact.modified_at is None or contact.modified_at >= _since(submitted)


def _import_lists(item: PendingContact, home: int | None, *, whole: bool) -> tuple[int, ...]:
    lists = sorted(set(item.body.get("listIds") or ()))
    chosen = set(lists) if whole else set(lists[:1])
    if home is not None:
        chosen.add(home)
    return tuple(sorted(chosen))


def _group(
    items: list[PendingContact], home: int | None, *, whole: bool
) -> dict[tuple[tuple[int, ...], bool], list[PendingContact]]:
    groups: dict[tuple[tuple[int, ...], bool], list[PendingContact]] = defaultdict(list)
    for item in items:
        groups[(_import_lists(item, home, whole=whole), bool(item.body.get("emailBlacklisted")))].append(item)
    return groups


def _cost(
    groups: dict[tuple[tuple[int, ...], bool], list[PendingContact]],
    items: list[PendingContact],
    *,
    whole: bool,
) -> int:
    """Requests to write `items` grouped so: imports, plus list adds for lists no import carried."""
    imports = sum(math.ceil(len(g) / IMPORT_MAX_ROWS) for g in groups.values())
    if whole:
        return imports
    extra: dict[int, int] = defaultdict(int)
    for (lists, _), group in groups.items():
        for item in group:
            for list_id in set(item.body.get("listIds") or ()) - set(lists):
                extra[list_id] += 1
    return imports + sum(math.ceil(n / LIST_MEMBERSHIP_CHUNK) for n in extra.values())


SYNC_LIST_NAME = "Tajo: all synced contacts"
SYNC_FOLDER_NAME = "Tajo"


def sync_list_for(connection: Any, brevo: BrevoClient) -> int | None:
    """The connection's Brevo list of all synced contacts: the operator's choice, else the list
    named SYNC_LIST_NAME, found or created once and remembered on the connection.

    Every import carries it (an import needs a list, reference §0), so a contact on no mapped
    list costs no request of its own. None when Brevo would not let Tajo create it.
    """
    if connection.brevo_sync_list_id:
        return int(connection.brevo_sync_list_id)
    from connectors.models import Connection

    try:
        list_id = next(
            (li.id for page in brevo.iter_lists() for li in page.lists if li.name == SYNC_LIST_NAME), None
        )
        if list_id is None:
            folders = brevo.list_folders(limit=50).folders
            folder_id = next((f.id for f in folders if f.name == SYNC_FOLDER_NAME), None)
            if folder_id is None:
                folder_id = folders[0].id if folders else brevo.create_folder(SYNC_FOLDER_NAME)
            list_id = brevo.create_list(SYNC_LIST_NAME, folder_id)
            logger.info(
                "Created the Brevo list %s (%s) for connection %s", SYNC_LIST_NAME, list_id, connection.pk
            )
    except ApiError as exc:
        if exc.retryable:
            raise
        logger.warning("No Brevo list for all synced contacts of connection %s: %s", connection.pk, exc)
        return None
    Connection.objects.filter(pk=connection.pk).update(brevo_sync_list_id=list_id)
    connection.brevo_sync_list_id = list_id
    return int(list_id)


def slice_writer(ctx: Any, *, parks: bool = False) -> ContactWriter:
    """A writer for one slice of a run (it holds the imports in flight).

    `parks`: the caller parks what is under way at the slice's hard stop (the contacts resource),
    so the writer starts no request after it. Without, `write()` settles everything it is given.
    """
    return ContactWriter(
        ctx.brevo,
        home_list=lambda: sync_list_for(ctx.connection, ctx.brevo),
        until=(lambda: ctx.hard_stop) if parks else None,
    )
