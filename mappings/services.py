"""Services of the mappings app: discovery, validation, the run snapshot, defaults, fixes.

Admin actions, management commands and the sync engine call these; each does one thing.
HTTP calls happen outside database transactions, and transactions stay short.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from connectors.exceptions import ApiError, AuthError, TransportError, UnsafeURL
from connectors.models import Connection
from connectors.providers.activecampaign.client import ActiveCampaignClient
from connectors.providers.brevo.client import BrevoClient
from mappings.catalog import AC, BREVO, CatalogIndex, Entry, choose_contact_score
from mappings.compat import (
    NEW_ATTRIBUTE_RE,
    SCORE_SOURCE_TYPE,
    STANDARD_SOURCE_TYPES,
    brevo_type,
    default_transform,
    source_type,
)
from mappings.exceptions import DiscoveryFailed
from mappings.models import (
    Catalog,
    CatalogItem,
    CustomFieldMapping,
    MappingRule,
    ScoreMapping,
    StandardFieldMapping,
    StandardSource,
)
from mappings.selectors import attribute_type, catalog_index_for, mapping_rows
from mappings.transforms import (
    Transform,
)
from mappings.transforms.values import MULTI_OPTION_MAX_CHARS
from mappings.validation import MappingChecker

logger = logging.getLogger(__name__)

# The connector documentation's defaults for a new connection.
DEFAULT_FIELD_MAPPINGS: tuple[tuple[str, str, Transform], ...] = (
    (StandardSource.EMAIL, "EMAIL", Transform.TEXT),
    (StandardSource.FIRST_NAME, "FIRSTNAME", Transform.TEXT),
    (StandardSource.LAST_NAME, "LASTNAME", Transform.TEXT),
    (StandardSource.PHONE, "SMS", Transform.PHONE),
)

CREATABLE_TYPES = ("text", "float", "date", "boolean", "multiple-choice")
BREVO_PAGE = 50  # folders and lists: Brevo's maximum page size


# ============================================================================ discovery


@dataclass
class Discovery:
    """What one discovery read: entries of both sides, and kinds that could not be read."""

    entries: list[Entry] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    duration_seconds: float = 0.0

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for entry in self.entries:
            key = f"{entry.side}.{entry.kind}"
            counts[key] = counts.get(key, 0) + 1
        return counts

    def index(self) -> CatalogIndex:
        return CatalogIndex(self.entries, errors=self.errors)


def _pages_to_end(pages: Iterable[Any]) -> Iterator[Any]:
    for page in pages:
        yield from page.items


def _user_label(user: Any) -> str:
    name = " ".join(part for part in (user.first_name, user.last_name) if part).strip()
    if name and user.email:
        return f"{name} <{user.email}>"
    return name or user.email or user.username or f"user {user.id}"


def _read_ac_fields(ac: ActiveCampaignClient) -> list[Entry]:
    entries: list[Entry] = []
    options: dict[int, list[str]] = {}
    fields = []
    for page in ac.iter_field_pages():
        fields.extend(page.items)
        for option in page.options:
            value = option.value or option.label
            if value:
                options.setdefault(option.field_id, []).append(value)
    for item in fields:
        entries.append(
            Entry(
                AC,
                "field",
                str(item.id),
                label=item.title or item.perstag,
                data_type=item.type or "",
                extra={"perstag": item.perstag, "options": options.get(item.id, [])},
            )
        )
    return entries


def _read_ac_lists(ac: ActiveCampaignClient) -> list[Entry]:
    return [
        Entry(AC, "list", str(item.id), label=item.name, extra={"stringid": item.stringid})
        for item in _pages_to_end(ac.iter_list_pages())
    ]


def _read_ac_tags(ac: ActiveCampaignClient) -> list[Entry]:
    return [Entry(AC, "tag", str(item.id), label=item.name) for item in _pages_to_end(ac.iter_tag_pages())]


def _read_ac_pipelines(ac: ActiveCampaignClient) -> list[Entry]:
    pipelines = [
        Entry(AC, "pipeline", str(item.id), label=item.title, extra={"currency": item.currency})
        for item in _pages_to_end(ac.iter_pipeline_pages())
    ]
    stages = [
        Entry(
            AC,
            "stage",
            str(item.id),
            label=item.title,
            parent_id=str(item.pipeline_id) if item.pipeline_id is not None else "",
            extra={"order": item.order},
        )
        for item in _pages_to_end(ac.iter_deal_stage_pages())
    ]
    return pipelines + stages


def _read_ac_users(ac: ActiveCampaignClient) -> list[Entry]:
    return [
        Entry(
            AC,
            "user",
            str(item.id),
            label=_user_label(item),
            extra={"email": item.email, "username": item.username},
        )
        for item in _pages_to_end(ac.iter_user_pages())
    ]


def _read_ac_automations(ac: ActiveCampaignClient) -> list[Entry]:
    return [
        Entry(AC, "automation", str(item.id), label=item.name, extra={"status": item.status})
        for item in _pages_to_end(ac.iter_automation_pages())
    ]


def _read_ac_scores(ac: ActiveCampaignClient) -> list[Entry]:
    return [
        Entry(AC, "score", str(item.id), label=item.name, extra={"reltype": item.reltype})
        for item in _pages_to_end(ac.iter_score_pages())
    ]


def _read_ac_custom_objects(ac: ActiveCampaignClient) -> list[Entry]:
    entries: list[Entry] = []
    for schema in _pages_to_end(ac.iter_custom_object_schema_pages()):
        entries.append(
            Entry(
                AC,
                "custom_object",
                schema.id,
                label=schema.labels.singular or schema.slug,
                extra={"slug": schema.slug},
            )
        )
        for item in schema.fields:
            if (item.status or "") == "marked_for_deletion":
                continue
            entries.append(
                Entry(
                    AC,
                    "custom_object_field",
                    item.id,
                    parent_id=schema.id,
                    label=item.labels.singular or item.id,
                    data_type=item.type or "",
                    extra={"options": [option.value for option in item.options if option.value]},
                )
            )
    return entries


def _read_ac_events(ac: ActiveCampaignClient) -> list[Entry]:
    return [
        Entry(AC, "event", item.name, label=item.name)
        for item in _pages_to_end(ac.iter_event_tracking_event_pages())
    ]


def _read_brevo_attributes(brevo: BrevoClient) -> list[Entry]:
    entries = []
    for item in brevo.list_attributes():
        extra: dict[str, Any] = {"category": item.category}
        if item.multi_category_options:
            extra["options"] = list(item.multi_category_options)
        if item.enumeration:
            # The real option: `valueStr` first (value is 0 for non-numeric options since 2026-05).
            extra["enumeration"] = [
                {"value": option.option, "label": option.label} for option in item.enumeration
            ]
            extra["options"] = [option.option for option in item.enumeration]
        kind = item.type or ("category" if item.category == "category" else "")
        entries.append(
            Entry(BREVO, "attribute", item.name.upper(), label=item.name, data_type=kind, extra=extra)
        )
    return entries


def _read_brevo_folders(brevo: BrevoClient) -> list[Entry]:
    entries: list[Entry] = []
    offset = 0
    while True:
        page = brevo.list_folders(limit=BREVO_PAGE, offset=offset)
        entries.extend(Entry(BREVO, "folder", str(item.id), label=item.name) for item in page.folders)
        offset += len(page.folders)
        if len(page.folders) < BREVO_PAGE or offset >= page.count:
            return entries


def _read_brevo_lists(brevo: BrevoClient) -> list[Entry]:
    return [
        Entry(BREVO, "list", str(item.id), label=item.name, extra={"folder_id": item.folder_id})
        for page in brevo.iter_lists(page_size=BREVO_PAGE)
        for item in page.lists
    ]


def _read_brevo_pipelines(brevo: BrevoClient) -> list[Entry]:
    entries: list[Entry] = []
    for pipeline in brevo.list_pipelines():
        entries.append(Entry(BREVO, "pipeline", pipeline.id, label=pipeline.name))
        entries.extend(
            Entry(
                BREVO, "stage", stage.id, label=stage.name, parent_id=pipeline.id, extra={"order": position}
            )
            for position, stage in enumerate(pipeline.stages)
        )
    return entries


AC_READERS: tuple[tuple[tuple[str, ...], Callable[[ActiveCampaignClient], list[Entry]]], ...] = (
    (("user",), _read_ac_users),  # first: the cheapest proof that the key works
    (("field",), _read_ac_fields),
    (("list",), _read_ac_lists),
    (("tag",), _read_ac_tags),
    (("pipeline", "stage"), _read_ac_pipelines),
    (("automation",), _read_ac_automations),
    (("score",), _read_ac_scores),
    (("custom_object", "custom_object_field"), _read_ac_custom_objects),
    (("event",), _read_ac_events),
)
BREVO_READERS: tuple[tuple[tuple[str, ...], Callable[[BrevoClient], list[Entry]]], ...] = (
    (("attribute",), _read_brevo_attributes),
    (("folder",), _read_brevo_folders),
    (("list",), _read_brevo_lists),
    (("pipeline", "stage"), _read_brevo_pipelines),
)

# Failures that mean the whole side is unusable, not one kind of item.
_FATAL = (UnsafeURL, TransportError)


def _read_side(side: str, client: Any, readers: tuple, result: Discovery) -> None:
    provider = "ActiveCampaign" if side == AC else "Brevo"
    failures = 0
    for kinds, reader in readers:
        try:
            result.entries.extend(reader(client))
        except _FATAL as exc:
            raise DiscoveryFailed(f"{provider}: {exc.operator_message}") from exc
        except AuthError as exc:
            if exc.status == 401 or (side == AC and reader is _read_ac_users):
                raise DiscoveryFailed(f"{provider}: {exc.operator_message}") from exc
            failures += 1
            for kind in kinds:
                result.errors[f"{side}.{kind}"] = exc.operator_message
        except ApiError as exc:
            # One kind the plan or the key cannot read (custom objects, CRM, ...): keep going.
            failures += 1
            for kind in kinds:
                result.errors[f"{side}.{kind}"] = exc.operator_message
            logger.warning("discovery of %s %s failed: %s", provider, "/".join(kinds), exc.operator_message)
    if failures == len(readers):
        raise DiscoveryFailed(f"{provider}: nothing could be read ({next(iter(result.errors.values()))})")


def discover(ac: ActiveCampaignClient, brevo: BrevoClient) -> Discovery:
    """Read every kind of the catalog from both providers, each list paged to its end."""
    started = time.monotonic()
    result = Discovery()
    _read_side(AC, ac, AC_READERS, result)
    _read_side(BREVO, brevo, BREVO_READERS, result)
    result.duration_seconds = round(time.monotonic() - started, 3)
    return result


def catalog_store(*, connection: Connection, discovery: Discovery) -> Catalog:
    """Store a discovery as the connection's catalog.

    Items are updated in place (stable primary keys); items no longer found get `missing_since`
    (drift) unless their kind could not be read this time, in which case they are left alone.
    """
    now = timezone.now()
    failed = set(discovery.errors)
    with transaction.atomic():
        catalog, _created = Catalog.objects.select_for_update().get_or_create(
            connection=connection, defaults={"tenant_id": connection.tenant_id}
        )
        existing = {
            (item.side, item.kind, item.parent_id, item.external_id): item
            for item in CatalogItem.objects.filter(catalog=catalog)
        }
        to_create: list[CatalogItem] = []
        to_update: list[CatalogItem] = []
        seen: set[tuple[str, str, str, str]] = set()
        for entry in discovery.entries:
            key = (entry.side, entry.kind, entry.parent_id, entry.external_id)
            if key in seen:
                continue  # a provider listing one item twice (paging while it changes)
            seen.add(key)
            values = {
                "label": entry.label[:300],
                "data_type": entry.data_type[:40],
                "extra": entry.extra,
                "last_seen_at": now,
                "missing_since": None,
            }
            item = existing.get(key)
            if item is None:
                to_create.append(
                    CatalogItem(
                        tenant_id=connection.tenant_id,
                        catalog=catalog,
                        side=entry.side,
                        kind=entry.kind,
                        parent_id=entry.parent_id,
                        external_id=entry.external_id,
                        first_seen_at=now,
                        **values,
                    )
                )
            else:
                for name, value in values.items():
                    setattr(item, name, value)
                to_update.append(item)
        for key, item in existing.items():
            if key in seen or f"{item.side}.{item.kind}" in failed or item.missing_since is not None:
                continue
            item.missing_since = now
            to_update.append(item)
        CatalogItem.objects.bulk_create(to_create, batch_size=500)
        CatalogItem.objects.bulk_update(
            to_update, ["label", "data_type", "extra", "last_seen_at", "missing_since"], batch_size=500
        )
        counts = discovery.counts()
        for kind in failed:
            # A kind that failed keeps showing what the previous discovery found.
            counts[kind] = sum(
                1
                for item in existing.values()
                if f"{item.side}.{item.kind}" == kind and item.missing_since is None
            )
        catalog.discovered_at = now
        catalog.counts = dict(sorted(counts.items()))
        catalog.errors = dict(sorted(discovery.errors.items()))
        catalog.duration_seconds = discovery.duration_seconds
        catalog.save()
    return catalog


def catalog_discover(*, connection: Connection) -> Catalog:
    """Discover both accounts of a connection and store the result as its catalog.

    The first discovery of a connection also applies the documentation's default mappings
    (see `mapping_documented_defaults_apply`).
    """
    return catalog_discover_with_defaults(connection=connection)[0]


def catalog_discover_with_defaults(*, connection: Connection) -> tuple[Catalog, list[str]]:
    """`catalog_discover`, also returning the default mappings its first discovery added."""
    from connectors.clients import build_clients

    first = not Catalog.objects.filter(connection=connection).exists()
    ac, brevo = build_clients(connection)
    with ac, brevo:
        discovery = discover(ac, brevo)
    catalog = catalog_store(connection=connection, discovery=discovery)
    if connection.tags_attribute:
        try:
            if tags_attribute_ensure(connection=connection):
                catalog.refresh_from_db()  # the attribute or its options were added to it
        except (ApiError, ValueError) as exc:
            # The catalog is stored either way; the tags attribute says what is wrong with it.
            problem = exc.operator_message if isinstance(exc, ApiError) else str(exc)
            catalog.errors = {**(catalog.errors or {}), "brevo.tags_attribute": problem}
            catalog.save(update_fields=["errors"])
    mapped = mapping_documented_defaults_apply(connection=connection) if first else []
    return catalog, mapped


def tags_attribute_ensure(*, connection: Connection) -> str:
    """Make the connection's tags attribute a Brevo multiple-choice attribute with every AC tag as an option.

    Creates the attribute when Brevo lacks it (and the account has tags); adds the tags that
    are not options yet (Brevo keeps a value only if it is an option). Returns what it did, ""
    when nothing was needed. Raises ValueError when an attribute of that name has another type.
    """
    from connectors.clients import brevo_client_for

    name = connection.tags_attribute.strip().upper()
    index = catalog_index_for(connection)
    if not name or index is None:
        return ""
    tags = sorted(
        {e.label.strip()[:MULTI_OPTION_MAX_CHARS] for e in index.items(AC, "tag") if e.label.strip()}
    )
    if not tags:
        return ""
    entry = index.get(BREVO, "attribute", name)
    if entry is None or not entry.present:
        brevo_attribute_create(
            connection=connection, name=name, attribute_type="multiple-choice", options=tags
        )
        return f"created Brevo attribute {name} (multiple-choice) with {len(tags)} tags as options"
    if brevo_type(entry.data_type) != "multiple-choice":
        raise ValueError(
            f"Brevo attribute {name} is {entry.data_type or 'not writable'}, not multiple-choice, so contact "
            "tags are not written to it; choose another Tags attribute or leave it empty"
        )
    have = set(entry.extra.get("options") or [])
    new = [tag for tag in tags if tag not in have]
    if not new:
        return ""
    with brevo_client_for(connection) as brevo:
        brevo.add_attribute_options(name, new)
    catalog_item_add(
        connection=connection,
        entry=Entry(
            BREVO,
            "attribute",
            name,
            label=entry.label,
            data_type=entry.data_type,
            extra={**entry.extra, "options": [*(entry.extra.get("options") or []), *new]},
        ),
    )
    return f"added {len(new)} tags as options of Brevo attribute {name}"


# ============================================================================ defaults and fixes


def mapping_defaults_apply(*, connection: Connection) -> list[StandardFieldMapping]:
    """Give a connection without mappings the documentation's defaults (email, FIRSTNAME, LASTNAME, SMS)."""
    if any(
        model.objects.filter(connection=connection).exists()
        for model in (StandardFieldMapping, CustomFieldMapping)
    ):
        return []
    created = []
    for source, attribute, transform in DEFAULT_FIELD_MAPPINGS:
        row = StandardFieldMapping(
            tenant_id=connection.tenant_id,
            connection=connection,
            source=source,
            attribute=attribute,
            transform=transform.value,
        )
        row._change_reason = "defaults for a new connection"
        row.save()
        created.append(row)
    return created


# The documentation's default mapping table beyond the four standard fields: applied after the
# first discovery onto the Brevo attributes that already exist (Tajo does not create attributes
# in a customer's Brevo account unasked; the YAML import does with --create-missing).
DOCUMENTED_DEFAULTS: tuple[tuple[str, str], ...] = (
    ("score", "LEAD_SCORE"),
    ("rating", "ENGAGEMENT_RATING"),
    ("deal.value", "DEAL_VALUE"),
    ("deal.stage", "DEAL_STAGE"),
    ("deal.owner", "DEAL_OWNER"),
)


def mapping_documented_defaults_apply(*, connection: Connection) -> list[str]:
    """Map what the documentation's table maps by default onto attributes Brevo already has.

    Scores (`score`, `rating`: see choose_contact_score), the primary deal's value,
    stage and owner, and every custom field onto the attribute named like its perstag. An
    attribute some row already fills is left alone. Returns "SOURCE → ATTRIBUTE" lines.
    """
    index = catalog_index_for(connection)
    if index is None:
        return []
    rows = mapping_rows(connection)
    taken = {str(getattr(row, "attribute", "") or "").upper() for row in rows}

    def brevo_has(name: str) -> bool:
        entry = index.get(BREVO, "attribute", name)
        return entry is not None and entry.present and name not in taken

    wanted: list[tuple[MappingRule, str]] = []
    scores = [e for e in index.items(AC, "score") if (e.extra.get("reltype") or "contact") == "contact"]
    for source, attribute in DOCUMENTED_DEFAULTS:
        if not brevo_has(attribute):
            continue
        if source in ("score", "rating"):
            score = choose_contact_score(source, scores)
            if score is not None and score.external_id.isdigit():
                wanted.append((ScoreMapping(ac_score_id=int(score.external_id), attribute=attribute), source))
        else:
            wanted.append((StandardFieldMapping(source=source, attribute=attribute), source))
        taken.add(attribute)
    for ac_field in index.items(AC, "field"):
        perstag = str(ac_field.extra.get("perstag") or "").upper()
        if perstag and ac_field.external_id.isdigit() and brevo_has(perstag):
            wanted.append(
                (CustomFieldMapping(ac_field_id=int(ac_field.external_id), attribute=perstag), perstag)
            )
            taken.add(perstag)
    created = []
    checker = MappingChecker(index)
    for row, source in wanted:
        if isinstance(row, ScoreMapping):
            kind = SCORE_SOURCE_TYPE
        elif isinstance(row, StandardFieldMapping):
            kind = STANDARD_SOURCE_TYPES[row.source]
        else:
            entry = index.get(AC, "field", row.ac_field_id)
            kind = source_type(entry.data_type if entry is not None else None)
        row.transform = default_transform(kind, attribute_type(index, row.attribute)).value
        row.tenant_id = connection.tenant_id
        row.connection = connection
        if any(problem.blocking for problem in checker.check_rule(row)):
            continue  # a type that does not fit: better unmapped than failing every sync
        row._change_reason = "documentation defaults after the first discovery"
        row.save()
        key = f"fieldValues.{source.lower()}" if isinstance(row, CustomFieldMapping) else source
        created.append(f"{key} → {row.attribute}")
    return created


def brevo_attribute_create(
    *, connection: Connection, name: str, attribute_type: str, options: Iterable[str] = ()
) -> CatalogItem:
    """Create a normal contact attribute in the connection's Brevo account and add it to the catalog."""
    from connectors.clients import brevo_client_for

    name = name.strip().upper()
    if not NEW_ATTRIBUTE_RE.fullmatch(name):
        raise ValueError(
            f"'{name}' is not a valid name for a new Brevo attribute "
            "(capital letters, digits and _, starting with a letter, at most 50 characters)"
        )
    if attribute_type not in CREATABLE_TYPES:
        raise ValueError(
            f"Tajo creates attributes of type {', '.join(CREATABLE_TYPES)}, not '{attribute_type}'"
        )
    option_list = [str(option)[:200] for option in dict.fromkeys(options) if str(option).strip()]
    if attribute_type == "multiple-choice" and not option_list:
        raise ValueError("a multiple-choice attribute needs at least one option")
    with brevo_client_for(connection) as brevo:
        brevo.create_attribute(
            "normal",
            name,
            type=attribute_type,
            multi_category_options=option_list if attribute_type == "multiple-choice" else None,
        )
    return catalog_item_add(
        connection=connection,
        entry=Entry(
            BREVO,
            "attribute",
            name,
            label=name,
            data_type=attribute_type,
            extra={"category": "normal", **({"options": option_list} if option_list else {})},
        ),
    )


def catalog_item_add(*, connection: Connection, entry: Entry) -> CatalogItem:
    """Record one item Tajo itself created, without a full (budget-costly) discovery."""
    now = timezone.now()
    with transaction.atomic():
        catalog, _ = Catalog.objects.get_or_create(
            connection=connection, defaults={"tenant_id": connection.tenant_id}
        )
        item, created = CatalogItem.objects.update_or_create(
            catalog=catalog,
            side=entry.side,
            kind=entry.kind,
            parent_id=entry.parent_id,
            external_id=entry.external_id,
            defaults={
                "tenant_id": connection.tenant_id,
                "label": entry.label,
                "data_type": entry.data_type,
                "extra": entry.extra,
                "last_seen_at": now,
                "missing_since": None,
            },
            create_defaults={
                "tenant_id": connection.tenant_id,
                "label": entry.label,
                "data_type": entry.data_type,
                "extra": entry.extra,
                "last_seen_at": now,
                "first_seen_at": now,
            },
        )
        if created:
            key = f"{entry.side}.{entry.kind}"
            counts = dict(catalog.counts or {})
            counts[key] = counts.get(key, 0) + 1
            catalog.counts = counts
            catalog.save(update_fields=["counts"])
    return item
