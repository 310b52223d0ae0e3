"""RecordState and ContactIdentity lose their one-column index on the connection: the unique
(connection, resource, source_id), (connection, source_id) and (connection, email) indexes serve
every lookup by it, and each index more slows the engine's writes.

Only the index goes: Django's own AlterField would also drop and re-add the foreign key, which
re-checks every row of tables that hold one row per synced record.
"""

import django.db.models.deletion
from django.db import migrations, models

INDEXES = {
    "connectors_contactidentity": "connectors_contactidentity_connection_id_7c4d5353",
    "connectors_recordstate": "connectors_recordstate_connection_id_b2efa4c5",
}


def _drop(table: str, index: str) -> migrations.RunSQL:
    return migrations.RunSQL(
        f'DROP INDEX IF EXISTS "{index}"',
        reverse_sql=f'CREATE INDEX "{index}" ON "{table}" ("connection_id")',
    )


def _unindexed(model_name: str, *, related_name: str) -> migrations.AlterField:
    return migrations.AlterField(
        model_name=model_name,
        name="connection",
        field=models.ForeignKey(
            db_index=False,
            on_delete=django.db.models.deletion.CASCADE,
            related_name=related_name,
            to="connectors.connection",
        ),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("connectors", "0012_config_tags_attribute"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[_drop(table, index) for table, index in INDEXES.items()],
            state_operations=[
                _unindexed("contactidentity", related_name="+"),
                _unindexed("recordstate", related_name="record_states"),
            ],
        ),
    ]
