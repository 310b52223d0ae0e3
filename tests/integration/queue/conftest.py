"""Fixtures for the queue's failure modes: a queue address where no Redis listens."""

from __future__ import annotations

import pytest

from tajo_site.embedded_queue import free_port


@pytest.fixture
def queue_down(settings):
    """Point the queues at a loopback port nobody listens on (a Redis that is down)."""
    url = f"redis://127.0.0.1:{free_port()}/0"
    settings.RQ_QUEUES = {name: {**conf, "URL": url} for name, conf in settings.RQ_QUEUES.items()}
    return url
