"""RQ entry point for webhook events (enqueued on the short queue by the intake)."""

from __future__ import annotations


def process_webhook_event(event_id: int) -> str:
    from connectors.webhooks.services import webhook_event_process, webhook_events_purge_hourly

    status = webhook_event_process(event_id=event_id)
    webhook_events_purge_hourly()  # retention rides on the jobs: no extra scheduler
    return status
