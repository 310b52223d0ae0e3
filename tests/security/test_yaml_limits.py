"""Configuration files from someone else: no server secrets through ${VAR}, no resource exhaustion.

Pure parsing: no database, no HTTP.
"""

from __future__ import annotations

import time

import pytest

from mappings.exceptions import ConfigError
from tajo_config.parse import MAX_DEPTH, env_readable, parse_documents

SERVER_ENV = {
    "AC_API_KEY": "ac-key-from-env-123456",
    "BREVO_API_KEY": "xkeysib-from-env-7890",
    "AC_API_KEY_SECOND": "second-ac-key-123456",
    "TAJO_CONFIG_BREVO_URL": "https://api.brevo.com/v3",
    "FIELD_ENCRYPTION_KEY": "dGVzdC1vbmx5LWZpZWxkLWVuY3J5cHRpb24ta2V5LTA=",
    "SECRET_KEY": "server-secret-key-value",
    "DATABASE_URL": "postgres://postgres:pw@db/tajo",
    "REDIS_URL": "redis://cache:6379/0",
}

DOC = """\
connectors:
  activecampaign:
    api_url: "https://acme.api-us1.com"
    api_key: "{ac}"
  brevo:
    api_key: "{brevo}"
"""


def _one_error(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_documents(text, "x.yaml", env=SERVER_ENV)
    assert len(caught.value.errors) == 1, caught.value.errors
    line = caught.value.errors[0]
    assert "\n" not in line and line.startswith("x.yaml:")
    return line


def test_the_documented_placeholders_keep_working() -> None:
    text = DOC.format(ac="${AC_API_KEY}", brevo="${BREVO_API_KEY}")
    data = parse_documents(text, "x.yaml", env=SERVER_ENV)[0].data
    assert data["connectors"]["activecampaign"]["api_key"] == "ac-key-from-env-123456"
    assert data["connectors"]["brevo"]["api_key"] == "xkeysib-from-env-7890"


def test_per_connection_and_prefixed_variables_are_readable() -> None:
    text = DOC.format(ac="${AC_API_KEY_SECOND}", brevo="${TAJO_CONFIG_BREVO_URL}")
    data = parse_documents(text, "x.yaml", env=SERVER_ENV)[0].data
    assert data["connectors"]["activecampaign"]["api_key"] == "second-ac-key-123456"


@pytest.mark.parametrize("name", ["FIELD_ENCRYPTION_KEY", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "HOME"])
def test_server_settings_are_never_interpolated(name: str) -> None:
    line = _one_error(DOC.format(ac="${AC_API_KEY}", brevo=f"prefix-${{{name}}}"))
    assert f"environment variable {name} may not be read" in line
    assert SERVER_ENV.get(name, "@@none@@") not in line
    assert not env_readable(name)


def test_alias_bomb_is_refused_quickly() -> None:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        refs = ",".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    started = time.monotonic()
    line = _one_error("\n".join(lines) + "\n")
    assert time.monotonic() - started < 2
    assert "aliases" in line


def test_few_aliases_that_expand_a_lot_are_refused() -> None:
    # Ten aliases, each doubling: within the alias bound, over the value bound.
    lines = ["a0: &a0 [" + ",".join(["x"] * 100) + "]"]
    for i in range(1, 11):
        lines.append(f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]")
    line = _one_error("\n".join(lines) + "\n")
    assert "expands to more than" in line


def test_deep_nesting_is_refused_without_recursion_error() -> None:
    line = _one_error("a: " + "[" * 20_000 + "]" * 20_000 + "\n")
    assert f"nested deeper than {MAX_DEPTH} levels" in line
    line = _one_error("".join(f"{'  ' * i}k{i}:\n" for i in range(MAX_DEPTH + 5)) + "  " * 50 + "v: 1\n")
    assert "nested deeper" in line


def test_oversize_file_is_refused() -> None:
    line = _one_error("# " + "x" * (2 * 1024 * 1024) + "\n")
    assert "at most" in line


@pytest.mark.parametrize(
    "text",
    [
        "a: !!python/name:os.system ''\n",
        "a: 2001-02-30\n",
        "a: [\n",
        "\x00\x01\x02",
        "a: *missing\n",
        "{a: 1, a: 2}\n",
    ],
)
def test_broken_files_are_one_line_errors(text: str) -> None:
    _one_error(text)
