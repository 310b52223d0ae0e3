"""Pure transforms from normalised ActiveCampaign records to Brevo payloads.

Flow: the engine builds a `MappingSet` (`rules`, validated once, stored on the run as a
snapshot), calls `compile_mapping` (`compiled`) once per run, then calls `transform_contact` /
`transform_deal` / `transform_order` / `transform_event` (`contacts`, `deals`, `orders`,
`events`) per record. What they return is in `results`; `values` converts one raw AC value.

A transform never raises for bad record data: a bad value becomes a `FieldError` (that
attribute is dropped, the rest still syncs) and a record that cannot be sent at all gets a
`skip_reason` plus a machine `skip_code`. docs/consent.md lists the choices made here.

Nothing here imports Django: pydantic models in, pydantic models out, so the tests of this
package need no database (the import contracts in pyproject.toml hold it to that).
"""

from mappings.transforms.compiled import CompiledMapping, compile_mapping
from mappings.transforms.contacts import consent_payload, normalize_email, transform_contact
from mappings.transforms.deals import DEAL_NAME_MAX_CHARS, transform_deal
from mappings.transforms.events import EVENT_PROPERTIES_MAX_BYTES, EVENT_PROPERTY_MAX_DEPTH, transform_event
from mappings.transforms.orders import ORDER_STATUS, transform_order
from mappings.transforms.results import (
    AttributeValue,
    BrevoContactPayload,
    BrevoDealPayload,
    BrevoEventPayload,
    BrevoOrderPayload,
    BrevoOrderProduct,
    ContactResult,
    DealResult,
    EventResult,
    FieldError,
    OrderResult,
    content_hash,
    not_sent_outcome,
)
from mappings.transforms.rules import (
    ATTRIBUTE_TRANSFORMS,
    CONTACT_COLUMNS,
    DEAL_SOURCES,
    EVENT_NAME_RE,
    AutomationRule,
    EventRule,
    FieldRule,
    ListRule,
    MappingError,
    MappingLabels,
    MappingSet,
    OwnerRule,
    StageRule,
    TagRule,
    Transform,
    mapping_problems,
)

__all__ = [
    "ATTRIBUTE_TRANSFORMS",
    "CONTACT_COLUMNS",
    "DEAL_NAME_MAX_CHARS",
    "DEAL_SOURCES",
    "EVENT_NAME_RE",
    "EVENT_PROPERTIES_MAX_BYTES",
    "EVENT_PROPERTY_MAX_DEPTH",
    "ORDER_STATUS",
    "AttributeValue",
    "AutomationRule",
    "BrevoContactPayload",
    "BrevoDealPayload",
    "BrevoEventPayload",
    "BrevoOrderPayload",
    "BrevoOrderProduct",
    "CompiledMapping",
    "ContactResult",
    "DealResult",
    "EventResult",
    "EventRule",
    "FieldError",
    "FieldRule",
    "ListRule",
    "MappingError",
    "MappingLabels",
    "MappingSet",
    "OrderResult",
    "OwnerRule",
    "StageRule",
    "TagRule",
    "Transform",
    "compile_mapping",
    "consent_payload",
    "content_hash",
    "mapping_problems",
    "normalize_email",
    "not_sent_outcome",
    "transform_contact",
    "transform_deal",
    "transform_event",
    "transform_order",
]
