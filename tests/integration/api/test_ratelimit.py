"""Each token has its own request budget; past it the API answers 429 with Retry-After."""

from __future__ import annotations

import pytest

from connectors.models import SyncRun

from .conftest import error_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_budget(settings, redis_conn):
    settings.TAJO_API_RATE_LIMIT = 3
    settings.TAJO_API_RATE_WINDOW_SECONDS = 30


def test_requests_past_the_budget_get_429_with_retry_after(world, small_budget) -> None:
    for _ in range(3):
        assert world.operator.get("/runs").status_code == 200
    response = world.operator.get("/runs")
    assert response.status_code == 429
    assert error_of(response)["code"] == "rate_limited"
    retry_after = int(response["Retry-After"])
    assert 1 <= retry_after <= 30


def test_a_limited_write_starts_nothing(world, small_budget) -> None:
    for _ in range(3):
        world.operator.get("/runs")
    response = world.operator.post("/connectors/activecampaign/sync", {"resources": ["contacts"]})
    assert response.status_code == 429
    assert not SyncRun.objects.exists()


def test_budgets_are_per_token(world, small_budget) -> None:
    for _ in range(4):
        world.operator.get("/runs")
    assert world.operator.get("/runs").status_code == 429
    assert world.viewer.get("/runs").status_code == 200


def test_budget_is_shared_through_redis(world, small_budget, redis_conn) -> None:
    world.operator.get("/runs")
    keys = [k.decode() for k in redis_conn.keys("tajo:api:rate:*")]
    assert len(keys) == 1 and redis_conn.get(keys[0]) == b"1"
    assert 0 < redis_conn.ttl(keys[0]) <= 31
