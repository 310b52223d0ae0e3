"""The fixed part of the seeded AC account: the time span of generated data, users, lists, fields,
tags, scores, pipelines, automations, event names, the e-commerce connection, the custom object."""

from __future__ import annotations

from datetime import datetime
from typing import Any

Row = dict[str, Any]

# Generated data lives between these instants (account time), so a seed always
# gives the same rows whatever day it runs; live changes come later.
EPOCH_START = datetime.fromisoformat("2019-01-07T08:00:00-05:00").timestamp()
EPOCH_END = datetime.fromisoformat("2025-05-30T18:00:00-05:00").timestamp()
CATALOG_DATE = datetime.fromisoformat("2018-11-05T10:15:44-05:00").timestamp()

# ---------------------------------------------------------------------------
# The default seeded account (ids are fixed; the connector documentation and
# the demo refer to these names).
# ---------------------------------------------------------------------------

USERS = [
    # id, username, first, last, email
    ("1", "admin", "Alex", "Admin", "admin@sandbox.example.org"),
    ("2", "jkim", "Jae", "Kim", "jae.kim@sandbox.example.org"),
    ("3", "mrossi", "Marta", "Rossi", "marta.rossi@sandbox.example.org"),
    ("4", "odiallo", "Oumar", "Diallo", "oumar.diallo@sandbox.example.org"),
]
DEAL_OWNERS = ("2", "3", "4")
DEAL_KINDS = ("Annual plan", "Starter pack", "Wholesale order", "Renewal")

LISTS = [
    ("1", "Main List", "main-list"),
    ("2", "Newsletter", "newsletter"),
    ("3", "Customers", "customers"),
    ("4", "Webinar attendees", "webinar-attendees"),
    ("5", "Beta testers", "beta-testers"),
]

# id, title, type, perstag, options
FIELDS: list[tuple[str, str, str, str, tuple[str, ...]]] = [
    ("1", "Company", "text", "COMPANY", ()),
    (
        "2",
        "Industry",
        "dropdown",
        "INDUSTRY",
        ("Retail", "Software", "Healthcare", "Education", "Hospitality", "Manufacturing"),
    ),
    ("3", "Plan tier", "dropdown", "PLAN_TIER", ("Free", "Starter", "Pro", "Enterprise")),
    ("4", "City", "text", "CITY", ()),
    ("5", "Notes", "textarea", "NOTES", ()),
    ("6", "Birthday", "date", "BIRTHDAY", ()),
    ("7", "Last purchase at", "datetime", "LAST_PURCHASE_AT", ()),
    ("8", "Interests", "listbox", "INTERESTS", ("Baking", "Coffee", "Travel", "Design", "Running")),
    ("9", "Preferred channel", "radio", "PREFERRED_CHANNEL", ("Email", "SMS", "Phone")),
    ("10", "Newsletter topics", "checkbox", "NEWSLETTER_TOPICS", ("Product news", "Events", "Offers")),
    ("11", "Customer ID", "hidden", "CUSTOMER_ID", ()),
    ("12", "Lifetime orders", "number", "LIFETIME_ORDERS", ()),
]
# The short names the connector documentation uses for the first fields.
FIELD_NAMES = {"company": "1", "industry": "2", "plan_tier": "3"}

CONTACT_TAGS = [
    "vip",
    "wholesale",
    "newsletter-signup",
    "webinar-2024",
    "churn-risk",
    "imported-2024-05",
    "partner",
    "beta-tester",
    "trial",
    "Ünïcode-tag",
]
TEMPLATE_TAGS = ["promo-template", "transactional"]

# id, name, reltype, description
SCORES = [
    ("1", "Lead score", "contact", "+5 per form, +10 per click"),
    ("2", "Engagement", "contact", "+10 per open"),
    ("3", "Deal health", "deal", "+20 when the deal moves forward"),
]
CONTACT_SCORES = ("1", "2")

# pipeline id, title, currency, autoassign, [(stage id, title, color)]
PIPELINES = [
    (
        "1",
        "Sales",
        "usd",
        "1",
        [("1", "Qualified", "32B0FC"), ("2", "Proposal", "E6CE4B"), ("3", "Won", "18D499")],
    ),
    (
        "2",
        "Renewals",
        "usd",
        "0",
        [("4", "Upcoming", "C481DF"), ("5", "Negotiation", "00ECC5"), ("6", "Renewed", "18D499")],
    ),
]
WON_STAGES = {"3", "6"}

# id, name, status (1 active, 2 inactive), entered, exited
AUTOMATIONS = [
    ("1", "Welcome series", "1"),
    ("2", "Onboarding", "1"),
    ("3", "Win-back", "2"),
    ("4", "Abandoned cart", "1"),
]

EVENT_NAMES = ["trial_started", "plan_upgraded", "webinar_attended", "cart_abandoned", "__pagevisit"]

CONNECTION = {
    "id": "1",
    "service": "acme-shop",
    "externalid": "store-77",
    "name": "Acme Shop",
    "logoUrl": "https://shop.example.org/logo.png",
    "linkUrl": "https://shop.example.org/admin",
}

SCHEMA_SLUG = "subscription"
