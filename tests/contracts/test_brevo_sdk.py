"""The official Brevo SDK (brevo-python 5.x, generated from Brevo's current API definition) reads
every sandbox answer Tajo's client reads, so the sandbox cannot drift from the real contract
unnoticed. The SDK's own calls parse without validation (`construct_type`), so each body is
validated strictly with the SDK's response type; a failure names the endpoint and the field.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

brevo = pytest.importorskip("brevo", reason="the dev extra installs brevo-python")
from brevo.core.pydantic_utilities import parse_obj_as  # noqa: E402
from pydantic import ValidationError  # noqa: E402

from connectors.providers.brevo import BrevoClient  # noqa: E402
from sandbox.brevo import BrevoSimulator  # noqa: E402

KEY = "xkeysib-sdk-contract-not-a-real-key"

# (method, path template) -> the SDK's type of the success body.
SDK_TYPES: dict[tuple[str, str], Any] = {
    ("GET", "/account"): brevo.GetAccountResponse,
    ("GET", "/contacts"): brevo.GetContacts,
    ("POST", "/contacts"): brevo.CreateContactResponse,
    ("GET", "/contacts/{identifier}"): brevo.GetContactInfoResponse,
    ("POST", "/contacts/import"): brevo.ImportContactsResponse,
    ("GET", "/processes/{id}"): brevo.GetProcessResponse,
    ("GET", "/contacts/attributes"): brevo.GetAttributesResponse,
    ("GET", "/contacts/folders"): brevo.GetFoldersResponse,
    ("POST", "/contacts/folders"): brevo.CreateFolderResponse,
    ("GET", "/contacts/lists"): brevo.GetListsResponse,
    ("POST", "/contacts/lists"): brevo.CreateListResponse,
    ("POST", "/contacts/lists/{id}/contacts/add"): brevo.PostContactInfo,
    ("POST", "/contacts/lists/{id}/contacts/remove"): brevo.PostContactInfo,
    ("POST", "/events/batch"): brevo.BatchAcceptedResponse,
    ("GET", "/crm/pipeline/details/all"): brevo.Pipelines,
    ("GET", "/crm/attributes/deals"): list[brevo.GetCrmAttributesDealsResponseItem],
    ("POST", "/crm/deals"): brevo.PostCrmDealsResponse,
    ("GET", "/crm/deals/{id}"): brevo.Deal,
    ("GET", "/crm/deals"): brevo.GetCrmDealsResponse,
    ("POST", "/orders/status/batch"): brevo.CreateBatchOrderResponse,
}
# Answers Tajo reads that carry no body (204).
NO_BODY = {
    ("PUT", "/contacts/{identifier}"),
    ("POST", "/contacts/attributes/{category}/{name}"),
    ("POST", "/events"),
    ("PATCH", "/crm/deals/{id}"),
    ("PATCH", "/crm/deals/link-unlink/{id}"),
    ("POST", "/ecommerce/activate"),
    ("POST", "/orders/status"),
}
_TEMPLATES = [
    (re.compile(r"^/processes/\d+$"), "/processes/{id}"),
    (re.compile(r"^/contacts/lists/\d+/contacts/(add|remove)$"), r"/contacts/lists/{id}/contacts/\1"),
    (re.compile(r"^/contacts/attributes/[^/]+/[^/]+$"), "/contacts/attributes/{category}/{name}"),
    (re.compile(r"^/crm/deals/link-unlink/[^/]+$"), "/crm/deals/link-unlink/{id}"),
    (re.compile(r"^/crm/deals/[0-9a-f]{24}$"), "/crm/deals/{id}"),
    (re.compile(r"^/contacts/(?!attributes$|folders$|lists$|import$)[^/]+$"), "/contacts/{identifier}"),
]


def _template(path: str) -> str:
    path = path.removeprefix("/v3")
    for pattern, template in _TEMPLATES:
        if pattern.match(path):
            return pattern.sub(template, path)
    return path


class Capture(httpx.BaseTransport):
    """Passes Tajo's requests to the sandbox and keeps each answer."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.answers: list[tuple[str, str, int, bytes]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        response.read()
        self.answers.append(
            (request.method, _template(request.url.path), response.status_code, response.content)
        )
        return response


def _exercise(client: BrevoClient) -> None:
    """Every call Tajo's client makes, as the sync does them."""
    client.get_account()
    client.create_attribute("normal", "COMPANY", type="text")
    client.list_attributes()
    folder = client.create_folder("Tajo")
    client.list_folders()
    list_id = client.create_list("Tajo: all synced contacts", folder)
    client.iter_lists().__next__()
    client.create_contact({"email": "kim@example.org", "attributes": {"FIRSTNAME": "Kim"}, "listIds": [50]})
    client.update_contact("kim@example.org", {"attributes": {"LASTNAME": "Lee"}, "unlinkListIds": [50]})
    receipt = client.import_contacts(
        json_body=[
            {"email": "ana@example.org", "attributes": {"FIRSTNAME": "Ana", "SMS": "+351912345678"}},
            {"email": "bad-address"},
        ],
        list_ids=[list_id],
    )
    deadline = time.monotonic() + 5
    while not client.get_process(receipt.process_id).finished and time.monotonic() < deadline:
        time.sleep(0.01)
    # The writer's margin: the sandbox may apply an import before its answer is read.
    client.list_contacts(modified_since=receipt.accepted_at - timedelta(seconds=5), limit=1000, sort="asc")
    client.get_contact("ana@example.org", identifier_type="email_id")
    client.add_contacts_to_list(51, emails=["ana@example.org", "kim@example.org"])
    client.remove_contacts_from_list(51, emails=["kim@example.org"])
    client.create_event("plan_upgraded", {"email_id": "ana@example.org"}, event_properties={"plan": "pro"})
    client.create_events_batch(
        [{"event_name": "plan_upgraded", "identifiers": {"email_id": "ana@example.org"}}]
    )
    pipeline = client.list_pipelines()[0]
    client.list_deal_attributes()
    contact_id = client.get_contact("ana@example.org").id
    deal = client.create_deal(
        "Ana's deal",
        attributes={"pipeline": pipeline.id, "deal_stage": pipeline.stages[0].id},
        linked_contacts_ids=[contact_id],
    )
    client.update_deal(deal, attributes={"amount": 10})
    client.link_deal_contacts(deal, link_contact_ids=[contact_id])
    client.get_deal(deal)
    client.list_deals(linked_contact_id=contact_id)
    client.activate_ecommerce()
    order = {
        "id": "ac-1",
        "createdAt": "2026-01-01T00:00:00Z",
        "updatedAt": "2026-01-01T00:00:00Z",
        "status": "completed",
        "amount": 10.0,
        "products": [{"productId": "p1", "price": 10.0, "quantity": 1}],
        "identifiers": {"email_id": "ana@example.org"},
    }
    client.create_order(order)
    client.create_orders_batch([order])


def _problems(legacy: bool) -> tuple[list[str], set[tuple[str, str]]]:
    sim = BrevoSimulator(api_key=KEY, import_queued_seconds=0.0, import_seconds=0.0, legacy=legacy)
    app = TestClient(Starlette(routes=[Mount("/v3", routes=sim.routes())]), base_url="http://127.0.0.1/v3")
    capture = Capture(app._transport)
    with BrevoClient(
        api_url="http://127.0.0.1/v3", api_key=KEY, transport=capture, allow_private=True
    ) as client:
        _exercise(client)
    problems: list[str] = []
    seen: set[tuple[str, str]] = set()
    for method, template, status, content in capture.answers:
        endpoint = (method, template)
        seen.add(endpoint)
        if endpoint in NO_BODY:
            continue
        sdk_type = SDK_TYPES.get(endpoint)
        if sdk_type is None:
            problems.append(f"{method} {template}: no SDK type known for this endpoint")
            continue
        try:
            parse_obj_as(sdk_type, httpx.Response(status, content=content).json())
        except ValidationError as exc:
            problems.extend(
                f"{method} {template}: {'.'.join(str(p) for p in error['loc'])}: {error['msg']}"
                for error in exc.errors()
            )
    return problems, seen


def test_the_sdk_parses_every_answer_tajo_reads() -> None:
    problems, seen = _problems(legacy=False)
    assert problems == []
    assert set(SDK_TYPES) | NO_BODY == seen, "every endpoint of Tajo's client is exercised"


def test_the_legacy_sandbox_fails_the_contract_by_name() -> None:
    # The check can fail: the pre-2026 answers lack what the current SDK requires.
    problems, _ = _problems(legacy=True)
    assert "GET /contacts: contacts.0.whatsappBlacklisted: Field required" in problems
    assert "GET /processes/{id}: info.import.invalid_emails: Input should be a valid string" in problems
    assert any(p.startswith("GET /contacts/attributes: attributes.") and "valueStr" in p for p in problems)
