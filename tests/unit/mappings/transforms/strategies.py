"""Hypothesis strategies for messy AC records and valid mapping sets."""

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import HealthCheck, assume, settings
from hypothesis import strategies as st

from mappings.records import (
    DealSummary,
    SourceContact,
    SourceDeal,
    SourceEvent,
    SourceOrder,
    SourceOrderProduct,
)
from mappings.transforms import (
    ATTRIBUTE_TRANSFORMS,
    DEAL_SOURCES,
    EVENT_PROPERTIES_MAX_BYTES,
    AutomationRule,
    EventRule,
    FieldRule,
    ListRule,
    MappingLabels,
    MappingSet,
    OwnerRule,
    StageRule,
    TagRule,
    Transform,
)
from mappings.transforms.values import MULTI_OPTION_MAX_CHARS, TEXT_MAX_CHARS

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

small_ids = st.integers(min_value=1, max_value=6)
# Any integer, with the ones that break floats and JSON encoders made likely.
any_int = st.integers() | st.sampled_from([2**53 + 1, -(2**63), 2**70, 10**400])
ugly_text = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=30),
    st.sampled_from(
        [
            "",
            " ",
            "0000-00-00",
            "||",
            "||a||b||",
            "31/02/2024",
            "2024-02-30",
            "NaN",
            "1e999",
            "\x00",
            "+31612345678",
            "0612",
            "yes",
            "||Yes||",
            "2024-05-21T23:30:00-05:00",
            "١٢",
            "1,5",
        ]
    ),
    # Huge values, built cheaply: hypothesis draws long text slowly.
    st.builds(lambda ch, n: ch * n, st.characters(), st.integers(TEXT_MAX_CHARS - 2, TEXT_MAX_CHARS + 2)),
    st.builds(
        lambda n: "||" + "o" * n + "||", st.integers(MULTI_OPTION_MAX_CHARS - 1, MULTI_OPTION_MAX_CHARS + 1)
    ),
)
maybe_text = st.none() | ugly_text
good_emails = st.builds(
    lambda local, domain, tld: f"{local}@{domain}.{tld}",
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9.+_'-]{0,20}[A-Za-z0-9]", fullmatch=True),
    st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True),
    st.sampled_from(["org", "com", "test", "co.uk", "de"]),
)
# Mostly usable addresses, so the property tests reach the mapping code, plus every kind of mess.
emails = st.one_of(
    good_emails,
    good_emails,
    good_emails.map(lambda e: f"  {e.upper()} "),
    st.none(),
    st.emails(),
    st.emails().map(lambda e: f"  {e.upper()} "),
    ugly_text,
    st.sampled_from(["a@b", "@x.org", "a@@x.org", "ü@example.org", "a@bücher.de", "a" * 300 + "@x.org"]),
)
offsets = st.sampled_from(
    [None, UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=5, minutes=30))]
)
some_moments = st.builds(
    lambda dt, tz: dt.replace(tzinfo=tz),
    st.datetimes() | st.sampled_from([datetime.min, datetime.max, datetime(999, 1, 1)]),
    offsets,
)
moments = st.none() | some_moments
object_values = (
    st.none() | st.booleans() | any_int | st.floats() | ugly_text | st.lists(st.text(max_size=5), max_size=3)
)

contacts = st.builds(
    SourceContact,
    ac_id=st.integers(min_value=1),
    email=emails,
    first_name=maybe_text,
    last_name=maybe_text,
    phone=maybe_text,
    udate=moments,
    standard=st.dictionaries(st.sampled_from(["orgname", "cdate", "ip"]), maybe_text, max_size=3),
    field_values=st.dictionaries(small_ids, maybe_text, max_size=6),
    tags=st.frozensets(small_ids, max_size=4),
    lists=st.dictionaries(small_ids, st.sampled_from([0, 1, 2, 3, 91, 4, -1]), max_size=5),
    scores=st.dictionaries(small_ids, st.floats(), max_size=3),
    deal=st.none()
    | st.builds(
        DealSummary,
        value_cents=st.none() | any_int,
        currency=maybe_text,
        stage_id=st.none() | small_ids,
        pipeline_id=st.none() | small_ids,
        owner_id=st.none() | small_ids,
        status=st.none() | st.integers(-1, 4),
    ),
    custom_objects=st.dictionaries(
        st.sampled_from(["s1", "s2"]),
        st.dictionaries(st.sampled_from(["f1", "f2"]), object_values, max_size=2),
        max_size=2,
    ),
)

COMPATIBLE = [(t, kind) for kind, allowed in ATTRIBUTE_TRANSFORMS.items() for t in sorted(allowed)]


@st.composite
def field_rules(draw) -> FieldRule:
    transform, attribute_type = draw(st.sampled_from(COMPATIBLE))
    source = draw(
        st.sampled_from(
            [
                "field",
                "first_name",
                "last_name",
                "phone",
                "email",
                "udate",
                "orgname",
                "score",
                "custom_object",
                *DEAL_SOURCES,
            ]
        )
    )
    if source in ("deal.stage", "deal.owner", "deal.pipeline", "deal.status"):
        assume(transform in (Transform.TEXT, Transform.NUMBER))
    return FieldRule(
        source=source,
        ac_field_id=draw(small_ids),
        score_id=draw(small_ids),
        object_schema_id=draw(st.sampled_from(["s1", "s2"])),
        object_field_id=draw(st.sampled_from(["f1", "f2"])),
        attribute=f"ATTR_{draw(st.integers(0, 10_000))}",
        transform=transform,
        attribute_type=attribute_type,
    )


tag_values = st.booleans() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=10)


label_tables = st.dictionaries(
    small_ids, st.sampled_from(["Proposal sent", "", "Ünïcødé ✓", "x" * 300]), max_size=4
)


@st.composite
def mapping_sets(draw) -> MappingSet:
    rules = draw(st.lists(field_rules(), max_size=8, unique_by=lambda rule: rule.attribute))
    tags = draw(
        st.lists(
            st.builds(
                TagRule,
                ac_tag_id=small_ids,
                brevo_list_id=st.none() | small_ids.map(lambda i: i + 100),
                attribute=st.sampled_from(["TAG_A", "TAG_B"]),
                value=tag_values,
                value_when_absent=st.none() | tag_values,
                unlink_when_absent=st.booleans(),
            ),
            max_size=4,
        )
    )
    stage_ids = draw(st.lists(small_ids, unique=True, min_size=2, max_size=6))
    return MappingSet(
        default_country=draw(st.sampled_from([None, "NL", "US", "FR", "BR"])),
        fields=tuple(rules),
        lists=tuple(
            draw(
                st.lists(
                    st.builds(ListRule, ac_list_id=small_ids, brevo_list_id=small_ids.map(lambda i: i + 100)),
                    max_size=6,
                )
            )
        ),
        tags=tuple(tags),
        stages=tuple(
            StageRule(
                ac_pipeline_id=draw(st.none() | small_ids),
                ac_stage_id=s,
                brevo_pipeline_id="p",
                brevo_stage_id=f"s{s}",
            )
            for s in stage_ids
        ),
        owners=tuple(
            OwnerRule(ac_user_id=u, brevo_owner=f"u{u}@example.org")
            for u in draw(st.lists(small_ids, unique=True, max_size=3))
        ),
        automations=tuple(
            AutomationRule(
                ac_automation_id=a,
                brevo_event_entered=f"a{a}_in",
                brevo_event_completed=draw(st.none() | st.just(f"a{a}_done")),
            )
            for a in draw(st.lists(small_ids, unique=True, min_size=3, max_size=6))
        ),
        events=tuple(
            EventRule(ac_event_name=n, brevo_event_name=f"ev_{i}")
            for i, n in enumerate(
                draw(st.lists(st.sampled_from(["a", "b", "trial"]), unique=True, min_size=2))
            )
        ),
        labels=MappingLabels(
            stage_titles=draw(label_tables),
            pipeline_titles=draw(label_tables),
            owner_names=draw(label_tables),
            automation_names=draw(label_tables),
        ),
    )


deals = st.builds(
    SourceDeal,
    ac_id=st.integers(min_value=1),
    title=maybe_text,
    value_cents=st.none() | any_int,
    currency=maybe_text,
    pipeline_id=st.none() | small_ids,
    stage_id=small_ids | st.none(),
    owner_id=st.none() | small_ids,
    status=st.none() | st.integers(),
    contact_email=emails,
    created_at=moments,
)


products = st.builds(
    SourceOrderProduct,
    external_id=maybe_text,
    sku=maybe_text,
    name=maybe_text,
    price_cents=st.none() | any_int,
    quantity=st.none() | st.floats(),
)
orders = st.builds(
    SourceOrder,
    ac_id=st.integers(min_value=1),
    connection_id=st.none() | small_ids,
    external_id=maybe_text,
    order_number=maybe_text,
    email=emails,
    state=st.none() | st.sampled_from([0, 1, 1, 3, 4]) | st.integers(-1, 5),
    total_cents=st.integers(0, 10**7) | any_int | st.none(),
    currency=maybe_text,
    created_at=some_moments | moments,
    updated_at=moments,
    discount_codes=st.lists(ugly_text, max_size=3).map(tuple),
    products=st.lists(products, max_size=4).map(tuple)
    | st.lists(
        st.builds(
            SourceOrderProduct,
            external_id=ugly_text,
            price_cents=st.integers(0, 10**6),
            quantity=st.floats(0.5, 100),
        ),
        min_size=1,
        max_size=3,
    ).map(tuple),
)


json_leaves = st.none() | st.booleans() | any_int | st.floats() | st.text(max_size=20) | moments
properties = st.dictionaries(
    st.text(max_size=12) | st.sampled_from(["ok", "k" * 256]),
    st.recursive(
        json_leaves,
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3),
        max_leaves=10,
    ),
    max_size=5,
)
events = st.builds(
    SourceEvent,
    kind=st.sampled_from(["tracked", "automation_entered", "automation_completed"]),
    email=emails,
    occurred_at=moments,
    name=st.sampled_from(["a", "b", "trial"]) | st.sampled_from([None, "other"]),
    data=st.none()
    | ugly_text
    | st.builds(
        lambda ch, n: ch * n,
        st.characters(),
        st.integers(EVENT_PROPERTIES_MAX_BYTES - 20, EVENT_PROPERTIES_MAX_BYTES),
    ),
    automation_id=st.none() | small_ids,
    properties=properties,
)
