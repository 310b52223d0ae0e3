"""The OpenAPI document: served, complete, camelCase; and every non-success answer has the one shape."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from .conftest import error_of

pytestmark = pytest.mark.django_db

OPERATIONS = {
    ("get", "/api/v1/connectors"),
    ("post", "/api/v1/connectors/{connector}/connect"),
    ("post", "/api/v1/connectors/{connector}/sync"),
    ("get", "/api/v1/connectors/{connector}/status"),
    ("post", "/api/v1/connectors/{connector}/events"),
    ("get", "/api/v1/runs"),
    ("get", "/api/v1/runs/{run_id}"),
    ("get", "/api/v1/runs/{run_id}/records"),
    ("post", "/api/v1/runs/{run_id}/cancel"),
    ("post", "/api/v1/runs/{run_id}/retry"),
}


@pytest.fixture(scope="module")
def document() -> dict:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


def test_every_operation_is_documented_with_request_and_response_schemas(document) -> None:
    found = {(method, path) for path, item in document["paths"].items() for method in item}
    assert found == OPERATIONS
    for path, item in document["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            assert any(code.startswith("2") for code in responses), (method, path)
            for code, answer in responses.items():
                assert "schema" in answer["content"]["application/json"], (method, path, code)
            for code in ("400", "401", "404", "429"):
                assert responses[code]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorOut")
            assert operation["security"] == [{"TokenAuth": []}]
            if method == "post" and not path.endswith(("/cancel", "/retry")):
                assert operation["requestBody"]["required"] is True
            if method == "post":
                assert "403" in responses and "409" in responses and "422" in responses


def test_fields_are_camel_case(document) -> None:
    schemas = document["components"]["schemas"]
    names = {name for schema in schemas.values() for name in schema.get("properties", {})}
    assert {
        "dryRun",
        "contactsMigrated",
        "dealsSynced",
        "eventsSynced",
        "lastSync",
        "eventData",
        "nextCursor",
        "includeTags",
        "includeCustomFields",
        "includeScores",
        "includeListMemberships",
    } <= names
    assert not [n for n in names if "_" in n], "snake_case field in the API"
    assert schemas["SyncIn"]["additionalProperties"] is False


def test_operation_ids_name_the_documentation_calls(document) -> None:
    ids = {op["operationId"] for item in document["paths"].values() for op in item.values()}
    assert {"connect", "sync", "status", "trackEvent", "cancelRun", "retryRun"} <= ids
    assert all(re.fullmatch(r"[a-z][A-Za-z]+", i) for i in ids)


def test_unknown_path_and_wrong_method_have_the_error_shape(world) -> None:
    missing = world.operator.get("/no/such/thing")
    assert missing.status_code == 404 and error_of(missing)["code"] == "not_found"
    wrong = world.operator.client.delete("/api/v1/runs", HTTP_AUTHORIZATION=f"Bearer {world.operator.token}")
    assert wrong.status_code == 405 and error_of(wrong)["code"] == "method_not_allowed"
    assert wrong["Allow"] == "GET"
