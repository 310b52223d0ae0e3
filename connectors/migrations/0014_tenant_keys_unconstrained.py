"""SyncRecord, RecordState and ContactIdentity drop the database constraint on their tenant key:
checked row by row at each commit, it cost the engine's writes about 3 microseconds a row and
guarded nothing their run or connection key does not (docs/runtime.md, "What a commit checks").
Django still deletes these rows with their tenant.

Only the constraint goes, and only on PostgreSQL: Django's own AlterField would rebuild the tables
on SQLite (and fail on an index SQLite cannot hold), where the constraint costs nothing worth a
rebuild.
"""

import django.db.models.deletion
from django.db import migrations, models

TABLES = ("connectors_syncrecord", "connectors_recordstate", "connectors_contactidentity")


def _tenant_keys(schema_editor, table: str) -> list[str]:
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, table)
    return [name for name, c in found.items() if c["foreign_key"] and c["columns"] == ["tenant_id"]]


def drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    for table in TABLES:
        for name in _tenant_keys(schema_editor, table):
            schema_editor.execute(f"SET CONSTRAINTS {quote(name)} IMMEDIATE")
            schema_editor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")


def restore(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    for table in TABLES:
        if _tenant_keys(schema_editor, table):
            continue
        schema_editor.execute(
            f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(table[:40] + '_tenant_id_fk')} "
            'FOREIGN KEY ("tenant_id") REFERENCES "tenants_tenant" ("id") DEFERRABLE INITIALLY DEFERRED'
        )


def _unconstrained(model_name: str, **extra: object) -> migrations.AlterField:
    return migrations.AlterField(
        model_name=model_name,
        name="tenant",
        field=models.ForeignKey(
            db_constraint=False,
            on_delete=django.db.models.deletion.CASCADE,
            related_name="+",
            to="tenants.tenant",
            **extra,
        ),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("connectors", "0013_state_identity_connection_index"),
        ("tenants", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(drop, restore)],
            state_operations=[
                _unconstrained("contactidentity"),
                _unconstrained("recordstate"),
                _unconstrained("syncrecord", db_index=False),
            ],
        ),
    ]
