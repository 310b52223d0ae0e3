"""The sandbox's webhook sender: when AC data changes, POST AC-shaped form bodies to the
URLs registered through ``POST /api/3/webhooks`` (reference §14).

It hangs on `ACState.on_change`, so changes made through the AC API and through the
``/_sandbox/ac/...`` control endpoints both fire. Matching follows AC: the event must be one the
subscription names, the change's source (``initiated_from``) one of its sources, and for
list-scoped events a subscription with a ``listid`` only hears about that list. A 410 answer
deactivates the subscription; nothing is retried.

Deliveries leave from one background thread, so the state lock is never held across HTTP.
Knobs for tests and demos: ``duplicates`` (share of deliveries sent twice), ``reorder_window``
(deliver in shuffled batches of N), ``hold()``/``release(order=...)`` for exact out-of-order
runs, and ``flush()`` to wait until everything has been sent.

AC has no webhook event for automations. An automation's "Webhook" action (a step that posts
the contact to a URL) is simulated by ``automation_urls``: contacts entering or completing an
automation (``automation_enrol``) are posted there as ``automation_contact_add`` /
``automation_contact_complete``.

Its control routes are `sandbox.webhook_control`.
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from sandbox.activecampaign.errors import not_found
from sandbox.activecampaign.state import ACState

# Events a subscription's listid narrows (it is ignored for tag, note, task, SMS, deal and account events).
LIST_SCOPED = frozenset(
    {"subscribe", "unsubscribe", "update", "sent", "open", "click", "reply", "forward", "share", "bounce"}
)
AUTOMATION_EVENTS = ("automation_contact_add", "automation_contact_complete")
IDLE_EXIT_SECONDS = 5.0


def form_pairs(event: str, payload: dict[str, Any]) -> list[tuple[str, str]]:
    """`{"contact": {"fields": {"3": "x"}}}` -> `[("contact[fields][3]", "x")]`, every value a string."""
    pairs: list[tuple[str, str]] = [("type", event)]

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(f"{prefix}[{key}]" if prefix else str(key), item)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(f"{prefix}[]", item)
        else:
            pairs.append((prefix, "" if value is None else str(value)))

    walk("", payload)
    return pairs


def form_body(event: str, payload: dict[str, Any]) -> bytes:
    return urlencode(form_pairs(event, payload)).encode()


@dataclass
class Delivery:
    url: str
    event: str
    body: bytes
    webhook_id: str = ""
    duplicate: bool = False
    status: int | None = None
    error: str = ""
    sent_at: float | None = None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["body"] = self.body.decode()
        return data


class WebhookSender:
    """Delivers AC webhooks for one simulated account."""

    def __init__(self, state: ACState, *, seed: int = 1, timeout: float = 5.0, log_size: int = 5000) -> None:
        self.state = state
        self.timeout = timeout
        self.duplicates = 0.0
        self.reorder_window = 0
        self.automation_urls: list[str] = []
        self.deliveries: deque[Delivery] = deque(maxlen=log_size)
        self._rng = random.Random(seed)
        self._pending: deque[Delivery] = deque()
        self._held = False
        self._in_flight = 0
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False
        state.on_change.append(self.on_change)

    # -- matching ------------------------------------------------------------------------------

    def _targets(self, event: str, payload: dict[str, Any]) -> list[tuple[str, str]]:
        if event in AUTOMATION_EVENTS:
            return [(url, "") for url in self.automation_urls]
        source = str(payload.get("initiated_from") or "")
        targets = []
        for hook in list(self.state.webhooks.values()):
            if hook.get("state", "active") != "active" or event not in hook["events"]:
                continue
            if source and source not in hook["sources"]:
                continue
            listid = str(hook.get("listid") or "0")
            if event in LIST_SCOPED and listid != "0" and not self._on_list(payload, listid):
                continue
            targets.append((hook["url"], hook["id"]))
        return targets

    def _on_list(self, payload: dict[str, Any], listid: str) -> bool:
        if str(payload.get("list") or "0") != "0":
            return str(payload["list"]) == listid
        cid = int((payload.get("contact") or {}).get("id") or 0)
        rows = self.state._children(cid, "contactLists") if cid else []
        return any(r["list"] == listid for r in rows)

    # -- queueing (called with the state lock held: must not block) ----------------------------

    def on_change(self, event: str, payload: dict[str, Any]) -> None:
        targets = self._targets(event, payload)
        if not targets:
            return
        body = form_body(event, payload)
        with self._cond:
            for url, hook_id in targets:
                self._pending.append(Delivery(url=url, event=event, body=body, webhook_id=hook_id))
                if self.duplicates and self._rng.random() < self.duplicates:
                    self._pending.append(
                        Delivery(url=url, event=event, body=body, webhook_id=hook_id, duplicate=True)
                    )
            self._ensure_thread()
            self._cond.notify_all()

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)
            self._thread.start()

    # -- knobs ---------------------------------------------------------------------------------

    def configure(
        self,
        *,
        duplicates: float | None = None,
        reorder_window: int | None = None,
        automation_urls: list[str] | None = None,
    ) -> None:
        with self._cond:
            if duplicates is not None:
                if not 0.0 <= duplicates <= 1.0:
                    raise ValueError("duplicates must be between 0 and 1")
                self.duplicates = float(duplicates)
            if reorder_window is not None:
                if reorder_window < 0:
                    raise ValueError("reorder_window must not be negative")
                self.reorder_window = int(reorder_window)
            if automation_urls is not None:
                self.automation_urls = [str(u) for u in automation_urls]

    def hold(self) -> None:
        """Keep deliveries back until `release`, to send them in a chosen order."""
        with self._cond:
            self._held = True

    def release(self, *, order: str = "fifo", duplicate: bool = False) -> int:
        """Send what was held, in `order` (fifo, reverse or shuffle); `duplicate` sends each twice."""
        if order not in ("fifo", "reverse", "shuffle"):
            raise ValueError("order must be fifo, reverse or shuffle")
        with self._cond:
            batch = list(self._pending)
            if order == "reverse":
                batch.reverse()
            elif order == "shuffle":
                self._rng.shuffle(batch)
            if duplicate:
                batch = [d for item in batch for d in (item, Delivery(**{**asdict(item), "duplicate": True}))]
            self._pending = deque(batch)
            self._held = False
            self._ensure_thread()
            self._cond.notify_all()
            return len(batch)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until nothing is pending or in flight (held deliveries count as pending)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending or self._in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (self._held and not self._in_flight):
                    return False
                self._cond.wait(min(remaining, 0.05))
            return True

    def pending(self) -> int:
        with self._cond:
            return len(self._pending)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    # -- delivery ------------------------------------------------------------------------------

    def _next_batch(self) -> list[Delivery] | None:
        with self._cond:
            idle_since = time.monotonic()
            while not self._closed:
                if self._pending and not self._held:
                    window = self.reorder_window
                    if window > 1 and len(self._pending) < window and time.monotonic() - idle_since < 0.2:
                        self._cond.wait(0.05)  # let a few more arrive so there is something to shuffle
                        continue
                    take = max(1, window)
                    batch = [self._pending.popleft() for _ in range(min(take, len(self._pending)))]
                    if window > 1:
                        self._rng.shuffle(batch)
                    self._in_flight += len(batch)
                    return batch
                if time.monotonic() - idle_since > IDLE_EXIT_SECONDS:
                    return None
                self._cond.wait(0.1)
            return None

    def _run(self) -> None:
        with httpx.Client(
            timeout=self.timeout,
            follow_redirects=False,
            headers={"User-Agent": "ActiveCampaign-Webhook-Sandbox/1.0"},
        ) as client:
            while (batch := self._next_batch()) is not None:
                for delivery in batch:
                    self._send(client, delivery)
                    with self._cond:
                        self._in_flight -= 1
                        self._cond.notify_all()

    def _send(self, client: httpx.Client, delivery: Delivery) -> None:
        try:
            response = client.post(
                delivery.url,
                content=delivery.body,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            delivery.status = response.status_code
            if response.status_code == 410 and delivery.webhook_id:
                with self.state.lock:  # AC deactivates a webhook that answers 410 Gone
                    hook = self.state.webhooks.get(delivery.webhook_id)
                    if hook is not None:
                        hook["state"] = "inactive"
        except httpx.HTTPError as exc:  # never retried, as AC
            delivery.error = type(exc).__name__
        delivery.sent_at = time.monotonic()
        self.deliveries.append(delivery)


# ----------------------------------------------------------------------------- automations


def automation_enrol(
    state: ACState, cid: int, automation: str, *, complete: bool = False, source: str = "system"
) -> dict[str, Any]:
    """Put a contact into an automation (or complete it there) and fire the automation event."""
    with state.lock:
        aid = (
            automation
            if automation in state.automations
            else next(
                (k for k, a in state.automations.items() if a["name"].lower() == str(automation).lower()),
                None,
            )
        )
        if aid is None:
            raise not_found("Series", automation)
        if state.get_contact(cid) is None:
            raise not_found("Subscriber", cid)
        if cid <= state.gen.n:
            state._materialise(cid)
        now = state.clock.now()
        iso = state.clock.iso(now)
        row = next((r for r in state._children(cid, "contactAutomations") if r["automation"] == aid), None)
        if row is None:
            row = state._add_child(
                cid,
                "contactAutomations",
                {
                    "contact": str(cid),
                    "seriesid": aid,
                    "startid": "0",
                    "status": "1",
                    "batchid": None,
                    "adddate": iso,
                    "remdate": None,
                    "timespan": None,
                    "lastblock": "1",
                    "lastlogid": "0",
                    "lastdate": iso,
                    "in_als": "0",
                    "completedElements": "0",
                    "totalElements": "4",
                    "completed": 0,
                    "completeValue": 0,
                    "id": "",
                    "automation": aid,
                },
            )
        if complete:
            row.update(
                {
                    "status": "2",
                    "remdate": iso,
                    "lastdate": iso,
                    "completed": 1,
                    "completeValue": 100,
                    "completedElements": row.get("totalElements", "4"),
                }
            )
        event = AUTOMATION_EVENTS[1] if complete else AUTOMATION_EVENTS[0]
        payload = state._event_payload(
            cid, source, automation={"id": aid, "name": state.automations[aid]["name"]}
        )
        state._emit(event, payload)
        return dict(row)
