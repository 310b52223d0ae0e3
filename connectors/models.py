"""Accounts, connections, runs and their per-record trail."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.postgres.indexes import OpClass
from django.db import models
from django.db.models import Case, F, IntegerField, Value, When
from django.db.models.functions import Upper
from django.utils import timezone
from simple_history.models import HistoricalRecords

from connectors.fields import SecretField
from connectors.providers.http.masking import mask_secret
from tenants.models import Tenant, TenantOwned

BREVO_DEFAULT_API_URL = "https://api.brevo.com/v3"


class AcPlan(models.TextChoices):
    LITE = "lite", "Lite"
    PLUS = "plus", "Plus"
    PROFESSIONAL = "professional", "Professional"
    ENTERPRISE = "enterprise", "Enterprise"


# ActiveCampaign allows 5 requests per second per account on every plan (vendor rate-limit page,
# updated 2026-11-10; reference §15) and says so in `RateLimit-Limit` on every answer. The plan
# no longer implies a rate: an account above 5 is an explicit override for an account AC itself
# has raised, and Tajo still never paces above the header
# (`connectors.providers.http.ratelimit.FollowingLimiter`).
DEFAULT_AC_RATE = 5.0
# Event tracking reads (tracking logs, event-tracking settings) have their own, lower budget.
DEFAULT_EVENT_TRACKING_RATE = 2.0
PLAN_RATES: dict[str, float] = dict.fromkeys(AcPlan.values, DEFAULT_AC_RATE)


class SecretHolder(models.Model):
    """An account with an encrypted API key and its visible last four characters.

    History excludes the key itself; `api_key_last4` changes with it, so the audit trail
    shows that (and when) a key was replaced without ever storing it in clear.
    """

    api_key = SecretField(max_length=2000)
    api_key_last4 = models.CharField(max_length=4, editable=False, default="")

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        self.api_key_last4 = (self.api_key or "")[-4:]
        super().save(*args, **kwargs)

    @property
    def api_key_masked(self) -> str:
        return mask_secret(self.api_key)


class ActiveCampaignAccount(TenantOwned, SecretHolder):
    name = models.CharField(max_length=200)
    api_url = models.URLField(
        "API URL",
        max_length=300,
        help_text="From ActiveCampaign Settings → Developer, e.g. https://yourcompany.api-us1.com "
        "(not the dashboard URL ending in activehosted.com).",
    )
    plan = models.CharField(max_length=20, choices=AcPlan.choices, default=AcPlan.LITE)
    requests_per_second = models.FloatField(
        default=DEFAULT_AC_RATE,
        help_text="Shared by every worker that touches this account. 5 on every plan; set it higher "
        "only if ActiveCampaign raised this account's limit. Tajo never paces above the limit "
        "ActiveCampaign announces (RateLimit-Limit).",
    )
    event_tracking_rate = models.FloatField(
        default=DEFAULT_EVENT_TRACKING_RATE,
        help_text="Separate budget for event tracking requests (per second), on top of the account's rate.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["api_key"])

    class Meta:
        verbose_name = "ActiveCampaign account"
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="uniq_ac_account_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.api_url})"

    def plan_change(self, plan: str) -> None:
        """Set the plan. The rate follows only while it is the old plan's preset: a rate the
        operator set for this account (ActiveCampaign raised its limit) is kept, since the plan
        says nothing about it. Not saved here."""
        if self.requests_per_second == PLAN_RATES.get(self.plan, DEFAULT_AC_RATE):
            self.requests_per_second = PLAN_RATES[plan]
        self.plan = plan


class BrevoBudget(models.TextChoices):
    GENERAL = "general", "General (every plan): contacts 10/s, other endpoints 100/hour"
    ADVANCED = "advanced", "Advanced (Professional, Enterprise): contacts 20/s, other 200/hour"
    UNPACED = "unpaced", "Unpaced (test servers only): rely on Brevo's 429 answers"


class BrevoAccount(TenantOwned, SecretHolder):
    name = models.CharField(max_length=200)
    api_url = models.URLField("API URL", max_length=300, default=BREVO_DEFAULT_API_URL)
    budget = models.CharField(
        "rate budget",
        max_length=20,
        choices=BrevoBudget.choices,
        default=BrevoBudget.GENERAL,
        help_text="Brevo's rate limits for this account's plan; Tajo paces every worker to stay within them.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["api_key"])

    class Meta:
        verbose_name = "Brevo account"
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="uniq_brevo_account_name")]

    def __str__(self) -> str:
        return self.name


class LogLevel(models.TextChoices):
    # `verbose` is the connector documentation's Debug Mode level: it logs every vendor request.
    VERBOSE = "verbose", "Verbose (every ActiveCampaign and Brevo request)"
    DEBUG = "debug", "Debug"
    INFO = "info", "Info"
    WARNING = "warning", "Warning"
    ERROR = "error", "Error"


def _webhook_secret() -> str:
    return secrets.token_urlsafe(32)


class Connection(TenantOwned):
    """An ActiveCampaign account wired to a Brevo account, with what syncs and how.

    The resource switches and options mirror the `sync:` block of the YAML configuration.
    """

    name = models.SlugField(max_length=60, default="activecampaign", help_text="Addressed as TENANT/NAME.")
    enabled = models.BooleanField(default=True)
    ac_account = models.ForeignKey(
        ActiveCampaignAccount, on_delete=models.PROTECT, related_name="connections"
    )
    brevo_account = models.ForeignKey(BrevoAccount, on_delete=models.PROTECT, related_name="connections")

    sync_contacts = models.BooleanField("contacts", default=True)
    sync_deals = models.BooleanField("deals", default=True)
    sync_automations = models.BooleanField("automations", default=True)
    sync_events = models.BooleanField("tracked events", default=True)
    sync_ecommerce = models.BooleanField("e-commerce (Deep Data)", default=False)
    sync_custom_objects = models.BooleanField("custom objects", default=False)
    sync_lists = models.BooleanField("lists and tags", default=True)

    include_custom_fields = models.BooleanField(default=True)
    include_tags = models.BooleanField(default=True)
    include_list_memberships = models.BooleanField(default=True)
    include_scores = models.BooleanField(default=True)
    deals_as_crm_objects = models.BooleanField(
        default=False,
        help_text="Also create Brevo CRM deals (paced at Brevo's hourly CRM budget). "
        "Deal value, stage and owner always reach Brevo as contact attributes.",
    )
    tags_attribute = models.CharField(
        "Tags attribute",
        max_length=50,
        blank=True,
        default="TAGS",
        help_text="Brevo multiple-choice attribute that holds each contact's ActiveCampaign tag names, to "
        "segment on in Brevo (created at discovery, new tags added as options). Empty: tags reach Brevo "
        "only through tag mappings.",
    )
    default_phone_country = models.CharField(
        max_length=2,
        default="US",
        help_text="ISO country used to complete phone numbers without a country code.",
    )
    incremental_every_minutes = models.PositiveIntegerField(
        default=0, help_text="Schedule an incremental sync this often; 0 turns the schedule off."
    )
    debug = models.BooleanField(default=False)
    log_level = models.CharField(max_length=10, choices=LogLevel.choices, default=LogLevel.INFO)
    log_webhooks = models.BooleanField(default=False, help_text="Keep the raw body of received webhooks.")

    # The last connection test, or a run that met 401/403 since: what `status.connected` says.
    last_check_ok = models.BooleanField(null=True, blank=True, editable=False)
    last_check_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_check_message = models.CharField(max_length=300, blank=True, editable=False)

    # Webhook deliveries not stored because the connection's store was full (TAJO_WEBHOOK_STORED_MAX),
    # and since when it has been full (None once deliveries are stored again).
    webhooks_not_stored = models.PositiveIntegerField(default=0, editable=False)
    webhooks_full_since = models.DateTimeField(null=True, blank=True, editable=False)

    # Encrypted at rest like the API keys: the intake compares it in Python (constant time), and the
    # admin must still be able to show the intake URL, so a one-way hash would not do.
    webhook_secret = SecretField(max_length=500, default=_webhook_secret, editable=False)
    webhook_ip_allowlist = models.TextField(
        blank=True, help_text="Optional: addresses or networks (CIDR) allowed to post webhooks, one per line."
    )
    brevo_sync_list_id = models.PositiveBigIntegerField(
        "Brevo list of all synced contacts",
        null=True,
        blank=True,
        help_text="Every contact Tajo writes joins this Brevo list (its imports need one). Empty: Tajo "
        "finds or creates a list named 'Tajo: all synced contacts' at the first sync.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(
        excluded_fields=[
            "webhook_secret",
            "last_check_ok",
            "last_check_at",
            "last_check_message",
            "webhooks_not_stored",
            "webhooks_full_since",
        ]
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="uniq_connection_name")]

    def __str__(self) -> str:
        return f"{self.tenant.slug}/{self.name}" if self.tenant_id else self.name

    def enabled_resources(self) -> list[str]:
        flags = {
            "lists": self.sync_lists,
            "contacts": self.sync_contacts,
            "deals": self.sync_deals,
            "automations": self.sync_automations,
            "events": self.sync_events,
            "ecommerce": self.sync_ecommerce,
            "custom_objects": self.sync_custom_objects,
        }
        return [name for name, on in flags.items() if on]

    def record_check(self, *, ok: bool, message: str = "") -> None:
        """Remember the verdict `status.connected` reports: the last test, or a refused key since.

        An update, not a save: no history row, no signal, and no race with an operator's edit.
        """
        now = timezone.now()
        message = message[:300]
        Connection.objects.filter(pk=self.pk).update(
            last_check_ok=ok, last_check_at=now, last_check_message=message
        )
        self.last_check_ok, self.last_check_at, self.last_check_message = ok, now, message


# Key in a resource's run state (`SyncRun.state`): why the mapping deliberately writes nothing of
# it (said once for the run, instead of one skipped record per source record).
NOT_CONFIGURED = "not_configured"


class RunMode(models.TextChoices):
    FULL = "full", "Full backfill"
    INCREMENTAL = "incremental", "Incremental"
    RETRY = "retry", "Retry failed records"
    WEBHOOK = "webhook", "Webhook"
    SINGLE = "single", "Single record"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    PARTIAL = "partial", "Partial"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


ACTIVE_STATUSES = (RunStatus.QUEUED, RunStatus.RUNNING)


class Trigger(models.TextChoices):
    ADMIN = "admin", "Admin"
    CLI = "cli", "Command line"
    SCHEDULE = "schedule", "Schedule"
    WEBHOOK = "webhook", "Webhook"
    API = "api", "HTTP API"


class SyncRun(TenantOwned):
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="runs")
    mode = models.CharField(max_length=20, choices=RunMode.choices, default=RunMode.FULL)
    resources = models.JSONField(default=list)
    dry_run = models.BooleanField(default=False)
    status = models.CharField(
        max_length=20, choices=RunStatus.choices, default=RunStatus.QUEUED, db_index=True
    )
    trigger = models.CharField(max_length=20, choices=Trigger.choices, default=Trigger.ADMIN)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    retry_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retries"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)
    # {"contacts": {"read": n, "created": n, ...}, ...}
    counters = models.JSONField(default=dict, blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(null=True, blank=True)
    # Where the run is inside each resource; the next slice starts here.
    state = models.JSONField(default=dict, blank=True)
    mapping_snapshot = models.JSONField(default=dict, blank=True)
    ac_requests = models.PositiveIntegerField(default=0)
    brevo_requests = models.PositiveIntegerField(default=0)
    # Brevo contact imports of this run: [{"process_id", "status", "reports": {name: CSV URL}}].
    brevo_imports = models.JSONField(default=list, blank=True)
    eta_seconds = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    job_id = models.CharField(max_length=100, blank=True)
    idempotency_key = models.CharField(max_length=200, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["connection", "status"], name="run_conn_status")]
        constraints = [
            # Two runs of one connection never run at once (webhook runs are single-record and exempt).
            models.UniqueConstraint(
                fields=["connection"],
                condition=models.Q(status__in=["queued", "running"])
                & ~models.Q(mode__in=["webhook", "single"]),
                name="one_active_run_per_connection",
            )
        ]

    def __str__(self) -> str:
        return f"Run #{self.pk} {self.get_mode_display()} ({self.status})"

    @property
    def duration_seconds(self) -> float | None:
        if not self.started_at:
            return None
        return ((self.finished_at or timezone.now()) - self.started_at).total_seconds()

    def totals(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for per_resource in (self.counters or {}).values():
            for key, value in per_resource.items():
                totals[key] = totals.get(key, 0) + int(value)
        return totals


class Outcome(models.TextChoices):
    CREATED = "created", "Created"
    UPDATED = "updated", "Updated"
    UNCHANGED = "unchanged", "Unchanged"
    SKIPPED = "skipped", "Skipped"
    FAILED = "failed", "Failed"
    # Another AC contact with the same email address is the Brevo contact (docs/consent.md).
    MERGED = "merged", "Merged"


def failures_first() -> Case:
    """A record's rank in its run's list: failures, then skips, then the rest.

    The admin sorts one run's records by it and an index is built on the very same expression
    (PostgreSQL uses an expression index only for an identical expression), so both take it here.
    """
    return Case(
        When(outcome=Outcome.FAILED, then=Value(0)),
        When(outcome=Outcome.SKIPPED, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )


# The three tables the engine writes a row of per record (SyncRecord, RecordState,
# ContactIdentity) keep no database constraint on their tenant (on PostgreSQL, migration 0014):
# PostgreSQL checks a foreign key row by row when the transaction commits (about 3 microseconds
# each; 0.3 s of a 50,000-contact backfill for the tenant keys alone), and this one guards nothing
# the other key does not. Each row also references its run or connection, whose constraint stays,
# and a run or connection cannot outlive its tenant (their own constraint); deleting a tenant
# still deletes these rows, since Django applies `on_delete` itself whatever the database
# declares. What no constraint checked before and none checks now is that the two keys name the
# same tenant: the engine writes both from the run.


class SyncRecord(TenantOwned):
    """One record's outcome in one run. Grows to millions of rows: indexed for the admin's filters."""

    # No one-column indexes on the two keys: (tenant_id, id) and (run_id, id) below serve every
    # lookup by either, and each index more slows the engine's writes of records.
    # No database constraint on the tenant either: see the note above this class.
    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="records", db_index=False)
    resource = models.CharField(max_length=30)
    source_id = models.CharField(max_length=100)
    key = models.CharField(max_length=320, blank=True, help_text="Email or other natural key.")
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    error_code = models.CharField(max_length=60, blank=True)
    message = models.TextField(blank=True)
    sent = models.JSONField(null=True, blank=True)
    trigger = models.CharField(max_length=20, choices=Trigger.choices, default=Trigger.ADMIN)
    created_at = models.DateTimeField(default=timezone.now)
    warnings = models.JSONField(
        null=True,
        blank=True,
        help_text="Values Brevo does not hold although the record was written: [{field, reason}].",
    )

    class Meta:
        indexes = [
            models.Index(fields=["run", "outcome", "resource"], name="rec_run_outcome"),
            models.Index(fields=["run", "source_id"], name="rec_run_source"),
            models.Index(fields=["run", "key"], name="rec_run_key"),
            models.Index(fields=["run", "error_code"], name="rec_run_error"),
            # The admin's pages, tenant first (docs/benchmarks.md, "Admin pages at a million records"):
            # newest first per tenant and per run, failed records, AC id and e-mail search
            # (equality and prefix on the upper-cased key, which is what iexact/istartswith compare).
            models.Index(fields=["tenant", "id"], name="rec_tenant_id"),
            models.Index(fields=["tenant", "outcome", "id"], name="rec_tenant_outcome"),
            models.Index(fields=["tenant", "resource", "id"], name="rec_tenant_resource"),
            models.Index(fields=["tenant", "source_id"], name="rec_tenant_source"),
            models.Index(
                F("tenant"), OpClass(Upper("key"), name="text_pattern_ops"), name="rec_tenant_key_upper"
            ),
            models.Index(fields=["run", "id"], name="rec_run_id"),
            # One run's records, failures first and newest first within each rank.
            models.Index(F("run"), failures_first(), F("id").desc(), name="rec_run_failures_first"),
        ]

    def __str__(self) -> str:
        return f"{self.resource} {self.source_id}: {self.outcome}"


class RecordState(TenantOwned):
    """What Tajo last wrote for one source record: makes re-runs idempotent and cheap."""

    # No database constraint on the tenant: see the note above SyncRecord.
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    # No one-column index on the connection: the unique (connection, resource, source_id) serves
    # every lookup by it, and each index more slows the engine's writes of states.
    connection = models.ForeignKey(
        Connection, on_delete=models.CASCADE, related_name="record_states", db_index=False
    )
    resource = models.CharField(max_length=30)
    source_id = models.CharField(max_length=100)
    content_hash = models.CharField(max_length=64, blank=True)
    brevo_id = models.CharField(max_length=100, blank=True)
    source_modified_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "resource", "source_id"], name="uniq_record_state")
        ]


class ContactIdentity(TenantOwned):
    """An AC contact's email address and list statuses as last read, to merge duplicates.

    Brevo keeps one contact per email address; AC may hold several contacts with one address
    (compared case-insensitively). Reads see them in different pages, slices and runs, so the
    merge (connectors/sync/contact_merge.py) needs what the others said: which is newest, and
    every list status, so an opt-out of one is never undone by another (docs/consent.md).
    """

    # No database constraint on the tenant: see the note above SyncRecord.
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    # As on RecordState: (connection, source_id) and (connection, email) serve lookups by it.
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+", db_index=False)
    source_id = models.CharField(max_length=100)
    email = models.CharField(max_length=320)  # lowercased and trimmed
    source_modified_at = models.DateTimeField(null=True, blank=True)
    lists = models.JSONField(default=dict, blank=True)  # AC list id (as text) -> status
    # The AC deal whose data rides on this contact's attributes (its primary deal), when the
    # mapping carries deal attributes: `dealsSynced` counts these with the CRM deals.
    deal_id = models.CharField(max_length=100, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "source_id"], name="uniq_contact_identity")
        ]
        indexes = [models.Index(fields=["connection", "email"], name="contact_identity_email")]

    def __str__(self) -> str:
        return f"{self.source_id} <{self.email}>"


class Checkpoint(TenantOwned):
    """Incremental cursor per resource (AC udate/mdate)."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="checkpoints")
    resource = models.CharField(max_length=30)
    cursor = models.DateTimeField(null=True, blank=True)
    position = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connection", "resource"], name="uniq_checkpoint")]


class StagedRow(models.Model):
    """Association rows (field values, tags, list memberships, deals) read in bulk during a backfill.

    Bulk list endpoints return associations for all contacts in no useful order; joining them
    locally in memory would grow with the account. They are parked here per run and joined to
    each page of contacts with one indexed range query, so a worker's memory stays flat.
    Rows are deleted when the run finishes.
    """

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="+", db_index=False)
    kind = models.CharField(max_length=2)
    contact_id = models.BigIntegerField()
    key = models.BigIntegerField(default=0)
    value = models.TextField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["run", "contact_id"], name="staged_run_contact")]

    def __str__(self) -> str:
        return f"{self.kind} {self.contact_id}:{self.key}"


class RunLogEntry(TenantOwned):
    """One line of a run's own log: with debug mode, every ActiveCampaign and Brevo exchange."""

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="log_entries")
    created_at = models.DateTimeField(default=timezone.now)
    level = models.CharField(max_length=10, default="debug")
    provider = models.CharField(max_length=20, blank=True)
    method = models.CharField(max_length=10, blank=True)
    path = models.CharField(max_length=500, blank=True)
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    elapsed_ms = models.PositiveIntegerField(null=True, blank=True)
    # Bodies are capped (connectors.debug_log.BODY_LIMIT) and masked before they are stored.
    request_body = models.TextField(blank=True)
    response_body = models.TextField(blank=True)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["pk"]
        verbose_name_plural = "run log entries"

    def __str__(self) -> str:
        return self.line()

    def line(self) -> str:
        if self.method:
            status = self.status if self.status is not None else "no answer"
            return f"{self.provider} {self.method} {self.path} -> {status} in {self.elapsed_ms or 0} ms"
        return self.message
