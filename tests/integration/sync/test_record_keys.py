"""The per-record tables keep their run and connection constraints, not the redundant tenant one,
and a tenant's deletion still takes their rows with it (connectors/models.py, the note above
SyncRecord)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from connectors.models import ContactIdentity, RecordState, SyncRecord
from tests.factories import SyncRecordFactory, SyncRunFactory

pytestmark = pytest.mark.django_db


def _foreign_keys(table: str) -> set[str]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, table)
    return {column for c in found.values() if c["foreign_key"] for column in c["columns"]}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite declares no constraints to drop")
def test_only_the_tenant_key_goes_unchecked() -> None:
    assert _foreign_keys(SyncRecord._meta.db_table) == {"run_id"}
    assert _foreign_keys(RecordState._meta.db_table) == {"connection_id"}
    assert _foreign_keys(ContactIdentity._meta.db_table) == {"connection_id"}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the constraint is PostgreSQL's")
def test_a_record_of_a_missing_run_is_still_refused() -> None:
    run = SyncRunFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        SyncRecord.objects.create(
            tenant=run.tenant, run_id=run.pk + 1000, resource="contacts", outcome="failed"
        )
        connection.check_constraints()


def test_a_tenant_deleted_with_its_connection_leaves_none_of_these_rows() -> None:
    # A connection protects its accounts, so a tenant goes after its connections; each step is
    # Django's cascade, which never needed the database constraint.
    record = SyncRecordFactory()
    tenant, run = record.tenant, record.run
    RecordState.objects.create(tenant=tenant, connection=run.connection, resource="contacts", source_id="1")
    ContactIdentity.objects.create(
        tenant=tenant, connection=run.connection, source_id="1", email="a@example.org"
    )
    other = SyncRecordFactory()

    run.connection.delete()
    tenant.delete()

    assert not SyncRecord.objects.filter(tenant_id=tenant.pk).exists()
    assert not RecordState.objects.filter(tenant_id=tenant.pk).exists()
    assert not ContactIdentity.objects.filter(tenant_id=tenant.pk).exists()
    assert SyncRecord.objects.filter(pk=other.pk).exists()
