"""What discovery read from both sides (the catalog), and how a connection maps AC onto Brevo.

Mapping rows store provider ids, never labels: an AC field is `ac_field_id`, a Brevo list is
`brevo_list_id`. Labels and types live in the catalog and are only shown beside the ids, so
renaming a field in ActiveCampaign never re-points a mapping. Every mapping model keeps an
audit history (who, when, before/after).
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from simple_history.models import HistoricalRecords

from connectors.models import Connection
from mappings.transforms import Transform
from tenants.models import TenantOwned


class Side(models.TextChoices):
    AC = "ac", "ActiveCampaign"
    BREVO = "brevo", "Brevo"


class Kind(models.TextChoices):
    """Kinds of catalog items. `list`, `pipeline` and `stage` exist on both sides."""

    FIELD = "field", "custom field"
    LIST = "list", "list"
    TAG = "tag", "tag"
    PIPELINE = "pipeline", "pipeline"
    STAGE = "stage", "stage"
    USER = "user", "user"
    AUTOMATION = "automation", "automation"
    SCORE = "score", "score"
    CUSTOM_OBJECT = "custom_object", "custom object schema"
    CUSTOM_OBJECT_FIELD = "custom_object_field", "custom object field"
    EVENT = "event", "tracked event"
    ATTRIBUTE = "attribute", "contact attribute"
    FOLDER = "folder", "folder"


AC_KINDS: tuple[str, ...] = (
    Kind.FIELD,
    Kind.LIST,
    Kind.TAG,
    Kind.PIPELINE,
    Kind.STAGE,
    Kind.USER,
    Kind.AUTOMATION,
    Kind.SCORE,
    Kind.CUSTOM_OBJECT,
    Kind.CUSTOM_OBJECT_FIELD,
    Kind.EVENT,
)
BREVO_KINDS: tuple[str, ...] = (Kind.ATTRIBUTE, Kind.FOLDER, Kind.LIST, Kind.PIPELINE, Kind.STAGE)


class Catalog(TenantOwned):
    """The last discovery of one connection: when it ran, counts per kind, kinds that failed."""

    connection = models.OneToOneField(Connection, on_delete=models.CASCADE, related_name="catalog")
    discovered_at = models.DateTimeField(null=True, blank=True)
    # {"ac.field": 12, "brevo.attribute": 9, ...}
    counts = models.JSONField(default=dict, blank=True)
    # {"ac.custom_object": "ActiveCampaign refused ... (403)"}: kinds whose previous items were kept.
    errors = models.JSONField(default=dict, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)

    class Meta:
        verbose_name = "discovered catalog"

    def __str__(self) -> str:
        return f"Catalog of {self.connection}"

    def count_items(self) -> list[tuple[str, int]]:
        """Counts per kind in a fixed order, ActiveCampaign first (JSON keeps no order)."""
        order = [f"ac.{kind}" for kind in AC_KINDS] + [f"brevo.{kind}" for kind in BREVO_KINDS]
        counts = self.counts or {}
        known = [(key, counts[key]) for key in order if key in counts]
        return known + sorted((key, value) for key, value in counts.items() if key not in order)


class CatalogItem(TenantOwned):
    """One thing discovery found: an AC field, a Brevo attribute, a stage of a pipeline, ...

    `external_id` is the provider's id (AC ids as decimal strings, Brevo CRM ids as given);
    `parent_id` the pipeline of a stage or the schema of a custom object field.
    `missing_since` is set when a later discovery no longer finds the item (drift): the row is
    kept so a mapping that still points at it can say what it was.
    """

    catalog = models.ForeignKey(Catalog, on_delete=models.CASCADE, related_name="items")
    side = models.CharField(max_length=5, choices=Side.choices)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    external_id = models.CharField(max_length=200)
    parent_id = models.CharField(max_length=200, blank=True, default="")
    label = models.CharField(max_length=300, blank=True)
    data_type = models.CharField(max_length=40, blank=True)
    extra = models.JSONField(default=dict, blank=True)
    first_seen_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    missing_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "catalog item"
        ordering = ["side", "kind", "parent_id", "label"]
        constraints = [
            models.UniqueConstraint(
                fields=["catalog", "side", "kind", "parent_id", "external_id"], name="uniq_catalog_item"
            )
        ]
        indexes = [models.Index(fields=["catalog", "side", "kind"], name="catalog_item_kind")]

    def __str__(self) -> str:
        return f"{self.get_side_display()} {self.get_kind_display()} {self.external_id} · {self.label}"


# --------------------------------------------------------------------------- mapping rules

TRANSFORM_CHOICES = [
    (Transform.TEXT.value, "text"),
    (Transform.NUMBER.value, "number"),
    (Transform.DATE.value, "date"),
    (Transform.DATETIME.value, "date and time"),
    (Transform.BOOLEAN.value, "yes/no"),
    (Transform.PHONE.value, "phone (E.164, connection's default country)"),
    (Transform.MULTI.value, "multi-value → Brevo multiple-choice"),
    (Transform.MULTI_JOINED.value, "multi-value → joined text"),
]


class StandardSource(models.TextChoices):
    """Standard contact columns and the contact's primary deal (deal data rides on contact attributes)."""

    EMAIL = "email", "email"
    FIRST_NAME = "first_name", "first name"
    LAST_NAME = "last_name", "last name"
    PHONE = "phone", "phone"
    ORGNAME = "orgname", "organization name"
    CDATE = "cdate", "created at"
    UDATE = "udate", "updated at"
    DEAL_VALUE = "deal.value", "deal value"
    DEAL_CURRENCY = "deal.currency", "deal currency"
    DEAL_STAGE = "deal.stage", "deal stage"
    DEAL_PIPELINE = "deal.pipeline", "deal pipeline"
    DEAL_OWNER = "deal.owner", "deal owner"
    DEAL_STATUS = "deal.status", "deal status"


class MappingRule(TenantOwned):
    """Common columns of every mapping row."""

    # Which rule family this is (the validation and the YAML format speak of it by this name).
    rule_kind: ClassVar[str] = ""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="%(class)ss")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    def target_attribute(self) -> str | None:
        """The Brevo contact attribute this row fills, if any (for 'two sources, one attribute')."""
        return None


class AttributeRule(MappingRule):
    attribute = models.CharField(
        "Brevo attribute", max_length=60, help_text="Brevo contact attribute name (upper case)."
    )
    transform = models.CharField(max_length=20, choices=TRANSFORM_CHOICES, default=Transform.TEXT.value)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        # Brevo attribute names are upper case in every payload; store them that way.
        self.attribute = (self.attribute or "").strip().upper()
        super().save(*args, **kwargs)

    def target_attribute(self) -> str | None:
        return self.attribute or None


class StandardFieldMapping(AttributeRule):
    rule_kind = "standard"

    source = models.CharField("ActiveCampaign field", max_length=30, choices=StandardSource.choices)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "standard field mapping"
        ordering = ["connection", "id"]

    def __str__(self) -> str:
        return f"{self.get_source_display()} → {self.attribute}"


class CustomFieldMapping(AttributeRule):
    rule_kind = "field"

    ac_field_id = models.PositiveIntegerField("ActiveCampaign custom field")
    history = HistoricalRecords()

    class Meta:
        verbose_name = "custom field mapping"
        ordering = ["connection", "ac_field_id", "id"]

    def __str__(self) -> str:
        return f"AC field {self.ac_field_id} → {self.attribute}"


class ScoreMapping(AttributeRule):
    rule_kind = "score"

    ac_score_id = models.PositiveIntegerField("ActiveCampaign score")
    history = HistoricalRecords()

    class Meta:
        verbose_name = "score mapping"
        ordering = ["connection", "ac_score_id", "id"]

    def __str__(self) -> str:
        return f"AC score {self.ac_score_id} → {self.attribute}"


class CustomObjectFieldMapping(AttributeRule):
    rule_kind = "custom_object"

    ac_schema_id = models.CharField("ActiveCampaign custom object schema", max_length=100)
    ac_field_key = models.CharField("custom object field", max_length=100)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "custom object field mapping"
        ordering = ["connection", "ac_schema_id", "ac_field_key", "id"]

    def __str__(self) -> str:
        return f"AC object {self.ac_schema_id} field {self.ac_field_key} → {self.attribute}"


class ListMapping(MappingRule):
    rule_kind = "list"

    ac_list_id = models.PositiveIntegerField("ActiveCampaign list")
    brevo_list_id = models.PositiveIntegerField("Brevo list")
    history = HistoricalRecords()

    class Meta:
        verbose_name = "list mapping"
        ordering = ["connection", "ac_list_id", "brevo_list_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "ac_list_id", "brevo_list_id"], name="uniq_list_mapping"
            )
        ]

    def __str__(self) -> str:
        return f"AC list {self.ac_list_id} → Brevo list {self.brevo_list_id}"


class TagMapping(MappingRule):
    """An AC tag → membership of a Brevo list and/or a value of a contact attribute."""

    rule_kind = "tag"

    ac_tag_id = models.PositiveIntegerField("ActiveCampaign tag")
    brevo_list_id = models.PositiveIntegerField("Brevo list", null=True, blank=True)
    attribute = models.CharField("Brevo attribute", max_length=60, blank=True)
    value = models.CharField(
        "value when tagged",
        max_length=200,
        blank=True,
        default="true",
        help_text="Attribute value for tagged contacts (read as the attribute's type).",
    )
    value_when_absent = models.CharField(
        "value when not tagged", max_length=200, blank=True, help_text="Empty: leave the attribute alone."
    )
    unlink_when_absent = models.BooleanField(
        "remove from list when untagged",
        default=False,
        help_text="Off by default: a Brevo list may also hold people who never had the tag.",
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = "tag mapping"
        ordering = ["connection", "ac_tag_id", "id"]

    def save(self, *args, **kwargs) -> None:
        self.attribute = (self.attribute or "").strip().upper()
        super().save(*args, **kwargs)

    def __str__(self) -> str:
        target = " and ".join(
            part
            for part in (
                f"Brevo list {self.brevo_list_id}" if self.brevo_list_id else "",
                f"attribute {self.attribute}" if self.attribute else "",
            )
            if part
        )
        return f"AC tag {self.ac_tag_id} → {target or '(nothing)'}"

    def target_attribute(self) -> str | None:
        return self.attribute or None


class StageMapping(MappingRule):
    rule_kind = "stage"

    ac_pipeline_id = models.PositiveIntegerField("ActiveCampaign pipeline", null=True, blank=True)
    ac_stage_id = models.PositiveIntegerField("ActiveCampaign stage")
    brevo_pipeline_id = models.CharField("Brevo pipeline", max_length=100)
    brevo_stage_id = models.CharField("Brevo stage", max_length=100)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "pipeline stage mapping"
        ordering = ["connection", "ac_pipeline_id", "ac_stage_id"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "ac_stage_id"], name="uniq_stage_mapping")
        ]

    def __str__(self) -> str:
        return f"AC stage {self.ac_stage_id} → Brevo stage {self.brevo_stage_id}"


class OwnerMapping(MappingRule):
    rule_kind = "owner"

    ac_user_id = models.PositiveIntegerField("ActiveCampaign user")
    brevo_owner = models.CharField(
        "Brevo deal owner", max_length=254, help_text="The Brevo user's login email (or user id)."
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = "deal owner mapping"
        ordering = ["connection", "ac_user_id"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "ac_user_id"], name="uniq_owner_mapping")
        ]

    def __str__(self) -> str:
        return f"AC user {self.ac_user_id} → {self.brevo_owner}"


class AutomationMapping(MappingRule):
    rule_kind = "automation"

    ac_automation_id = models.PositiveIntegerField("ActiveCampaign automation")
    brevo_event_entered = models.CharField("Brevo event on entry", max_length=255)
    brevo_event_completed = models.CharField("Brevo event on completion", max_length=255, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "automation mapping"
        ordering = ["connection", "ac_automation_id"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "ac_automation_id"], name="uniq_automation_mapping")
        ]

    def __str__(self) -> str:
        return f"AC automation {self.ac_automation_id} → {self.brevo_event_entered}"


class EventMapping(MappingRule):
    rule_kind = "event"

    ac_event_name = models.CharField("ActiveCampaign event", max_length=255)
    brevo_event_name = models.CharField("Brevo event", max_length=255)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "tracked event mapping"
        ordering = ["connection", "ac_event_name"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "ac_event_name"], name="uniq_event_mapping")
        ]

    def __str__(self) -> str:
        return f"AC event {self.ac_event_name} → {self.brevo_event_name}"


# In the order the admin shows them and the YAML file lists them.
MAPPING_MODELS: tuple[type[MappingRule], ...] = (
    StandardFieldMapping,
    CustomFieldMapping,
    ListMapping,
    TagMapping,
    StageMapping,
    OwnerMapping,
    AutomationMapping,
    EventMapping,
    ScoreMapping,
    CustomObjectFieldMapping,
)
