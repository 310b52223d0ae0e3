"""An index for one run's records sorted failures first, built without blocking writes.

The admin lists a run's records failed, then skipped, then the rest, newest first within each;
without this index PostgreSQL sorts all of the run's rows (240,000 in the benchmark) for every
page. Built concurrently on PostgreSQL, hence `atomic = False`.
"""

from django.db import migrations, models
from django.db.models import Case, F, IntegerField, Value, When

from connectors.migration_operations import AddIndexConcurrentlyWherePossible


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("connectors", "0009_merge_leaves"),
    ]

    operations = [
        AddIndexConcurrentlyWherePossible(
            model_name="syncrecord",
            index=models.Index(
                F("run"),
                Case(
                    When(outcome="failed", then=Value(0)),
                    When(outcome="skipped", then=Value(1)),
                    default=Value(2),
                    output_field=IntegerField(),
                ),
                F("id").desc(),
                name="rec_run_failures_first",
            ),
        ),
    ]
