"""The connector documentation's configuration blocks, as printed, imported against the sandbox and synced.

The samples `documentation_*.yaml` are the documentation's blocks character for character; the
tests only point the placeholder URL at the sandbox (and give keys through the environment).
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from django.urls import reverse

from connectors.models import Connection, Outcome, RunStatus, SyncRecord
from connectors.services import sync_run_start
from mappings.exceptions import ConfigError
from mappings.models import CustomFieldMapping, EventMapping, ListMapping, ScoreMapping, StandardFieldMapping
from tajo_config import config_import
from tests.factories import BrevoAccountFactory, TenantFactory
from tests.sandbox_helpers import drive

pytestmark = pytest.mark.django_db

SAMPLES = Path(__file__).parent / "samples"
BASIC = (SAMPLES / "documentation_basic_setup.yaml").read_text()
FIELDS = (SAMPLES / "documentation_field_mapping.yaml").read_text()
DEBUG = (SAMPLES / "documentation_debug_mode.yaml").read_text()


def test_the_samples_are_the_documentation_blocks_as_printed() -> None:
    # A test that the fixture stays verbatim: no Tajo key, no changed spelling slipped in.
    assert BASIC.splitlines()[:5] == [
        "connectors:",
        "  activecampaign:",
        "    enabled: true",
        '    api_url: "https://yourcompany.api-us1.com"',
        '    api_key: "${AC_API_KEY}"',
    ]
    assert "brevo" not in BASIC and "name:" not in BASIC
    assert [
        line.split(":")[0].strip() for line in FIELDS.splitlines() if not line.strip().startswith("#")
    ] == [
        "field_mapping",
        "email",
        "firstName",
        "lastName",
        "phone",
        "score",
        "rating",
        "deals.value",
        "deals.stage",
        "deals.owner",
        "fieldValues.company",
        "fieldValues.industry",
        "fieldValues.plan_tier",
    ]
    assert (
        DEBUG
        == "connectors:\n  activecampaign:\n    debug: true\n    log_level: verbose\n    log_webhooks: true\n"
    )


def _env(sandbox, *, brevo: bool = True) -> dict[str, str]:
    env = {"AC_API_KEY": sandbox.ac_key}
    if brevo:
        env |= {"BREVO_API_KEY": sandbox.brevo_key, "BREVO_API_URL": sandbox.brevo_api_url}
    return env


def _at_sandbox(text: str, sandbox) -> str:
    return text.replace("https://yourcompany.api-us1.com", sandbox.ac_api_url)


def _import(text: str, sandbox, *, env: dict[str, str] | None = None, **kwargs):
    return config_import(
        text=_at_sandbox(text, sandbox),
        filename="activecampaign.yaml",
        tenant_slug="acme",
        env=_env(sandbox) if env is None else env,
        **kwargs,
    )


def _connection() -> Connection:
    return Connection.objects.select_related("ac_account", "brevo_account").get(
        tenant__slug="acme", name="activecampaign"
    )


def _field_rows(connection: Connection) -> dict[str, list]:
    return {
        "standard": sorted(
            StandardFieldMapping.objects.filter(connection=connection).values_list("source", "attribute")
        ),
        "custom": sorted(
            CustomFieldMapping.objects.filter(connection=connection).values_list("ac_field_id", "attribute")
        ),
        "score": sorted(
            ScoreMapping.objects.filter(connection=connection).values_list("ac_score_id", "attribute")
        ),
    }


EXPECTED_FIELDS = {
    "standard": [
        ("deal.owner", "DEAL_OWNER"),
        ("deal.stage", "DEAL_STAGE"),
        ("deal.value", "DEAL_VALUE"),
        ("email", "EMAIL"),
        ("first_name", "FIRSTNAME"),
        ("last_name", "LASTNAME"),
        ("phone", "SMS"),
    ],
    "custom": [(1, "COMPANY_NAME"), (2, "INDUSTRY"), (3, "PLAN_TIER")],
    # score: the sandbox's "Lead score" (1); rating: its "Engagement" score (2).
    "score": [(1, "LEAD_SCORE"), (2, "ENGAGEMENT_RATING")],
}


def test_basic_setup_alone_takes_the_brevo_key_from_the_environment(sandbox) -> None:
    report = _import(BASIC, sandbox, create_tenant=True)

    assert report.connections == ["acme/activecampaign"]
    connection = _connection()
    assert connection.ac_account.api_url == sandbox.ac_api_url
    assert connection.brevo_account.api_key == sandbox.brevo_key
    assert connection.brevo_account.api_url == sandbox.brevo_api_url
    assert (connection.sync_contacts, connection.sync_events, connection.sync_ecommerce) == (True, True, True)
    assert sorted(
        ListMapping.objects.filter(connection=connection).values_list("ac_list_id", "brevo_list_id")
    ) == [(1, 50), (2, 51), (3, 52)]


def test_basic_setup_uses_the_tenants_brevo_account_when_no_key_is_given(sandbox) -> None:
    tenant = TenantFactory(slug="acme")
    account = BrevoAccountFactory(tenant=tenant, api_url=sandbox.brevo_api_url, api_key=sandbox.brevo_key)

    _import(BASIC, sandbox, env=_env(sandbox, brevo=False))

    assert _connection().brevo_account == account


def test_without_any_brevo_key_one_line_says_where_to_put_it(sandbox) -> None:
    with pytest.raises(ConfigError) as caught:
        _import(BASIC, sandbox, env=_env(sandbox, brevo=False), create_tenant=True)
    assert caught.value.errors == [
        "activecampaign.yaml:1: connectors: no Brevo key: add a 'brevo:' block with api_key under "
        "connectors, or set BREVO_API_KEY (the tenant is new, so none can be taken from it)"
    ]


def test_each_block_alone_then_together_and_the_result_syncs(sandbox, redis_conn) -> None:
    _import(BASIC, sandbox, create_tenant=True)
    # The field mapping block names no credentials: it maps the existing connection's fields.
    report = _import(FIELDS, sandbox, env={}, create_missing=True)
    assert set(report.created_attributes) == {
        "LEAD_SCORE",
        "ENGAGEMENT_RATING",
        "DEAL_VALUE",
        "DEAL_STAGE",
        "DEAL_OWNER",
        "COMPANY_NAME",
        "INDUSTRY",
        "PLAN_TIER",
    }
    connection = _connection()
    assert _field_rows(connection) == EXPECTED_FIELDS
    assert ListMapping.objects.filter(connection=connection).count() == 3  # left as it was

    _import(DEBUG, sandbox, env={})
    connection = _connection()
    assert (connection.debug, connection.log_level, connection.log_webhooks) == (True, "verbose", True)
    assert _field_rows(connection) == EXPECTED_FIELDS

    # The same blocks again, in one file: nothing changes.
    again = _import(BASIC + FIELDS, sandbox, create_missing=True)
    assert (again.rows_created, again.rows_updated, again.rows_deleted) == (0, 0, 0)

    connection.ac_account.requests_per_second = 1000.0  # tests measure behaviour, not pacing
    connection.ac_account.save(update_fields=["requests_per_second"])
    # Every resource the Basic Setup switches on (lists, contacts, deals, automations, events, ecommerce).
    run = drive(sync_run_start(connection=connection))
    assert run.resources == ["lists", "contacts", "deals", "automations", "events", "ecommerce"]
    assert run.status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL), run.error
    assert run.counters["contacts"].get("created", 0) > 0

    # What the documentation's mapping promises is in Brevo for the synced contacts.
    seen: set[str] = set()
    for record in SyncRecord.objects.filter(run=run, outcome__in=[Outcome.CREATED, Outcome.UPDATED]):
        stored = httpx.get(f"{sandbox.base_url}/_sandbox/brevo/contacts", params={"email": record.key})
        assert stored.status_code == 200, stored.text
        seen |= set(stored.json()["attributes"])
    assert {"FIRSTNAME", "LEAD_SCORE", "ENGAGEMENT_RATING", "COMPANY_NAME", "INDUSTRY", "PLAN_TIER"} <= seen
    assert {"DEAL_VALUE", "DEAL_STAGE", "DEAL_OWNER"} <= seen


def test_the_field_mapping_block_without_a_connection_says_what_it_needs(sandbox) -> None:
    with pytest.raises(ConfigError) as caught:
        _import(FIELDS, sandbox, env={}, create_tenant=True)
    assert caught.value.errors == [
        "activecampaign.yaml:1: connectors.activecampaign: missing required key 'api_url' (the tenant "
        "is new and has no connection 'activecampaign' yet whose credentials this block could keep)",
        "activecampaign.yaml:1: connectors.activecampaign: missing required key 'api_key' (the tenant "
        "is new and has no connection 'activecampaign' yet whose credentials this block could keep)",
        "activecampaign.yaml:1: connectors: no Brevo key: add a 'brevo:' block with api_key under "
        "connectors, or set BREVO_API_KEY (the tenant is new, so none can be taken from it)",
    ]


def test_every_error_comes_at_once_with_its_line_and_the_accepted_spelling(sandbox) -> None:
    _import(BASIC, sandbox, create_tenant=True)
    text = BASIC.replace("    enabled: true\n", "    enabled: true\n    log_level: loud\n") + FIELDS.replace(
        "firstName:", "firstNme:"
    ).replace("deals.value:", "deals.valeu:").replace("fieldValues.industry:", "fieldValues.industy:")
    # An unset variable is one more error of the same round, not a reason to stop first.
    text = text.replace('"Main List": 50', '"Main List": "${TAJO_CONFIG_MAIN_LIST}"')
    with pytest.raises(ConfigError) as caught:
        _import(text, sandbox, create_missing=True)
    lines = text.splitlines()

    def at(fragment: str) -> str:
        return f"activecampaign.yaml:{next(n for n, line in enumerate(lines, 1) if fragment in line)}:"

    errors = caught.value.errors
    assert len(errors) == 5, errors
    assert errors[0] == (
        f"{at('log_level')} connectors.activecampaign.log_level: 'loud' is not one of "
        "verbose, debug, info, warning, error"
    )
    assert errors[1] == (
        f'{at("Main List")} connectors.activecampaign.list_mapping."Main List": '
        "environment variable TAJO_CONFIG_MAIN_LIST is not set"
    )
    assert errors[2].startswith(f"{at('firstNme')} connectors.activecampaign.field_mapping.firstNme: ")
    assert "did you mean 'firstName'?" in errors[2]
    assert "did you mean 'deals.value'?" in errors[3]
    assert "did you mean 'fieldValues.industry'?" in errors[4]
    assert "accepted: email, firstName, lastName, phone" in errors[4]


def test_todays_spellings_keep_working(sandbox) -> None:
    _import(BASIC, sandbox, create_tenant=True)
    text = (
        "field_mapping:\n  first_name: FIRSTNAME\n  deal_value: DEAL_VALUE\n  company: COMPANY_NAME\n"
        "  FIELDVALUES.Plan tier: PLAN_TIER\n  field:2: INDUSTRY\n  LASTNAME: LASTNAME\n"
    )
    _import(text, sandbox, env={}, create_missing=True)
    rows = _field_rows(_connection())
    assert rows["standard"] == [
        ("deal.value", "DEAL_VALUE"),
        ("first_name", "FIRSTNAME"),
        ("last_name", "LASTNAME"),
    ]
    assert rows["custom"] == [(1, "COMPANY_NAME"), (2, "INDUSTRY"), (3, "PLAN_TIER")]


def test_event_mapping_takes_the_documentations_webhook_event_names(sandbox) -> None:
    _import(BASIC, sandbox, create_tenant=True)
    text = (
        "connectors:\n  activecampaign:\n    event_mapping:\n"
        "      contact_add: welcome_flow\n      update: profile_changed\n"
    )
    _import(text, sandbox, env={})
    connection = _connection()
    assert sorted(
        EventMapping.objects.filter(connection=connection).values_list("ac_event_name", "brevo_event_name")
    ) == [
        ("contact_add", "welcome_flow"),
        ("update", "profile_changed"),
    ]


def test_events_on_without_an_event_mapping_is_said_on_the_connection_and_the_run(
    sandbox, redis_conn, admin_client
) -> None:
    from connectors.models import RunLogEntry
    from mappings.selectors import events_without_mapping

    _import(BASIC, sandbox, create_tenant=True)  # sync.events: true, no event_mapping
    connection = _connection()
    note = events_without_mapping(connection)
    assert "no tracked ActiveCampaign event is mapped" in note

    run = drive(sync_run_start(connection=connection, resources=["events"]))
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert [e.message for e in RunLogEntry.objects.filter(run=run)] == [f"events: {note}"]

    # The connection page's "Check mappings" says it too.
    page = admin_client.get(reverse("admin:mappings_catalog_check", args=[connection.pk]), follow=True)
    assert note in [str(m) for m in page.context["messages"]]


def test_list_structure_and_tag_segments_replicate_without_mapping_each(sandbox) -> None:
    from mappings.models import CatalogItem, TagMapping

    text = (
        "connectors:\n  activecampaign:\n"
        '    api_url: "https://yourcompany.api-us1.com"\n    api_key: "${AC_API_KEY}"\n'
        '    list_mapping:\n      "*": same\n      "Main List": 50\n'
        '    tag_mapping:\n      "*": same\n'
    )
    report = _import(text, sandbox, create_tenant=True)
    connection = _connection()
    catalog = CatalogItem.objects.filter(catalog__connection=connection, side="ac")
    ac_lists = {int(i): label for i, label in catalog.filter(kind="list").values_list("external_id", "label")}
    ac_tags = {int(i): label for i, label in catalog.filter(kind="tag").values_list("external_id", "label")}
    brevo = {v["name"]: int(k) for k, v in sandbox.brevo._lists.items()}

    rows = dict(ListMapping.objects.filter(connection=connection).values_list("ac_list_id", "brevo_list_id"))
    assert set(rows) == set(ac_lists)
    assert rows[1] == 50  # named explicitly: kept as given
    assert all(rows[i] == brevo[label] for i, label in ac_lists.items() if i != 1)
    tags = dict(TagMapping.objects.filter(connection=connection).values_list("ac_tag_id", "brevo_list_id"))
    assert tags == {i: brevo[label] for i, label in ac_tags.items()}
    assert "vip" in report.created_lists


def test_replicating_too_many_is_one_error(sandbox, monkeypatch) -> None:
    monkeypatch.setattr("tajo_config.resolve.REPLICATE_MAX", 2)
    text = (
        "connectors:\n  activecampaign:\n"
        '    api_url: "https://yourcompany.api-us1.com"\n    api_key: "${AC_API_KEY}"\n'
        '    tag_mapping:\n      "*": same\n'
    )
    with pytest.raises(ConfigError) as caught:
        _import(text, sandbox, create_tenant=True)
    assert len(caught.value.errors) == 1
    assert 'tag_mapping."*": replicating would create' in caught.value.errors[0]


def test_a_new_connection_gets_the_documentations_default_mappings_and_tags_attribute(sandbox) -> None:
    # Brevo attributes the documentation's default table maps onto, where the account has them.
    for name in ("LEAD_SCORE", "DEAL_VALUE"):
        if name not in sandbox.brevo._attributes:
            created = httpx.post(
                f"{sandbox.brevo_api_url}/contacts/attributes/normal/{name}",
                json={"type": "float"},
                headers={"api-key": sandbox.brevo_key},
            )
            assert created.status_code == 201, created.text
    report = _import(BASIC, sandbox, create_tenant=True)
    connection = _connection()
    assert "acme/activecampaign: default mapping score → LEAD_SCORE" in report.lines()
    assert ScoreMapping.objects.filter(connection=connection, attribute="LEAD_SCORE").exists()
    assert StandardFieldMapping.objects.filter(connection=connection, source="deal.value").exists()
    assert connection.tags_attribute == "TAGS"
    assert sandbox.brevo._attributes["TAGS"]["type"] == "multiple-choice"

    # A file that maps fields itself gets exactly what it maps.
    again = _import(FIELDS, sandbox, env={}, create_missing=True)
    assert not [line for line in again.lines() if "default mapping" in line]
