"""Indexes for the admin's record pages, added without blocking writes to a large table.

On PostgreSQL each index is built with CREATE INDEX CONCURRENTLY (the engine keeps writing
records meanwhile), which cannot run inside a transaction: hence `atomic = False`. Other
databases (SQLite in local experiments) get a plain index, without PostgreSQL's operator class.
"""

import django.db.models.deletion
from django.contrib.postgres.indexes import OpClass
from django.db import migrations, models
from django.db.models import F
from django.db.models.functions import Upper

from connectors.migration_operations import AddIndexConcurrentlyWherePossible


_TABLE = "connectors_syncrecord"
_KEY_COLUMNS = ("tenant_id", "run_id")


def _key_indexes(schema_editor) -> list[str]:
    """Names of the plain one-column indexes on the two keys (named by Django's hash, so looked up)."""
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, _TABLE)
    return [
        name
        for name, info in constraints.items()
        if info.get("index")
        and not info.get("unique")
        and not info.get("primary_key")
        and len(info.get("columns") or []) == 1
        and info["columns"][0] in _KEY_COLUMNS
    ]


def _drop_key_indexes(apps, schema_editor) -> None:
    concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    for name in _key_indexes(schema_editor):
        schema_editor.execute(f"DROP INDEX {concurrently}IF EXISTS {schema_editor.quote_name(name)}")


def _create_key_indexes(apps, schema_editor) -> None:
    concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    for column in _KEY_COLUMNS:
        name = schema_editor.quote_name(f"{_TABLE}_{column}_key")
        schema_editor.execute(f"CREATE INDEX {concurrently}IF NOT EXISTS {name} ON {_TABLE} ({column})")


def _analyze(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ANALYZE connectors_syncrecord")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("connectors", "0006_brevo_budget"),
    ]

    operations = [
        AddIndexConcurrentlyWherePossible(
            model_name="syncrecord",
            index=models.Index(fields=["tenant", "id"], name="rec_tenant_id"),
        ),
        AddIndexConcurrentlyWherePossible(
            model_name="syncrecord",
            index=models.Index(fields=["tenant", "outcome", "id"], name="rec_tenant_outcome"),
        ),
        AddIndexConcurrentlyWherePossible(
            model_name="syncrecord",
            index=models.Index(fields=["tenant", "resource", "id"], name="rec_tenant_resource"),
        ),
        AddIndexConcurrentlyWherePossible(
            model_name="syncrecord",
            index=models.Index(fields=["tenant", "source_id"], name="rec_tenant_source"),
        ),
        AddIndexConcurrentlyWherePossible(
            model_name="syncrecord",
            index=models.Index(
                F("tenant"), OpClass(Upper("key"), name="text_pattern_ops"), name="rec_tenant_key_upper"
            ),
        ),
        AddIndexConcurrentlyWherePossible(
            model_name="syncrecord",
            index=models.Index(fields=["run", "id"], name="rec_run_id"),
        ),
        # The keys' own one-column indexes go once the wider ones above exist (fewer indexes for
        # the engine to write); dropped concurrently too.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="syncrecord",
                    name="tenant",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="tenants.tenant",
                    ),
                ),
                migrations.AlterField(
                    model_name="syncrecord",
                    name="run",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="records",
                        to="connectors.syncrun",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(_drop_key_indexes, _create_key_indexes)],
        ),
        # PostgreSQL keeps statistics of an expression index's values only after an ANALYZE;
        # without them it guesses a prefix search matches thousands of rows and walks the table.
        migrations.RunPython(_analyze, migrations.RunPython.noop, elidable=True),
    ]
