"""Real time, end to end over real HTTP: a change in the sandbox's ActiveCampaign -> the sandbox
posts an AC-shaped webhook to a live Tajo server -> the event is stored and queued -> a real RQ
worker applies it through the sync engine -> the sandbox's Brevo holds the result.
"""

from __future__ import annotations

import contextlib

import httpx
import pytest
from rq import SimpleWorker

from connectors.models import RecordState, RunMode, SyncRecord, SyncRun, Trigger
from connectors.webhooks import services
from connectors.webhooks.models import WebhookEvent, WebhookStatus
from sandbox.config import SandboxConfig
from sandbox.server import SandboxServer
from tests.sandbox_helpers import connection_for_sandbox

pytestmark = pytest.mark.django_db(transaction=True)

VIP_TAG = "1"  # the sandbox's default account: tag 1 is "vip", list 1 is "Main List"
MAIN_LIST, BREVO_MAIN, BREVO_VIP = 1, 50, 52


@pytest.fixture(scope="module")
def sandbox():
    with SandboxServer(SandboxConfig.fast(contacts=30, seed=11)) as server:
        yield server


@pytest.fixture
def wired(sandbox, live_server, short_queue):
    """A discovered connection with list and tag mappings, registered in the sandbox's AC."""
    from mappings.models import ListMapping, TagMapping
    from mappings.services import catalog_discover

    for hook in list(sandbox.ac.webhooks):
        sandbox.ac.delete_webhook(int(hook))
    sandbox.sandbox.webhooks.configure(duplicates=0.0, reorder_window=0)
    connection = connection_for_sandbox(sandbox)
    catalog_discover(connection=connection)
    ListMapping.objects.create(
        tenant=connection.tenant, connection=connection, ac_list_id=MAIN_LIST, brevo_list_id=BREVO_MAIN
    )
    TagMapping.objects.create(
        tenant=connection.tenant,
        connection=connection,
        ac_tag_id=int(VIP_TAG),
        brevo_list_id=BREVO_VIP,
        unlink_when_absent=True,
    )
    hook = services.webhooks_register(connection=connection, base_url=live_server.url)
    assert hook.url.startswith(live_server.url + "/hooks/ac/")
    return connection


def control(sandbox, method: str, path: str, **json) -> dict:
    response = httpx.request(method, f"{sandbox.base_url}/_sandbox/ac{path}", json=json or None, timeout=10)
    assert response.status_code < 300, response.text
    return response.json()


def settle(sandbox, queue) -> None:
    """Every delivery sent and every queued job run (a real worker, in burst mode)."""
    assert sandbox.sandbox.webhooks.flush(timeout=15), "sandbox deliveries did not finish"
    SimpleWorker(queue.queues(), connection=queue.connection).work(burst=True)


def brevo(sandbox, email: str) -> dict:
    contact = sandbox.brevo.contact_by_email(email)
    assert contact is not None, f"{email} is not in Brevo"
    return contact


def new_contact(sandbox, email: str, **extra) -> int:
    body = {"email": email, "firstName": "Maria", "lastName": "Lopez", **extra}
    return int(control(sandbox, "POST", "/contacts", **body)["contact"]["id"])


def test_contact_changes_reach_brevo(sandbox, wired, short_queue) -> None:
    cid = new_contact(sandbox, "rt-one@example.org", lists=["Main List"])
    settle(sandbox, short_queue)
    assert brevo(sandbox, "rt-one@example.org")["attributes"]["FIRSTNAME"] == "Maria"

    control(sandbox, "POST", f"/contacts/{cid}", firstName="Marianne")
    settle(sandbox, short_queue)
    assert brevo(sandbox, "rt-one@example.org")["attributes"]["FIRSTNAME"] == "Marianne"

    events = WebhookEvent.objects.filter(connection=wired, source_id=str(cid))
    assert {e.event_type for e in events} >= {"subscribe", "update"}
    assert all(e.status == WebhookStatus.PROCESSED for e in events), [
        (e.event_type, e.status, e.error) for e in events
    ]
    last = events.filter(event_type="update").get()
    assert last.sync_record is not None and last.sync_record.trigger == Trigger.WEBHOOK
    assert last.sync_record.outcome == "updated"
    assert last.sync_record.run.mode == RunMode.WEBHOOK
    assert RecordState.objects.get(
        connection=wired, resource="contacts", source_id=str(cid)
    ).source_modified_at


def test_tag_and_list_events_change_brevo_lists(sandbox, wired, short_queue) -> None:
    email = "rt-tags@example.org"
    cid = new_contact(sandbox, email, lists=["Main List"])
    settle(sandbox, short_queue)
    assert BREVO_MAIN in brevo(sandbox, email)["listIds"]
    assert BREVO_VIP not in brevo(sandbox, email)["listIds"]

    control(sandbox, "POST", f"/contacts/{cid}/tags", tag="vip")
    settle(sandbox, short_queue)
    assert BREVO_VIP in brevo(sandbox, email)["listIds"]
    tag_event = WebhookEvent.objects.get(connection=wired, event_type="contact_tag_added", source_id=str(cid))
    assert tag_event.payload["tag"] == "vip" and tag_event.status == WebhookStatus.PROCESSED

    control(sandbox, "DELETE", f"/contacts/{cid}/tags/vip")
    settle(sandbox, short_queue)
    assert BREVO_VIP not in brevo(sandbox, email)["listIds"]

    # Unsubscribing in AC never leaves the contact subscribed in Brevo.
    control(sandbox, "POST", f"/contacts/{cid}/lists", list="Main List", status=2)
    settle(sandbox, short_queue)
    assert BREVO_MAIN not in brevo(sandbox, email)["listIds"]
    unsub = WebhookEvent.objects.get(connection=wired, event_type="unsubscribe", source_id=str(cid))
    assert unsub.status == WebhookStatus.PROCESSED, unsub.error


def test_duplicates_and_out_of_order_deliveries_converge(sandbox, wired, short_queue, live_server) -> None:
    email = "rt-order@example.org"
    cid = new_contact(sandbox, email)
    settle(sandbox, short_queue)

    sender = sandbox.sandbox.webhooks
    sender.hold()
    control(sandbox, "POST", f"/contacts/{cid}", firstName="First")
    control(sandbox, "POST", f"/contacts/{cid}", firstName="Second")
    assert sender.release(order="reverse", duplicate=True) == 4
    settle(sandbox, short_queue)

    assert brevo(sandbox, email)["attributes"]["FIRSTNAME"] == "Second"
    updates = WebhookEvent.objects.filter(connection=wired, event_type="update", source_id=str(cid))
    assert updates.filter(status=WebhookStatus.PROCESSED).count() == 2
    assert updates.filter(status=WebhookStatus.DUPLICATE).count() == 2
    # The late "First" event re-read AC and wrote nothing older over "Second".
    outcomes = [e.sync_record.outcome for e in updates.filter(status=WebhookStatus.PROCESSED).order_by("pk")]
    assert outcomes[0] == "updated" and outcomes[1] in ("unchanged", "skipped")

    # A replay of an old body, long after: answered 200, recorded as a duplicate, not applied.
    replay_body = next(d.body for d in sender.deliveries if b"First" in d.body)
    response = httpx.post(
        live_server.url + services.intake_path(wired),
        content=replay_body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200 and response.json()["status"] == "duplicate"
    assert short_queue.count == 0
    assert brevo(sandbox, email)["attributes"]["FIRSTNAME"] == "Second"

    # An older event that was never seen (lost, then sent late) re-reads AC: nothing regresses.
    stale = replay_body.replace(b"First", b"Stale").replace(b"date_time=2", b"date_time=1")
    response = httpx.post(
        live_server.url + services.intake_path(wired),
        content=stale,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.json()["status"] == "received"
    settle(sandbox, short_queue)
    late = WebhookEvent.objects.get(pk=response.json()["event"])
    assert late.status == WebhookStatus.PROCESSED and late.sync_record.outcome in ("unchanged", "skipped")
    assert brevo(sandbox, email)["attributes"]["FIRSTNAME"] == "Second"


def test_webhooks_flow_while_a_backfill_runs(sandbox, wired, short_queue) -> None:
    from connectors.services import sync_run_start

    email = "rt-backfill@example.org"
    cid = new_contact(sandbox, email)
    settle(sandbox, short_queue)
    run = sync_run_start(connection=wired, resources=["contacts"], trigger=Trigger.ADMIN)
    assert SyncRun.objects.get(pk=run.pk).status in ("queued", "running")

    control(sandbox, "POST", f"/contacts/{cid}", lastName="During-Backfill")
    settle(sandbox, short_queue)  # the short queue only: the backfill is still waiting on its own
    assert brevo(sandbox, email)["attributes"]["LASTNAME"] == "During-Backfill"

    from connectors import queues

    sync_queue = queues.LaneView(queues.SYNC_QUEUE, connection=short_queue.connection)
    SimpleWorker(sync_queue.queues(), connection=sync_queue.connection).work(burst=True)
    run.refresh_from_db()
    assert run.status in ("succeeded", "partial"), run.error
    # The backfill re-read the contact and found nothing newer to write.
    record = SyncRecord.objects.get(run=run, source_id=str(cid))
    assert record.outcome in ("unchanged", "skipped")
    assert brevo(sandbox, email)["attributes"]["LASTNAME"] == "During-Backfill"


def test_reprocess_applies_the_current_state(sandbox, wired, short_queue) -> None:
    email = "rt-reprocess@example.org"
    cid = new_contact(sandbox, email)
    settle(sandbox, short_queue)
    event = WebhookEvent.objects.filter(connection=wired, source_id=str(cid)).order_by("pk").first()
    runs_before = SyncRun.objects.filter(connection=wired, mode=RunMode.WEBHOOK).count()
    services.webhook_event_reprocess(event=event)
    settle(sandbox, short_queue)
    event.refresh_from_db()
    assert event.status == WebhookStatus.PROCESSED and event.attempts == 2
    # One run applies the contact, one forwards the event to Brevo (as `contact_add`).
    assert SyncRun.objects.filter(connection=wired, mode=RunMode.WEBHOOK).count() == runs_before + 2
    assert event.sync_record.outcome in ("unchanged", "skipped")


def test_deal_events_update_deal_attributes(sandbox, wired, short_queue) -> None:
    from connectors.exceptions import ApiError
    from mappings.models import StandardFieldMapping
    from mappings.services import brevo_attribute_create

    with contextlib.suppress(ApiError):  # already there when the module's sandbox ran this before
        brevo_attribute_create(connection=wired, name="DEAL_STAGE", attribute_type="text")
    StandardFieldMapping.objects.create(
        tenant=wired.tenant, connection=wired, source="deal.stage", attribute="DEAL_STAGE"
    )
    email = "rt-deal@example.org"
    cid = new_contact(sandbox, email)
    settle(sandbox, short_queue)
    stages = sorted(sandbox.ac.deal_stages.items(), key=lambda kv: int(kv[0]))
    first_stage, first = stages[0]
    later_stage, later = next((sid, st) for sid, st in stages[1:] if st["group"] == first["group"])
    deal = control(
        sandbox,
        "POST",
        "/deals",
        title="Rt deal",
        contact=cid,
        value=150000,
        currency="usd",
        group=first["group"],
        stage=first_stage,
        owner="1",
    )["deal"]
    settle(sandbox, short_queue)
    assert brevo(sandbox, email)["attributes"].get("DEAL_STAGE") == first["title"]

    control(sandbox, "POST", f"/deals/{deal['id']}", stage=later_stage)
    settle(sandbox, short_queue)
    event = WebhookEvent.objects.get(connection=wired, event_type="deal_update", source_id=str(deal["id"]))
    assert event.status == WebhookStatus.PROCESSED, event.error
    assert event.resource == "deals"
    assert brevo(sandbox, email)["attributes"].get("DEAL_STAGE") == later["title"]


def test_automation_events_become_brevo_events(sandbox, wired, short_queue, live_server) -> None:
    from mappings.models import AutomationMapping

    AutomationMapping.objects.create(
        tenant=wired.tenant,
        connection=wired,
        ac_automation_id=1,
        brevo_event_entered="welcome_started",
        brevo_event_completed="welcome_completed",
    )
    sandbox.sandbox.webhooks.configure(automation_urls=[live_server.url + services.intake_path(wired)])
    email = "rt-automation@example.org"
    cid = new_contact(sandbox, email)
    settle(sandbox, short_queue)
    control(sandbox, "POST", f"/contacts/{cid}/automations", automation="1")
    control(sandbox, "POST", f"/contacts/{cid}/automations", automation="1", complete=True)
    settle(sandbox, short_queue)
    events = WebhookEvent.objects.filter(connection=wired, resource="automations", source_id=f"{cid}:1")
    assert {e.event_type for e in events} == {"automation_contact_add", "automation_contact_complete"}
    assert all(e.status == WebhookStatus.PROCESSED for e in events), [e.error for e in events]
    names = {e.get("event_name") or e.get("name") for e in sandbox.brevo.events_for(email)}
    assert {"welcome_started", "welcome_completed"} <= names
