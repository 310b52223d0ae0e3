"""YAML import/export against the sandbox over real HTTP, stored in PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core import serializers
from django.core.management import call_command
from django.core.management.base import CommandError

from connectors.models import ActiveCampaignAccount, BrevoAccount, Connection
from mappings.exceptions import ConfigError
from mappings.models import (
    MAPPING_MODELS,
    AutomationMapping,
    CatalogItem,
    CustomFieldMapping,
    CustomObjectFieldMapping,
    EventMapping,
    ListMapping,
    OwnerMapping,
    ScoreMapping,
    StageMapping,
    StandardFieldMapping,
    TagMapping,
)
from mappings.selectors import mapping_snapshot
from tajo_config import config_export, config_import
from tenants.models import Tenant

pytestmark = pytest.mark.django_db

SAMPLES = Path(__file__).parent / "samples"


def _documentation_example(sandbox) -> str:
    """The documentation's example; only its two URLs point at the sandbox instead of the real hosts."""
    text = (SAMPLES / "connector_documentation.yaml").read_text()
    return text.replace("https://yourcompany.api-us1.com", sandbox.ac_api_url).replace(
        "https://api.brevo.com/v3", sandbox.brevo_api_url
    )


def _keys(monkeypatch, sandbox) -> None:
    monkeypatch.setenv("AC_API_KEY", sandbox.ac_key)
    monkeypatch.setenv("BREVO_API_KEY", sandbox.brevo_key)
    monkeypatch.setenv("AC_API_URL", sandbox.ac_api_url)
    monkeypatch.setenv("BREVO_API_URL", sandbox.brevo_api_url)


def _brevo_attributes(sandbox) -> dict[str, str | None]:
    return {name: attr.get("type") for name, attr in sandbox.brevo._attributes.items()}


def _line_of(text: str, fragment: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), start=1) if fragment in line)


def test_a_plan_change_in_the_file_keeps_the_accounts_own_rate(sandbox, monkeypatch, tmp_path) -> None:
    _keys(monkeypatch, sandbox)
    config = tmp_path / "config.yaml"
    config.write_text(_documentation_example(sandbox))
    call_command(
        "tajo_config", "import", str(config), "--tenant", "acme", "--create-tenant", "--create-missing"
    )
    account = Connection.objects.get(tenant__slug="acme", name="activecampaign").ac_account
    account.requests_per_second = 12.0  # ActiveCampaign raised this account's limit
    account.save()

    config.write_text(config.read_text().replace("plan: lite", "plan: professional", 1))
    call_command("tajo_config", "import", str(config), "--tenant", "acme")

    account.refresh_from_db()
    assert (account.plan, account.requests_per_second) == ("professional", 12.0)


def test_documentation_example_imports_unchanged_with_create_missing(
    sandbox, monkeypatch, tmp_path, capsys
) -> None:
    _keys(monkeypatch, sandbox)
    config = tmp_path / "config.yaml"
    config.write_text(_documentation_example(sandbox))

    call_command(
        "tajo_config", "import", str(config), "--tenant", "acme", "--create-tenant", "--create-missing"
    )

    out = capsys.readouterr().out
    assert "imported acme/activecampaign" in out
    assert (
        "created Brevo attributes: LEAD_SCORE, ENGAGEMENT_RATING, DEAL_VALUE, DEAL_STAGE, DEAL_OWNER, "
        "COMPANY_NAME, INDUSTRY, PLAN_TIER" in out
    )
    connection = Connection.objects.get(tenant__slug="acme", name="activecampaign")
    assert connection.ac_account.api_url == sandbox.ac_api_url
    assert connection.ac_account.api_key == sandbox.ac_key
    assert (connection.ac_account.plan, connection.ac_account.requests_per_second) == ("lite", 5.0)
    assert connection.brevo_account.api_key == sandbox.brevo_key
    assert (connection.sync_events, connection.sync_ecommerce, connection.log_webhooks) == (True, True, True)
    assert (connection.debug, connection.log_level) == (True, "verbose")
    assert connection.default_phone_country == "US"

    assert sorted(
        ListMapping.objects.filter(connection=connection).values_list("ac_list_id", "brevo_list_id")
    ) == [
        (1, 50),
        (2, 51),
        (3, 52),
    ]
    assert sorted(
        CustomFieldMapping.objects.filter(connection=connection).values_list(
            "ac_field_id", "attribute", "transform"
        )
    ) == [(1, "COMPANY_NAME", "text"), (2, "INDUSTRY", "text"), (3, "PLAN_TIER", "text")]
    assert sorted(
        StandardFieldMapping.objects.filter(connection=connection).values_list(
            "source", "attribute", "transform"
        )
    ) == [
        ("deal.owner", "DEAL_OWNER", "text"),
        ("deal.stage", "DEAL_STAGE", "text"),
        ("deal.value", "DEAL_VALUE", "number"),
        ("email", "EMAIL", "text"),
        ("first_name", "FIRSTNAME", "text"),
        ("last_name", "LASTNAME", "text"),
        ("phone", "SMS", "phone"),
    ]
    # score: the "Lead score"; rating: the "Engagement" score (the sandbox's contact scores 1 and 2).
    assert sorted(
        ScoreMapping.objects.filter(connection=connection).values_list(
            "ac_score_id", "attribute", "transform"
        )
    ) == [(1, "LEAD_SCORE", "number"), (2, "ENGAGEMENT_RATING", "number")]
    # Created in Brevo with the type each mapping needs, and known to the stored catalog.
    attributes = _brevo_attributes(sandbox)
    assert attributes["DEAL_VALUE"] == attributes["LEAD_SCORE"] == "float"
    assert attributes["COMPANY_NAME"] == attributes["DEAL_STAGE"] == "text"
    assert CatalogItem.objects.filter(
        catalog__connection=connection, kind="attribute", external_id="DEAL_VALUE"
    ).exists()

    mapping = mapping_snapshot(connection=connection)
    assert {rule.attribute for rule in mapping.fields} == {
        "FIRSTNAME",
        "LASTNAME",
        "SMS",
        "LEAD_SCORE",
        "ENGAGEMENT_RATING",
        "COMPANY_NAME",
        "INDUSTRY",
        "PLAN_TIER",
        "DEAL_VALUE",
        "DEAL_STAGE",
        "DEAL_OWNER",
    }
    assert mapping.labels.stage_titles[5] == "Negotiation"


def test_missing_brevo_attributes_are_errors_and_nothing_is_written(
    sandbox, monkeypatch, tmp_path, capsys
) -> None:
    _keys(monkeypatch, sandbox)
    text = _documentation_example(sandbox)
    config = tmp_path / "config.yaml"
    config.write_text(text)
    before = _brevo_attributes(sandbox)

    with pytest.raises(CommandError) as caught:
        call_command("tajo_config", "import", str(config), "--tenant", "acme", "--create-tenant")

    assert caught.value.returncode == 1
    assert "8 problem(s)" in str(caught.value)
    errors = capsys.readouterr().err.splitlines()
    assert errors[0] == (
        f"{config}:{_line_of(text, 'score: LEAD_SCORE')}: connectors.activecampaign.field_mapping.score: "
        "Brevo has no attribute LEAD_SCORE (run with --create-missing to create it as float)"
    )
    assert errors[2] == (
        f"{config}:{_line_of(text, 'deals.value:')}: "
        'connectors.activecampaign.field_mapping."deals.value": '
        "Brevo has no attribute DEAL_VALUE (run with --create-missing to create it as float)"
    )
    assert not Tenant.objects.filter(slug="acme").exists()
    assert not ActiveCampaignAccount.objects.exists() and not BrevoAccount.objects.exists()
    assert _brevo_attributes(sandbox) == before


def test_dry_run_checks_everything_and_writes_nothing(sandbox) -> None:
    env = {"AC_API_KEY": sandbox.ac_key, "BREVO_API_KEY": sandbox.brevo_key}
    report = config_import(
        text=_documentation_example(sandbox),
        filename="config.yaml",
        tenant_slug="acme",
        create_tenant=True,
        create_missing=True,
        dry_run=True,
        env=env,
    )
    assert report.lines()[0] == "would import acme/activecampaign"
    assert "DEAL_VALUE" in report.created_attributes
    assert not Tenant.objects.filter(slug="acme").exists()
    assert "DEAL_VALUE" not in sandbox.brevo._attributes


def _env(sandbox) -> dict[str, str]:
    return {
        "AC_API_KEY": sandbox.ac_key,
        "BREVO_API_KEY": sandbox.brevo_key,
        "AC_API_URL": sandbox.ac_api_url,
        "BREVO_API_URL": sandbox.brevo_api_url,
    }


def test_every_extension_resolves_labels_to_ids(sandbox) -> None:
    text = (SAMPLES / "extensions.yaml").read_text()
    report = config_import(
        text=text,
        filename="extensions.yaml",
        tenant_slug="acme",
        create_tenant=True,
        create_missing=True,
        env=_env(sandbox),
    )
    assert report.created_lists == ["Beta testers"]
    connection = Connection.objects.get(tenant__slug="acme", name="full")
    rows = lambda model, *fields: sorted(model.objects.filter(connection=connection).values_list(*fields))  # noqa: E731
    beta = next(k for k, v in sandbox.brevo._lists.items() if v["name"] == "Beta testers")
    assert rows(ListMapping, "ac_list_id", "brevo_list_id") == [(1, 50), (1, 51), (2, 51), (5, beta)]
    assert rows(CustomFieldMapping, "ac_field_id", "attribute", "transform") == [
        (3, "PLAN_TIER", "text"),
        (6, "BIRTHDAY", "date"),
        (8, "INTERESTS", "multi"),
        (12, "LIFETIME_ORDERS", "number"),
    ]
    assert ("phone", "WHATSAPP", "phone") in rows(StandardFieldMapping, "source", "attribute", "transform")
    attributes = sandbox.brevo._attributes
    assert attributes["INTERESTS"]["type"] == "multiple-choice"
    assert attributes["INTERESTS"]["multiCategoryOptions"] == [
        "Baking",
        "Coffee",
        "Travel",
        "Design",
        "Running",
    ]
    assert (attributes["BIRTHDAY"]["type"], attributes["LIFETIME_ORDERS"]["type"]) == ("date", "float")
    assert rows(
        TagMapping,
        "ac_tag_id",
        "brevo_list_id",
        "attribute",
        "value",
        "value_when_absent",
        "unlink_when_absent",
    ) == [
        (1, 52, "", "true", "", False),
        (2, None, "OPT_IN", "true", "false", False),
        (5, 50, "", "true", "", True),
    ]
    pipeline = sandbox.brevo._pipelines[0]
    stage_ids = {stage["name"]: stage["id"] for stage in pipeline["stages"]}
    assert rows(StageMapping, "ac_pipeline_id", "ac_stage_id", "brevo_pipeline_id", "brevo_stage_id") == [
        (1, 1, pipeline["pipeline"], stage_ids["Qualified"]),
        (1, 3, pipeline["pipeline"], stage_ids["Won"]),
        (2, 5, pipeline["pipeline"], stage_ids["Negotiation"]),
    ]
    assert rows(OwnerMapping, "ac_user_id", "brevo_owner") == [(2, "sales.lead@example.com"), (3, "1000001")]
    assert rows(AutomationMapping, "ac_automation_id", "brevo_event_entered", "brevo_event_completed") == [
        (1, "welcome_started", ""),
        (2, "onboarding_started", "onboarding_done"),
    ]
    assert rows(EventMapping, "ac_event_name", "brevo_event_name") == [
        ("plan_upgraded", "plan-upgraded"),
        ("trial_started", "trial_started"),
    ]
    assert rows(ScoreMapping, "ac_score_id", "attribute", "transform") == [
        (1, "LEAD_SCORE", "number"),
        (2, "ENGAGEMENT", "text"),
    ]
    schema_id = next(iter(sandbox.ac.schemas))
    assert rows(CustomObjectFieldMapping, "ac_schema_id", "ac_field_key", "attribute") == [
        (schema_id, "mrr", "MRR"),
        (schema_id, "plan", "SUBSCRIPTION_PLAN"),
    ]
    mapping = mapping_snapshot(connection=connection)
    assert len(mapping.stages) == 3 and len(mapping.owners) == 2 and mapping.default_country == "GB"


def test_export_import_export_is_stable(sandbox) -> None:
    env = _env(sandbox)
    config_import(
        text=(SAMPLES / "extensions.yaml").read_text(),
        filename="extensions.yaml",
        tenant_slug="acme",
        create_tenant=True,
        create_missing=True,
        env=env,
    )
    # The documentation's example at a faster plan: this test is about the round trip, not pacing.
    example = _documentation_example(sandbox).replace("plan: lite", "plan: enterprise")
    config_import(text=example, filename="config.yaml", tenant_slug="acme", create_missing=True, env=env)
    tenant = Tenant.objects.get(slug="acme")
    first = config_export(tenant=tenant)
    assert first.count("connectors:") == 2  # one document per connection
    assert sandbox.ac_key not in first and sandbox.brevo_key not in first
    assert "api_key: ${AC_API_KEY}" in first and "api_key: ${AC_API_KEY_FULL}" in first

    env.update(AC_API_KEY_FULL=sandbox.ac_key, BREVO_API_KEY_FULL=sandbox.brevo_key)
    report = config_import(text=first, filename="export.yaml", tenant_slug="acme", env=env)
    assert (report.rows_created, report.rows_updated, report.rows_deleted) == (0, 0, 0)
    assert config_export(tenant=tenant) == first

    # Into another tenant, then back out: the same file.
    config_import(text=first, filename="export.yaml", tenant_slug="copy", create_tenant=True, env=env)
    assert config_export(tenant=Tenant.objects.get(slug="copy")) == first


def test_export_command(sandbox, monkeypatch, capsys) -> None:
    config_import(
        text=_documentation_example(sandbox),
        filename="config.yaml",
        tenant_slug="acme",
        create_tenant=True,
        create_missing=True,
        env=_env(sandbox),
    )
    call_command("tajo_config", "export", "--tenant", "acme")
    out = capsys.readouterr().out
    assert out.startswith("connectors:\n  activecampaign:\n    enabled: true\n    name: activecampaign\n")
    assert "      Main List: 50\n" in out and "      fieldValues.plan_tier: PLAN_TIER\n" in out
    with pytest.raises(CommandError) as caught:
        call_command("tajo_config", "export", "--tenant", "nobody")
    assert caught.value.returncode == 1


def _state() -> str:
    rows = []
    for model in (Tenant, ActiveCampaignAccount, BrevoAccount, Connection, CatalogItem, *MAPPING_MODELS):
        rows.extend(model.objects.order_by("pk"))
    return serializers.serialize("json", rows)


BASE = """\
connectors:
  activecampaign:
    api_url: "${AC_API_URL}"
    api_key: "${AC_API_KEY}"
    plan: enterprise
    log_level: info
    list_mapping:
      "Main List": 50
    field_mapping:
      email: email
      first_name: FIRSTNAME
      last_name: LASTNAME
      phone: SMS
  brevo:
    api_key: "${BREVO_API_KEY}"
    api_url: "${BREVO_API_URL}"
"""

BAD_INPUTS = {
    "unknown key": (
        BASE.replace("    log_level: info\n", "    log_level: debug\n    colour: blue\n"),
        "7: connectors.activecampaign.colour: unknown key 'colour' (expected one of: enabled, name,",
    ),
    "wrong type": (
        BASE.replace("    plan: enterprise\n", '    plan: enterprise\n    enabled: "yes please"\n'),
        "6: connectors.activecampaign.enabled: expected true or false, got text ('yes please')",
    ),
    "unset environment variable": (
        BASE.replace("${AC_API_KEY}", "${TAJO_CONFIG_NOT_SET_ANYWHERE}"),
        "4: connectors.activecampaign.api_key: environment variable TAJO_CONFIG_NOT_SET_ANYWHERE is not set",
    ),
    "label matching two AC fields": (
        BASE.replace("      phone: SMS\n", "      phone: SMS\n      company: FIRSTNAME\n"),
        "14: connectors.activecampaign.field_mapping.company: 'company' matches 2 "
        "ActiveCampaign custom fields "
        '(custom field 1 "Company", custom field 13 "Company"); use fieldValues.<id> instead',
    ),
    "attribute of another type": (
        BASE.replace("      phone: SMS\n", "      phone: SMS\n      deal_value: OPT_IN\n"),
        "14: connectors.activecampaign.field_mapping.deal_value: Brevo attribute OPT_IN is boolean; "
        "transform "
        "'number' does not fill a boolean attribute (map it onto an attribute of another type)",
    ),
    "unknown AC list": (
        BASE.replace('      "Main List": 50\n', '      "Main List": 50\n      "Nope": 51\n'),
        "9: connectors.activecampaign.list_mapping.Nope: ActiveCampaign has no list named or numbered 'Nope'",
    ),
    "unknown Brevo list id": (
        BASE.replace('"Main List": 50', '"Main List": 999'),
        '8: connectors.activecampaign.list_mapping."Main List": Brevo has no list 999',
    ),
    "two sources onto one attribute": (
        BASE.replace("      last_name: LASTNAME\n", "      last_name: FIRSTNAME\n"),
        "12: connectors.activecampaign.field_mapping.last_name: attribute FIRSTNAME is already filled by "
        "AC first name → FIRSTNAME",
    ),
    "stage of another pipeline": (
        BASE + "",  # replaced below (needs a stage_mapping section)
        "",
    ),
}
BAD_INPUTS["stage of another pipeline"] = (
    BASE.replace(
        "  brevo:\n", '    stage_mapping:\n      "Sales/Negotiation": "Sales pipeline/Won"\n  brevo:\n'
    ),
    '15: connectors.activecampaign.stage_mapping."Sales/Negotiation": '
    "ActiveCampaign pipeline 'Sales' has no "
    "stage named 'Negotiation'",
)


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_gives_a_clear_error_and_changes_nothing(case: str, sandbox) -> None:
    env = _env(sandbox)
    config_import(text=BASE, filename="config.yaml", tenant_slug="acme", create_tenant=True, env=env)
    with sandbox.ac.lock:  # a second field titled like the first one
        sandbox.ac.fields["13"] = {**sandbox.ac.fields["1"], "id": "13", "perstag": "COMPANY_2"}
    before, brevo_before = _state(), _brevo_attributes(sandbox)

    text, expected = BAD_INPUTS[case]
    with pytest.raises(ConfigError) as caught:
        config_import(text=text, filename="config.yaml", tenant_slug="acme", create_missing=False, env=env)

    assert [line for line in caught.value.errors if line.startswith("config.yaml:" + expected)], (
        f"expected 'config.yaml:{expected}…' in {caught.value.errors}"
    )
    assert _state() == before
    assert _brevo_attributes(sandbox) == brevo_before


def test_a_bad_second_connection_keeps_the_first_from_being_written(sandbox) -> None:
    second = BASE.replace("    plan: enterprise\n", "    plan: enterprise\n    name: second\n").replace(
        "LASTNAME", "NO_SUCH_ATTRIBUTE"
    )
    with pytest.raises(ConfigError) as caught:
        config_import(
            text=BASE + "---\n" + second,
            filename="two.yaml",
            tenant_slug="acme",
            create_tenant=True,
            env=_env(sandbox),
        )
    line = (BASE + "---\n" + second).splitlines().index("      last_name: NO_SUCH_ATTRIBUTE") + 1
    assert caught.value.errors == [
        f"two.yaml:{line}: connectors.activecampaign.field_mapping.last_name: Brevo has no attribute "
        "NO_SUCH_ATTRIBUTE (run with --create-missing to create it as text)"
    ]
    assert not Tenant.objects.filter(slug="acme").exists()


def test_bad_credentials_are_reported_at_the_key(sandbox) -> None:
    env = {**_env(sandbox), "BREVO_API_KEY": "xkeysib-wrong-0000"}
    with pytest.raises(ConfigError) as caught:
        config_import(text=BASE, filename="config.yaml", tenant_slug="acme", create_tenant=True, env=env)
    (line,) = caught.value.errors
    assert line.startswith("config.yaml:15: connectors.brevo.api_key: discovery failed: Brevo:")
    assert "xkeysib-wrong-0000" not in line


def test_import_changes_are_in_the_audit_history(sandbox) -> None:
    env = _env(sandbox)
    config_import(text=BASE, filename="config.yaml", tenant_slug="acme", create_tenant=True, env=env)
    changed = BASE.replace("phone: SMS", "phone: {attribute: SMS, transform: text}").replace(
        '      "Main List": 50\n', ""
    )
    report = config_import(text=changed, filename="changed.yaml", tenant_slug="acme", env=env)
    assert (report.rows_created, report.rows_updated, report.rows_deleted) == (0, 1, 1)

    connection = Connection.objects.get(tenant__slug="acme")
    phone = StandardFieldMapping.objects.get(connection=connection, source="phone")
    latest, previous = phone.history.order_by("-history_date")[:2]
    assert latest.history_change_reason == "tajo_config import changed.yaml"
    delta = latest.diff_against(previous)
    assert [(c.field, c.old, c.new) for c in delta.changes] == [("transform", "phone", "text")]
    deleted = ListMapping.history.filter(connection_id=connection.pk, history_type="-").get()
    assert (deleted.ac_list_id, deleted.brevo_list_id) == (1, 50)
