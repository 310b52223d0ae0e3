"""OpenAPI fidelity of the Brevo simulator: every response example Brevo's spec gives for an endpoint
Tajo calls must fit what the simulator answers to the same request.

Which examples: for each (method, path) in TAJO_ENDPOINTS and each response status, the
response's own `examples`/`example` entries; a 2xx response without any is given one built
from the `example` values of its schema's properties (so the CRM routes, documented only
that way, are checked too). `test_every_example_is_checked` fails when an example exists
without a case below, so nothing is skipped silently.

The rule (`mismatches`): every key of the example must exist in the simulator's response,
recursively, with a compatible JSON type (string, number — int and float alike —, boolean,
object, array; an example `null` fits anything). Arrays: each example item must fit at least
one item of the simulator's array; an empty array on either side fits (no items to compare,
e.g. campaign statistics the sandbox never produces). Values themselves are not compared:
ids, names and dates differ by design. Exceptions are listed per case with the reason
(`allow_missing`, `allow_null`).

Where the YAML is outdated, reference §12 wins, and the case says so: the list add/remove
examples show the report flat, while the schema and the reference nest it under "contacts".
Each case sets up the state the example describes (attributes, contacts, a deal) through the
public API before making the request.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from sandbox.brevo import BrevoSimulator

# The responses and schemas of Brevo's OpenAPI for the routes Tajo calls, kept with the tests
# (tests/fixtures/reference/extract.py rebuilds them); TAJO_BREVO_OPENAPI points at a full spec instead.
FIXTURE = Path(__file__).resolve().parents[3] / "fixtures" / "reference" / "brevo-openapi.examples.json"
SPEC_PATH = Path(os.environ.get("TAJO_BREVO_OPENAPI") or FIXTURE)
KEY = "xkeysib-sandbox-openapi-not-a-real-key"

# The endpoints BrevoClient calls (connectors/providers/brevo/client.py).
TAJO_ENDPOINTS = [
    ("get", "/account"),
    ("get", "/contacts"),
    ("post", "/contacts"),
    ("get", "/contacts/{identifier}"),
    ("put", "/contacts/{identifier}"),
    ("post", "/contacts/import"),
    ("get", "/processes/{processId}"),
    ("get", "/processes"),
    ("get", "/contacts/attributes"),
    ("post", "/contacts/attributes/{attributeCategory}/{attributeName}"),
    ("get", "/contacts/folders"),
    ("post", "/contacts/folders"),
    ("get", "/contacts/lists"),
    ("post", "/contacts/lists"),
    ("post", "/contacts/lists/{listId}/contacts/add"),
    ("post", "/contacts/lists/{listId}/contacts/remove"),
    ("post", "/events"),
    ("get", "/crm/pipeline/details/all"),
    ("get", "/crm/attributes/deals"),
    ("get", "/crm/deals"),
    ("post", "/crm/deals"),
    ("get", "/crm/deals/{id}"),
    ("patch", "/crm/deals/{id}"),
    ("patch", "/crm/deals/link-unlink/{id}"),
    ("post", "/ecommerce/activate"),
    ("post", "/orders/status"),
    ("post", "/orders/status/batch"),
    ("get", "/orders"),
]

_MISSING = object()


@pytest.fixture(scope="module")
def spec() -> dict:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with SPEC_PATH.open() as handle:
        return yaml.load(handle, Loader=loader)


def _resolve(spec: dict, node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        _, section, kind, name = node["$ref"].split("/")
        node = spec[section][kind][name]
    return node


def _synthesise(spec: dict, schema: Any) -> Any:
    """An example assembled from the `example` values of a schema's properties (or _MISSING)."""
    schema = _resolve(spec, schema)
    if not isinstance(schema, dict):
        return _MISSING
    if "example" in schema:
        return schema["example"]
    if "allOf" in schema:
        merged: dict = {}
        for part in schema["allOf"]:
            value = _synthesise(spec, part)
            if isinstance(value, dict):
                merged.update(value)
        return merged or _MISSING
    if schema.get("type") == "array" or "items" in schema:
        item = _synthesise(spec, schema.get("items", {}))
        return [item] if item is not _MISSING else _MISSING
    if "properties" in schema:
        out = {}
        for name, sub in schema["properties"].items():
            value = _synthesise(spec, sub)
            if value is not _MISSING:
                out[name] = value
        return out or _MISSING
    return _MISSING


def spec_examples(spec: dict) -> dict[tuple[str, str, str, str], Any]:
    """(METHOD, path, status, example name) -> example body, for every Tajo endpoint."""
    found: dict[tuple[str, str, str, str], Any] = {}
    for method, path in TAJO_ENDPOINTS:
        operation = spec["paths"][path][method]
        for status, response in operation["responses"].items():
            response = _resolve(spec, response)
            content = (response.get("content") or {}).get("application/json") or {}
            named = {name: item["value"] for name, item in (content.get("examples") or {}).items()}
            if "example" in content:
                named["example"] = content["example"]
            schema = _resolve(spec, content.get("schema"))
            if isinstance(schema, dict) and "example" in schema:
                named["schema-example"] = schema["example"]
            if not named and str(status).startswith("2") and schema is not None:
                built = _synthesise(spec, schema)
                if built is not _MISSING:
                    named["from-schema"] = built
            for name, value in named.items():
                found[(method.upper(), path, str(status), name)] = value
    return found


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return "null"


def mismatches(
    example: Any,
    actual: Any,
    where: str = "$",
    *,
    allow_missing: frozenset[str] = frozenset(),
    allow_null: frozenset[str] = frozenset(),
) -> list[str]:
    """Why `actual` does not fit `example` under the module's rule (empty list: it fits)."""
    if example is None:
        return []
    key = where.rsplit(".", 1)[-1]
    if actual is None:
        return (
            [] if key in allow_null else [f"{where}: null in the simulator, {_kind(example)} in the example"]
        )
    if _kind(example) != _kind(actual):
        return [f"{where}: {_kind(actual)} in the simulator, {_kind(example)} in the example"]
    if isinstance(example, dict):
        problems = []
        for name, value in example.items():
            if name not in actual:
                if name not in allow_missing:
                    problems.append(f"{where}.{name}: missing in the simulator's response")
                continue
            problems += mismatches(
                value, actual[name], f"{where}.{name}", allow_missing=allow_missing, allow_null=allow_null
            )
        return problems
    if isinstance(example, list):
        if not example or not actual:
            return []
        problems = []
        for index, item in enumerate(example):
            attempts = [
                mismatches(
                    item, candidate, f"{where}[{index}]", allow_missing=allow_missing, allow_null=allow_null
                )
                for candidate in actual
            ]
            if all(attempts):
                problems += min(attempts, key=len)
        return problems
    return []


# ---------------------------------------------------------------- setting up what an example describes


def _attribute_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "float"
    if isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}", value):
        return "date"
    return "text"


def seed_contacts(client: TestClient, contacts: list[dict]) -> None:
    """Create the example's attributes and contacts through the API."""
    known = {a["name"] for a in client.get("/contacts/attributes").json()["attributes"]}
    for contact in contacts:
        for name, value in contact.get("attributes", {}).items():
            if name not in known:
                created = client.post(
                    f"/contacts/attributes/normal/{name}", json={"type": _attribute_type(value)}
                )
                assert created.status_code == 201, created.text
                known.add(name)
        body = {
            "email": contact["email"],
            "attributes": contact.get("attributes", {}),
            "listIds": [50, 51],
            "emailBlacklisted": contact.get("emailBlacklisted", False),
            "smsBlacklisted": contact.get("smsBlacklisted", False),
        }
        assert client.post("/contacts", json=body).status_code == 201


def create_deal(client: TestClient, contact_email: str = "deal.contact@example.com") -> str:
    cid = client.post("/contacts", json={"email": contact_email}).json()["id"]
    response = client.post(
        "/crm/deals",
        json={
            "name": "testname",
            "linkedContactsIds": [cid],
            "linkedCompaniesIds": ["61a5ce58c5d4795761045990"],
            "attributes": {"amount": 12, "deal_owner": "owner@example.com"},
        },
    )
    assert response.status_code == 201
    return response.json()["id"]


def finished_import(client: TestClient) -> int:
    pid = client.post(
        "/contacts/import", json={"jsonBody": [{"email": "imp@example.com"}], "listIds": [50]}
    ).json()["processId"]
    for _ in range(200):
        if client.get(f"/processes/{pid}").json()["status"] == "completed":
            return pid
    raise AssertionError("import did not complete")


def _order_from(example: dict) -> dict:
    return {k: v for k, v in example.items() if k != "contact_id"}


@dataclass
class Case:
    run: Callable[[TestClient, Any], Any]
    status: int
    extract: Callable[[Any], Any] = lambda body: body
    allow_missing: frozenset[str] = field(default_factory=frozenset)
    allow_null: frozenset[str] = field(default_factory=frozenset)
    account: dict | None = None
    seed_default: bool = True
    why: str = ""


def _get(path: str, **params: Any) -> Callable[[TestClient, Any], Any]:
    return lambda client, example: client.get(path, params=params or None)


def _contacts_case(client: TestClient, example: dict) -> Any:
    seed_contacts(client, example["contacts"])
    return client.get("/contacts", params={"sort": "desc"})


def _contact_case(client: TestClient, example: dict) -> Any:
    seed_contacts(client, [example])
    return client.get(f"/contacts/{example['email'].replace('@', '%40')}")


def _membership(action: str, key: str) -> Callable[[TestClient, Any], Any]:
    def run(client: TestClient, example: dict) -> Any:
        seed_contacts(client, [{"email": "jeff32@example.com"}, {"email": "jim56@example.com"}])
        if action == "remove":
            client.post(
                "/contacts/lists/52/contacts/add",
                json={"emails": ["jeff32@example.com", "jim56@example.com"]},
            )
        values = (
            ["jeff32@example.com", "jim56@example.com", "david@example.com"] if key == "emails" else [1, 2, 5]
        )
        if action == "add":
            client.post("/contacts", json={"email": "third@example.com"})  # id 3, so id 5 stays unknown
        return client.post(f"/contacts/lists/52/contacts/{action}", json={key: values})

    return run


def _remove_all(client: TestClient, example: dict) -> Any:
    seed_contacts(client, [{"email": "jeff32@example.com"}])
    return client.post("/contacts/lists/50/contacts/remove", json={"all": True})


def _orders_case(client: TestClient, example: dict) -> Any:
    order = example["orders"][0]
    client.post("/contacts", json={"email": order["email"]})
    assert client.post("/orders/status", json=_order_from(order)).status_code == 204
    return client.get("/orders")


def _batch_case(client: TestClient, example: dict) -> Any:
    order = {
        "id": "o-1",
        "createdAt": "2021-07-29T20:59:23Z",
        "updatedAt": "2021-07-30T10:59:23Z",
        "status": "completed",
        "amount": 308.42,
        "identifiers": {"email_id": "li@example.net"},
        "products": [{"productId": "P1", "quantity": 10, "price": 99.99}],
    }
    return client.post("/orders/status/batch", json={"orders": [order], "historical": True})


LINK_UNLINK_400 = "deal link-unlink with a malformed body"
ERROR_AS_MESSAGE = "Brevo's CRM examples show only `message`; the simulator adds `code` (reference §1.3)"
SUBSCRIPTION_PLAN = [
    {"type": "payAsYouGo", "credits": 5000, "creditsType": "sendLimit"},
    {
        "type": "subscription",
        "credits": 39983,
        "creditsType": "sendLimit",
        "startDate": "2017-03-11T00:00:00.000Z",
        "endDate": "2017-04-11T00:00:00.000Z",
    },
    {"type": "sms", "credits": 999.5, "creditsType": "sendLimit"},
]
PROCESS_EXPORT_URL = frozenset({"export_url"})  # only export processes carry a file URL; Tajo runs imports

CASES: dict[tuple[str, str, str, str], Case] = {
    ("GET", "/account", "200", "response"): Case(
        _get("/account"),
        200,
        account={"plan": SUBSCRIPTION_PLAN},
        why="the example account has a subscription plan, so the sandbox account is configured with one",
    ),
    ("GET", "/contacts", "200", "response"): Case(_contacts_case, 200),
    ("POST", "/contacts", "201", "response"): Case(
        lambda client, example: client.post(
            "/contacts",
            json={"email": "elly@example.com", "ext_id": "externalId", "attributes": {"FIRSTNAME": "Elly"}},
        ),
        201,
    ),
    ("GET", "/contacts/{identifier}", "200", "response"): Case(_contact_case, 200),
    ("POST", "/contacts/import", "202", "from-schema"): Case(
        lambda client, example: client.post(
            "/contacts/import",
            json={
                "jsonBody": [{"email": "ndicky0@ocn.ne.jp", "attributes": {"SMS": "33689965433"}}],
                "listIds": [50],
            },
        ),
        202,
    ),
    ("GET", "/processes/{processId}", "200", "response"): Case(
        lambda client, example: client.get(f"/processes/{finished_import(client)}"),
        200,
        allow_missing=PROCESS_EXPORT_URL,
    ),
    ("GET", "/processes/{processId}", "404", "example"): Case(_get("/processes/424242"), 404),
    ("GET", "/processes", "200", "response"): Case(
        lambda client, example: (finished_import(client), client.get("/processes"))[1],
        200,
        allow_missing=PROCESS_EXPORT_URL,
    ),
    ("GET", "/contacts/attributes", "200", "response"): Case(_get("/contacts/attributes"), 200),
    ("GET", "/contacts/folders", "200", "response"): Case(_get("/contacts/folders"), 200),
    ("POST", "/contacts/folders", "201", "from-schema"): Case(
        lambda client, example: client.post("/contacts/folders", json={"name": "Wordpress Contacts"}), 201
    ),
    ("GET", "/contacts/lists", "200", "response"): Case(_get("/contacts/lists"), 200),
    ("POST", "/contacts/lists", "201", "from-schema"): Case(
        lambda client, example: client.post(
            "/contacts/lists", json={"name": "Magento Customer - ES", "folderId": 1}
        ),
        201,
    ),
    ("POST", "/contacts/lists/{listId}/contacts/add", "201", "emailsArray"): Case(
        _membership("add", "emails"),
        201,
        extract=lambda body: body["contacts"],
        why="the example is flat; schema postContactInfo and reference §4 nest the report under 'contacts'",
    ),
    ("POST", "/contacts/lists/{listId}/contacts/add", "201", "idsArray"): Case(
        _membership("add", "ids"),
        201,
        extract=lambda body: body["contacts"],
        why="the example is flat; schema postContactInfo and reference §4 nest the report under 'contacts'",
    ),
    ("POST", "/contacts/lists/{listId}/contacts/remove", "201", "emailsArray"): Case(
        _membership("remove", "emails"),
        201,
        extract=lambda body: body["contacts"],
        why="the example is flat; schema postContactInfo and reference §4 nest the report under 'contacts'",
    ),
    ("POST", "/contacts/lists/{listId}/contacts/remove", "201", "idsArray"): Case(
        _membership("remove", "ids"),
        201,
        extract=lambda body: body["contacts"],
        why="the example is flat; schema postContactInfo and reference §4 nest the report under 'contacts'",
    ),
    ("POST", "/contacts/lists/{listId}/contacts/remove", "201", "allTrue"): Case(
        _remove_all,
        201,
        extract=lambda body: body["contacts"],
        why="the example is flat; schema postContactInfo and reference §4 nest the report under 'contacts'",
    ),
    ("GET", "/crm/pipeline/details/all", "200", "from-schema"): Case(_get("/crm/pipeline/details/all"), 200),
    ("GET", "/crm/pipeline/details/all", "400", "Pipeline Not Exist"): Case(
        _get("/crm/pipeline/details/all"),
        400,
        seed_default=False,
        why="an account without any pipeline; " + ERROR_AS_MESSAGE,
    ),
    ("GET", "/crm/attributes/deals", "200", "from-schema"): Case(_get("/crm/attributes/deals"), 200),
    ("GET", "/crm/deals", "200", "from-schema"): Case(
        lambda client, example: (create_deal(client), client.get("/crm/deals"))[1],
        200,
        allow_null=frozenset({"last_activity_date"}),
        why="a deal without activities has no last_activity_date yet (null); the example deal has one",
    ),
    ("GET", "/crm/deals", "400", "response"): Case(
        _get("/crm/deals", limit="abc"), 400, why=ERROR_AS_MESSAGE
    ),
    ("POST", "/crm/deals", "201", "from-schema"): Case(
        lambda client, example: client.post("/crm/deals", json={"name": "Annual plan"}), 201
    ),
    ("GET", "/crm/deals/{id}", "200", "from-schema"): Case(
        lambda client, example: client.get(f"/crm/deals/{create_deal(client)}"),
        200,
        allow_null=frozenset({"last_activity_date"}),
        why="a deal without activities has no last_activity_date yet (null); the example deal has one",
    ),
    ("GET", "/crm/deals/{id}", "400", "response"): Case(
        _get("/crm/deals/not-a-deal-id"), 400, why=ERROR_AS_MESSAGE
    ),
    ("GET", "/crm/deals/{id}", "404", "response"): Case(
        _get("/crm/deals/0123456789abcdef01234567"), 404, why=ERROR_AS_MESSAGE
    ),
    ("PATCH", "/crm/deals/{id}", "400", "response"): Case(
        lambda client, example: client.patch("/crm/deals/not-a-deal-id", json={"name": "x"}),
        400,
        why=ERROR_AS_MESSAGE,
    ),
    ("PATCH", "/crm/deals/{id}", "404", "response"): Case(
        lambda client, example: client.patch("/crm/deals/0123456789abcdef01234567", json={"name": "x"}),
        404,
        why=ERROR_AS_MESSAGE,
    ),
    ("PATCH", "/crm/deals/link-unlink/{id}", "400", "response"): Case(
        lambda client, example: client.patch(
            f"/crm/deals/link-unlink/{create_deal(client)}", json={"linkContactIds": "not-a-list"}
        ),
        400,
        why=ERROR_AS_MESSAGE,
    ),
    ("POST", "/orders/status/batch", "202", "from-schema"): Case(
        _batch_case,
        202,
        allow_missing=frozenset({"batchId"}),
        why="the current SDK (brevo-python 5.1.0) answers batch_id; the older spec's batchId (reference §0)",
    ),
    ("GET", "/orders", "200", "response"): Case(_orders_case, 200),
    ("GET", "/orders", "200", "schema-example"): Case(_orders_case, 200),
}


def test_every_example_is_checked(spec):
    found = set(spec_examples(spec))
    assert found - set(CASES) == set(), "spec examples without a fidelity case"
    assert set(CASES) - found == set(), "cases for examples the spec does not have"
    assert len(found) >= 30


@pytest.mark.parametrize("key", sorted(CASES), ids=lambda key: " ".join(key))
def test_simulator_response_fits_the_spec_example(spec, key):
    example = spec_examples(spec)[key]
    case = CASES[key]
    sim = BrevoSimulator(
        api_key=KEY,
        import_queued_seconds=0.0,
        import_seconds=0.0,
        account=case.account,
        seed_default=case.seed_default,
    )
    client = TestClient(
        Starlette(routes=[Mount("/v3", routes=sim.routes())]),
        base_url="http://sandbox/v3",
        headers={"api-key": KEY},
    )
    response = case.run(client, example)
    assert response.status_code == case.status, response.text
    problems = mismatches(
        example, case.extract(response.json()), allow_missing=case.allow_missing, allow_null=case.allow_null
    )
    assert problems == [], f"{' '.join(key)} ({case.why or 'no exception'}):\n" + "\n".join(problems)


@pytest.mark.parametrize(
    ("example", "actual", "expected"),
    [
        ({"a": 1}, {"a": 2.5, "b": "x"}, []),
        ({"a": 1}, {"a": "1"}, ["$.a: string in the simulator, number in the example"]),
        ({"a": {"b": True}}, {"a": {}}, ["$.a.b: missing in the simulator's response"]),
        ({"a": [{"x": 1}, {"y": "s"}]}, {"a": [{"x": 2}, {"y": "t", "z": 0}]}, []),
        ({"a": [{"x": 1}]}, {"a": [{"y": 2}]}, ["$.a[0].x: missing in the simulator's response"]),
        ({"a": [{"x": 1}]}, {"a": []}, []),
        ({"a": None}, {"a": 5}, []),
        ({"a": "s"}, {"a": None}, ["$.a: null in the simulator, string in the example"]),
        ([1, 2], {"a": 1}, ["$: object in the simulator, array in the example"]),
        ({"a": True}, {"a": 1}, ["$.a: number in the simulator, boolean in the example"]),
    ],
)
def test_the_rule_itself(example, actual, expected):
    assert mismatches(example, actual) == expected
