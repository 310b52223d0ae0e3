"""In-memory state of the simulated ActiveCampaign account.

Generated rows come from `AccountGenerator` on demand; anything changed
through the API or the control endpoints is copied into an overlay first
("materialised"), so a million untouched contacts cost a few arrays while a
changed contact behaves like any stored row. Every public method takes the
lock: the server thread and a test thread may both call in.

Mutations call the `on_change(event_type, payload)` callbacks with AC webhook
event names (``subscribe``, ``unsubscribe``, ``update``, ``contact_tag_added``,
``contact_tag_removed``, ``deal_add``, ``deal_update``, ``list_add``) so a
webhook sender can be attached later without touching this module.
"""

from __future__ import annotations

import heapq
import re
import threading
import uuid
from array import array
from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from typing import Any

from sandbox import generator as g
from sandbox.clock import AccountClock
from sandbox.generator import (
    CHILD_KINDS,
    GROUP_KINDS,
    GROUP_OF,
    AccountGenerator,
    GeneratorProfile,
    Row,
)

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

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


class ACError(Exception):
    """An API error with the exact status and body AC would answer."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body


def not_found(cls_name: str, ident: object, *, status: int = 404, lower: bool = False) -> ACError:
    """404 (or 403) with the internal class name in the text, as AC does."""
    word = "result" if lower else "Result"
    return ACError(status, {"message": f"No {word} found for {cls_name} with id {ident}"})


def validation(title: str, code: str, pointer: str, detail: str = "") -> ACError:
    return ACError(
        422, {"errors": [{"title": title, "detail": detail, "code": code, "source": {"pointer": pointer}}]}
    )


def missing_attribute(name: str) -> ACError:
    return ACError(
        422,
        {
            "errors": [
                {
                    "status": 422,
                    "title": "Missing attribute",
                    "source": {"pointer": f"/data/attributes/{name}"},
                }
            ]
        },
    )


def related_not_found(what: str) -> ACError:
    return ACError(404, {"errors": [{"status": 404, "title": "Not Found", "detail": f"{what} not found"}]})


# Generated rows kept warm, in contacts and in (contact, group) entries: a whole
# 100,000-contact benchmark account fits (about 1 GB; under 1.5 GB when full).
CONTACT_CACHE = 1 << 17
GROUP_CACHE = 3 * CONTACT_CACHE
_GROUP_INDEX = {kind: GROUP_KINDS[GROUP_OF[kind]].index(kind) for kind in CHILD_KINDS}

Window = tuple[float | None, float | None]  # [start, end) in epoch seconds; None = open


class TimeIndex:
    """Generated ids whose timestamp falls in a window, computed once per window and cached."""

    def __init__(self, times: Any, size: int = 8) -> None:
        self.times = times
        self.size = size
        self.cache: dict[Window, array] = {}

    def ids(self, start: float | None, end: float | None) -> array:
        key = (start, end)
        hit = self.cache.get(key)
        if hit is None:
            lo = float("-inf") if start is None else start
            hi = float("inf") if end is None else end
            hit = array("Q", (i + 1 for i, t in enumerate(self.times) if lo <= t < hi))
            if len(self.cache) >= self.size:
                self.cache.pop(next(iter(self.cache)))
            self.cache[key] = hit
        return hit


def in_window(value: float | None, window: Window) -> bool:
    if window == (None, None):
        return True
    if value is None:
        return False
    return (window[0] is None or value >= window[0]) and (window[1] is None or value < window[1])


class _Slice:
    """A read-only view of a sorted array between two positions (no copy)."""

    def __init__(self, data: Any, start: int, stop: int) -> None:
        self.data, self.start, self.stop = data, start, max(start, stop)

    def __len__(self) -> int:
        return self.stop - self.start

    def __iter__(self) -> Iterator[int]:
        data = self.data
        for k in range(self.start, self.stop):
            yield data[k]

    def __getitem__(self, k: int) -> int:
        return self.data[self.start + k]


def _ids_between(sorted_ids: Any, first: int, last: int) -> _Slice:
    return _Slice(sorted_ids, bisect_left(sorted_ids, first), bisect_right(sorted_ids, last))


def _membership(ids: Any) -> Callable[[int], bool]:
    """Fast "is x in this sorted id collection" for ranges, slices and lists."""
    if isinstance(ids, range):
        return ids.__contains__
    if isinstance(ids, _Slice):
        data, start, stop = ids.data, ids.start, ids.stop

        def member(x: int) -> bool:
            k = bisect_left(data, x, start, stop)
            return k < stop and data[k] == x

        return member
    as_set = set(ids)
    return as_set.__contains__


def _merge_page(generated: Iterator[int], overlay: list[int], offset: int, limit: int) -> list[int]:
    """Ids ``offset .. offset + limit`` of two ascending id streams merged."""
    out: list[int] = []
    for k, cid in enumerate(heapq.merge(generated, overlay)):
        if k >= offset + limit:
            break
        if k >= offset:
            out.append(cid)
    return out


class ChildTable:
    """One per-contact collection (fieldValues, contactTags, ...): generated rows plus overlay."""

    def __init__(self, state: ACState, kind: str) -> None:
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


class ACState:
    """The simulated AC account."""

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
            self.lists[lid] = _list_row(lid, name, stringid, iso, wall)
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
        self.schemas = {self.gen.schema_id: _schema_row(self.gen.schema_id)}
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
        return list(self.group_rows(i, GROUP_OF[kind])[_GROUP_INDEX[kind]])

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
            gen_ids = _ids_between(matching, first, last)
        member = _membership(gen_ids)
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
        return _merge_page((cid for cid in gen_ids if (cid - 1) not in mat), overlay, offset, limit), len(
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
            matching = _Slice(ids, 0, len(ids))
            if isinstance(candidates, range) and len(candidates) == total_gen:
                candidates = matching
            else:
                candidates = sorted(set(candidates) & set(matching))
        return candidates

    def _deal_overlay(self, created: Window, updated: Window) -> tuple[Any, list[int], list[int]]:
        """(generated candidates, overridden generated ids among them, overlay ids in the windows)."""
        candidates = self._deal_candidates(created, updated)
        member = _membership(candidates)
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
        ids = _merge_page(
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

    # ------------------------------------------------------------------
    # contact writes
    # ------------------------------------------------------------------

    def create_contact(self, body: dict[str, Any], *, source: str = "api") -> tuple[Row, list[Row]]:
        """POST /contacts: create only; duplicate email -> 422 duplicate."""
        with self.lock:
            data = _unwrap(body, "contact")
            email = _clean_email(data, allow_null=bool(data.get("allowNullEmail")))
            if email and self._find_by_email(email):
                raise validation(
                    "Email address already exists in the system", "duplicate", "/data/attributes/email"
                )
            fvs = _field_value_inputs(data, self.fields)
            contact = self._new_contact(email, data)
            rows = [self._put_field_value(int(contact["id"]), fid, value) for fid, value in fvs]
            self._emit("subscribe", self._event_payload(int(contact["id"]), source))
            return contact, rows

    def sync_contact(self, body: dict[str, Any], *, source: str = "api") -> tuple[bool, Row, list[Row]]:
        """POST /contact/sync: upsert by email. Returns (created, contact, field values)."""
        with self.lock:
            data = _unwrap(body, "contact")
            email = _clean_email(data, allow_null=False)
            fvs = _field_value_inputs(data, self.fields)
            ids = self._find_by_email(email)
            if not ids:
                contact = self._new_contact(email, data)
                cid = int(contact["id"])
                rows = [self._put_field_value(cid, fid, value) for fid, value in fvs]
                self._emit("subscribe", self._event_payload(cid, source))
                return True, contact, rows
            cid = ids[0]
            contact, rows = self._update_contact(cid, data, fvs, source=source)
            return False, contact, rows

    def update_contact(self, cid: int, body: dict[str, Any], *, source: str = "api") -> tuple[Row, list[Row]]:
        """PUT /contacts/{id}: partial update."""
        with self.lock:
            self._require_contact(cid)
            data = _unwrap(body, "contact")
            if "email" in data:
                email = _clean_email(data, allow_null=False)
                others = [x for x in self._find_by_email(email) if x != cid]
                if others:
                    raise validation(
                        "Email address already exists in the system", "duplicate", "/data/attributes/email"
                    )
            fvs = _field_value_inputs(data, self.fields)
            return self._update_contact(cid, data, fvs, source=source)

    def _update_contact(
        self, cid: int, data: dict[str, Any], fvs: list[tuple[str, str | None]], *, source: str
    ) -> tuple[Row, list[Row]]:
        contact = self._ensure_overlay(cid)
        changed = False
        for key in ("email", "firstName", "lastName", "phone"):
            if key in data and data[key] is not None and str(data[key]) != contact[key]:
                if key == "email":
                    self._index_email(cid, contact["email"], str(data[key]).strip())
                    contact["email"] = str(data[key]).strip()
                    contact["email_empty"] = contact["email"] == ""
                else:
                    contact[key] = str(data[key])
                changed = True
        rows = []
        for fid, value in fvs:
            before = next((r for r in self._children(cid, "fieldValues") if r["field"] == fid), None)
            rows.append(self._put_field_value(cid, fid, value))
            changed = changed or before is None or before["value"] != value
        if changed:
            self._touch(contact)
            self._emit("update", self._event_payload(cid, source))
        return contact, rows

    def _new_contact(self, email: str, data: dict[str, Any]) -> Row:
        cid = self.next_contact_id
        self.next_contact_id += 1
        now = self.clock.now()
        iso, wall = self.clock.iso(now), self.clock.wall(now)
        contact = {
            "cdate": iso,
            "email": email,
            "phone": str(data.get("phone") or ""),
            "firstName": str(data.get("firstName") or ""),
            "lastName": str(data.get("lastName") or ""),
            "orgid": "0",
            "orgname": "",
            "segmentio_id": "",
            "bounced_hard": "0",
            "bounced_soft": "0",
            "bounced_date": None,
            "ip": "0",
            "ua": None,
            "hash": uuid.uuid4().hex,
            "socialdata_lastcheck": None,
            "email_local": "",
            "email_domain": "",
            "sentcnt": "0",
            "rating_tstamp": None,
            "gravatar": "0",
            "deleted": "0",
            "anonymized": "0",
            "adate": None,
            "udate": iso,
            "edate": None,
            "deleted_at": None,
            "created_utc_timestamp": wall,
            "updated_utc_timestamp": wall,
            "created_timestamp": wall,
            "updated_timestamp": wall,
            "created_by": None,
            "updated_by": None,
            "mpp_tracking": "0",
            "email_empty": email == "",
            "scoreValues": [],
            "accountContacts": [],
            "id": str(cid),
            "organization": None,
        }
        self.contacts[cid] = contact
        self.contact_children[cid] = {k: [] for k in CHILD_KINDS}
        self.new_contact_ids.append(cid)
        self.touched.add(cid)
        self._index_email(cid, None, email)
        return contact

    def delete_contact(self, cid: int) -> None:
        with self.lock:
            if self._contact(cid) is None:
                raise not_found("contact", cid, lower=True)
            contact = self._ensure_overlay(cid)
            for kind in (
                "fieldValues",
                "contactTags",
                "contactLists",
                "scoreValues",
                "contactAutomations",
                "trackingLogs",
            ):
                for rid in list(self.contact_children.get(cid, {}).get(kind, ())):
                    self._remove_child(cid, kind, rid)
            self._index_email(cid, contact["email"], None)
            del self.contacts[cid]
            self.touched.discard(cid)
            if cid <= self.gen.n:
                insort(self.deleted_contacts, cid)
            else:
                self.new_contact_ids.remove(cid)
            # No webhook: AC sends no contact-deleted event.

    # ------------------------------------------------------------------
    # field values, tags, lists
    # ------------------------------------------------------------------

    def _put_field_value(self, cid: int, fid: str, value: str | None) -> Row:
        self._ensure_overlay(cid)
        now = self.clock.iso(self.clock.now())
        for row in self._children(cid, "fieldValues"):
            if row["field"] == fid:
                if row["value"] != value:
                    row["value"] = value
                    row["udate"] = now
                return row
        return self._add_child(
            cid,
            "fieldValues",
            {
                "contact": str(cid),
                "field": fid,
                "value": value,
                "cdate": now,
                "udate": now,
                "created_by": "0",
                "updated_by": "0",
                "id": "",
                "owner": str(cid),
            },
        )

    def set_field_value(self, body: dict[str, Any], *, source: str = "api") -> Row:
        """POST /fieldValues: create or replace one contact's value of one field."""
        with self.lock:
            data = _unwrap(body, "fieldValue")
            for key in ("contact", "field"):
                if data.get(key) in (None, ""):
                    raise missing_attribute(key)
            cid = _int(data["contact"], "contact")
            fid = str(data["field"])
            self._require_contact(cid)
            if fid not in self.fields:
                raise related_not_found("Field")
            value = data.get("value")
            row = self._put_field_value(cid, fid, None if value is None else str(value))
            self._touch(self.contacts[cid])
            self._emit("update", self._event_payload(cid, source))
            return row

    def add_contact_tag(self, body: dict[str, Any], *, source: str = "api") -> tuple[Row, bool]:
        """POST /contactTags. Returns (link row, created); an existing link is returned as is."""
        with self.lock:
            data = _unwrap(body, "contactTag")
            for key in ("contact", "tag"):
                if data.get(key) in (None, ""):
                    raise missing_attribute(key)
            cid = _int(data["contact"], "contact")
            tid = str(data["tag"])
            if self._contact(cid) is None:
                raise related_not_found("Contact")
            if tid not in self.tags:
                raise related_not_found("Tag")
            for row in self._children(cid, "contactTags"):
                if row["tag"] == tid:
                    return row, False
            self._ensure_overlay(cid)
            now = self.clock.now()
            row = self._add_child(
                cid,
                "contactTags",
                {
                    "contact": str(cid),
                    "tag": tid,
                    "cdate": self.clock.iso(now),
                    "created_timestamp": self.clock.wall(now),
                    "updated_timestamp": self.clock.wall(now),
                    "created_by": None,
                    "updated_by": None,
                    "id": "",
                },
            )
            self._emit("contact_tag_added", self._event_payload(cid, source, tag=self.tags[tid]["tag"]))
            return row, True

    def remove_contact_tag(self, link_id: int, *, source: str = "api") -> None:
        """DELETE /contactTags/{id} (the id of the link row, not of the tag)."""
        with self.lock:
            row = self.tables["contactTags"].get(link_id)
            if row is None:
                raise not_found("SubscriberTag", link_id)
            cid = int(row["contact"])
            self._ensure_overlay(cid)
            self._remove_child(cid, "contactTags", link_id)
            self._emit(
                "contact_tag_removed", self._event_payload(cid, source, tag=self.tags[row["tag"]]["tag"])
            )

    def set_list_status(self, body: dict[str, Any], *, source: str = "api") -> Row:
        """POST /contactLists: subscribe (1) or unsubscribe (2) a contact."""
        with self.lock:
            data = _unwrap(body, "contactList")
            for key in ("list", "contact", "status"):
                if data.get(key) in (None, ""):
                    raise missing_attribute(key)
            cid = _int(data["contact"], "contact")
            lid = str(data["list"])
            status = _int(data["status"], "status")
            if status not in (0, 1, 2, 3):
                raise validation(
                    "Invalid attribute",
                    "field_invalid",
                    "/data/attributes/status",
                    "Status must be 1 (subscribed) or 2 (unsubscribed)",
                )
            contact = self._contact(cid)
            if contact is None:
                raise related_not_found("Contact")
            if lid not in self.lists:
                raise related_not_found("List")
            self._ensure_overlay(cid)
            contact = self.contacts[cid]
            now = self.clock.now()
            iso, wall = self.clock.iso(now), self.clock.wall(now)
            row = next((r for r in self._children(cid, "contactLists") if r["list"] == lid), None)
            if row is None:
                row = self._add_child(
                    cid,
                    "contactLists",
                    {
                        "contact": str(cid),
                        "list": lid,
                        "form": None,
                        "seriesid": "0",
                        "sdate": iso,
                        "udate": iso,
                        "status": str(status),
                        "responder": "1",
                        "sync": "0",
                        "unsubreason": None,
                        "campaign": None,
                        "message": None,
                        "first_name": contact["firstName"],
                        "last_name": contact["lastName"],
                        "ip4Sub": "0",
                        "sourceid": str(data.get("sourceid") or 0),
                        "autosyncLog": None,
                        "ip4_last": "0",
                        "ip4Unsub": "0",
                        "created_timestamp": wall,
                        "updated_timestamp": wall,
                        "created_by": None,
                        "updated_by": None,
                        "unsubscribeAutomation": None,
                        "id": "",
                        "automation": None,
                    },
                )
            else:
                # Re-subscribing someone who unsubscribed needs sourceid 4, otherwise AC keeps them out.
                if row["status"] == "2" and status == 1 and str(data.get("sourceid")) != "4":
                    return row
                if row["status"] != str(status):
                    row["status"] = str(status)
                    row["udate"] = iso
                    row["updated_timestamp"] = wall
                    if status == 2:
                        row["unsubreason"] = data.get("unsubreason") or ""
            event = "subscribe" if status == 1 else "unsubscribe" if status == 2 else None
            if event:
                self._emit(event, self._event_payload(cid, source, list=lid))
            return row

    def create_tag(self, body: dict[str, Any]) -> Row:
        with self.lock:
            data = _unwrap(body, "tag")
            name = str(data.get("tag") or "").strip()
            if not name:
                raise missing_attribute("tag")
            tag_type = str(data.get("tagType") or "contact")
            if tag_type not in ("contact", "template"):
                raise validation("Invalid attribute", "field_invalid", "/data/attributes/tagType")
            if any(t["tag"].lower() == name.lower() and t["tagType"] == tag_type for t in self.tags.values()):
                raise validation("Tag already exists", "duplicate", "/data/attributes/tag")
            now = self.clock.now()
            return self._add_tag_row(
                name, tag_type, self.clock.iso(now), self.clock.wall(now), str(data.get("description") or "")
            )

    def create_list(self, name: str, *, source: str = "admin") -> Row:
        with self.lock:
            lid = str(max(int(k) for k in self.lists) + 1)
            now = self.clock.now()
            stringid = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
            row = _list_row(lid, name, stringid, self.clock.iso(now), self.clock.wall(now))
            self.lists[lid] = row
            self._emit(
                "list_add",
                {
                    "date_time": self.clock.iso(now),
                    "initiated_from": source,
                    "initiated_by": source,
                    "list": lid,
                    "list_name": name,
                },
            )
            return row

    # ------------------------------------------------------------------
    # deals
    # ------------------------------------------------------------------

    def create_deal(self, body: dict[str, Any], *, source: str = "api") -> Row:
        with self.lock:
            data = _unwrap(body, "deal")
            values = self._deal_values(data, creating=True)
            cid = int(values["contact"])
            self._ensure_overlay(cid)
            now = self.clock.iso(self.clock.now())
            row = {
                "hash": uuid.uuid4().hex[:8],
                "owner": values["owner"],
                "contact": str(cid),
                "organization": None,
                "group": values["group"],
                "stage": values["stage"],
                "title": values["title"],
                "description": values.get("description", ""),
                "percent": "0",
                "cdate": now,
                "mdate": now,
                "nextdate": None,
                "nexttaskid": None,
                "value": values["value"],
                "currency": values["currency"],
                "winProbability": None,
                "winProbabilityMdate": None,
                "status": values["status"],
                "activitycount": "0",
                "nextdealid": "",
                "nextTask": None,
                "edate": None,
                "id": "",
                "isDisabled": False,
                "account": values.get("account"),
                "customerAccount": values.get("account"),
            }
            row = self._add_child(cid, "deals", row)
            row["nextdealid"] = row["id"]
            self._emit("deal_add", self._event_payload(cid, source, deal=self._deal_event(row)))
            return row

    def update_deal(self, did: int, body: dict[str, Any], *, source: str = "api") -> Row:
        with self.lock:
            row = self.tables["deals"].get(did)
            if row is None:
                raise not_found("Deal", did)
            data = _unwrap(body, "deal")
            values = self._deal_values(data, creating=False, current=row)
            cid = int(row["contact"])
            self._ensure_overlay(cid)
            row = self.tables["deals"].rows[did]
            new_cid = int(values.get("contact", cid))
            if new_cid != cid:
                self._ensure_overlay(new_cid)
                self.contact_children[cid]["deals"].remove(did)
                self.contact_children.setdefault(new_cid, {k: [] for k in CHILD_KINDS})["deals"].append(did)
            for key, value in values.items():
                if key in row:
                    row[key] = value
            row["mdate"] = self.clock.iso(self.clock.now())
            self._emit("deal_update", self._event_payload(new_cid, source, deal=self._deal_event(row)))
            return row

    def delete_deal(self, did: int) -> None:
        with self.lock:
            row = self.tables["deals"].get(did)
            if row is None:
                raise not_found("Deal", did)
            cid = int(row["contact"])
            self._ensure_overlay(cid)
            self._remove_child(cid, "deals", did)

    def _deal_values(
        self, data: dict[str, Any], *, creating: bool, current: Row | None = None
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if creating and not data.get("title"):
            raise validation("Deal title is required", "field_missing", "/data/attributes/title")
        if "title" in data:
            out["title"] = str(data["title"])
        if "description" in data:
            out["description"] = str(data["description"] or "")
        if creating and data.get("contact") in (None, "") and data.get("account") in (None, ""):
            raise validation(
                "Deal must have a contact or an account", "field_missing", "/data/attributes/contact"
            )
        if data.get("contact") not in (None, ""):
            cid = _int(data["contact"], "contact")
            if self._contact(cid) is None:
                raise validation("Contact not found", "related_missing", "/data/attributes/contact")
            out["contact"] = str(cid)
        elif creating:
            raise validation(
                "Contact is required in the sandbox", "field_missing", "/data/attributes/contact"
            )
        if data.get("account") not in (None, ""):
            out["account"] = str(data["account"])
        group = str(data["group"]) if data.get("group") not in (None, "") else None
        stage = str(data["stage"]) if data.get("stage") not in (None, "") else None
        if creating and group is None and stage is None:
            raise validation(
                "Deal must have a pipeline or a stage", "field_missing", "/data/attributes/group"
            )
        if group is not None and group not in self.deal_groups:
            raise validation("Pipeline not found", "related_missing", "/data/attributes/group")
        if stage is not None and stage not in self.deal_stages:
            raise validation("Stage not found", "related_missing", "/data/attributes/stage")
        if stage is None and group is not None:
            stage = (
                self.deal_groups[group]["stages"][0]
                if creating or (current and self.deal_stages[current["stage"]]["group"] != group)
                else current["stage"]
            )
        if group is None and stage is not None:
            group = self.deal_stages[stage]["group"]
        if group is not None and stage is not None and self.deal_stages[stage]["group"] != group:
            raise validation(
                "Stage does not belong to the pipeline", "field_invalid", "/data/attributes/stage"
            )
        if group is not None:
            out["group"], out["stage"] = group, stage
        if "value" in data or creating:
            try:
                value = int(data.get("value", 0))
            except (TypeError, ValueError):
                raise validation(
                    "Deal value must be a whole number of cents", "field_invalid", "/data/attributes/value"
                ) from None
            if value < 0:
                raise validation("Deal value must not be negative", "field_invalid", "/data/attributes/value")
            out["value"] = str(value)
        if "currency" in data or creating:
            out["currency"] = str(data.get("currency") or "usd").lower()
        owner = data.get("owner")
        if owner not in (None, ""):
            if str(owner) not in self.users:
                raise validation("Owner not found", "related_missing", "/data/attributes/owner")
            out["owner"] = str(owner)
        elif creating:
            if group and self.deal_groups[group]["autoassign"] != "1":
                raise validation(
                    "Deal owner is required for this pipeline", "field_missing", "/data/attributes/owner"
                )
            out["owner"] = g.DEAL_OWNERS[0]
        if "status" in data or creating:
            status = str(data.get("status", 0))
            if status not in ("0", "1", "2"):
                raise validation("Invalid attribute", "field_invalid", "/data/attributes/status")
            out["status"] = status
        return out

    def _deal_event(self, row: Row) -> dict[str, Any]:
        stage = self.deal_stages.get(row["stage"], {})
        group = self.deal_groups.get(row["group"], {})
        owner = self.users.get(row["owner"], {})
        contact = self._contact(int(row["contact"])) or {}
        return {
            "id": row["id"],
            "title": row["title"],
            "create_date": row["cdate"],
            "orgid": "0",
            "orgname": "",
            "stageid": row["stage"],
            "stage_title": stage.get("title", ""),
            "pipelineid": row["group"],
            "pipeline_title": group.get("title", ""),
            "value": row["value"],
            "currency": row["currency"],
            "currency_symbol": "$" if row["currency"] == "usd" else "€",
            "owner": row["owner"],
            "owner_firstname": owner.get("firstName", ""),
            "owner_lastname": owner.get("lastName", ""),
            "contactid": row["contact"],
            "contact_email": contact.get("email", ""),
            "contact_firstname": contact.get("firstName", ""),
            "contact_lastname": contact.get("lastName", ""),
            "status": row["status"],
        }

    # ------------------------------------------------------------------
    # webhooks (subscriptions only; delivery belongs to the webhook sender)
    # ------------------------------------------------------------------

    def create_webhook(self, body: dict[str, Any]) -> Row:
        with self.lock:
            data = _unwrap(body, "webhook")
            for key in ("name", "url", "events", "sources"):
                if data.get(key) in (None, "", []):
                    raise validation(
                        f"The {key} field is required", "field_missing", f"/data/attributes/{key}"
                    )
            url = str(data["url"])
            if not url.startswith(("http://", "https://")):
                raise validation("Invalid URL", "field_invalid", "/data/attributes/url")
            if url.startswith("https://") and _url_port(url) not in (None, 443):
                raise validation(
                    "HTTPS webhook URLs must use port 443", "field_invalid", "/data/attributes/url"
                )
            events, sources = list(data["events"]), list(data["sources"])
            bad = [
                e
                for e in events
                if e not in WEBHOOK_EVENTS
                and e
                not in (
                    "contact_task_add",
                    "account_add",
                    "account_update",
                    "account_contact_add",
                    "account_contact_update",
                )
            ]
            if bad:
                raise validation(f"Invalid event: {bad[0]}", "field_invalid", "/data/attributes/events")
            if any(s not in WEBHOOK_SOURCES for s in sources):
                raise validation("Invalid source", "field_invalid", "/data/attributes/sources")
            wid = str(self.next_webhook_id)
            self.next_webhook_id += 1
            row = {
                "cdate": self.clock.iso(self.clock.now()),
                "listid": str(data.get("listid") or 0),
                "name": str(data["name"]),
                "url": url,
                "events": events,
                "sources": sources,
                "id": wid,
                "state": "active",
            }
            self.webhooks[wid] = row
            return row

    def delete_webhook(self, wid: int) -> None:
        with self.lock:
            if self.webhooks.pop(str(wid), None) is None:
                raise not_found("Webhook", wid)

    # ------------------------------------------------------------------
    # custom object records
    # ------------------------------------------------------------------

    def record_by_id(self, record_id: str) -> Row | None:
        """Records carry their sequence number in the last 12 hex digits of the UUID."""
        with self.lock:
            try:
                seq = int(record_id.replace("-", "")[-12:], 16)
            except ValueError:
                return None
            row = self.tables["records"].get(seq)
            return row if row is not None and row["id"] == record_id else None

    def upsert_record(self, schema_id: str, body: dict[str, Any]) -> tuple[Row, bool]:
        """POST /customObjects/records/{schemaId}: create, or update the record with this id/externalId.

        A new record needs its primary contact; an update may leave relationships
        out, and its field values are merged by field id.
        """
        with self.lock:
            data = _unwrap(body, "record")
            known = {f["id"] for f in self.schemas[schema_id]["fields"]}
            fields = data.get("fields") or []
            for f in fields:
                if not isinstance(f, dict) or f.get("id") not in known:
                    raise _record_error(
                        f'Invalid value for field "{(f or {}).get("id")}"',
                        "Unknown field",
                        "/data/attributes/fields",
                    )
            rels = data.get("relationships") or {}
            contacts = [str(c) for c in rels.get("primary-contact", [])]
            cid = _int(contacts[0], "relationships") if contacts else None
            if cid is not None and self._contact(cid) is None:
                raise related_not_found("Contact")
            existing = self.record_by_id(str(data["id"])) if data.get("id") else None
            if existing is None and data.get("externalId"):
                existing = next(
                    (r for r in self.tables["records"].iter_from() if r["externalId"] == data["externalId"]),
                    None,
                )
            now = AccountClock.utc_nanos(self.clock.now())
            if existing is not None:
                owner = int(existing["relationships"]["primary-contact"][0])
                self._ensure_overlay(owner)
                row = self.tables["records"].rows[existing["seq"]]
                merged = {f["id"]: f for f in row["fields"]}
                merged.update({f["id"]: f for f in fields})
                row["fields"] = list(merged.values())
                if cid is not None and cid != owner:
                    self._ensure_overlay(cid)
                    self.contact_children[owner]["records"].remove(row["seq"])
                    self.contact_children.setdefault(cid, {k: [] for k in CHILD_KINDS})["records"].append(
                        row["seq"]
                    )
                    row["relationships"] = {"primary-contact": [str(cid)]}
                row["updatedTimestamp"] = now
                return row, False
            if cid is None:
                raise _record_error(
                    'Invalid value for field "record.relationships"',
                    "A primary contact is required",
                    "/data/attributes/relationships",
                )
            self._ensure_overlay(cid)
            row = self._add_child(
                cid,
                "records",
                {
                    "id": "",
                    "externalId": data.get("externalId") or "",
                    "schemaId": schema_id,
                    "fields": fields,
                    "relationships": {"primary-contact": [str(cid)]},
                    "createdTimestamp": now,
                    "updatedTimestamp": now,
                },
            )
            row["id"] = g.record_uuid(uuid.uuid4().int, row["seq"])
            return row, True

    # ------------------------------------------------------------------
    # control helpers (tests, demo)
    # ------------------------------------------------------------------

    def touch_contact(self, cid: int, *, source: str = "admin") -> Row:
        """Bump udate without changing anything else."""
        with self.lock:
            self._require_contact(cid)
            contact = self._ensure_overlay(cid)
            self._touch(contact)
            self._emit("update", self._event_payload(cid, source))
            return contact

    def tag_id(self, name_or_id: str) -> str | None:
        if name_or_id in self.tags:
            return name_or_id
        return next((tid for tid, t in self.tags.items() if t["tag"].lower() == name_or_id.lower()), None)

    def list_id(self, name_or_id: str) -> str | None:
        if name_or_id in self.lists:
            return name_or_id
        return next((lid for lid, li in self.lists.items() if li["name"].lower() == name_or_id.lower()), None)

    def remove_tag_from_contact(self, cid: int, tid: str, *, source: str = "admin") -> bool:
        with self.lock:
            row = next((r for r in self._children(cid, "contactTags") if r["tag"] == tid), None)
            if row is None:
                return False
            self.remove_contact_tag(int(row["id"]), source=source)
            return True


# ----------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------


def _record_error(title: str, detail: str, pointer: str) -> ACError:
    """Custom objects answer 422 with ``source: {type, value}`` instead of ``pointer``."""
    return ACError(
        422, {"errors": [{"title": title, "detail": detail, "source": {"type": "pointer", "value": pointer}}]}
    )


def _unwrap(body: Any, key: str) -> dict[str, Any]:
    if not isinstance(body, dict) or not isinstance(body.get(key), dict):
        raise missing_attribute(key)
    return body[key]


def _int(value: Any, name: str) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        raise validation(
            "Invalid attribute", "field_invalid", f"/data/attributes/{name}", f"{name} must be a numeric id"
        ) from None


def _clean_email(data: dict[str, Any], *, allow_null: bool) -> str:
    email = str(data.get("email") or "").strip()
    if not email:
        if allow_null:
            return ""
        raise validation("Email address is required", "field_missing", "/data/attributes/email")
    if not _EMAIL_RE.match(email):
        raise validation("Email address is not valid", "field_invalid", "/data/attributes/email")
    return email


def _field_value_inputs(data: dict[str, Any], fields: dict[str, Row]) -> list[tuple[str, str | None]]:
    raw = data.get("fieldValues") or []
    if not isinstance(raw, list):
        raise validation("Invalid attribute", "field_invalid", "/data/attributes/fieldValues")
    out = []
    for item in raw:
        if not isinstance(item, dict) or item.get("field") in (None, ""):
            raise validation("Invalid attribute", "field_invalid", "/data/attributes/fieldValues")
        fid = str(item["field"])
        if fid not in fields:
            # AC ignores values for fields that do not exist.
            continue
        value = item.get("value")
        out.append((fid, None if value is None else str(value)))
    return out


def _url_port(url: str) -> int | None:
    from urllib.parse import urlsplit

    try:
        return urlsplit(url).port
    except ValueError:
        return -1


def _list_row(lid: str, name: str, stringid: str, iso: str | None, wall: str | None) -> Row:
    return {
        "stringid": stringid,
        "userid": "1",
        "name": name,
        "cdate": iso,
        "p_use_tracking": "1",
        "p_use_analytics_read": "0",
        "p_use_analytics_link": "0",
        "p_use_twitter": "0",
        "p_use_facebook": "0",
        "p_embed_image": "1",
        "p_use_captcha": "1",
        "send_last_broadcast": "0",
        "private": "0",
        "analytics_domains": None,
        "analytics_source": "",
        "analytics_ua": "",
        "twitter_token": "",
        "twitter_token_secret": "",
        "facebook_session": None,
        "carboncopy": None,
        "subscription_notify": None,
        "unsubscription_notify": None,
        "require_name": "0",
        "get_unsubscribe_reason": "0",
        "to_name": "Subscriber",
        "optinoptout": "1",
        "sender_name": "Sandbox Shop",
        "sender_addr1": "1 Main St",
        "sender_addr2": "",
        "sender_city": "Austin",
        "sender_state": "TX",
        "sender_zip": "78701",
        "sender_country": "US",
        "sender_phone": "",
        "sender_url": "https://shop.example.org",
        "sender_reminder": "You signed up on our website.",
        "fulladdress": "",
        "optinmessageid": "0",
        "optoutconf": "0",
        "deletestamp": None,
        "udate": iso,
        "created_timestamp": wall,
        "updated_timestamp": wall,
        "created_by": None,
        "updated_by": None,
        "id": lid,
        "user": "1",
        # Lists are e-mail or SMS lists since AC added SMS lists; every list carries its channel.
        "channel": "email",
    }


def _schema_row(schema_id: str) -> Row:
    stamp = "2024-01-05T14:20:31.482913004Z"
    return {
        "id": schema_id,
        "slug": g.SCHEMA_SLUG,
        "visibility": "private",
        "labels": {"singular": "Subscription", "plural": "Subscriptions"},
        "description": "Recurring plans",
        "createdTimestamp": stamp,
        "updatedTimestamp": stamp,
        "fields": [
            {
                "id": "plan",
                "labels": {"singular": "Plan", "plural": "Plans"},
                "type": "dropdown",
                "isRequired": True,
                "options": [
                    {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"plan-{v}")), "value": v}
                    for v in ("Starter", "Pro", "Enterprise")
                ],
            },
            {
                "id": "mrr",
                "labels": {"singular": "MRR", "plural": "MRR"},
                "type": "currency",
                "defaultCurrency": "USD",
                "isRequired": False,
            },
            {
                "id": "seats",
                "labels": {"singular": "Seats", "plural": "Seats"},
                "type": "number",
                "required": False,
                "scale": 0,
            },
            {
                "id": "renewal_date",
                "labels": {"singular": "Renewal date", "plural": "Renewal dates"},
                "type": "date",
                "isRequired": False,
            },
        ],
        "icons": {"default": "https://d226aj4ao1t61q.cloudfront.net/n9mayqo2d_customobject.png"},
        "relationships": [
            {
                "id": "primary-contact",
                "labels": {"singular": "Primary Contact", "plural": "Primary Contacts"},
                "description": "Primary contact to this object",
                "namespace": "contacts",
                "hasMany": False,
            }
        ],
    }


def iter_matching(rows: Iterable[Row], predicate: Callable[[Row], bool] | None) -> Iterator[Row]:
    if predicate is None:
        yield from rows
    else:
        for row in rows:
            if predicate(row):
                yield row
