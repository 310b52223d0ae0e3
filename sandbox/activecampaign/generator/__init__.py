"""Deterministic AC account data: the default seeded account plus N generated contacts.

Scales to a million contacts without building them up front: per-contact
counts and dates live in compact arrays (one byte or one double per contact),
and the rows of contact ``i`` are generated on demand from ``(seed, i)``.
Row ids of each per-contact collection are contiguous per contact (prefix
sums), so any id maps back to its contact with one bisect.

The data carries the mess real accounts have: case-variant duplicate emails,
contacts without email, invalid emails, phones without a country code,
unicode names, values over 255 characters, MySQL zero-dates, orders without
products.

Layout: `catalog` (the fixed rows), `pools` (what contacts are made of), `profile`, `values`
and `account` (`AccountGenerator`).
"""

from sandbox.activecampaign.generator.account import AccountGenerator
from sandbox.activecampaign.generator.catalog import Row
from sandbox.activecampaign.generator.profile import GeneratorProfile

__all__ = ["AccountGenerator", "GeneratorProfile", "Row"]
