"""What generated contacts are made of: names, domains, companies, cities, products, and the
invalid emails and over-long values real accounts carry."""

from __future__ import annotations

# ---------------------------------------------------------------------------
# Pools
# ---------------------------------------------------------------------------

FIRST_NAMES = [
    "Maria",
    "James",
    "Aiko",
    "Oluwaseun",
    "Sofia",
    "Liam",
    "Chen",
    "Fatima",
    "Noah",
    "Emma",
    "Mateo",
    "Priya",
    "Lukas",
    "Amélie",
    "José",
    "Zoë",
    "Łukasz",
    "Søren",
    "Björn",
    "Ana",
    "Devon",
    "Hana",
    "Ngô",
    "Siobhán",
    "Dmitri",
    "Yusuf",
    "Chloé",
    "Kai",
    "Ines",
    "Ravi",
]
LAST_NAMES = [
    "Lopez",
    "Smith",
    "Tanaka",
    "Adeyemi",
    "Rossi",
    "Murphy",
    "Wang",
    "Haddad",
    "Brown",
    "Martin",
    "García",
    "Patel",
    "Müller",
    "Dubois",
    "Núñez",
    "O'Brien",
    "Kowalski",
    "Øster",
    "Lindqvist",
    "Silva",
    "Ng",
    "Kim",
    "Bảo",
    "Ní Bhriain",
    "Ivanov",
    "Yılmaz",
    "D'Angelo",
    "渡辺",
    "Schäfer",
    "Sharma",
]
DOMAINS = ["example.org", "example.com", "example.net", "mail.example.org", "shop.example.com"]
COMPANIES = [
    "Lopez Bakery",
    "Acme Corp",
    "Müller GmbH",
    "Tanaka Trading",
    "Blue Fin Co",
    "Ng Ceramics",
    "株式会社サンプル",
    "Café Rossi",
    "Nordic Design AB",
    "Patel & Sons",
    "",
    "O'Brien Logistics",
]
CITIES = [
    "Austin",
    "London",
    "Paris",
    "Osaka",
    "Lagos",
    "São Paulo",
    "Zürich",
    "Kraków",
    "Hà Nội",
    "Montréal",
    "Reykjavík",
    "Cork",
]
PRODUCTS = [
    ("SKU-CROIS-12", "Croissant box (12)", "Pastry", 2400),
    ("SKU-MUG-01", "Ceramic mug", "Homeware", 1800),
    ("SKU-BEAN-1K", "Coffee beans 1kg", "Coffee", 3200),
    ("SKU-APRON", "Linen apron", "Homeware", 4500),
    ("SKU-GIFT-50", "Gift card 50", "Gift cards", 5000),
    ("SKU-TART", "Fruit tart", "Pastry", 2900),
]
# Every generated email, valid or not, carries its contact number ({n}) and no other digit,
# so a lookup by email finds its contact without an index over a million rows.
INVALID_EMAILS = [
    "{l}{n}@@{d}",
    "{f}.{l}{n}.{d}",
    "{f}{n}@{l}",
    "{f} {l}{n}@{d}",
    "{f}.{l}{n}@{d}.",
    "{n}@{d}",
]
LONG_NOTE = (
    "Long-time customer who prefers phone calls in the morning; asked about wholesale pricing, "
    "seasonal boxes and gift cards; see the attached history for earlier orders and complaints. "
)
