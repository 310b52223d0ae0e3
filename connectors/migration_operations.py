"""Migration operations shared by the migrations that index large tables.

`AddIndexConcurrentlyWherePossible` builds an index with CREATE INDEX CONCURRENTLY on
PostgreSQL, so the engine keeps writing records meanwhile (the migration must then say
`atomic = False`), and a plain index elsewhere (SQLite in local experiments), without
PostgreSQL's operator classes.
"""

from __future__ import annotations

from django.contrib.postgres.indexes import OpClass
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import models


def _portable(index: models.Index) -> models.Index:
    """The same index without operator classes, which only PostgreSQL knows."""
    if not index.expressions:
        return index
    expressions = [e.source_expressions[0] if isinstance(e, OpClass) else e for e in index.expressions]
    return models.Index(*expressions, name=index.name)


class AddIndexConcurrentlyWherePossible(AddIndexConcurrently):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            # Not atomic: an interrupted run may have built some indexes (or left one invalid).
            valid = self._postgres_index_valid(schema_editor)
            if valid:
                return None
            if valid is False:
                schema_editor.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{self.index.name}"')
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.add_index(model, _portable(self.index))

    def _postgres_index_valid(self, schema_editor) -> bool | None:
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
                " WHERE c.relname = %s AND pg_table_is_visible(c.oid)",
                [self.index.name],
            )
            row = cursor.fetchone()
        return None if row is None else bool(row[0])

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.remove_index(model, _portable(self.index))
