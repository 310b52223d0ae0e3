"""A slice's commits on PostgreSQL: asynchronous during the slice only, and only when allowed."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import override_settings

from connectors.sync import engine

pytestmark = pytest.mark.django_db(transaction=True)


def _synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


def test_a_slice_commits_without_waiting_for_the_disk_and_the_connection_is_reset_after(
    redis_conn, monkeypatch
) -> None:
    if connection.vendor != "postgresql":
        with engine.asynchronous_commits() as asynchronous:
            assert asynchronous is False
        return
    seen = []

    def slice_body(run_id: int, seconds: float, heartbeat: object) -> str:
        seen.append(_synchronous_commit())
        return "finished"

    monkeypatch.setattr(engine, "_execute_locked", slice_body)
    assert _synchronous_commit() == "on"
    assert engine.execute_slice(424242) == "finished"
    assert seen == ["off"]
    assert _synchronous_commit() == "on"


def test_durable_commits_when_the_setting_says_so(redis_conn) -> None:
    with override_settings(TAJO_SYNC_ASYNC_COMMIT=False), engine.asynchronous_commits() as asynchronous:
        assert asynchronous is False
        if connection.vendor == "postgresql":
            assert _synchronous_commit() == "on"
