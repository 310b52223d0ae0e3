"""`AccountGenerator`: the rows of contact ``i`` and of its per-contact collections, from
``(seed, i)``, with counts and dates in compact arrays."""

from __future__ import annotations

import random
import uuid
from array import array
from bisect import bisect_right
from functools import lru_cache
from itertools import accumulate
from typing import Any

from sandbox.activecampaign.generator.catalog import (
    AUTOMATIONS,
    CONNECTION,
    CONTACT_SCORES,
    CONTACT_TAGS,
    DEAL_KINDS,
    DEAL_OWNERS,
    EPOCH_END,
    EPOCH_START,
    EVENT_NAMES,
    FIELDS,
    LISTS,
    PIPELINES,
    WON_STAGES,
    Row,
)
from sandbox.activecampaign.generator.pools import (
    COMPANIES,
    DOMAINS,
    FIRST_NAMES,
    INVALID_EMAILS,
    LAST_NAMES,
    PRODUCTS,
)
from sandbox.activecampaign.generator.profile import GeneratorProfile
from sandbox.activecampaign.generator.values import (
    DIGITS,
    ascii_fold,
    random_field_value,
    random_phone,
    record_uuid,
)
from sandbox.clock import AccountClock

# Per-contact collections, in the order their rows are generated.
CHILD_KINDS = (
    "fieldValues",
    "contactTags",
    "contactLists",
    "scoreValues",
    "contactAutomations",
    "trackingLogs",
    "deals",
    "ecomCustomers",
    "ecomOrders",
    "ecomOrderProducts",
    "records",
)
# Collections generated together (one random stream each).
GROUP_OF = {kind: kind for kind in CHILD_KINDS} | {
    "ecomCustomers": "ecom",
    "ecomOrders": "ecom",
    "ecomOrderProducts": "ecom",
}

# Kinds of each group, in CHILD_KINDS order.
GROUP_KINDS: dict[str, tuple[str, ...]] = {
    grp: tuple(kind for kind in CHILD_KINDS if GROUP_OF[kind] == grp)
    for grp in dict.fromkeys(GROUP_OF.values())
}
# List membership status weights 75/12/8/5 as running sums: choices() draws the same either way.
_LIST_STATUS_CUM = (75, 87, 95, 100)

# Realistic spreads: weights for count 0, 1, 2, ...
_SPREADS: dict[str, list[int]] = {
    "fields": [4, 8, 14, 18, 16, 12, 9, 7, 5, 3, 2, 1, 1],
    "tags": [25, 30, 20, 12, 8, 5],
    "lists": [4, 50, 28, 12, 4, 2],
    "scores": [30, 25, 45],
    "automations": [40, 35, 20, 5],
    "events": [50, 20, 15, 10, 5],
    "deals": [75, 20, 5],
    "customer": [65, 35],
    "orders": [10, 45, 30, 15],
    "products": [8, 50, 30, 12],
    "records": [80, 20],
}
MAX_ORDERS_RANDOM = len(_SPREADS["orders"]) - 1


def _table(weights: list[int]) -> bytes:
    """A 256-entry byte table turning a uniform random byte into a count with these weights."""
    total = sum(weights)
    out = bytearray()
    acc = 0
    for count, w in enumerate(weights):
        acc += w
        upto = round(acc * 256 / total)
        out.extend([count] * (upto - len(out)))
    out.extend([len(weights) - 1] * (256 - len(out)))
    return bytes(out[:256])


def _counts(rng: random.Random, n: int, fixed: int | None, spread: str) -> bytes:
    if fixed is not None:
        return bytes([fixed]) * n
    return rng.randbytes(n).translate(_table(_SPREADS[spread]))


def _prefix(counts: Any) -> array:
    return array("Q", accumulate(counts, initial=0))


class AccountGenerator:
    """Generates the rows of contact index ``i`` (id ``i + 1``) on demand."""

    def __init__(
        self,
        *,
        seed: int,
        contacts: int,
        profile: GeneratorProfile | None = None,
        clock: AccountClock | None = None,
    ) -> None:
        self.seed = seed
        self.n = contacts
        self.profile = profile or GeneratorProfile()
        self.clock = clock or AccountClock()
        self.schema_id = str(uuid.UUID(int=random.Random(seed * 31 + 7).getrandbits(128), version=4))
        self.identity = lru_cache(maxsize=16384)(self._identity)
        self._build_shape()

    # -- shape: compact per-contact arrays ---------------------------------

    def _build_shape(self) -> None:
        n, p = self.n, self.profile
        rng = random.Random(self.seed)
        self.mess_flags = rng.randbytes(n).translate(_table([256 - round(p.mess * 256), round(p.mess * 256)]))
        counts: dict[str, Any] = {
            "fieldValues": _counts(rng, n, p.fields, "fields"),
            "contactTags": _counts(rng, n, p.tags, "tags"),
            "contactLists": _counts(rng, n, p.lists, "lists"),
            "scoreValues": _counts(rng, n, p.scores, "scores"),
            "contactAutomations": _counts(rng, n, p.automations, "automations"),
            "trackingLogs": _counts(rng, n, p.events, "events"),
            "deals": _counts(rng, n, p.deals, "deals"),
            "records": _counts(rng, n, p.records, "records"),
        }
        if p.orders is not None:
            customers = bytes([1 if p.orders > 0 else 0]) * n
            orders = bytes([p.orders]) * n
        else:
            customers = _counts(rng, n, None, "customer")
            raw_orders = _counts(rng, n, None, "orders")
            orders = bytes(o if c else 0 for o, c in zip(raw_orders, customers, strict=True))
        max_orders = p.orders if p.orders is not None else MAX_ORDERS_RANDOM
        per_order = [_counts(rng, n, p.products, "products") for _ in range(max_orders)]
        if max_orders == 0:
            products: Any = bytes(n)
        elif p.products is not None:
            products = array("L", (o * p.products for o in orders))
        else:
            products = array("L", (sum(per_order[j][i] for j in range(o)) for i, o in enumerate(orders)))
        counts["ecomCustomers"] = customers
        counts["ecomOrders"] = orders
        counts["ecomOrderProducts"] = products
        self.per_order_products = per_order
        self.counts = counts
        self.prefix = {kind: _prefix(counts[kind]) for kind in CHILD_KINDS}

        # Contacts are created in id order over the whole span; udate somewhere after.
        span = EPOCH_END - EPOCH_START
        step = span / max(n, 1)
        jitter = rng.randbytes(n)
        upd = rng.randbytes(n)
        self.cdate = array("d", (EPOCH_START + step * (i + jitter[i] / 256.0) for i in range(n)))
        # A quarter never changed after creation; the rest moved forward by a share of what was left.
        self.udate = array(
            "d",
            (
                c if u < 64 else c + (EPOCH_END - c) * ((u - 64) / 192.0) ** 2
                for c, u in zip(self.cdate, upd, strict=True)
            ),
        )
        self.max_udate = max(self.udate) if n else EPOCH_START
        self._deal_dates(rng, step)

    def _deal_dates(self, rng: random.Random, step: float) -> None:
        """cdate/mdate, value and currency of every generated deal, in compact arrays.

        A contact's deals are created after it and before the next contact, so
        deal ids ascend with cdate (``orders[cdate]=ASC`` is id order) and the
        date filters can be answered from the arrays without generating rows.
        """
        counts = self.counts["deals"]
        prefix = self.prefix["deals"]
        total = prefix[self.n]
        fracs = rng.randbytes(total)
        mods = rng.randbytes(total)
        self.deal_cdate = array("d", bytes(8 * total))
        self.deal_mdate = array("d", bytes(8 * total))
        # Value (cents) and currency too, so meta.currencies needs no rows.
        cents = rng.randbytes(2 * total)
        odd = rng.randbytes(total)
        self.deal_value = array(
            "Q",
            (
                (cents[2 * d] << 8 | cents[2 * d + 1]) % 5001 * 100 + (99 if odd[d] < 85 else 0)
                for d in range(total)
            ),
        )
        self.deal_eur = rng.randbytes(total).translate(_table([90, 10]))
        for i, k in enumerate(counts):
            if not k:
                continue
            base = prefix[i]
            start = self.cdate[i]
            room = EPOCH_START + step * (i + 1) - start
            for j, f in enumerate(sorted(fracs[base : base + k])):
                made = start + room * (f / 256.0)
                self.deal_cdate[base + j] = made
                self.deal_mdate[base + j] = made + (EPOCH_END - made) * (mods[base + j] / 255.0) ** 2

    def total(self, kind: str) -> int:
        return self.prefix[kind][self.n]

    def owner_of(self, kind: str, row_id: int) -> int:
        """Contact index owning generated row ``row_id`` of ``kind``."""
        return bisect_right(self.prefix[kind], row_id - 1) - 1

    def is_messy(self, i: int) -> bool:
        return self.mess_flags[i] == 1

    # -- identity (cheap; used to build the email index) --------------------

    def _base_identity(self, i: int) -> tuple[str, str, str, random.Random]:
        rng = random.Random(self.seed * 1_000_003 + i)
        first = rng.choice(FIRST_NAMES)
        last = rng.choice(LAST_NAMES)
        local = f"{ascii_fold(first)}.{ascii_fold(last)}{i + 1}".lower()
        email = f"{local}@{rng.choice(DOMAINS)}"
        return first, last, email, rng

    def _identity(self, i: int) -> tuple[str, str, str, str, str]:
        """(first name, last name, email, phone, mess kind) of contact index ``i``."""
        first, last, email, rng = self._base_identity(i)
        phone = random_phone(rng)
        mess = ""
        if self.is_messy(i):
            mess = rng.choice(
                (
                    "mixed_case",
                    "dup_case",
                    "no_email",
                    "invalid_email",
                    "local_phone",
                    "long_value",
                    "zero_dates",
                    "blank_names",
                )
            )
            if mess == "mixed_case":
                email = "".join(c.upper() if rng.random() < 0.4 else c for c in email)
            elif mess == "dup_case":
                j = i - 1
                while j >= 0 and self.is_messy(j):
                    j -= 1
                if j >= 0:
                    email = self._base_identity(j)[2].upper()
                else:
                    mess = ""
            elif mess == "no_email":
                email = ""
            elif mess == "invalid_email":
                pattern = rng.choice(INVALID_EMAILS)
                email = pattern.format(
                    f=ascii_fold(first).lower(), l=ascii_fold(last).lower(), n=i + 1, d=rng.choice(DOMAINS)
                )
            elif mess == "local_phone":
                phone = rng.choice(("5125550143", "(512) 555-0143", "06 12 34 56 78", "020 7946 0958"))
            elif mess == "blank_names":
                first, last = "", ""
        return first, last, email, phone, mess

    def _rng(self, i: int, stream: int) -> random.Random:
        return random.Random((self.seed * 1_000_037 + i) * 16 + stream)

    def email(self, i: int) -> str:
        return self.identity(i)[2]

    def email_candidates(self, email: str) -> list[int]:
        """Contact indexes whose generated email equals ``email`` ignoring case.

        The number in the address names the contact; case-variant duplicates of
        it sit in the run of messy contacts right after it.
        """
        m = DIGITS.search(email)
        if not m:
            return []
        k = int(m.group()) - 1
        if not 0 <= k < self.n:
            return []
        wanted = email.strip().lower()
        out = []
        j = k
        while j < self.n and (j == k or self.is_messy(j)):
            if self.email(j).lower() == wanted:
                out.append(j)
            j += 1
        return out

    # -- contact row --------------------------------------------------------

    def contact(self, i: int) -> Row:
        """The contact row as GET /contacts returns it (no links, no sideload arrays)."""
        first, last, email, phone, mess = self.identity(i)
        rng = random.Random(self.seed * 1_000_033 + i)
        clock = self.clock
        cdate, udate = self.cdate[i], self.udate[i]
        adate = udate + rng.randint(0, 86400 * 30) if rng.random() < 0.6 else None
        zero = mess == "zero_dates"
        created_wall, updated_wall = clock.wall(cdate), clock.wall(udate)
        return {
            "cdate": clock.iso(cdate),
            "email": email,
            "phone": phone,
            "firstName": first,
            "lastName": last,
            "orgid": "0",
            "orgname": "",
            "segmentio_id": "",
            "bounced_hard": "0",
            "bounced_soft": str(rng.choice((0, 0, 0, 0, 1))),
            "bounced_date": "0000-00-00" if zero else None,
            "ip": str(rng.choice((0, 0, 2130706433, 3232235777, 1572395042))),
            "ua": None,
            "hash": f"{rng.getrandbits(128):032x}",
            "socialdata_lastcheck": "0000-00-00 00:00:00" if zero else None,
            "email_local": "",
            "email_domain": "",
            "sentcnt": str(rng.randint(0, 60)),
            "rating_tstamp": "0000-00-00" if zero else None,
            "gravatar": str(rng.choice((0, 1))),
            "deleted": "0",
            "anonymized": "0",
            "adate": clock.iso(adate),
            "udate": clock.iso(udate),
            "edate": None,
            "deleted_at": "0000-00-00 00:00:00" if zero else None,
            "created_utc_timestamp": created_wall,
            "updated_utc_timestamp": updated_wall,
            "created_timestamp": created_wall,
            "updated_timestamp": updated_wall,
            "created_by": None,
            "updated_by": None,
            "mpp_tracking": "0",
            "email_empty": email == "",
            "scoreValues": [],
            "accountContacts": [],
            "id": str(i + 1),
            "organization": None,
        }

    # -- children -----------------------------------------------------------

    def children(self, i: int, contact: Row | None = None, group: str | None = None) -> dict[str, list[Row]]:
        """Per-contact rows of contact index ``i``, keyed by collection, ids ascending.

        ``group`` limits the work to one collection (``"ecom"`` covers customers,
        orders and order products together); each group draws from its own
        random stream, so a group's rows are the same whether generated alone
        or with the others.
        """
        c = contact or self.contact(i)
        cid = c["id"]
        clock = self.clock
        cdate, udate = self.cdate[i], self.udate[i]
        counts = self.counts
        kinds = CHILD_KINDS if group is None else GROUP_KINDS.get(group, ())
        ids = {kind: self.prefix[kind][i] for kind in kinds}
        # Seeding a stream costs more than most rows, and a group without rows draws nothing,
        # so each block below seeds its own stream only when the contact has rows of it.
        rng: random.Random

        def next_id(kind: str) -> str:
            ids[kind] += 1
            return str(ids[kind])

        def between(a: float, b: float) -> float:
            return a + (b - a) * rng.random()

        out: dict[str, list[Row]] = {kind: [] for kind in CHILD_KINDS}

        # custom field values
        if group in (None, "fieldValues") and counts["fieldValues"][i]:
            rng = self._rng(i, 0)
            long_values = self.identity(i)[4] == "long_value"
            chosen = sorted(rng.sample(range(len(FIELDS)), self.counts["fieldValues"][i]))
            for idx in chosen:
                fid, _title, ftype, _tag, options = FIELDS[idx]
                value = random_field_value(rng, ftype, options, clock, long=long_values)
                fv_c = between(cdate, udate)
                out["fieldValues"].append(
                    {
                        "contact": cid,
                        "field": fid,
                        "value": value,
                        "cdate": clock.iso(fv_c),
                        "udate": clock.iso(between(fv_c, udate)),
                        "created_by": "0",
                        "updated_by": "0",
                        "id": next_id("fieldValues"),
                        "owner": cid,
                    }
                )

        # tags
        if group in (None, "contactTags") and counts["contactTags"][i]:
            rng = self._rng(i, 1)
            for t in sorted(rng.sample(range(len(CONTACT_TAGS)), self.counts["contactTags"][i])):
                at = between(cdate, udate)
                out["contactTags"].append(
                    {
                        "contact": cid,
                        "tag": str(t + 1),
                        "cdate": clock.iso(at),
                        "created_timestamp": clock.wall(at),
                        "updated_timestamp": clock.wall(at),
                        "created_by": None,
                        "updated_by": None,
                        "id": next_id("contactTags"),
                    }
                )

        # list memberships, statuses 0 unconfirmed, 1 active, 2 unsubscribed, 3 bounced
        if group in (None, "contactLists") and counts["contactLists"][i]:
            rng = self._rng(i, 2)
            for li in sorted(rng.sample(range(len(LISTS)), self.counts["contactLists"][i])):
                status = rng.choices(("1", "2", "0", "3"), cum_weights=_LIST_STATUS_CUM)[0]
                sdate = between(cdate, udate)
                ldate = between(sdate, udate)
                out["contactLists"].append(
                    {
                        "contact": cid,
                        "list": LISTS[li][0],
                        "form": None,
                        "seriesid": "0",
                        "sdate": clock.iso(sdate),
                        "udate": clock.iso(ldate),
                        "status": status,
                        "responder": "1",
                        "sync": "0",
                        "unsubreason": "Too many emails" if status == "2" else None,
                        "campaign": None,
                        "message": None,
                        "first_name": c["firstName"],
                        "last_name": c["lastName"],
                        "ip4Sub": "0",
                        "sourceid": "0",
                        "autosyncLog": None,
                        "ip4_last": "0",
                        "ip4Unsub": "0",
                        "created_timestamp": clock.wall(sdate),
                        "updated_timestamp": clock.wall(ldate),
                        "created_by": None,
                        "updated_by": None,
                        "unsubscribeAutomation": None,
                        "id": next_id("contactLists"),
                        "automation": None,
                    }
                )

        # contact score values
        if group in (None, "scoreValues") and counts["scoreValues"][i]:
            rng = self._rng(i, 3)
            for sid in CONTACT_SCORES[: self.counts["scoreValues"][i]]:
                at = between(cdate, udate)
                out["scoreValues"].append(
                    {
                        "score": sid,
                        "contact": cid,
                        "deal": None,
                        "cdate": clock.iso(at),
                        "mdate": clock.iso(between(at, udate)),
                        "scoreValue": str(rng.randint(0, 20) * 5),
                        "id": next_id("scoreValues"),
                    }
                )

        # automations: 1 = in the automation, 2 = completed
        if group in (None, "contactAutomations") and counts["contactAutomations"][i]:
            rng = self._rng(i, 4)
            for ai in sorted(rng.sample(range(len(AUTOMATIONS)), self.counts["contactAutomations"][i])):
                status = rng.choice(("1", "2"))
                add = between(cdate, udate)
                last = between(add, udate)
                total = rng.randint(3, 6)
                done = total if status == "2" else rng.randint(0, total - 1)
                out["contactAutomations"].append(
                    {
                        "contact": cid,
                        "seriesid": AUTOMATIONS[ai][0],
                        "startid": "0",
                        "status": status,
                        "batchid": None,
                        "adddate": clock.iso(add),
                        "remdate": clock.iso(last) if status == "2" else None,
                        "timespan": None,
                        "lastblock": str(done + 1),
                        "lastlogid": "0",
                        "lastdate": clock.iso(last),
                        "in_als": "0",
                        "completedElements": str(done),
                        "totalElements": str(total),
                        "completed": 1 if status == "2" else 0,
                        "completeValue": round(100 * done / total),
                        "id": next_id("contactAutomations"),
                        "automation": AUTOMATIONS[ai][0],
                    }
                )

        # tracked events of this contact
        if group in (None, "trackingLogs") and counts["trackingLogs"][i]:
            rng = self._rng(i, 5)
            for _ in range(self.counts["trackingLogs"][i]):
                name = rng.choice(EVENT_NAMES)
                at = between(cdate, EPOCH_END)
                out["trackingLogs"].append(
                    {
                        "contact": cid,
                        "subscriberid": cid,
                        "type": name,
                        "value": rng.choice(("", "plan=pro", "source=webinar", "cart=3")),
                        "hash": f"{rng.getrandbits(64):016x}",
                        "tstamp": clock.iso(at),
                        "id": next_id("trackingLogs"),
                    }
                )

        # deals
        if group in (None, "deals") and counts["deals"][i]:
            rng = self._rng(i, 6)
            for _ in range(self.counts["deals"][i]):
                pid, _ptitle, _currency, _auto, stages = rng.choice(PIPELINES)
                sid = rng.choice(stages)[0]
                status = "1" if sid in WON_STAGES else rng.choice(("0", "0", "0", "2"))
                did = next_id("deals")
                made, mod = self.deal_cdate[int(did) - 1], self.deal_mdate[int(did) - 1]
                company = rng.choice(COMPANIES) or f"{c['firstName']} {c['lastName']}".strip() or "Unknown"
                edate_kind = rng.random()
                out["deals"].append(
                    {
                        "hash": f"{rng.getrandbits(32):08x}",
                        "owner": rng.choice(DEAL_OWNERS),
                        "contact": cid,
                        "organization": None,
                        "group": pid,
                        "stage": sid,
                        "title": f"{rng.choice(DEAL_KINDS)} — {company}",
                        "description": rng.choice(("", "Renewal with upsell", "Inbound lead from webinar")),
                        "percent": "0",
                        "cdate": clock.iso(made),
                        "mdate": clock.iso(mod),
                        "nextdate": None,
                        "nexttaskid": None,
                        "value": str(self.deal_value[int(did) - 1]),
                        "currency": "eur" if self.deal_eur[int(did) - 1] else "usd",
                        "winProbability": rng.choice((None, rng.randint(5, 95))),
                        "winProbabilityMdate": clock.iso(mod),
                        "status": status,
                        "activitycount": str(rng.randint(0, 9)),
                        "nextdealid": did,
                        "nextTask": None,
                        "edate": (
                            None
                            if edate_kind < 0.5
                            else "0000-00-00 00:00:00"
                            if edate_kind < 0.6
                            else clock.wall(between(made, EPOCH_END + 86400 * 90))
                        ),
                        "id": did,
                        "isDisabled": False,
                        "account": None,
                        "customerAccount": None,
                    }
                )

        # e-commerce: one customer, its orders, their products
        if group in (None, "ecom") and counts["ecomCustomers"][i]:
            rng = self._rng(i, 7)
            if self.counts["ecomCustomers"][i]:
                cust_id = next_id("ecomCustomers")
                revenue = 0
                nproducts = 0
                categories: list[str] = []
                for j in range(self.counts["ecomOrders"][i]):
                    oid = next_id("ecomOrders")
                    placed = between(cdate, EPOCH_END)
                    k = (
                        self.per_order_products[j][i]
                        if self.profile.products is None
                        else self.profile.products
                    )
                    product_ids = []
                    subtotal = 0
                    for _ in range(k):
                        sku, name, category, price = rng.choice(PRODUCTS)
                        qty = rng.randint(1, 3)
                        pid_ = next_id("ecomOrderProducts")
                        product_ids.append(pid_)
                        subtotal += price * qty
                        categories.append(category)
                        out["ecomOrderProducts"].append(
                            {
                                "orderid": oid,
                                "connectionid": CONNECTION["id"],
                                "externalid": sku,
                                "sku": sku.removeprefix("SKU-"),
                                "name": name,
                                "description": "",
                                "price": str(price),
                                "quantity": str(qty),
                                "category": category,
                                "imageUrl": f"https://shop.example.org/i/{sku.lower()}.jpg",
                                "productUrl": f"https://shop.example.org/p/{sku.lower()}",
                                "createdDate": clock.iso(placed),
                                "updatedDate": clock.iso(placed),
                                "tstamp": clock.iso(placed),
                                "id": pid_,
                                "ecomOrder": oid,
                            }
                        )
                    shipping = 600 if subtotal else 0
                    tax = subtotal // 12
                    total = subtotal + shipping + tax
                    revenue += total
                    nproducts += k
                    out["ecomOrders"].append(
                        {
                            "externalid": f"ORD-{100000 + int(oid)}",
                            "source": "0",
                            "email": c["email"],
                            "currency": "USD",
                            "connectionid": CONNECTION["id"],
                            "customerid": cust_id,
                            "orderUrl": f"https://shop.example.org/orders/{100000 + int(oid)}",
                            "orderNumber": str(100000 + int(oid)),
                            "shippingMethod": "Courier" if k else "",
                            "totalPrice": total,
                            "shippingAmount": shipping,
                            "taxAmount": tax,
                            "discountAmount": 0,
                            "externalCreatedDate": clock.iso(placed),
                            "totalProducts": k,
                            "createdDate": clock.iso(placed),
                            "updatedDate": clock.iso(placed),
                            "state": 1,
                            "connection": CONNECTION["id"],
                            "orderProducts": product_ids,
                            "customer": cust_id,
                            "orderDate": clock.iso(placed),
                            "tstamp": clock.iso(placed),
                            "id": oid,
                        }
                    )
                norders = len(out["ecomOrders"])
                out["ecomCustomers"].append(
                    {
                        "connectionid": CONNECTION["id"],
                        "externalid": f"cust-{cid}",
                        "email": c["email"],
                        "totalRevenue": str(revenue),
                        "totalOrders": str(norders),
                        "totalProducts": str(nproducts),
                        "avgRevenuePerOrder": str(revenue // norders if norders else 0),
                        "avgProductCategory": max(set(categories), key=categories.count)
                        if categories
                        else "",
                        "tstamp": clock.iso(between(cdate, EPOCH_END)),
                        "acceptsMarketing": rng.choice(("0", "1")),
                        "id": cust_id,
                        "connection": CONNECTION["id"],
                    }
                )

        # custom object records related to this contact
        if group in (None, "records") and counts["records"][i]:
            rng = self._rng(i, 8)
            for _ in range(self.counts["records"][i]):
                seq = next_id("records")
                made = between(cdate, EPOCH_END)
                out["records"].append(
                    {
                        "id": record_uuid(
                            random.Random(self.seed * 7_000_003 + int(seq)).getrandbits(128), int(seq)
                        ),
                        "externalId": f"sub-{seq}",
                        "schemaId": self.schema_id,
                        "fields": [
                            {"id": "plan", "value": rng.choice(("Starter", "Pro", "Enterprise"))},
                            {"id": "mrr", "value": rng.randint(9, 500) * 100},
                            {"id": "seats", "value": rng.randint(1, 40)},
                            {
                                "id": "renewal_date",
                                "value": clock.date(between(made, EPOCH_END + 86400 * 365)),
                            },
                        ],
                        "relationships": {"primary-contact": [cid]},
                        "createdTimestamp": AccountClock.utc_nanos(made, rng.getrandbits(30)),
                        "updatedTimestamp": AccountClock.utc_nanos(
                            between(made, EPOCH_END), rng.getrandbits(30)
                        ),
                        "seq": int(seq),
                    }
                )
        return out
