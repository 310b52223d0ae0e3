"""content_hash: stable, order-independent, sensitive to every sent value."""

import hashlib
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from mappings.records import SourceContact
from mappings.transforms import (
    BrevoContactPayload,
    FieldRule,
    ListRule,
    MappingSet,
    compile_mapping,
    content_hash,
    transform_contact,
)


def payload(**kwargs) -> BrevoContactPayload:
    base = dict(
        email="maria.lopez@example.org",
        attributes={"FIRSTNAME": "Maria", "SEATS": 12.0},
        list_ids=(3, 7),
        unlink_list_ids=(9,),
        email_blacklisted=None,
    )
    base.update(kwargs)
    return BrevoContactPayload(**base)


def test_is_a_32_char_hex_digest():
    assert re.fullmatch(r"[0-9a-f]{32}", content_hash(payload()))


def test_canonical_form_is_pinned():
    # Changing the canonical form invalidates every stored RecordState hash: bump the version prefix.
    canonical = (
        b'{"attributes":{"FIRSTNAME":"Maria","SEATS":12.0},"email":"maria.lopez@example.org",'
        b'"listIds":[3,7],"unlinkListIds":[9]}'
    )
    expected = hashlib.blake2b(b"tajo-payload-v1\x00" + canonical, digest_size=16).hexdigest()
    assert content_hash(payload()) == expected


def test_attribute_order_does_not_matter():
    first = payload(attributes={"FIRSTNAME": "Maria", "SEATS": 12.0})
    second = payload(attributes={"SEATS": 12.0, "FIRSTNAME": "Maria"})
    assert content_hash(first) == content_hash(second)


def test_model_and_its_brevo_dict_hash_the_same():
    assert content_hash(payload()) == content_hash(payload().to_brevo())


def test_every_part_changes_the_hash():
    base = content_hash(payload())
    variants = [
        payload(email="other@example.org"),
        payload(attributes={"FIRSTNAME": "Maria", "SEATS": 13.0}),
        payload(attributes={"FIRSTNAME": "Maria"}),
        payload(list_ids=(3,)),
        payload(unlink_list_ids=()),
        payload(email_blacklisted=True),
    ]
    hashes = {content_hash(variant) for variant in variants}
    assert base not in hashes
    assert len(hashes) == len(variants)


def test_number_and_text_of_the_same_digits_differ():
    assert content_hash(payload(attributes={"X": "12"})) != content_hash(payload(attributes={"X": 12.0}))


def test_same_contact_same_hash_across_compilations():
    mapping = MappingSet(
        fields=(
            FieldRule(
                source="field",
                ac_field_id=1,
                attribute="INTERESTS",
                transform="multi",
                attribute_type="multiple-choice",
            ),
        ),
        lists=(ListRule(ac_list_id=1, brevo_list_id=5), ListRule(ac_list_id=2, brevo_list_id=4)),
    )
    first = SourceContact(ac_id=1, email="a@example.org", field_values={1: "||b||a||"}, lists={1: 1, 2: 1})
    # Same data, AC gave options and lists in another order.
    second = SourceContact(ac_id=1, email="A@example.org ", field_values={1: "||a||b||"}, lists={2: 1, 1: 1})
    one = transform_contact(first, compile_mapping(mapping)).payload
    two = transform_contact(second, compile_mapping(mapping)).payload
    assert content_hash(one) == content_hash(two)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=8), json_values, max_size=8))
def test_key_order_never_matters(data):
    reversed_order = dict(reversed(list(data.items())))
    assert content_hash(data) == content_hash(reversed_order)
