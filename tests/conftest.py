"""Shared fixtures. Integration tests use real PostgreSQL and Redis; CI requires both."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

import pytest


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=1):
            return True
    except OSError:
        return False


def _service_or_skip(name: str, url: str, port: int) -> None:
    if _reachable(url, port):
        return
    message = f"{name} is not reachable at {url}"
    if os.environ.get("TAJO_REQUIRE_SERVICES"):
        pytest.fail(message + " (TAJO_REQUIRE_SERVICES is set: no test is skipped for want of a service)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def redis_url() -> str:
    from django.conf import settings

    url = settings.REDIS_URL
    _service_or_skip("Redis", url, 6379)
    return url


@pytest.fixture
def redis_conn(redis_url: str):
    import redis

    conn = redis.Redis.from_url(redis_url)
    conn.flushdb()
    yield conn
    conn.flushdb()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    from django.conf import settings

    db_url = os.environ.get("DATABASE_URL", "")
    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql") and not _reachable(db_url, 5432):
        if os.environ.get("TAJO_REQUIRE_SERVICES"):
            raise pytest.UsageError(f"PostgreSQL is not reachable at {db_url}")
        skip = pytest.mark.skip(reason=f"PostgreSQL is not reachable at {db_url}")
        for item in items:
            if "django_db" in item.keywords or "transactional_db" in getattr(item, "fixturenames", ()):
                item.add_marker(skip)
