"""WebhookEvent and ApiToken move to their own apps (webhooks, api): they leave this app's state.

State only: the tables (connectors_webhookevent, connectors_apitoken,
connectors_historicalapitoken) stay where they are, and the new apps' first migrations take them
over under the same names, so no row is copied and nothing is locked.

The content types are relabelled in place rather than recreated, so everything that points at
them by id keeps pointing at the same model: permissions granted to users and groups, admin log
entries, and anything else keyed by content type.
"""

from django.db import migrations

# model name -> the app label it moves to
MOVED = {
    "webhookevent": "webhooks",
    "apitoken": "api",
    "historicalapitoken": "api",
}


def _relabel(apps, *, forward: bool) -> None:
    content_type = apps.get_model("contenttypes", "ContentType")
    for model, new_label in MOVED.items():
        source, target = ("connectors", new_label) if forward else (new_label, "connectors")
        # A type under the target label exists only if something created it before this ran (a
        # post_migrate of a partial migrate): it has none of the old rows' history, so the old
        # type, which has, wins and the stray one goes (with the default permissions made for it).
        if content_type.objects.filter(app_label=source, model=model).exists():
            content_type.objects.filter(app_label=target, model=model).delete()
            content_type.objects.filter(app_label=source, model=model).update(app_label=target)


def forwards(apps, schema_editor) -> None:
    _relabel(apps, forward=True)


def backwards(apps, schema_editor) -> None:
    _relabel(apps, forward=False)


class Migration(migrations.Migration):

    dependencies = [
        ("connectors", "0010_admin_run_failures_first_index"),
        ("contenttypes", "0002_remove_content_type_name"),
        # The default permissions hang off the content types; deleting a stray type cascades to them.
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="HistoricalApiToken"),
                migrations.DeleteModel(name="ApiToken"),
                migrations.DeleteModel(name="WebhookEvent"),
            ],
            database_operations=[],
        ),
        migrations.RunPython(forwards, backwards),
    ]
