"""What counts as Brevo holding the value that was sent (the read-back comparison)."""

from __future__ import annotations

import pytest

from connectors.sync.brevo_attributes import same_value


@pytest.mark.parametrize(
    ("name", "sent", "got", "same"),
    [
        ("FIRSTNAME", "Ada", "Ada", True),
        ("FIRSTNAME", "Ada", "ada", False),
        ("FIRSTNAME", "Ada", None, False),
        ("FIRSTNAME", None, "Ada", True),  # nothing sent, nothing to hold
        ("SMS", "+31612345678", "31612345678", True),  # Brevo drops the plus
        ("SMS", "+31612345678", "+31612345679", False),
        ("OPT_IN", True, "true", True),
        ("OPT_IN", True, False, False),
        ("TAGS", ["a", "b"], ["b", "a"], True),
        ("TAGS", ["a", "b"], "a, b", True),
        ("TAGS", ["a", "b"], ["a"], False),
        ("SCORE", 12, 12.0, True),
        ("SCORE", 12, "12", True),
        ("SCORE", 12, 13, False),
        ("SCORE", 0.1 + 0.2, 0.3, True),
    ],
)
def test_same_value(name, sent, got, same):
    assert same_value(name, sent, got, None) is same
