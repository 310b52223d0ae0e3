"""Property tests for contacts: messy records and any valid mapping give a payload or reasons."""

import orjson
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from mappings.transforms import (
    compile_mapping,
    content_hash,
    normalize_email,
    transform_contact,
)
from mappings.transforms.values import MULTI_OPTION_MAX_CHARS, TEXT_MAX_CHARS
from tests.unit.mappings.transforms.strategies import SETTINGS, contacts, mapping_sets


@SETTINGS
@given(contact=contacts, mapping=mapping_sets())
def test_contact_gives_payload_or_reason_and_never_raises(contact, mapping):
    result = transform_contact(contact, compile_mapping(mapping))
    assert (result.payload is None) != (result.skip_reason is None)
    if result.payload is None:
        assert result.skip_code in ("no_email", "invalid_email")
        return
    body = result.payload.to_brevo()
    encoded = orjson.dumps(body)  # JSON-safe: no NaN, no lone surrogates
    assert b"\\u0000" not in encoded
    assert body["email"] == body["email"].strip().lower()
    for name, value in result.payload.attributes.items():
        assert name == name.upper()
        if isinstance(value, str):
            assert len(value) <= TEXT_MAX_CHARS
        if isinstance(value, list):
            assert all(isinstance(item, str) and len(item) <= MULTI_OPTION_MAX_CHARS for item in value)
    sent = set(result.payload.attributes)
    for error in result.errors:
        assert error.reason
        assert len(error.reason) < 400  # raw values are quoted shortened
        assert error.field not in sent or any(t.attribute == error.field for t in mapping.tags)
    assert len(content_hash(result.payload)) == 32


@SETTINGS
@given(contact=contacts, mapping=mapping_sets())
def test_opted_out_lists_never_subscribed(contact, mapping):
    result = transform_contact(contact, compile_mapping(mapping))
    if result.payload is None:
        return
    blocked = {rule.brevo_list_id for rule in mapping.lists if contact.lists.get(rule.ac_list_id) in (2, 3)}
    assert not blocked & set(result.payload.list_ids)
    assert blocked <= set(result.payload.unlink_list_ids)
    assert result.payload.email_blacklisted in (True, None)


@SETTINGS
@given(contact=contacts, mapping=mapping_sets())
def test_transform_is_deterministic(contact, mapping):
    first = transform_contact(contact, compile_mapping(mapping))
    second = transform_contact(contact, compile_mapping(mapping))
    assert first == second
    if first.payload is not None:
        assert content_hash(first.payload) == content_hash(second.payload)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.emails(),
        st.text(max_size=40),
        st.from_regex(r"[a-zA-Z0-9.+_'-]{1,70}@[a-z0-9_.-]{1,70}", fullmatch=True),
    )
)
def test_fast_email_path_agrees_with_the_validator(raw):
    email, code, _reason = normalize_email(raw)
    stripped = raw.strip().lower()
    if not stripped:
        assert code == "no_email"
        return
    try:
        validate_email(stripped, check_deliverability=False, allow_smtputf8=False, test_environment=True)
        accepted = True
    except EmailNotValidError:
        accepted = False
    assert (email is not None) == accepted
