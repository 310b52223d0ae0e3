"""Fault specs, Brevo rate specs and the sandbox config: parsing, validation, determinism."""

from __future__ import annotations

import random
import re

import pytest

from sandbox.config import (
    DEFAULT_AC_KEY,
    DEFAULT_BREVO_KEY,
    BucketLimit,
    SandboxConfig,
    parse_brevo_rates,
)
from sandbox.faults import Fault, FaultSpec


def test_full_spec_parses_every_kind() -> None:
    spec = FaultSpec.parse("429=0.05,500=0.02,502=0.01,503=0.01,slow=0.05:2.0,timeout=0.01,drop=0.01")
    assert spec.faults == (
        Fault("429", 0.05),
        Fault("500", 0.02),
        Fault("502", 0.01),
        Fault("503", 0.01),
        Fault("slow", 0.05, 2.0),
        Fault("timeout", 0.01, 60.0),
        Fault("drop", 0.01),
    )
    assert bool(spec)
    assert FaultSpec.parse(str(spec)) == spec


@pytest.mark.parametrize("empty", [None, "", "  ", "none", "off"])
def test_empty_spec_means_no_faults(empty: str | None) -> None:
    spec = FaultSpec.parse(empty)
    assert not spec
    assert spec.pick(random.Random(1)) is None


@pytest.mark.parametrize(
    ("spec", "bad_part"),
    [
        ("429=0.1,bogus=0.2", "bogus=0.2"),
        ("404=0.1", "404=0.1"),
        ("429", "429"),
        ("500=abc", "500=abc"),
        ("500=1.5", "500=1.5"),
        ("drop=0.1:3", "drop=0.1:3"),
        ("slow=0.1:-1", "slow=0.1:-1"),
        ("429=0.1,429=0.2", "429=0.2"),
    ],
)
def test_bad_spec_names_the_bad_part_on_one_line(spec: str, bad_part: str) -> None:
    with pytest.raises(ValueError) as err:
        FaultSpec.parse(spec)
    message = str(err.value)
    assert bad_part in message
    assert "\n" not in message


def test_shares_must_not_exceed_one() -> None:
    with pytest.raises(ValueError, match="must not exceed 1"):
        FaultSpec.parse("500=0.6,502=0.6")


def test_pick_is_repeatable_and_follows_the_shares() -> None:
    spec = FaultSpec.parse("429=0.2,500=0.1,drop=0.1")
    rng_a, rng_b = random.Random(42), random.Random(42)
    seq_a = [getattr(spec.pick(rng_a), "kind", None) for _ in range(5000)]
    seq_b = [getattr(spec.pick(rng_b), "kind", None) for _ in range(5000)]
    assert seq_a == seq_b
    share = {k: seq_a.count(k) / len(seq_a) for k in ("429", "500", "drop", None)}
    assert share["429"] == pytest.approx(0.2, abs=0.03)
    assert share["500"] == pytest.approx(0.1, abs=0.03)
    assert share["drop"] == pytest.approx(0.1, abs=0.03)
    assert share[None] == pytest.approx(0.6, abs=0.03)


def test_brevo_rates_parse_and_keep_unnamed_defaults() -> None:
    limits = parse_brevo_rates("contacts=20/s+72000/h,other=off")
    assert limits["contacts"] == BucketLimit(per_second=20, per_hour=72000)
    assert limits["other"] is None
    assert limits["orders"] == BucketLimit(per_second=5, per_hour=18000)
    assert parse_brevo_rates("off") == dict.fromkeys(("contacts", "events", "orders", "other"))


@pytest.mark.parametrize("spec", ["contacts=10", "crm=5/s", "events=5/m", "orders=x/s"])
def test_bad_brevo_rates_raise(spec: str) -> None:
    with pytest.raises(ValueError, match="bad Brevo rate part"):
        parse_brevo_rates(spec)


def test_fast_config_switches_every_limit_off() -> None:
    config = SandboxConfig.fast(contacts=10)
    assert config.ac_rate == 0
    assert all(v is None for v in config.brevo_limits.values())
    assert not config.faults
    assert config.contacts == 10
    default = SandboxConfig()
    assert default.ac_rate == 5.0
    assert default.brevo_limits["contacts"] == BucketLimit(10, 36000)
    assert default.brevo_limits["other"] == BucketLimit(None, 100)


def test_default_keys_are_obviously_fake() -> None:
    for key in (DEFAULT_AC_KEY, DEFAULT_BREVO_KEY):
        assert "sandbox" in key
        assert not re.search(r"[0-9a-f]{32,}", key)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"fault_scope": "all"},
        {"tz_offset": "EST"},
        {"contacts": -1},
        {"ac_rate": -1.0},
        {"brevo_limits": {"crm": None}},
    ],
)
def test_config_rejects_nonsense(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        SandboxConfig(**kwargs)
