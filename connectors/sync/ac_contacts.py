"""ActiveCampaign contacts read by id in batches: 100 per request instead of one request each.

Deals, automation enrolments and custom object records name their contact by id only; the
email that Brevo needs comes from `GET /contacts?ids[]=1&ids[]=2...` (reference §3.1), one
request per hundred distinct contacts of a page.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from connectors.providers.activecampaign.pagination import PAGE_SIZE, envelope_rows, parse_rows
from connectors.providers.activecampaign.schemas import Contact


def contacts_by_id(ac: Any, ids: Iterable[int | None]) -> dict[int, Contact]:
    """The contacts that still exist among `ids` (deleted ones are simply absent)."""
    wanted = sorted({int(i) for i in ids if i})
    found: dict[int, Contact] = {}
    for start in range(0, len(wanted), PAGE_SIZE):
        chunk = wanted[start : start + PAGE_SIZE]
        body = ac.get("/contacts", {"ids[]": chunk, "limit": PAGE_SIZE})
        items, _invalid = parse_rows(envelope_rows(body, "contacts", where="GET /contacts"), Contact)
        asked = set(chunk)
        found.update((contact.id, contact) for contact in items if contact.id in asked)
    return found


def email_of(contact: Contact | None) -> str:
    return (contact.email or "").strip().lower() if contact is not None else ""
