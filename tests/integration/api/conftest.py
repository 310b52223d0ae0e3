"""Fixtures for the HTTP API: a tenant with a connection, tokens of both roles, a client that sends them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from connectors.api.services import api_token_create
from connectors.models import Connection
from tenants.models import Tenant
from tests.factories import ConnectionFactory, TenantFactory


@dataclass
class ApiClient:
    """The Django test client with a bearer token and JSON bodies."""

    client: Client
    token: str

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        return {
            "HTTP_AUTHORIZATION": f"Bearer {self.token}",
            **{_meta(k): v for k, v in (headers or {}).items()},
        }

    def get(self, path: str, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None):
        return self.client.get("/api/v1" + path, params or {}, **self._headers(headers))

    def post(
        self,
        path: str,
        body: Any = None,
        *,
        raw: bytes | str | None = None,
        headers: dict[str, str] | None = None,
    ):
        data = raw if raw is not None else json.dumps({} if body is None else body)
        return self.client.post(
            "/api/v1" + path, data, content_type="application/json", **self._headers(headers)
        )


def _meta(header: str) -> str:
    return "HTTP_" + header.upper().replace("-", "_")


@dataclass
class World:
    tenant: Tenant
    connection: Connection
    operator: ApiClient
    viewer: ApiClient


def make_world(name: str = "Alpha") -> World:
    tenant = TenantFactory(name=name)
    connection = ConnectionFactory(tenant=tenant, name="activecampaign")
    _, operator = api_token_create(tenant=tenant, name="ops", role="operator")
    _, viewer = api_token_create(tenant=tenant, name="dashboard", role="viewer")
    return World(tenant, connection, ApiClient(Client(), operator), ApiClient(Client(), viewer))


@pytest.fixture
def world(db) -> World:
    return make_world()


@pytest.fixture
def other(db) -> World:
    return make_world("Bravo-secret-tenant")


def error_of(response) -> dict[str, Any]:
    """The error body; asserts the one error shape on the way."""
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "field"}, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]
