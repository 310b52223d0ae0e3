"""The data generator: deterministic, streaming, profile-exact, and as messy as real accounts."""

from __future__ import annotations

import re
import time

import pytest

from sandbox.activecampaign.generator.account import CHILD_KINDS, GROUP_OF, AccountGenerator
from sandbox.activecampaign.generator.catalog import FIELDS, LISTS
from sandbox.activecampaign.generator.profile import GeneratorProfile

EMAIL_OK = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


def everything(gen: AccountGenerator, i: int) -> tuple[dict, dict]:
    contact = gen.contact(i)
    return contact, gen.children(i, contact)


def test_same_seed_same_data_other_seed_other_data() -> None:
    a = AccountGenerator(seed=5, contacts=300)
    b = AccountGenerator(seed=5, contacts=300)
    c = AccountGenerator(seed=6, contacts=300)
    assert [everything(a, i) for i in range(0, 300, 7)] == [everything(b, i) for i in range(0, 300, 7)]
    assert [a.contact(i)["email"] for i in range(50)] != [c.contact(i)["email"] for i in range(50)]
    assert {k: a.total(k) for k in CHILD_KINDS} == {k: b.total(k) for k in CHILD_KINDS}


def test_rows_do_not_depend_on_generation_order_or_group() -> None:
    gen = AccountGenerator(seed=3, contacts=100)
    forward = [everything(gen, i) for i in range(100)]
    fresh = AccountGenerator(seed=3, contacts=100)
    backward = [everything(fresh, i) for i in reversed(range(100))][::-1]
    assert forward == backward
    for i in (0, 17, 99):
        whole = gen.children(i)
        for kind in CHILD_KINDS:
            assert gen.children(i, group=GROUP_OF[kind])[kind] == whole[kind]


def test_row_ids_are_contiguous_per_contact_and_map_back() -> None:
    gen = AccountGenerator(seed=1, contacts=200)
    all_kids = [gen.children(i) for i in range(200)]
    for kind in CHILD_KINDS:
        seen = []
        for i in range(200):
            rows = all_kids[i][kind]
            assert len(rows) == gen.counts[kind][i]
            for row in rows:
                rid = row["seq"] if kind == "records" else int(row["id"])
                assert gen.owner_of(kind, rid) == i
                seen.append(rid)
        assert seen == list(range(1, gen.total(kind) + 1)), kind


def test_profile_gives_exact_counts() -> None:
    profile = GeneratorProfile.parse("fields=5,tags=3,lists=2,deals=1,orders=2,products=0")
    gen = AccountGenerator(seed=2, contacts=120, profile=profile)
    for i in range(120):
        kids = gen.children(i)
        assert len(kids["fieldValues"]) == 5
        assert len(kids["contactTags"]) == 3
        assert len(kids["contactLists"]) == 2
        assert len(kids["deals"]) == 1
        assert len(kids["ecomOrders"]) == 2
        assert all(o["orderProducts"] == [] and o["totalProducts"] == 0 for o in kids["ecomOrders"])
    assert gen.total("fieldValues") == 600


@pytest.mark.parametrize(
    ("spec", "bad"), [("fields=99", "fields"), ("colour=1", "colour=1"), ("tags=x", "tags=x")]
)
def test_bad_profile_is_rejected(spec: str, bad: str) -> None:
    with pytest.raises(ValueError, match=re.escape(bad)):
        GeneratorProfile.parse(spec)


def test_default_account_data_has_realistic_mess() -> None:
    gen = AccountGenerator(seed=1, contacts=2000)
    contacts = [gen.contact(i) for i in range(2000)]
    emails = [c["email"] for c in contacts]
    lowered = [e.lower() for e in emails if e]
    assert len(lowered) != len(set(lowered)), "expected case-variant duplicate emails"
    assert any(e != e.lower() for e in emails), "expected mixed-case emails"
    assert any(c["email"] == "" and c["email_empty"] for c in contacts), "expected contacts without email"
    assert any(e and not EMAIL_OK.match(e) for e in emails), "expected invalid emails"
    assert any(c["phone"] and not c["phone"].startswith("+") for c in contacts), "expected local phones"
    assert any(not (c["firstName"] + c["lastName"]).isascii() for c in contacts), "expected unicode names"
    assert any(c["bounced_date"] == "0000-00-00" for c in contacts), "expected MySQL zero-dates"

    kids = [gen.children(i) for i in range(2000)]
    values = [fv["value"] for k in kids for fv in k["fieldValues"]]
    assert any(v and len(v) > 255 for v in values), "expected values over 255 characters"
    field_types = {FIELDS[int(fv["field"]) - 1][2] for k in kids for fv in k["fieldValues"]}
    assert field_types == {
        "text",
        "textarea",
        "date",
        "datetime",
        "dropdown",
        "listbox",
        "radio",
        "checkbox",
        "hidden",
        "number",
    }
    multi = [
        fv["value"]
        for k in kids
        for fv in k["fieldValues"]
        if FIELDS[int(fv["field"]) - 1][2] in ("listbox", "checkbox") and fv["value"]
    ]
    assert multi and all(re.fullmatch(r"\|\|(.+\|\|)+", v) for v in multi)
    assert {cl["status"] for k in kids for cl in k["contactLists"]} == {"0", "1", "2", "3"}
    assert {ca["status"] for k in kids for ca in k["contactAutomations"]} == {"1", "2"}
    orders = [o for k in kids for o in k["ecomOrders"]]
    assert any(o["orderProducts"] == [] for o in orders) and any(o["orderProducts"] for o in orders)
    assert {d["group"] for k in kids for d in k["deals"]} == {"1", "2"}
    assert {d["owner"] for k in kids for d in k["deals"]} >= {"2", "3", "4"}
    assert any(k["records"] for k in kids) and any(k["trackingLogs"] for k in kids)
    assert any(k["scoreValues"] for k in kids)


def test_default_catalog_names_match_the_connector_documentation() -> None:
    assert [name for _id, name, _slug in LISTS][:3] == ["Main List", "Newsletter", "Customers"]
    by_tag = {perstag: title for _id, title, _type, perstag, _opts in FIELDS}
    assert by_tag["COMPANY"] == "Company"
    assert by_tag["INDUSTRY"] == "Industry"
    assert by_tag["PLAN_TIER"] == "Plan tier"


def test_dates_are_ordered_and_deal_ids_follow_cdate() -> None:
    gen = AccountGenerator(seed=9, contacts=500)
    cdates = list(gen.cdate)
    assert cdates == sorted(cdates)
    assert all(u >= c for u, c in zip(gen.udate, gen.cdate, strict=True))
    deal_c = list(gen.deal_cdate)
    assert deal_c == sorted(deal_c)
    assert all(m >= c for m, c in zip(gen.deal_mdate, gen.deal_cdate, strict=True))
    iso = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d-05:00$")
    wall = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")
    c = gen.contact(10)
    assert iso.match(c["cdate"]) and iso.match(c["udate"])
    assert wall.match(c["created_timestamp"]) and wall.match(c["updated_utc_timestamp"])


def test_email_lookup_finds_generated_contacts_and_their_case_duplicates() -> None:
    gen = AccountGenerator(seed=1, contacts=2000)
    for i in range(0, 2000, 37):
        email = gen.email(i)
        if email:
            found = gen.email_candidates(email.upper())
            assert i in found
            assert all(gen.email(j).lower() == email.lower() for j in found)
    dup = next(i for i in range(2000) if gen.identity(i)[4] == "dup_case")
    found = gen.email_candidates(gen.email(dup))
    assert dup in found and len(found) >= 2
    assert gen.email_candidates("nobody@example.org") == []


def test_a_million_contacts_stay_compact() -> None:
    started = time.perf_counter()
    gen = AccountGenerator(seed=1, contacts=1_000_000)
    elapsed = time.perf_counter() - started
    assert elapsed < 15
    # Rows come on demand, also at the far end.
    last = gen.contact(999_999)
    assert last["id"] == "1000000"
    kids = gen.children(999_999)
    assert all(gen.owner_of("fieldValues", int(fv["id"])) == 999_999 for fv in kids["fieldValues"])
