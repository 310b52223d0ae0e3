"""The account's tables and reads: the catalog (lists, fields, tags, pipelines, ...), contacts and
their per-contact collections, generated on demand and copied into an overlay when changed.

`ACStore` is the base of the write groups (`contacts`, `deals`, `objects`), which `account`
combines into `ACState`."""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

from sandbox.activecampaign.errors import not_found
from sandbox.activecampaign.generator import catalog as g
from sandbox.activecampaign.generator.account import CHILD_KINDS, GROUP_KINDS, GROUP_OF, AccountGenerator
from sandbox.activecampaign.generator.catalog import Row
from sandbox.activecampaign.generator.profile import GeneratorProfile
from sandbox.activecampaign.state.rows import (
    list_row,
    schema_row,
)
from sandbox.activecampaign.state.tables import (
    CONTACT_CACHE,
    GROUP_CACHE,
    GROUP_INDEX,
    Slice,
    TimeIndex,
    Window,
    ids_between,
    in_window,
    membership_test,
    merge_page,
)
from sandbox.clock import AccountClock

ChangeCallback = Callable[[str, dict[str, Any]], None]

# AC-side webhook event names (reference section 14.2).
WEBHOOK_EVENTS = sorted(
    [
        "bounce",
        "click",
        "contact_tag_added",
        "contact_tag_removed",
        "deal_add",
        "deal_note_add",
        "deal_pipeline_add",
        "deal_stage_add",
        "deal_task_add",
        "deal_task_complete",
        "deal_tasktype_add",
        "deal_update",
        "forward",
        "list_add",
        "open",
        "reply",
        "sent",
        "share",
        "sms_reply",
        "sms_sent",
        "sms_unsub",
        "subscribe",
        "subscriber_note",
        "unsubscribe",
        "update",
    ]
)
WEBHOOK_SOURCES = ("public", "admin", "api", "system")

class ChildTable:
    """One per-contact collection (fieldValues, contactTags, ...): generated rows plus overlay."""

    def __init__(self, state: ACStore, kind: str) -> None:
        self.state = state
        self.kind = kind
        self.generated = state.gen.total(kind)
        self.rows: dict[int, Row] = {}  # materialised and new rows
        self.deleted: list[int] = []  # generated ids removed since load, ascending
        self.new_ids: list[int] = []  # ids above the generated range, ascending
        self.next_id = self.generated + 1

    def count(self) -> int:
        return self.generated - len(self.deleted) + len(self.new_ids)

    def get(self, row_id: int) -> Row | None:
        if 1 <= row_id <= self.generated:
            i = self.state.gen.owner_of(self.kind, row_id)
            if i in self.state.materialised:
                return self.rows.get(row_id)
            for row in self.state.kind_rows(i, self.kind):
                if self._id(row) == row_id:
                    return row
            return None
        return self.rows.get(row_id)

    def _id(self, row: Row) -> int:
        return row["seq"] if self.kind == "records" else int(row["id"])

    def start_for_offset(self, offset: int) -> int:
        """Smallest generated id with exactly ``offset`` live rows before it (skips deleted ids)."""
        c = offset + 1
        while True:
            nxt = offset + 1 + bisect_right(self.deleted, c)
            if nxt == c:
                return c
            c = nxt

    def iter_from(self, start_id: int = 1) -> Iterator[Row]:
        """Live rows with id >= start_id, ascending."""
        gen = self.state.gen
        prefix = gen.prefix[self.kind]
        rid = max(start_id, 1)
        while rid <= self.generated:
            i = gen.owner_of(self.kind, rid)
            end = prefix[i + 1]
            if i in self.state.materialised:
                for r in range(rid, end + 1):
                    row = self.rows.get(r)
                    if row is not None:
                        yield row
            elif rid == prefix[i] + 1:
                yield from self.state.kind_rows(i, self.kind)  # all of this contact's ids are >= rid
            else:
                for row in self.state.kind_rows(i, self.kind):
                    if self._id(row) >= rid:
                        yield row
            rid = end + 1
        for nid in self.new_ids[bisect_left(self.new_ids, start_id) :]:
            row = self.rows.get(nid)
            if row is not None:
                yield row

    def add(self, row: Row) -> Row:
        rid = self.next_id
        self.next_id += 1
        if self.kind == "records":
            row["seq"] = rid
        else:
            row["id"] = str(rid)
        self.rows[rid] = row
        self.new_ids.append(rid)
        return row

    def remove(self, row_id: int) -> Row | None:
        row = self.rows.pop(row_id, None)
        if row is not None:
            if row_id <= self.generated:
                insort(self.deleted, row_id)
            else:
                self.new_ids.remove(row_id)
        return row


class ACStore:
    """The simulated AC account's tables, lock, reads and change notifications."""

    def __init__(
        self,
        *,
        seed: int = 1,
        contacts: int = 200,
        profile: GeneratorProfile | None = None,
        tz_offset: str = "-05:00",
        clock: AccountClock | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self.clock = clock or AccountClock(tz_offset)
        self.gen = AccountGenerator(seed=seed, contacts=contacts, profile=profile, clock=self.clock)
        self.on_change: list[ChangeCallback] = []
        self.materialised: set[int] = set()  # contact indexes copied into the overlay
        self.contacts: dict[int, Row] = {}  # overlay contacts by id (materialised + new)
        self.contact_children: dict[int, dict[str, list[int]]] = {}  # overlay contact id -> kind -> row ids
        self.deleted_contacts: list[int] = []  # generated contact ids deleted, ascending
        self.new_contact_ids: list[int] = []
        self.next_contact_id = self.gen.n + 1
        self.touched: set[int] = set()  # contacts whose udate moved after load
        self._currency_cache: dict[tuple[Window, Window], dict[str, list[int]]] = {}
        self._overlay_emails: dict[str, set[int]] = {}  # lower-case email -> overlay contact ids
        self.tables = {kind: ChildTable(self, kind) for kind in CHILD_KINDS}
        # A sync reads every contact, then every child listing: the caches hold a whole
        # benchmark-sized account so the later passes do not generate rows again.
        self.contact_row = lru_cache(maxsize=CONTACT_CACHE)(self.gen.contact)
        self.group_rows = lru_cache(maxsize=GROUP_CACHE)(self._group_rows)
        self.udate_index = TimeIndex(self.gen.udate)
        self.deal_cdate_index = TimeIndex(self.gen.deal_cdate)
        self.deal_mdate_index = TimeIndex(self.gen.deal_mdate)
        self._seed_catalog()

    # ------------------------------------------------------------------
    # catalog: lists, fields, tags, pipelines, ... (small, stored as rows)
    # ------------------------------------------------------------------

    def _seed_catalog(self) -> None:
        clock = self.clock
        at = g.CATALOG_DATE
        iso, wall = clock.iso(at), clock.wall(at)
        self.users = {
            u[0]: {
                "username": u[1],
                "firstName": u[2],
                "lastName": u[3],
                "email": u[4],
                "phone": "",
                "signature": None,
                "id": u[0],
            }
            for u in g.USERS
        }
        self.lists: dict[str, Row] = {}
        for lid, name, stringid in g.LISTS:
            self.lists[lid] = list_row(lid, name, stringid, iso, wall)
        self.fields: dict[str, Row] = {}
        self.field_options: dict[str, Row] = {}
        self.field_rels: dict[str, Row] = {}
        for order, (fid, title, ftype, perstag, options) in enumerate(g.FIELDS, start=1):
            option_ids = []
            for n, label in enumerate(options, start=1):
                oid = str(len(self.field_options) + 1)
                option_ids.append(oid)
                self.field_options[oid] = {
                    "field": fid,
                    "orderid": n,
                    "value": label,
                    "label": label,
                    "isdefault": 0,
                    "cdate": iso,
                    "udate": iso,
                    "id": oid,
                }
            rel_id = str(len(self.field_rels) + 1)
            self.field_rels[rel_id] = {"field": fid, "relid": "0", "cdate": iso, "id": rel_id}
            self.fields[fid] = {
                "title": title,
                "descript": None,
                "type": ftype,
                "isrequired": "0",
                "perstag": perstag,
                "defval": None,
                "show_in_list": "0",
                "rows": "0",
                "cols": "0",
                "visible": "1",
                "service": "",
                "ordernum": str(order),
                "cdate": iso,
                "udate": iso,
                "options": option_ids,
                "relations": [rel_id],
                "id": fid,
            }
        self.tags: dict[str, Row] = {}
        for name in g.CONTACT_TAGS:
            self._add_tag_row(name, "contact", iso, wall)
        for name in g.TEMPLATE_TAGS:
            self._add_tag_row(name, "template", iso, wall)
        self.scores = {
            sid: {
                "reltype": rel,
                "name": name,
                "descript": desc,
                "status": "1",
                "cdate": iso,
                "mdate": iso,
                "id": sid,
            }
            for sid, name, rel, desc in g.SCORES
        }
        self.deal_groups: dict[str, Row] = {}
        self.deal_stages: dict[str, Row] = {}
        for pid, title, currency, autoassign, stages in g.PIPELINES:
            self.deal_groups[pid] = {
                "allgroups": "1",
                "allusers": "1",
                "autoassign": autoassign,
                "cdate": iso,
                "udate": iso,
                "currency": currency,
                "title": title,
                "stages": [s[0] for s in stages],
                "id": pid,
            }
            for order, (sid, stitle, color) in enumerate(stages, start=1):
                self.deal_stages[sid] = {
                    "cardRegion1": "title",
                    "cardRegion2": "next-action",
                    "cardRegion3": "show-avatar",
                    "cardRegion4": "contact-fullname-orgname",
                    "cardRegion5": "value",
                    "cdate": iso,
                    "color": color,
                    "dealOrder": "next-action DESC",
                    "group": pid,
                    "id": sid,
                    "order": str(order),
                    "title": stitle,
                    "udate": iso,
                    "width": "280",
                }
        self.automations = {
            aid: {
                "name": name,
                "cdate": iso,
                "mdate": iso,
                "userid": "1",
                "status": status,
                "entered": "0",
                "exited": "0",
                "hidden": "0",
                "defaultscreenshot": "http://img-us1.com/default-series.gif",
                "screenshot": "",
                "id": aid,
            }
            for aid, name, status in g.AUTOMATIONS
        }
        self.event_tracking_enabled = True
        self.event_names: list[str] = list(g.EVENT_NAMES)
        self.connections = {
            g.CONNECTION["id"]: {
                "service": g.CONNECTION["service"],
                "externalid": g.CONNECTION["externalid"],
                "name": g.CONNECTION["name"],
                "isInternal": "0",
                "connectionType": "ecommerce",
                "status": "1",
                "syncStatus": "0",
                "lastSync": None,
                "logoUrl": g.CONNECTION["logoUrl"],
                "linkUrl": g.CONNECTION["linkUrl"],
                "listId": "3",
                "cdate": iso,
                "udate": iso,
                "id": g.CONNECTION["id"],
            }
        }
        self.schemas = {self.gen.schema_id: schema_row(self.gen.schema_id)}
        self.webhooks: dict[str, Row] = {}
        self.next_webhook_id = 1
        self.imports: dict[str, Row] = {}

    def _add_tag_row(
        self, name: str, tag_type: str, iso: str | None, wall: str | None, description: str = ""
    ) -> Row:
        tid = str(len(self.tags) + 1)
        row = {
            "tagType": tag_type,
            "tag": name,
            "description": description,
            "cdate": iso,
            "created_timestamp": wall,
            "updated_timestamp": wall,
            "created_by": None,
            "updated_by": None,
            "id": tid,
        }
        self.tags[tid] = row
        return row

    # ------------------------------------------------------------------
    # reading contacts
    # ------------------------------------------------------------------

    def _group_rows(self, i: int, group: str) -> tuple[tuple[Row, ...], ...]:
        rows = self.gen.children(i, self.contact_row(i), group)
        # Tuples are smaller and quicker for the cyclic GC to walk than a dict of lists, which
        # matters once the cache holds a whole account.
        return tuple(tuple(rows[kind]) for kind in GROUP_KINDS[group])

    def warm(self, kinds: tuple[str, ...] = CHILD_KINDS) -> int:
        """Generate the account up front, as far as the row caches hold it; returns contacts warmed.

        A real server has its rows before the first request; a benchmark should time its client,
        not this generator's first pass.
        """
        with self.lock:
            n = min(self.gen.n, CONTACT_CACHE)
            room = GROUP_CACHE
            for i in range(n):
                self.contact_row(i)
            for kind in kinds:
                group = GROUP_OF[kind]
                if kind != GROUP_KINDS[group][0]:
                    continue  # one entry per group
                for i in range(n):
                    if room <= 0:
                        return n
                    if any(self.gen.counts[k][i] for k in GROUP_KINDS[group]):
                        self.group_rows(i, group)
                        room -= 1
            return n

    def kind_rows(self, i: int, kind: str) -> list[Row]:
        """Generated rows of one collection for contact index ``i`` (cached rows, do not mutate)."""
        if not self.gen.counts[kind][i]:
            return []  # a zero count generates no rows: skip the cache and the generator
        return list(self.group_rows(i, GROUP_OF[kind])[GROUP_INDEX[kind]])

    def contact_count(self) -> int:
        with self.lock:
            return self.gen.n - len(self.deleted_contacts) + len(self.new_contact_ids)

    def get_contact(self, cid: int) -> Row | None:
        with self.lock:
            return self._contact(cid)

    def _contact(self, cid: int) -> Row | None:
        row = self.contacts.get(cid)
        if row is not None:
            return row
        if 1 <= cid <= self.gen.n and (cid - 1) not in self.materialised:
            return self.contact_row(cid - 1)
        return None

    def _require_contact(self, cid: int) -> Row:
        row = self._contact(cid)
        if row is None:
            raise not_found("Subscriber", cid)
        return row

    def children_of(self, cid: int, kind: str) -> list[Row]:
        """Rows of one per-contact collection for contact ``cid`` (id order)."""
        with self.lock:
            return self._children(cid, kind)

    def _children(self, cid: int, kind: str) -> list[Row]:
        ids = self.contact_children.get(cid)
        if ids is not None:
            table = self.tables[kind]
            return [table.rows[r] for r in ids.get(kind, ()) if r in table.rows]
        if 1 <= cid <= self.gen.n:
            return self.kind_rows(cid - 1, kind)
        return []

    def iter_contacts(self, start_id: int = 1, *, descending: bool = False) -> Iterator[Row]:
        """Live contacts from ``start_id`` in id order (generated ids first, then new ones)."""
        n = self.gen.n
        if not descending:
            cid = max(start_id, 1)
            while cid <= n:
                row = self._contact(cid)
                if row is not None:
                    yield row
                cid += 1
            for nid in self.new_contact_ids[bisect_left(self.new_contact_ids, start_id) :]:
                row = self.contacts.get(nid)
                if row is not None:
                    yield row
        else:
            pos = bisect_right(self.new_contact_ids, start_id)
            for nid in reversed(self.new_contact_ids[:pos]):
                row = self.contacts.get(nid)
                if row is not None:
                    yield row
            cid = min(start_id, n)
            while cid >= 1:
                row = self._contact(cid)
                if row is not None:
                    yield row
                cid -= 1

    def iter_contact_ids(self, start_id: int = 1, *, descending: bool = False) -> Iterator[int]:
        """Ids of live contacts from ``start_id`` in id order, without building rows."""
        n = self.gen.n
        mat, overlay = self.materialised, self.contacts
        if not descending:
            for cid in range(max(start_id, 1), n + 1):
                if (cid - 1) not in mat or cid in overlay:
                    yield cid
            yield from (
                i for i in self.new_contact_ids[bisect_left(self.new_contact_ids, start_id) :] if i in overlay
            )
        else:
            pos = bisect_right(self.new_contact_ids, start_id)
            yield from (i for i in reversed(self.new_contact_ids[:pos]) if i in overlay)
            for cid in range(min(start_id, n), 0, -1):
                if (cid - 1) not in mat or cid in overlay:
                    yield cid

    def contact_ids(self) -> list[int]:
        """Ids of every live contact, ascending (fine for tests; a million ids is 8 MB)."""
        with self.lock:
            return list(self.iter_contact_ids())

    def contact_window(
        self, *, lo: int, hi: int | None, updated: Window, created: Window, offset: int, limit: int
    ) -> tuple[list[int], int]:
        """Ids (ascending) of contacts in an id range and udate/cdate windows, plus the total.

        Answered from the generated arrays plus the overlay, so a keyset page
        costs its own size even on a million contacts (the first query of a
        udate window scans the array once and is cached).
        """
        gen = self.gen
        n = gen.n
        top = n if hi is None else min(hi, n)
        first, last = max(lo, 1), top
        if created[0] is not None:
            first = max(first, bisect_left(gen.cdate, created[0]) + 1)
        if created[1] is not None:
            last = min(last, bisect_left(gen.cdate, created[1]))
        if updated == (None, None):
            gen_ids: Any = range(first, last + 1) if first <= last else range(0)
        elif updated[0] is not None and updated[0] > gen.max_udate:
            gen_ids = range(0)  # nothing generated changed after this instant
        else:
            matching = self.udate_index.ids(*updated)
            gen_ids = ids_between(matching, first, last)
        member = membership_test(gen_ids)
        skipped = [i + 1 for i in self.materialised if member(i + 1)]

        def keep(cid: int) -> bool:
            if cid < lo or (hi is not None and cid > hi):
                return False
            row = self.contacts[cid]
            return in_window(self.clock.parse_stored(row["udate"]), updated) and in_window(
                self.clock.parse_stored(row["cdate"]), created
            )

        overlay = sorted(cid for cid in self.contacts if keep(cid))
        mat = self.materialised
        return merge_page((cid for cid in gen_ids if (cid - 1) not in mat), overlay, offset, limit), len(
            gen_ids
        ) - len(skipped) + len(overlay)

    def _deal_candidates(self, created: Window, updated: Window) -> Any:
        """Generated deal ids (sorted) whose generated cdate/mdate fall in the windows."""
        total_gen = self.tables["deals"].generated
        candidates: Any = range(1, total_gen + 1)
        for window, index in ((created, self.deal_cdate_index), (updated, self.deal_mdate_index)):
            if window == (None, None):
                continue
            if window[0] is not None and window[0] > g.EPOCH_END:
                return range(0)  # nothing generated is that recent
            ids = index.ids(*window)
            matching = Slice(ids, 0, len(ids))
            if isinstance(candidates, range) and len(candidates) == total_gen:
                candidates = matching
            else:
                candidates = sorted(set(candidates) & set(matching))
        return candidates

    def _deal_overlay(self, created: Window, updated: Window) -> tuple[Any, list[int], list[int]]:
        """(generated candidates, overridden generated ids among them, overlay ids in the windows)."""
        candidates = self._deal_candidates(created, updated)
        member = membership_test(candidates)
        prefix = self.gen.prefix["deals"]
        overridden = [
            d for i in self.materialised for d in range(prefix[i] + 1, prefix[i + 1] + 1) if member(d)
        ]
        clock = self.clock
        overlay = sorted(
            rid
            for rid, row in self.tables["deals"].rows.items()
            if in_window(clock.parse_stored(row["cdate"]), created)
            and in_window(clock.parse_stored(row["mdate"]), updated)
        )
        return candidates, overridden, overlay

    def deal_window(
        self, *, created: Window, updated: Window, offset: int, limit: int
    ) -> tuple[list[Row], int]:
        """Deals (ascending id, which is also cdate order) in cdate/mdate windows, plus the total."""
        gen = self.gen
        table = self.tables["deals"]
        candidates, overridden, overlay = self._deal_overlay(created, updated)
        mat = self.materialised
        ids = merge_page(
            (d for d in candidates if gen.owner_of("deals", d) not in mat), overlay, offset, limit
        )
        rows = [row for row in (table.get(d) for d in ids) if row is not None]
        return rows, len(candidates) - len(overridden) + len(overlay)

    def deal_currencies(self, *, created: Window, updated: Window) -> dict[str, list[int]]:
        """Currency (upper case) -> [deal count, summed cents] over the deals in the windows."""
        gen = self.gen
        key = (created, updated)
        base = self._currency_cache.get(key)
        if base is None:
            base = {}
            for d in self._deal_candidates(created, updated):
                entry = base.setdefault("EUR" if gen.deal_eur[d - 1] else "USD", [0, 0])
                entry[0] += 1
                entry[1] += gen.deal_value[d - 1]
            if len(self._currency_cache) >= 8:
                self._currency_cache.pop(next(iter(self._currency_cache)))
            self._currency_cache[key] = base
        sums = {k: list(v) for k, v in base.items()}
        _candidates, overridden, overlay = self._deal_overlay(created, updated)
        for d in overridden:
            entry = sums["EUR" if gen.deal_eur[d - 1] else "USD"]
            entry[0] -= 1
            entry[1] -= gen.deal_value[d - 1]
        rows = self.tables["deals"].rows
        for rid in overlay:
            row = rows[rid]
            entry = sums.setdefault(row["currency"].upper(), [0, 0])
            entry[0] += 1
            entry[1] += int(row["value"])
        return {k: v for k, v in sums.items() if v[0]}

    def udate_of(self, cid: int) -> float | None:
        if 1 <= cid <= self.gen.n and (cid - 1) not in self.materialised:
            return self.gen.udate[cid - 1]
        row = self.contacts.get(cid)
        return self.clock.parse_stored(row["udate"]) if row else None

    def cdate_of(self, cid: int) -> float | None:
        if 1 <= cid <= self.gen.n and (cid - 1) not in self.materialised:
            return self.gen.cdate[cid - 1]
        row = self.contacts.get(cid)
        return self.clock.parse_stored(row["cdate"]) if row else None

    def find_by_email(self, email: str) -> list[int]:
        """Ids of live contacts with this email, ignoring case (ascending)."""
        with self.lock:
            return self._find_by_email(email)

    def _find_by_email(self, email: str) -> list[int]:
        wanted = email.strip().lower()
        if not wanted:
            return []
        generated = [i + 1 for i in self.gen.email_candidates(wanted) if i not in self.materialised]
        return sorted(generated + list(self._overlay_emails.get(wanted, ())))

    def _index_email(self, cid: int, old: str | None, new: str | None) -> None:
        """Keep the overlay's email index (generated contacts need none) in step."""
        if old:
            ids = self._overlay_emails.get(old.lower())
            if ids is not None:
                ids.discard(cid)
                if not ids:
                    del self._overlay_emails[old.lower()]
        if new:
            self._overlay_emails.setdefault(new.lower(), set()).add(cid)

    def counts(self) -> dict[str, int]:
        with self.lock:
            out = {"contacts": self.contact_count()}
            out.update({kind: t.count() for kind, t in self.tables.items()})
            out.update(
                {
                    "lists": len(self.lists),
                    "fields": len(self.fields),
                    "tags": len(self.tags),
                    "webhooks": len(self.webhooks),
                    "users": len(self.users),
                    "dealGroups": len(self.deal_groups),
                    "dealStages": len(self.deal_stages),
                    "automations": len(self.automations),
                }
            )
            return out

    # ------------------------------------------------------------------
    # overlay
    # ------------------------------------------------------------------

    def _materialise(self, cid: int) -> Row:
        """Copy a generated contact and its rows into the overlay; return the stored contact."""
        row = self.contacts.get(cid)
        if row is not None:
            return row
        if not 1 <= cid <= self.gen.n:
            raise not_found("Subscriber", cid)
        i = cid - 1
        # Fresh copies: cached rows may still be in use by a response being built.
        contact = self.gen.contact(i)
        children = self.gen.children(i, contact)
        self.materialised.add(i)
        self.contacts[cid] = contact
        self._index_email(cid, None, contact["email"])
        ids: dict[str, list[int]] = {}
        for kind, rows in children.items():
            table = self.tables[kind]
            ids[kind] = []
            for r in rows:
                rid = table._id(r)
                table.rows[rid] = r
                ids[kind].append(rid)
        self.contact_children[cid] = ids
        return contact

    def _ensure_overlay(self, cid: int) -> Row | None:
        """Make contact ``cid`` an overlay contact; None if it was deleted."""
        if 1 <= cid <= self.gen.n and (cid - 1) not in self.materialised:
            return self._materialise(cid)
        return self.contacts.get(cid)

    def _add_child(self, cid: int, kind: str, row: Row) -> Row:
        table = self.tables[kind]
        row = table.add(row)
        self.contact_children.setdefault(cid, {k: [] for k in CHILD_KINDS})[kind].append(table._id(row))
        return row

    def _remove_child(self, cid: int, kind: str, row_id: int) -> Row | None:
        row = self.tables[kind].remove(row_id)
        ids = self.contact_children.get(cid, {}).get(kind)
        if ids is not None and row_id in ids:
            ids.remove(row_id)
        return row

    def _touch(self, contact: Row, when: float | None = None) -> None:
        at = when if when is not None else self.clock.now()
        contact["udate"] = self.clock.iso(at)
        contact["updated_timestamp"] = contact["updated_utc_timestamp"] = self.clock.wall(at)
        self.touched.add(int(contact["id"]))

    def _emit(self, event: str, payload: dict[str, Any]) -> None:
        for callback in list(self.on_change):
            callback(event, payload)

    def _event_payload(self, cid: int, source: str, **extra: Any) -> dict[str, Any]:
        contact = self._contact(cid) or {}
        tags = [
            self.tags[r["tag"]]["tag"] for r in self._children(cid, "contactTags") if r["tag"] in self.tags
        ]
        fields = {r["field"]: r["value"] for r in self._children(cid, "fieldValues")}
        payload = {
            "date_time": self.clock.iso(self.clock.now()),
            "initiated_from": source,
            "initiated_by": source,
            "list": "0",
            "contact": {
                "id": str(cid),
                "email": contact.get("email", ""),
                "first_name": contact.get("firstName", ""),
                "last_name": contact.get("lastName", ""),
                "phone": contact.get("phone", ""),
                "ip": "0.0.0.0",  # noqa: S104 - a payload value, not a bind address
                "tags": ", ".join(tags),
                "orgname": contact.get("orgname", ""),
                "fields": fields,
            },
        }
        payload.update(extra)
        return payload
