"""URL safety: what `check_url` and `build_client` refuse, and the connect-time check."""

from __future__ import annotations

import httpx
import pytest

from connectors.exceptions import UnsafeURL
from connectors.providers.http import guard
from connectors.providers.http.factory import build_client
from connectors.providers.http.guard import check_url


@pytest.mark.parametrize(
    "url",
    [
        "ftp://acme.api-us1.com",
        "file:///etc/passwd",
        "https://user:secret@acme.api-us1.com",
        "http://127.0.0.1:8000",
        "http://10.1.2.3",
        "http://172.16.0.1",
        "http://192.168.1.1",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]:80",
        "http://[fe80::1]",
        "http://[::ffff:127.0.0.1]",
        "http://0.0.0.0",
        "http://100.64.0.1",
        "http://localhost:8000",
        "http://metadata.google.internal",
        "https://",
        "not a url",
    ],
)
def test_refused_urls(url):
    with pytest.raises(UnsafeURL):
        check_url(url, allow_private=False)


def test_public_ip_literal_is_allowed():
    check_url("https://93.184.216.34/api", allow_private=False)


def test_allow_private_permits_loopback_but_not_other_schemes():
    check_url("http://127.0.0.1:8000", allow_private=True)
    with pytest.raises(UnsafeURL):
        check_url("gopher://127.0.0.1", allow_private=True)


def test_host_names_are_resolved_and_every_address_checked(monkeypatch):
    monkeypatch.setattr(guard, "_resolve", lambda host, port: ["93.184.216.34", "10.0.0.5"])
    with pytest.raises(UnsafeURL, match=r"10\.0\.0\.5"):
        check_url("https://rebind.example.org", allow_private=False)
    monkeypatch.setattr(guard, "_resolve", lambda host, port: ["93.184.216.34"])
    check_url("https://fine.example.org", allow_private=False)


def test_unresolvable_host_passes_the_check(monkeypatch):
    def fail(host, port):
        raise OSError("Name or service not known")

    monkeypatch.setattr(guard, "_resolve", fail)
    check_url("https://nowhere.example.org", allow_private=False)


def test_build_client_refuses_private_base_url_and_sets_safe_defaults():
    with pytest.raises(UnsafeURL):
        build_client(base_url="http://127.0.0.1:9/api/3", headers={})
    client = build_client(
        base_url="https://acme.api-us1.com/api/3",
        headers={"Api-Token": "k" * 40},
        transport=httpx.MockTransport(
            lambda r: httpx.Response(302, headers={"Location": "http://127.0.0.1/"})
        ),
    )
    assert client.headers["User-Agent"] == "Tajo/0.1"
    assert client.follow_redirects is False
    assert client.get("/x").status_code == 302  # the redirect is not followed


def test_connect_time_check_refuses_a_name_that_resolves_inward():
    # `build_client` cannot know where a name will point when the connection is made (DNS may
    # change); the guarded transport looks again at connect time. `localtest.me`-style names are
    # simulated here by a public-looking name that resolves to loopback.
    client = build_client(base_url="https://acme.example.org/api/3", headers={})
    original = guard._resolve
    guard._resolve = lambda host, port: ["127.0.0.1"]
    try:
        with pytest.raises(UnsafeURL, match="now resolves to a private"):
            client.get("/users/me")
    finally:
        guard._resolve = original
