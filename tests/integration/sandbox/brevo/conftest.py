"""The `api` fixture: a Brevo simulator whose imports complete at once, and a client for it."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from sandbox.brevo import BrevoSimulator
from tests.integration.sandbox.brevo.helpers import make


@pytest.fixture
def api() -> tuple[BrevoSimulator, TestClient]:
    return make(import_queued_seconds=0.0, import_seconds=0.0)
