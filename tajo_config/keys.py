"""The vocabulary of a configuration file: its sections, the keys it accepts and what they mean.

Shared by the schema, the resolver and the export so that import and export spell keys alike.
"""

from __future__ import annotations

from typing import Any

from mappings.compat import (
    STANDARD_SOURCE_TYPES,
)
from mappings.models import (
    AutomationMapping,
    CustomFieldMapping,
    CustomObjectFieldMapping,
    EventMapping,
    ListMapping,
    MappingRule,
    OwnerMapping,
    ScoreMapping,
    StageMapping,
    StandardFieldMapping,
    TagMapping,
)
from tajo_config.parse import Path_

DEFAULT_NAME = "activecampaign"
PENDING_LIST = -1  # a Brevo list the import will create
AC_PATH: Path_ = ("connectors", "activecampaign")
BREVO_PATH: Path_ = ("connectors", "brevo")

SYNC_FIELDS = {
    "contacts": "sync_contacts",
    "deals": "sync_deals",
    "automations": "sync_automations",
    "events": "sync_events",
    "ecommerce": "sync_ecommerce",
    "custom_objects": "sync_custom_objects",
    "lists": "sync_lists",
}
OPTION_FIELDS = {
    "includeTags": "include_tags",
    "includeCustomFields": "include_custom_fields",
    "includeScores": "include_scores",
    "includeListMemberships": "include_list_memberships",
    "dealsAsCrmObjects": "deals_as_crm_objects",
}
# `verbose` is the documentation's Debug Mode spelling: it logs like `debug: true`.
LOG_LEVELS = ("verbose", "debug", "info", "warning", "error")
# Sections the documentation prints on their own, outside `connectors.activecampaign`.
TOP_LEVEL_SECTIONS = ("field_mapping",)

# field_mapping keys naming standard contact columns and the contact's primary deal (the
# documentation's `firstName`/`deals.value` and the older `first_name`/`deal_value`), matched
# ignoring case. The primary deal is the contact's most recently changed open deal, else its
# latest deal (connectors.sync.staging.primary_deal).
STANDARD_KEYS = {
    "email": "email",
    "first_name": "first_name",
    "firstName": "first_name",
    "last_name": "last_name",
    "lastName": "last_name",
    "phone": "phone",
    "orgname": "orgname",
    "cdate": "cdate",
    "udate": "udate",
}
for _part in ("value", "currency", "stage", "pipeline", "owner", "status"):
    STANDARD_KEYS[f"deal_{_part}"] = f"deal.{_part}"
    STANDARD_KEYS[f"deals.{_part}"] = f"deal.{_part}"
for _source in STANDARD_SOURCE_TYPES:
    STANDARD_KEYS.setdefault(_source, _source)  # "deal.value" works too
_STANDARD_BY_LOWER = {key.lower(): source for key, source in STANDARD_KEYS.items()}
# `list_mapping: {"*": same}` / `tag_mapping: {"*": same}`: replicate AC's structure (see replicate).
REPLICATE_KEY = "*"
REPLICATE_VALUES = ("same", "same-name")
# `score`: the contact's score; `rating`: its engagement rating (see mappings.catalog.choose_contact_score).
SCORE_KEYS = ("score", "rating")
FIELD_VALUES_PREFIX = "fieldvalues."
FIELD_VALUES_DISPLAY = "fieldValues."
# The spellings the connector documentation uses, offered when a key is not recognised.
DOCUMENTED_KEYS = (
    "email",
    "firstName",
    "lastName",
    "phone",
    "score",
    "rating",
    "deals.value",
    "deals.stage",
    "deals.owner",
    "deals.pipeline",
    "deals.status",
    "deals.currency",
    "orgname",
    "cdate",
    "udate",
)


def standard_key(key: Any) -> str | None:
    """The standard source a field_mapping key names (any documented spelling, any case), else None."""
    if not isinstance(key, str):
        return None
    return _STANDARD_BY_LOWER.get(key.strip().lower())


# Export writes the documentation's spellings.
EXPORT_STANDARD_KEY = {
    "email": "email",
    "first_name": "firstName",
    "last_name": "lastName",
    "phone": "phone",
    "orgname": "orgname",
    "cdate": "cdate",
    "udate": "udate",
    "deal.value": "deals.value",
    "deal.currency": "deals.currency",
    "deal.stage": "deals.stage",
    "deal.pipeline": "deals.pipeline",
    "deal.owner": "deals.owner",
    "deal.status": "deals.status",
}

MAPPING_SECTIONS = (
    "list_mapping",
    "field_mapping",
    "tag_mapping",
    "stage_mapping",
    "owner_mapping",
    "automation_mapping",
    "event_mapping",
    "score_mapping",
    "custom_object_mapping",
)
# Which models a section replaces.
SECTION_MODELS: dict[str, tuple[type[MappingRule], ...]] = {
    "list_mapping": (ListMapping,),
    "field_mapping": (StandardFieldMapping, CustomFieldMapping),
    "tag_mapping": (TagMapping,),
    "stage_mapping": (StageMapping,),
    "owner_mapping": (OwnerMapping,),
    "automation_mapping": (AutomationMapping,),
    "event_mapping": (EventMapping,),
    "score_mapping": (ScoreMapping,),
    "custom_object_mapping": (CustomObjectFieldMapping,),
}
SECTION_MODELS_ORDER: tuple[type[MappingRule], ...] = tuple(
    model for section in MAPPING_SECTIONS for model in SECTION_MODELS[section]
)
