"""The in-memory Brevo account: contacts, attributes, lists, processes, events, deals, orders.

`BrevoState` holds the tables and the lock and answers the read-back methods tests use; the route
groups (`contacts`, `imports`, ...) are mixins over it, combined in `sandbox.brevo.app`."""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sandbox.brevo.limits import (
    BUCKETS,
    BrevoLimits,
    BucketLimiter,
    limit_pair,
)
from sandbox.brevo.values import (
    INDEXED_ATTRS,
    LANGUAGE_ATTRIBUTE,
    STANDARD_ATTRIBUTES,
)


@dataclass
class Process:
    """One asynchronous job (an import, an order batch) as `/processes` reports it."""

    id: int
    name: str
    created: float  # wall clock
    started: float  # monotonic
    queued_for: float
    duration: float
    apply: Callable[[], dict] | None = None
    info: dict | None = None
    completed: float | None = None
    notify_url: str | None = None
    error: str | None = None
    extra: dict = field(default_factory=dict)
    status: str = "completed"  # what a finished process ends as


class BrevoState:
    """Tables of one fake Brevo account, the lock that guards them, and read-back for tests."""

    def __init__(
        self,
        *,
        api_key: str,
        limits: Mapping[str, Any] | BrevoLimits | None = None,
        seed_default: bool = True,
        unknown_attributes: str = "ignore",
        batch_unknown: str = "all_or_nothing",
        update_duplicate_code: str = "duplicate_parameter",
        events_create_contacts: bool = True,
        ecommerce_enabled: bool = True,
        import_queued_seconds: float = 0.02,
        import_seconds: float = 0.1,
        call_notify_url: bool = False,
        account: Mapping[str, Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
        legacy: bool = False,
        import_failure: str | None = None,
    ) -> None:
        if unknown_attributes not in ("ignore", "reject"):
            raise ValueError("unknown_attributes must be 'ignore' or 'reject'")
        if batch_unknown not in ("all_or_nothing", "partial"):
            raise ValueError("batch_unknown must be 'all_or_nothing' or 'partial'")
        if import_failure not in (None, "failed", "cancelled"):
            raise ValueError("import_failure must be None, 'failed' or 'cancelled'")
        self._api_key = api_key
        self._clock = clock
        self.legacy = legacy
        self.import_failure = import_failure
        self._lock = threading.RLock()
        self.unknown_attributes = unknown_attributes
        self.batch_unknown = batch_unknown
        self.update_duplicate_code = update_duplicate_code
        self.events_create_contacts = events_create_contacts
        self.ecommerce_enabled = ecommerce_enabled
        self.import_queued_seconds = import_queued_seconds
        self.import_seconds = import_seconds
        self.call_notify_url = call_notify_url
        self.ip_blocked = False  # True: every call answers the "unrecognised IP address" 401
        self.set_limits(limits)

        self._contacts: dict[int, dict] = {}
        self._by_email: dict[str, int] = {}
        self._by_attr: dict[str, dict[str, int]] = {name: {} for name in INDEXED_ATTRS}
        self._next_contact = 1
        self._attributes: dict[str, dict] = {a["name"]: dict(a) for a in STANDARD_ATTRIBUTES}
        if not legacy:
            self._attributes[LANGUAGE_ATTRIBUTE["name"]] = dict(LANGUAGE_ATTRIBUTE)
        self._folders: dict[int, dict] = {}
        self._lists: dict[int, dict] = {}
        self._next_folder, self._next_list = 1, 1
        self._processes: dict[int, Process] = {}
        self._pending: list[Process] = []
        self._next_process = 1
        self._events: list[dict] = []
        self._pipelines: list[dict] = []
        self._deals: dict[str, dict] = {}
        self._next_deal = 1
        self._orders: dict[str, dict] = {}
        self._order_batches: list[dict] = []
        self._next_batch = 1
        self._deal_attributes = self._default_deal_attributes()
        self._account = self._default_account()
        if account:
            self._account.update(account)
        if seed_default:
            self._seed()

    # ------------------------------------------------------------ configuration and read-back

    def set_limits(self, limits: Mapping[str, Any] | BrevoLimits | None) -> None:
        """Replace the rate-limit budgets (fresh windows).

        `limits` maps a bucket to (per_second, per_hour), to {"per_second", "per_hour"}, to an
        object with those attributes, or to None (no cap); absent buckets are unlimited.
        """
        if isinstance(limits, BrevoLimits):
            limits = limits.as_dict()
        unknown = set(limits or {}) - set(BUCKETS)
        if unknown:
            raise ValueError(f"unknown Brevo rate-limit bucket(s): {', '.join(sorted(unknown))}")
        with self._lock:
            self._limiters: dict[str, BucketLimiter | None] = {}
            for bucket in BUCKETS:
                per_second, per_hour = limit_pair((limits or {}).get(bucket))
                self._limiters[bucket] = (
                    BucketLimiter(per_second, per_hour, self._clock) if per_second or per_hour else None
                )

    def counts(self) -> dict[str, int]:
        with self._lock:
            self._advance()
            return {
                "contacts": len(self._contacts),
                "lists": len(self._lists),
                "folders": len(self._folders),
                "attributes": len(self._attributes),
                "events": len(self._events),
                "pipelines": len(self._pipelines),
                "deals": len(self._deals),
                "orders": len(self._orders),
                "order_batches": len(self._order_batches),
                "processes": len(self._processes),
            }

    def contact_by_email(self, email: str) -> dict | None:
        with self._lock:
            self._advance()
            cid = self._by_email.get(email.strip().lower())
            return self._contact_json(self._contacts[cid]) if cid else None

    def contact(self, contact_id: int) -> dict | None:
        with self._lock:
            self._advance()
            c = self._contacts.get(contact_id)
            return self._contact_json(c) if c else None

    def contacts(self) -> list[dict]:
        with self._lock:
            self._advance()
            return [self._contact_json(c) for c in self._contacts.values()]

    def events_for(self, email: str) -> list[dict]:
        with self._lock:
            cid = self._by_email.get(email.strip().lower())
            return [dict(e) for e in self._events if cid is not None and e["contact_id"] == cid]

    def events(self) -> list[dict]:
        with self._lock:
            return [dict(e) for e in self._events]

    def deals(self) -> list[dict]:
        with self._lock:
            return [self._deal_json(d) for d in self._deals.values()]

    def orders(self) -> list[dict]:
        with self._lock:
            return [dict(o) for o in self._orders.values()]

    def lists(self) -> list[dict]:
        with self._lock:
            return [self._list_json(li) for li in self._lists.values()]

    def list_members(self, list_id: int) -> set[int]:
        with self._lock:
            self._advance()
            return {cid for cid, c in self._contacts.items() if list_id in c["listIds"]}

    def attributes(self) -> list[dict]:
        with self._lock:
            return [dict(a) for a in self._attributes.values()]

    def pipelines(self) -> list[dict]:
        with self._lock:
            return [dict(p) for p in self._pipelines]

    def process(self, process_id: int) -> dict | None:
        with self._lock:
            self._advance()
            p = self._processes.get(process_id)
            return self._process_json(p) if p else None

    # ------------------------------------------------------------ seed data

    def _seed(self) -> None:
        self._folders[1] = {"id": 1, "name": "Your First Folder"}
        self._next_folder = 2
        for list_id, name in ((50, "Main List"), (51, "Newsletter"), (52, "Customers")):
            self._lists[list_id] = {"id": list_id, "name": name, "folderId": 1, "created": time.time()}
        self._next_list = 53
        pipeline_id = hashlib.sha256(b"pipeline-sales").hexdigest()[:24]
        stages = [
            {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"brevo-sandbox/stage/{name}")), "name": name}
            for name in ("New", "Qualified", "Proposal", "Negotiation", "Won", "Lost")
        ]
        self._pipelines.append({"pipeline": pipeline_id, "pipeline_name": "Sales pipeline", "stages": stages})

    @staticmethod
    def _default_account() -> dict[str, Any]:
        return {
            "organization_id": "65f0c0ffee0000000000abcd",
            "user_id": 1000001,
            "enterprise": False,
            "email": "owner@sandbox.example.com",
            "firstName": "Sandbox",
            "lastName": "Owner",
            "companyName": "Tajo Sandbox",
            "address": {"street": "1 Main St", "city": "Dublin", "zipCode": "D01", "country": "Ireland"},
            "dateTimePreferences": {
                "timezone": "Europe/Dublin",
                "timeFormat": "24",
                "dateFormat": "dd-mm-yyyy",
            },
            "plan": [
                {"type": "free", "creditsType": "sendLimit", "credits": 300},
                {"type": "sms", "creditsType": "sendLimit", "credits": 0},
            ],
            "planVerticals": [
                {"planCategory": "Marketing", "planType": "free", "name": "Free", "status": "active"}
            ],
            "marketingAutomation": {"enabled": True, "key": "sandboxmakey0001"},
            "relay": {
                "enabled": True,
                "data": {
                    "userName": "owner@sandbox.example.com",
                    "relay": "smtp-relay.brevo.com",
                    "port": 587,
                },
            },
        }

    @staticmethod
    def _default_deal_attributes() -> list[dict]:
        def attr(name: str, label: str, kind: str, *, required: bool = False, readonly: bool = False) -> dict:
            return {
                "internalName": name,
                "label": label,
                "attributeTypeName": kind,
                "isRequired": required,
                "isValueReadonly": readonly,
                "attributeOptions": [],
            }

        return [
            attr("deal_name", "Deal name", "text", required=True),
            attr("deal_owner", "Deal owner", "user"),
            attr("deal_stage", "Deal stage", "stage"),
            attr("pipeline", "Pipeline", "pipeline"),
            attr("amount", "Amount", "number"),
            attr("close_date", "Close date", "date"),
            attr("deal_description", "Description", "text"),
            attr("created_at", "Created at", "date", readonly=True),
            attr("last_updated_date", "Last updated date", "date", readonly=True),
            attr("stage_updated_at", "Stage updated at", "date", readonly=True),
            attr("number_of_contacts", "Number of contacts", "number", readonly=True),
            attr("number_of_activities", "Number of activities", "number", readonly=True),
            attr("last_activity_date", "Last activity date", "date", readonly=True),
            attr("next_activity_date", "Next activity date", "date", readonly=True),
        ]
