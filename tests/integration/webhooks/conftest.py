"""Fixtures for the webhook tests: a connection, its intake path and the real short queue."""

from __future__ import annotations

from pathlib import Path

import django_rq
import pytest

from connectors import queues
from connectors.webhooks import services

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "webhooks"
FORM = "application/x-www-form-urlencoded"


def sample(name: str) -> bytes:
    return (FIXTURES / f"{name}.txt").read_bytes()


@pytest.fixture
def short_queue(redis_conn):
    """Every tenant's short queue (events are queued per tenant: connectors/queues.py)."""
    services._queues.clear()  # a fresh queue bound to the flushed test Redis
    yield queues.LaneView(queues.SHORT_QUEUE, connection=django_rq.get_connection(queues.SHORT_QUEUE))
    services._queues.clear()


@pytest.fixture
def connection(transactional_db):
    from tests.factories import ConnectionFactory

    return ConnectionFactory()


def intake(connection) -> str:
    return services.intake_path(connection)
