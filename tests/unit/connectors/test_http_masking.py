"""Secrets never reach a log line: the filter, the installed record factory, and a real client."""

from __future__ import annotations

import logging

import httpx

from connectors.providers.http.masking import (
    SecretMaskingFilter,
    display_url,
    install_secret_masking,
    mask_fields,
    mask_secret,
    mask_text,
    register_secret,
)
from tests.unit.connectors.ac_fakes import API_KEY, make_client

SECRET = "xkeysib-0f1e2d3c4b5a69788796a5b4c3d2e1f0-AbCdEfGh"


def test_mask_secret_keeps_only_the_last_four_characters():
    assert mask_secret(SECRET) == "****EfGh"
    assert mask_secret("short-key") == "****"
    assert mask_secret("") == ""


def test_mask_text_replaces_every_registered_secret_including_url_encoded():
    register_secret(SECRET)
    register_secret("key with/slash+plus")
    text = f"a {SECRET} b {SECRET} c key%20with%2Fslash%2Bplus"
    masked = mask_text(text)
    assert SECRET not in masked and "slash" not in masked
    assert masked.count("****EfGh") == 2


def test_too_short_values_are_not_treated_as_secrets():
    register_secret("abc")
    assert mask_text("abc abc") == "abc abc"


def test_filter_masks_message_and_args_of_an_httpx_record():
    register_secret(SECRET)
    record = logging.LogRecord(
        "httpx",
        logging.INFO,
        __file__,
        1,
        'HTTP Request: %s %s "%s"',
        ("GET", f"https://x/?k={SECRET}", "200"),
        None,
    )
    assert SecretMaskingFilter().filter(record) is True
    assert SECRET not in record.getMessage()
    assert "****EfGh" in record.getMessage()


def test_filter_masks_tracebacks():
    register_secret(SECRET)
    try:
        raise ValueError(f"boom {SECRET}")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    SecretMaskingFilter().filter(record)
    assert SECRET not in record.exc_text and "boom ****EfGh" in record.exc_text


def test_filter_on_a_handler_masks_child_logger_records():
    register_secret(SECRET)
    seen: list[str] = []

    class ListHandler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(self.format(record))

    handler = ListHandler()
    handler.addFilter(SecretMaskingFilter())
    logger = logging.getLogger("httpcore.http11")
    logger.addHandler(handler)
    try:
        logger.warning("sent header %s", SECRET)
    finally:
        logger.removeHandler(handler)
    assert seen == ["sent header ****EfGh"]


def test_no_key_in_captured_logs_at_debug_including_httpx(caplog):
    install_secret_masking()
    client = make_client(lambda request: httpx.Response(200, json={"user": {"id": "1"}}))
    for name in ("", "httpx", "httpcore"):
        caplog.set_level(logging.DEBUG, logger=name)
    # The legacy `api_key` query parameter is the classic way a key leaks into httpx's request log.
    client._get("/users/me", params={"api_key": API_KEY})  # no public read takes a query key
    logging.getLogger("tajo.test").debug("key is %s", API_KEY)
    assert caplog.records, "httpx should have logged the request"
    assert any(r.name == "httpx" for r in caplog.records)
    assert API_KEY not in caplog.text
    assert mask_secret(API_KEY) in caplog.text


def test_display_url_hides_credentials_and_secret_parameters():
    shown = display_url("https://user:pw@acme.api-us1.com/api/3/x?api_key=abc&limit=5&token=t")
    assert "user" not in shown and "pw" not in shown
    assert "api_key=%2A%2A%2A" in shown and "token=%2A%2A%2A" in shown and "limit=5" in shown


def test_one_convention_for_registered_shaped_and_url_secrets():
    """A key shows as `****` + its last 4 wherever it appears: registered, in a URL, by shape."""
    key = "0123456789abcdefWXYZ"
    assert display_url(f"https://x/a?api_key={key}&page=2").replace("%2A", "*") == (
        "https://x/a?api_key=****WXYZ&page=2"
    )
    assert mask_text(f"GET /a?token={key} done") == "GET /a?token=****WXYZ done"
    register_secret(key)
    assert mask_text(f"key {key}") == "key ****WXYZ"
    # Masking twice changes nothing: a masked value is not taken for a new secret.
    once = mask_text(display_url(f"https://x/a?api_key={key}"))
    assert mask_text(once) == once


def test_fields_and_form_bodies_follow_the_same_convention():
    fields = {
        "contact": {"email": "a@example.org", "fields": {"api_key": "0123456789abcdefWXYZ"}},
        "token": "short",
        "auth": {"user": "x", "pass": "y"},
        "count": 3,
        "notes": [f"see {SECRET}"],
    }
    register_secret(SECRET)
    assert mask_fields(fields) == {
        "contact": {"email": "a@example.org", "fields": {"api_key": "****WXYZ"}},
        "token": "****",
        "auth": "****",
        "count": 3,
        "notes": ["see ****EfGh"],
    }
    assert mask_text("api_key=0123456789abcdefWXYZ&type=update") == "api_key=****WXYZ&type=update"
