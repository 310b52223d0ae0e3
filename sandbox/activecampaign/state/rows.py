"""Input checks and row builders shared by the state's writes: body unwrapping, ids, emails, field
values, and the catalog rows (lists, custom object schemas)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from sandbox.activecampaign.errors import ACError, missing_attribute, validation
from sandbox.activecampaign.generator import catalog as g
from sandbox.activecampaign.generator.catalog import Row

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")

# ----------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------


def record_error(title: str, detail: str, pointer: str) -> ACError:
    """Custom objects answer 422 with ``source: {type, value}`` instead of ``pointer``."""
    return ACError(
        422, {"errors": [{"title": title, "detail": detail, "source": {"type": "pointer", "value": pointer}}]}
    )


def unwrap_body(body: Any, key: str) -> dict[str, Any]:
    if not isinstance(body, dict) or not isinstance(body.get(key), dict):
        raise missing_attribute(key)
    return body[key]


def int_input(value: Any, name: str) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        raise validation(
            "Invalid attribute", "field_invalid", f"/data/attributes/{name}", f"{name} must be a numeric id"
        ) from None


def clean_email(data: dict[str, Any], *, allow_null: bool) -> str:
    email = str(data.get("email") or "").strip()
    if not email:
        if allow_null:
            return ""
        raise validation("Email address is required", "field_missing", "/data/attributes/email")
    if not _EMAIL_RE.match(email):
        raise validation("Email address is not valid", "field_invalid", "/data/attributes/email")
    return email


def field_value_inputs(data: dict[str, Any], fields: dict[str, Row]) -> list[tuple[str, str | None]]:
    raw = data.get("fieldValues") or []
    if not isinstance(raw, list):
        raise validation("Invalid attribute", "field_invalid", "/data/attributes/fieldValues")
    out = []
    for item in raw:
        if not isinstance(item, dict) or item.get("field") in (None, ""):
            raise validation("Invalid attribute", "field_invalid", "/data/attributes/fieldValues")
        fid = str(item["field"])
        if fid not in fields:
            # AC ignores values for fields that do not exist.
            continue
        value = item.get("value")
        out.append((fid, None if value is None else str(value)))
    return out


def url_port(url: str) -> int | None:
    from urllib.parse import urlsplit

    try:
        return urlsplit(url).port
    except ValueError:
        return -1


def list_row(lid: str, name: str, stringid: str, iso: str | None, wall: str | None) -> Row:
    return {
        "stringid": stringid,
        "userid": "1",
        "name": name,
        "cdate": iso,
        "p_use_tracking": "1",
        "p_use_analytics_read": "0",
        "p_use_analytics_link": "0",
        "p_use_twitter": "0",
        "p_use_facebook": "0",
        "p_embed_image": "1",
        "p_use_captcha": "1",
        "send_last_broadcast": "0",
        "private": "0",
        "analytics_domains": None,
        "analytics_source": "",
        "analytics_ua": "",
        "twitter_token": "",
        "twitter_token_secret": "",
        "facebook_session": None,
        "carboncopy": None,
        "subscription_notify": None,
        "unsubscription_notify": None,
        "require_name": "0",
        "get_unsubscribe_reason": "0",
        "to_name": "Subscriber",
        "optinoptout": "1",
        "sender_name": "Sandbox Shop",
        "sender_addr1": "1 Main St",
        "sender_addr2": "",
        "sender_city": "Austin",
        "sender_state": "TX",
        "sender_zip": "78701",
        "sender_country": "US",
        "sender_phone": "",
        "sender_url": "https://shop.example.org",
        "sender_reminder": "You signed up on our website.",
        "fulladdress": "",
        "optinmessageid": "0",
        "optoutconf": "0",
        "deletestamp": None,
        "udate": iso,
        "created_timestamp": wall,
        "updated_timestamp": wall,
        "created_by": None,
        "updated_by": None,
        "id": lid,
        "user": "1",
        # Lists are e-mail or SMS lists since AC added SMS lists; every list carries its channel.
        "channel": "email",
    }


def schema_row(schema_id: str) -> Row:
    stamp = "2024-01-05T14:20:31.482913004Z"
    return {
        "id": schema_id,
        "slug": g.SCHEMA_SLUG,
        "visibility": "private",
        "labels": {"singular": "Subscription", "plural": "Subscriptions"},
        "description": "Recurring plans",
        "createdTimestamp": stamp,
        "updatedTimestamp": stamp,
        "fields": [
            {
                "id": "plan",
                "labels": {"singular": "Plan", "plural": "Plans"},
                "type": "dropdown",
                "isRequired": True,
                "options": [
                    {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"plan-{v}")), "value": v}
                    for v in ("Starter", "Pro", "Enterprise")
                ],
            },
            {
                "id": "mrr",
                "labels": {"singular": "MRR", "plural": "MRR"},
                "type": "currency",
                "defaultCurrency": "USD",
                "isRequired": False,
            },
            {
                "id": "seats",
                "labels": {"singular": "Seats", "plural": "Seats"},
                "type": "number",
                "required": False,
                "scale": 0,
            },
            {
                "id": "renewal_date",
                "labels": {"singular": "Renewal date", "plural": "Renewal dates"},
                "type": "date",
                "isRequired": False,
            },
        ],
        "icons": {"default": "https://d226aj4ao1t61q.cloudfront.net/n9mayqo2d_customobject.png"},
        "relationships": [
            {
                "id": "primary-contact",
                "labels": {"singular": "Primary Contact", "plural": "Primary Contacts"},
                "description": "Primary contact to this object",
                "namespace": "contacts",
                "hasMany": False,
            }
        ],
    }


def iter_matching(rows: Iterable[Row], predicate: Callable[[Row], bool] | None) -> Iterator[Row]:
    if predicate is None:
        yield from rows
    else:
        for row in rows:
            if predicate(row):
                yield row
