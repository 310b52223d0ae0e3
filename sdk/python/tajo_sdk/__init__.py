"""Python client for Tajo's HTTP API, with the calls of the connector documentation's SDK.

    from tajo_sdk import TajoClient

    tajo = TajoClient(api_key=..., brevo_api_key=..., base_url="https://tajo.example.com/api/v1")
    tajo.connectors.connect("activecampaign", {"apiUrl": "https://yourcompany.api-us1.com", "apiKey": ...})
    tajo.connectors.sync("activecampaign", {"type": "full", "resources": ["contacts", "deals"]})
    tajo.connectors.status("activecampaign")
    tajo.activecampaign.track_event({"event": "trial_started", "eventData": {...}, "email": ...})

Bodies and answers are the API's JSON (camelCase keys, as in the documentation). Standard
library only (urllib), so it installs anywhere Python 3.10+ runs.
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

__all__ = ["TajoClient", "TajoError"]

_NAME = re.compile(r"^[-a-zA-Z0-9_]{1,60}$")


class TajoError(Exception):
    """An answer that is not a success: `status`, `code`, `field` and the API's message."""

    def __init__(self, status: int, problem: dict[str, Any] | None = None) -> None:
        problem = problem or {}
        super().__init__(problem.get("message") or f"Tajo answered HTTP {status}")
        self.status = status
        self.code = problem.get("code") or "http_error"
        self.field = problem.get("field")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:  # a redirect would resend the token
        return None


def _connector(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise TypeError(f"a connector name such as 'activecampaign' is needed, got {name!r}")
    return urllib.parse.quote(name)


class _Connectors:
    def __init__(self, client: TajoClient) -> None:
        self._client = client

    def connect(self, connector: str, credentials: dict[str, Any] | None = None) -> dict[str, Any]:
        """Store the credentials, test them and discover both catalogs: `sync` works next."""
        body = dict(credentials or {})
        if "brevoApiKey" not in body and self._client._brevo_api_key:
            body["brevoApiKey"] = self._client._brevo_api_key
            if "brevoApiUrl" not in body and self._client.brevo_api_url:
                body["brevoApiUrl"] = self._client.brevo_api_url
        return self._client.request("POST", f"/connectors/{_connector(connector)}/connect", body=body)

    def sync(self, connector: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
        body = dict(options or {})
        key = body.pop("idempotencyKey", None)
        return self._client.request(
            "POST", f"/connectors/{_connector(connector)}/sync", body=body, idempotency_key=key
        )

    def status(self, connector: str) -> dict[str, Any]:
        return self._client.request("GET", f"/connectors/{_connector(connector)}/status")

    def list(self) -> list[dict[str, Any]]:
        return self._client.request("GET", "/connectors")


class _Connector:
    def __init__(self, client: TajoClient, name: str) -> None:
        self._client = client
        self._path = f"/connectors/{_connector(name)}"
        self._name = name

    def track_event(self, event: dict[str, Any]) -> dict[str, Any]:
        """Forward one event: {event, eventData, email | contact: {email} | visit: {email}}."""
        body = dict(event)
        key = body.pop("idempotencyKey", None)
        return self._client.request("POST", f"{self._path}/events", body=body, idempotency_key=key)

    trackEvent = track_event  # the documentation's spelling

    def sync(self, options: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._client.connectors.sync(self._name, options)

    def status(self) -> dict[str, Any]:
        return self._client.connectors.status(self._name)


class TajoClient:
    def __init__(
        self,
        *,
        api_key: str,
        brevo_api_key: str | None = None,
        brevo_api_url: str | None = None,
        base_url: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        if not api_key:
            raise TypeError("TajoClient needs an api_key: a Tajo API token (admin: API tokens → Add)")
        root = base_url or os.environ.get("TAJO_BASE_URL")
        if not root:
            raise TypeError(
                "TajoClient needs a base_url (e.g. https://tajo.example.com/api/v1) or $TAJO_BASE_URL"
            )
        self.base_url = root.rstrip("/")
        self.timeout = timeout
        self._api_key = api_key
        self._brevo_api_key = brevo_api_key
        # Sent with the Brevo key on connect; Tajo's default is https://api.brevo.com/v3.
        self.brevo_api_url = brevo_api_url or os.environ.get("BREVO_API_URL") or None
        self._opener = urllib.request.build_opener(_NoRedirect)
        self.connectors = _Connectors(self)
        self.activecampaign = _Connector(self, "activecampaign")

    def __repr__(self) -> str:  # never the keys
        return f"TajoClient(base_url={self.base_url!r})"

    def connector(self, name: str) -> _Connector:
        return _Connector(self, name)

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        query: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        url = self.base_url + path
        if query:
            url += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
        headers = {"Authorization": f"Bearer {self._api_key}", "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if idempotency_key:
            headers["Idempotency-Key"] = str(idempotency_key)
        request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                status, text = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, text = exc.code, exc.read()
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise TajoError(
                0,
                {"code": "network_error", "message": f"Tajo could not be reached at {self.base_url}: {exc}"},
            ) from None
        try:
            answer = json.loads(text) if text else None
        except ValueError:
            raise TajoError(
                status, {"code": "not_json", "message": f"HTTP {status} with a body that is not JSON"}
            ) from None
        if status >= 400:
            raise TajoError(status, (answer or {}).get("error") if isinstance(answer, dict) else None)
        return answer
