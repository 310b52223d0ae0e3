"""AC contacts that share an email address become one Brevo contact; nobody's opt-out is lost.

Brevo identifies a contact by its email address (reference brevo-api-v3.md §2), ActiveCampaign
by id, and AC lets two contacts hold one address in different case. This is the step between
reading a unit of contacts and planning their writes:

* the group of an address is the contacts of the unit with it plus those read before (pages,
  slices, runs, webhooks), kept in `ContactIdentity`;
* the most recently updated member (AC `udate`, then the higher id) gives the values;
* every member's list statuses are merged, most restrictive first (mappings.consent), so an
  unsubscribe or bounce anywhere stays applied;
* the other members are recorded `merged` with the id they were merged into.

When the newest member was read before this unit, its values are already in Brevo; the unit's
older members then send only their merged list statuses (`consent_payload`), never values.
docs/consent.md explains the rule for operators.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson
from django.db import connection as db_connection
from django.db import transaction
from django.utils import timezone

from connectors.models import ContactIdentity
from connectors.sync.recorder import copy_rows, probe_each_key
from mappings.consent import merge_memberships
from mappings.records import SourceContact

_OLDEST = datetime.min.replace(tzinfo=UTC)
# RecordState resource of the list statuses an older duplicate sent to its address: apart from
# "contacts", whose states are the AC contacts written as contacts of their own.
MERGED_STATE = "contacts:merged"


def email_key(raw: str | None) -> str:
    """The address as Brevo compares it: trimmed, case-insensitive ('' when there is none)."""
    return (raw or "").strip().lower()


@dataclass(frozen=True, slots=True)
class Member:
    """One AC contact of an address, as read now or before."""

    source_id: str
    modified_at: datetime | None
    lists: dict[int, int]
    deal_id: str = ""


@dataclass(slots=True)
class Group:
    """What to do with the contacts of one address that this unit read.

    `write`: the contact to plan and write (the newest member with the others' list statuses in
    `duplicate_lists`), or, when `lists_only`, an older member whose merged list statuses must
    reach the Brevo contact the newest member (`winner_id`, read before) already wrote.
    `merged`: the unit's other contacts of the address, recorded as merged into `winner_id`.
    """

    email: str
    write: SourceContact
    winner_id: str
    lists_only: bool = False
    merged: list[SourceContact] = field(default_factory=list)
    # lists_only: whether this unit's contacts change the address's merged list statuses (when
    # not, those read before already said everything and nothing needs sending).
    new_statuses: bool = True


def _rank(member: Member) -> tuple[datetime, int]:
    modified = member.modified_at or _OLDEST
    if modified.tzinfo is None:
        modified = modified.replace(tzinfo=UTC)
    try:
        number = int(member.source_id)
    except ValueError:
        number = 0
    return modified, number


def _member(source: SourceContact) -> Member:
    return Member(str(source.ac_id), source.udate, dict(source.lists))


def group_contacts(
    sources: Iterable[SourceContact], known: dict[str, list[Member]] | None = None
) -> list[Group]:
    """One group per address in `sources` (in reading order); `known`: members read before.

    Contacts without an address are their own group (the transform says why they are not sent).
    Pure: no database, no HTTP.
    """
    sources = list(sources)
    known = known or {}
    # A contact of this unit counts as read now, also when its stored address is another one.
    unit_ids = {str(s.ac_id) for s in sources}
    order: list[str] = []
    by_email: dict[str, list[SourceContact]] = {}
    groups: list[Group] = []
    for source in sources:
        email = email_key(source.email)
        if not email:
            groups.append(Group("", source, str(source.ac_id)))
            continue
        if email not in by_email:
            by_email[email] = []
            order.append(email)
        by_email[email].append(source)
    for email in order:
        here = by_email[email]
        before = [m for m in known.get(email, ()) if m.source_id not in unit_ids]
        if len(here) == 1 and not before:
            groups.append(Group(email, here[0], str(here[0].ac_id)))
            continue
        newest_here = max(here, key=lambda s: _rank(_member(s)))
        newest_before = max(before, key=_rank, default=None)
        if newest_before is None or _rank(_member(newest_here)) >= _rank(newest_before):
            winner_id = str(newest_here.ac_id)
            others = [s.lists for s in here if s is not newest_here] + [m.lists for m in before]
            write = newest_here.model_copy(update={"duplicate_lists": tuple(others)})
            merged = [s for s in here if s is not newest_here]
            groups.append(Group(email, write, winner_id, merged=merged))
            continue
        # The newest contact of this address was read before: its values are in Brevo already.
        winner_id = newest_before.source_id
        others = [s.lists for s in here if s is not newest_here] + [m.lists for m in before]
        write = newest_here.model_copy(update={"duplicate_lists": tuple(others)})
        merged = [s for s in here if s is not newest_here]
        known_statuses = merge_memberships(m.lists for m in before)
        with_these = merge_memberships([known_statuses, *(s.lists for s in here)])
        groups.append(
            Group(
                email,
                write,
                winner_id,
                lists_only=True,
                merged=merged,
                new_statuses=with_these != known_statuses,
            )
        )
    return groups


# ----------------------------------------------------------------------------- store


def known_members(connection_id: int, emails: Iterable[str]) -> dict[str, list[Member]]:
    """Members read before, for the given addresses, in one indexed query."""
    wanted = sorted({e for e in emails if e})
    if not wanted:
        return {}
    if db_connection.vendor == "postgresql":
        found_rows = ContactIdentity.objects.raw(
            probe_each_key(
                "found.id, found.email, found.source_id, found.source_modified_at, found.lists, "
                "found.deal_id",
                ContactIdentity._meta.db_table,
                "connection_id = %s AND email = wanted.key",
            ),
            [wanted, connection_id],
        )
        rows: Iterable[tuple] = (
            (r.email, r.source_id, r.source_modified_at, r.lists, r.deal_id) for r in found_rows
        )
    else:
        rows = ContactIdentity.objects.filter(connection_id=connection_id, email__in=wanted).values_list(
            "email", "source_id", "source_modified_at", "lists", "deal_id"
        )
    found: dict[str, list[Member]] = {}
    for email, source_id, modified_at, lists, deal_id in rows:
        statuses = {int(k): int(v) for k, v in (lists or {}).items()}
        found.setdefault(email, []).append(Member(source_id, modified_at, statuses, deal_id))
    return found


IDENTITY_COLUMNS = (
    "tenant_id",
    "connection_id",
    "source_id",
    "email",
    "source_modified_at",
    "lists",
    "deal_id",
    "updated_at",
)


def remember_members(
    *,
    tenant_id: int,
    connection_id: int,
    sources: Iterable[SourceContact],
    deals: bool = False,
    known: dict[str, list[Member]] | None = None,
) -> None:
    """Keep each contact's address, update time and list statuses for later merges.

    Written as soon as read, not with the slice's outcomes: these are facts about ActiveCampaign,
    true whether or not the Brevo write happens, and the slice's next unit must see them.
    `deals`: the mapping carries deal attributes, so each contact's primary deal id is kept too.
    `known` (from `known_members` for these addresses) lets unchanged contacts cost no write.
    """
    stored = {m.source_id: (email, m) for email, members in (known or {}).items() for m in members}
    now = timezone.now()
    rows: dict[str, tuple] = {}
    for source in sources:
        email = email_key(source.email)
        if not email or len(email) > 320:
            continue
        source_id = str(source.ac_id)
        lists = {int(k): int(v) for k, v in source.lists.items()}
        deal_id = str(source.deal.ac_id) if deals and source.deal and source.deal.ac_id else ""
        seen = stored.get(source_id)
        if seen is not None and seen == (email, Member(source_id, source.udate, lists, deal_id)):
            continue  # as read before: nothing to write
        rows[source_id] = (
            tenant_id,
            connection_id,
            source_id,
            email,
            source.udate,
            {str(k): v for k, v in lists.items()},
            deal_id,
            now,
        )
    if rows:
        _upsert(list(rows.values()))


def _upsert(rows: list[tuple]) -> None:
    """Insert or update identity rows: COPY and one INSERT ... ON CONFLICT on PostgreSQL.

    A 500-row `bulk_create(update_conflicts=True)` took about ten times longer: model instances
    and a statement of 4,000 parameters per unit of contacts.
    """
    if db_connection.vendor != "postgresql":
        ContactIdentity.objects.bulk_create(
            [ContactIdentity(**dict(zip(IDENTITY_COLUMNS, row, strict=True))) for row in rows],
            update_conflicts=True,
            unique_fields=["connection", "source_id"],
            update_fields=["email", "source_modified_at", "lists", "deal_id", "updated_at"],
        )
        return
    table = ContactIdentity._meta.db_table
    names = ", ".join(IDENTITY_COLUMNS)
    copied = [(*row[:5], orjson.dumps(row[5]).decode(), *row[6:]) for row in rows]
    with transaction.atomic():
        with db_connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS tajo_identity_in ON COMMIT DELETE ROWS AS "  # noqa: S608
                f"SELECT {names} FROM {table} WITH NO DATA"
            )
            cursor.execute("TRUNCATE tajo_identity_in")
        copy_rows("tajo_identity_in", IDENTITY_COLUMNS, copied)
        with db_connection.cursor() as cursor:
            # Identifiers come from the model; the values went through COPY.
            cursor.execute(
                f"INSERT INTO {table} ({names}) SELECT {names} FROM tajo_identity_in "  # noqa: S608
                "ON CONFLICT (connection_id, source_id) DO UPDATE SET email = EXCLUDED.email, "
                "source_modified_at = EXCLUDED.source_modified_at, lists = EXCLUDED.lists, "
                "deal_id = EXCLUDED.deal_id, updated_at = EXCLUDED.updated_at"
            )


def merged_message(winner_id: str, *, dry_run: bool = False) -> str:
    verb = "would be merged" if dry_run else "merged"
    return (
        f"{verb} into ActiveCampaign contact {winner_id}, which has the same email (compared "
        "case-insensitively) and was updated more recently: its values are the Brevo contact's, "
        "and this contact's unsubscribes and bounces are kept"
    )
