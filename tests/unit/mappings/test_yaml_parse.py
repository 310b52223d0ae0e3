"""YAML parsing: line numbers, dotted keys, ${ENV} interpolation, key and type checks. No DB, no HTTP."""

from __future__ import annotations

import pytest

from mappings.exceptions import ConfigError
from tajo_config.parse import dotted, parse_documents
from tajo_config.schema import read_spec

ENV = {"AC_API_KEY": "ac-secret-1234", "BREVO_API_KEY": "xkeysib-secret-5678"}

GOOD = """\
connectors:
  activecampaign:
    enabled: true
    api_url: "https://acme.api-us1.com"
    api_key: "${AC_API_KEY}"
    sync:
      contacts: true
      options: {includeTags: false, defaultPhoneCountry: de}
    list_mapping:
      "Main List": 50
    field_mapping:
      company: COMPANY
      phone: {attribute: SMS, transform: phone}
    log_level: INFO
  brevo:
    api_key: "${BREVO_API_KEY}"
"""


def _spec(text: str, env: dict[str, str] | None = None):
    errors: list[str] = []
    documents = parse_documents(text, "config.yaml", env=ENV if env is None else env)
    spec = read_spec(documents[0], errors)
    return spec, errors


def test_reads_the_documented_block_with_values_and_sections() -> None:
    spec, errors = _spec(GOOD)
    assert errors == []
    assert spec.name == "activecampaign"
    assert spec.api_url == "https://acme.api-us1.com"
    assert spec.api_key == "ac-secret-1234"
    assert spec.brevo_api_key == "xkeysib-secret-5678"
    assert spec.brevo_api_url == "https://api.brevo.com/v3"
    assert spec.values == {
        "enabled": True,
        "log_level": "info",
        "sync_contacts": True,
        "include_tags": False,
        "default_phone_country": "DE",
    }
    assert spec.sections["list_mapping"] == {"Main List": 50}
    assert spec.sections["field_mapping"]["phone"] == {"attribute": "SMS", "transform": "phone"}


def test_lines_are_recorded_for_every_key() -> None:
    document = parse_documents(GOOD, "config.yaml", env=ENV)[0]
    assert document.line(("connectors", "activecampaign", "field_mapping", "company")) == 12
    assert document.line(("connectors", "activecampaign", "list_mapping", "Main List")) == 10
    # An unknown path falls back to its nearest known parent.
    assert document.line(("connectors", "activecampaign", "field_mapping", "nope")) == 11


def test_error_names_file_line_and_dotted_key() -> None:
    document = parse_documents(GOOD, "config.yaml", env=ENV)[0]
    path = ("connectors", "activecampaign", "list_mapping", "Main List")
    assert (
        document.error(path, "boom")
        == 'config.yaml:10: connectors.activecampaign.list_mapping."Main List": boom'
    )


def test_dotted_quotes_odd_keys_and_shows_list_positions() -> None:
    from tajo_config.parse import _Index

    assert dotted(("a", "b c", 12, _Index(0), 'q"x')) == 'a."b c".12[0]."q\\"x"'


def test_unset_environment_variable_is_an_error_with_its_line() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_documents(GOOD, "config.yaml", env={"AC_API_KEY": "x"})
    assert caught.value.errors == [
        "config.yaml:16: connectors.brevo.api_key: environment variable BREVO_API_KEY is not set"
    ]


def test_unknown_key_is_reported_with_what_is_allowed() -> None:
    text = GOOD.replace("    log_level: INFO\n", "    log_level: INFO\n    colour: blue\n")
    _, errors = _spec(text)
    assert len(errors) == 1
    assert errors[0].startswith(
        "config.yaml:15: connectors.activecampaign.colour: unknown key 'colour' (expected"
    )


def test_wrong_types_are_each_reported() -> None:
    text = GOOD.replace("enabled: true", "enabled: maybe").replace("contacts: true", "contacts: 3")
    text = text.replace("includeTags: false", "includeTags: 'no'").replace(
        "log_level: INFO", "log_level: loud"
    )
    spec, errors = _spec(text)
    # Still read (so that its mappings are checked too and every error comes at once), never applied;
    # the errors come in file order.
    assert spec.broken
    assert errors == [
        "config.yaml:3: connectors.activecampaign.enabled: expected true or false, got text ('maybe')",
        "config.yaml:7: connectors.activecampaign.sync.contacts: expected true or false, got a number (3)",
        "config.yaml:8: connectors.activecampaign.sync.options.includeTags: "
        "expected true or false, got text ('no')",
        "config.yaml:14: connectors.activecampaign.log_level: 'loud' is not one of "
        "verbose, debug, info, warning, error",
    ]


def test_credentials_may_be_left_out_but_a_brevo_block_needs_its_key() -> None:
    # Without api_url/api_key the block changes an existing connection (checked at import).
    spec, errors = _spec("connectors:\n  activecampaign:\n    enabled: true\n  brevo:\n    api_url: x\n")
    assert "config.yaml:4: connectors.brevo: missing required key 'api_key'" in errors
    assert (spec.api_url, spec.api_key, spec.gives_ac) == (None, None, False)
    assert spec.broken and spec.unusable_credentials


def test_the_documentation_debug_mode_block_reads_as_settings_only() -> None:
    text = "connectors:\n  activecampaign:\n    debug: true\n    log_level: verbose\n    log_webhooks: true\n"
    spec, errors = _spec(text)
    assert errors == []
    assert spec.values == {"debug": True, "log_webhooks": True, "log_level": "verbose"}
    assert (spec.gives_ac, spec.gives_brevo, spec.sections) == (False, False, {})


def test_a_top_level_field_mapping_belongs_to_the_one_connection() -> None:
    text = (
        GOOD.replace("    field_mapping:\n      company: COMPANY\n", "")
        + "field_mapping:\n  firstName: FIRSTNAME\n"
    )
    text = text.replace("      phone: {attribute: SMS, transform: phone}\n", "")
    spec, errors = _spec(text)
    assert errors == []
    assert spec.sections["field_mapping"] == {"firstName": "FIRSTNAME"}
    # Errors about its keys name the place it belongs, at the line it is on.
    path = ("connectors", "activecampaign", "field_mapping", "firstName")
    assert spec.doc.line(path) == text.splitlines().index("  firstName: FIRSTNAME") + 1


def test_a_top_level_field_mapping_in_a_file_of_several_connections_is_one_line() -> None:
    second = GOOD.replace('api_key: "${AC_KEY}"', 'api_key: "${AC_KEY}"\n    name: second')
    text = GOOD + "field_mapping:\n  firstName: FIRSTNAME\n---\n" + second
    documents = parse_documents(text, "two.yaml", env=ENV)
    errors: list[str] = []
    read_spec(documents[0], errors, documents=2)
    assert errors == [
        "two.yaml:17: field_mapping: 'field_mapping' belongs under connectors.activecampaign (a file "
        "with several connections cannot say which one a top-level 'field_mapping' is for)"
    ]


def test_bad_urls_say_what_is_expected() -> None:
    text = GOOD.replace("https://acme.api-us1.com", "https://acme.activehosted.com")
    _, errors = _spec(text)
    assert len(errors) == 1
    assert errors[0].startswith(
        "config.yaml:4: connectors.activecampaign.api_url: This is the ActiveCampaign dashboard URL"
    )


def test_duplicate_keys_are_refused() -> None:
    text = GOOD.replace("      company: COMPANY\n", "      company: COMPANY\n      company: OTHER\n")
    with pytest.raises(ConfigError) as caught:
        parse_documents(text, "config.yaml", env=ENV)
    assert caught.value.errors == [
        "config.yaml:13: connectors.activecampaign.field_mapping.company: this key appears twice"
    ]


def test_yaml_syntax_error_names_the_line() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_documents("connectors:\n  activecampaign: [\n", "broken.yaml")
    assert caught.value.errors[0].startswith("broken.yaml:3: not valid YAML")


def test_several_documents_each_keep_their_own_lines() -> None:
    second = GOOD.replace('api_key: "${AC_API_KEY}"', 'api_key: "${AC_API_KEY}"\n    name: second')
    documents = parse_documents(GOOD + "---\n" + second, "two.yaml", env=ENV)
    assert len(documents) == 2
    offset = GOOD.count("\n") + 1
    assert documents[1].line(("connectors", "activecampaign", "name")) == offset + 6
    assert read_spec(documents[1], []).name == "second"


def test_empty_file_is_an_error() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_documents("# nothing here\n", "empty.yaml")
    assert "empty.yaml:1:" in caught.value.errors[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "connectors:\n  activecampaign: [1, 2]\n",
            ["config.yaml:2: connectors.activecampaign: expected a mapping of keys, got a list"],
        ),
        (
            "connectors:\n  activecampaign:\n    sync:\n      options: 3\n",
            [
                "config.yaml:4: connectors.activecampaign.sync.options: "
                "expected a mapping of keys, got a number (3)"
            ],
        ),
        (
            "colour: red\nconnectors:\n  activecampaign:\n    name: 'two words'\n    api_key: null\n",
            [
                "config.yaml:1: colour: unknown key 'colour' (expected one of: connectors)",
                "config.yaml:4: connectors.activecampaign.name: 'two words' is not a valid name "
                "(letters, digits, - and _; at most 60)",
                "config.yaml:5: connectors.activecampaign.api_key: expected text, got nothing (null)",
            ],
        ),
        (
            "connectors:\n  brevo:\n    api_key: k\n",
            ["config.yaml:1: connectors: missing required key 'activecampaign'"],
        ),
    ],
)
def test_the_schema_reports_each_problem_where_it_is(text: str, expected: list[str]) -> None:
    _, errors = _spec(text)
    assert errors == expected


def test_an_unset_variable_comes_with_the_other_errors_and_is_never_a_credential() -> None:
    text = GOOD.replace("enabled: true", "enabled: maybe").replace(
        '"https://acme.api-us1.com"', '"${AC_API_URL}"'
    )
    env_errors: list[str] = []
    documents = parse_documents(text, "config.yaml", env=ENV, env_errors=env_errors)
    errors: list[str] = []
    spec = read_spec(documents[0], errors)
    assert env_errors == [
        "config.yaml:4: connectors.activecampaign.api_url: environment variable AC_API_URL is not set"
    ]
    # Nothing more about the unread URL; the file's other problem in the same round.
    assert errors == [
        "config.yaml:3: connectors.activecampaign.enabled: expected true or false, got text ('maybe')"
    ]
    assert spec.broken and spec.unusable_credentials
    assert spec.api_url is None or "${" in spec.api_url


def test_without_a_list_for_them_unset_variables_still_stop_the_parse() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_documents(GOOD, "config.yaml", env={})
    assert caught.value.errors == [
        "config.yaml:5: connectors.activecampaign.api_key: environment variable AC_API_KEY is not set",
        "config.yaml:16: connectors.brevo.api_key: environment variable BREVO_API_KEY is not set",
    ]


@pytest.mark.parametrize(
    ("value", "expected"), [("tags", "TAGS"), ("Segments_1", "SEGMENTS_1"), ("false", ""), ("null", None)]
)
def test_the_tags_attribute_option_takes_an_attribute_name_or_false(value: str, expected: str | None) -> None:
    spec, errors = _spec(GOOD.replace("includeTags: false", f"includeTags: false, tagsAttribute: {value}"))
    assert errors == []
    assert spec.values.get("tags_attribute") == expected


def test_a_tags_attribute_brevo_cannot_name_is_refused() -> None:
    _, errors = _spec(GOOD.replace("includeTags: false", "includeTags: false, tagsAttribute: 9 lives"))
    assert errors == [
        "config.yaml:8: connectors.activecampaign.sync.options.tagsAttribute: '9 lives' is not a Brevo "
        "attribute name (capital letters, digits and _, starting with a letter, at most 50 characters), "
        "or false for none"
    ]
