"""factory_boy factories, and one builder per tenant-owned model for the isolation suite."""

from __future__ import annotations

from collections.abc import Callable

import factory
from django.contrib.auth import get_user_model
from django.db import models

from connectors.api.models import ApiToken, hash_token
from connectors.models import (
    ActiveCampaignAccount,
    BrevoAccount,
    Checkpoint,
    Connection,
    RecordState,
    SyncRecord,
    SyncRun,
)
from tenants.models import Membership, Tenant


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant

    name = factory.Sequence(lambda n: f"Tenant {n}")
    slug = factory.Sequence(lambda n: f"tenant-{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    is_staff = True
    password = factory.PostGenerationMethodCall("set_password", "pw-123456")

    @factory.post_generation
    def _save(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            self.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    tenant = factory.SubFactory(TenantFactory)
    role = "operator"


class ACAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ActiveCampaignAccount

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"AC account {n}")
    api_url = factory.Sequence(lambda n: f"https://acct{n}.api-us1.com")
    api_key = factory.Sequence(lambda n: f"ac-test-key-{n:04d}-abcdef")


class BrevoAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BrevoAccount

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Brevo account {n}")
    api_key = factory.Sequence(lambda n: f"xkeysib-test-{n:04d}-zzzz")
    budget = "unpaced"  # tests talk to the sandbox, whose own limits apply


class ConnectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Connection

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"conn-{n}")
    ac_account = factory.SubFactory(ACAccountFactory, tenant=factory.SelfAttribute("..tenant"))
    brevo_account = factory.SubFactory(BrevoAccountFactory, tenant=factory.SelfAttribute("..tenant"))


class SyncRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SyncRun

    tenant = factory.SubFactory(TenantFactory)
    connection = factory.SubFactory(ConnectionFactory, tenant=factory.SelfAttribute("..tenant"))
    status = "succeeded"


class SyncRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SyncRecord

    tenant = factory.SubFactory(TenantFactory)
    run = factory.SubFactory(SyncRunFactory, tenant=factory.SelfAttribute("..tenant"))
    resource = "contacts"
    source_id = factory.Sequence(str)
    key = factory.Sequence(lambda n: f"secret-person-{n}@example.org")
    outcome = "failed"
    message = "invalid phone"


class ApiTokenFactory(factory.django.DjangoModelFactory):
    """`raw` is the clear token value (only its hash is stored), for tests that call the API."""

    class Meta:
        model = ApiToken
        exclude = ["raw"]

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"token {n}")
    role = "operator"
    raw = factory.Sequence(lambda n: f"tajo_test-token-{n:06d}-abcdefghijklmnopqrstuvwxyz")
    token_hash = factory.LazyAttribute(lambda o: hash_token(o.raw))
    token_prefix = factory.LazyAttribute(lambda o: o.raw[:13])


def _connection_child(model: type[models.Model], **extra: object) -> Callable[[Tenant], models.Model]:
    def build(tenant: Tenant) -> models.Model:
        connection = ConnectionFactory(tenant=tenant)
        return model.objects.create(tenant=tenant, connection=connection, **extra)

    return build


# Every tenant-owned model registered in the admin needs a builder here: the isolation suite
# fails for a registered model without one, so it grows with the admin.
TENANT_OBJECT_BUILDERS: dict[type[models.Model], Callable[[Tenant], models.Model]] = {
    ActiveCampaignAccount: lambda tenant: ACAccountFactory(tenant=tenant),
    BrevoAccount: lambda tenant: BrevoAccountFactory(tenant=tenant),
    Connection: lambda tenant: ConnectionFactory(tenant=tenant),
    SyncRun: lambda tenant: SyncRunFactory(tenant=tenant),
    SyncRecord: lambda tenant: SyncRecordFactory(tenant=tenant),
    RecordState: _connection_child(RecordState, resource="contacts", source_id="42", content_hash="x"),
    Checkpoint: _connection_child(Checkpoint, resource="contacts"),
    ApiToken: lambda tenant: ApiTokenFactory(tenant=tenant),
}


def register_builder(model: type[models.Model], builder: Callable[[Tenant], models.Model]) -> None:
    TENANT_OBJECT_BUILDERS[model] = builder


# ----------------------------------------------------------------------------- mappings app


def _catalog_of(connection: Connection):
    from mappings.models import Catalog

    catalog, _ = Catalog.objects.get_or_create(
        connection=connection, defaults={"tenant_id": connection.tenant_id}
    )
    return catalog


def _build_catalog(tenant: Tenant) -> models.Model:
    return _catalog_of(ConnectionFactory(tenant=tenant))


def _build_catalog_item(tenant: Tenant) -> models.Model:
    from mappings.models import CatalogItem

    catalog = _catalog_of(ConnectionFactory(tenant=tenant))
    return CatalogItem.objects.create(
        tenant=tenant, catalog=catalog, side="ac", kind="list", external_id="1", label="Main List"
    )


def _mapping_builders() -> dict[type[models.Model], Callable[[Tenant], models.Model]]:
    from mappings import models as m

    rows: dict[type[models.Model], dict[str, object]] = {
        m.StandardFieldMapping: {"source": "orgname", "attribute": "COMPANY"},
        m.CustomFieldMapping: {"ac_field_id": 1, "attribute": "COMPANY"},
        m.ScoreMapping: {"ac_score_id": 1, "attribute": "LEAD_SCORE", "transform": "number"},
        m.CustomObjectFieldMapping: {"ac_schema_id": "s-1", "ac_field_key": "plan", "attribute": "PLAN"},
        m.ListMapping: {"ac_list_id": 1, "brevo_list_id": 50},
        m.TagMapping: {"ac_tag_id": 1, "brevo_list_id": 50},
        m.StageMapping: {"ac_stage_id": 1, "brevo_pipeline_id": "p1", "brevo_stage_id": "s1"},
        m.OwnerMapping: {"ac_user_id": 2, "brevo_owner": "owner@example.org"},
        m.AutomationMapping: {"ac_automation_id": 1, "brevo_event_entered": "welcome_started"},
        m.EventMapping: {"ac_event_name": "trial_started", "brevo_event_name": "trial_started"},
    }
    return {model: _connection_child(model, **values) for model, values in rows.items()}


def _register_mapping_builders() -> None:
    from mappings.models import Catalog, CatalogItem

    TENANT_OBJECT_BUILDERS[Catalog] = _build_catalog
    TENANT_OBJECT_BUILDERS[CatalogItem] = _build_catalog_item
    TENANT_OBJECT_BUILDERS.update(_mapping_builders())


_register_mapping_builders()


# ----------------------------------------------------------------------------- webhooks


class WebhookEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "webhooks.WebhookEvent"

    tenant = factory.SubFactory(TenantFactory)
    connection = factory.SubFactory(ConnectionFactory, tenant=factory.SelfAttribute("..tenant"))
    event_type = "update"
    resource = "contacts"
    source_id = factory.Sequence(lambda n: str(1000 + n))
    key = factory.Sequence(lambda n: f"webhook-person-{n}@example.org")
    dedup_key = factory.Sequence(lambda n: f"{n:064d}")
    status = "processed"
    payload = factory.LazyAttribute(
        lambda o: {"type": "update", "contact": {"id": o.source_id, "email": o.key}}
    )


def _register_webhook_builders() -> None:
    from connectors.webhooks.models import WebhookEvent

    TENANT_OBJECT_BUILDERS[WebhookEvent] = lambda tenant: WebhookEventFactory(tenant=tenant)


_register_webhook_builders()
