"""Connection.tags_attribute: existing connections keep their behaviour (empty), new ones get TAGS."""

from django.db import migrations, models

HELP = (
    "Brevo multiple-choice attribute that holds each contact's ActiveCampaign tag names, to segment on in "
    "Brevo (created at discovery, new tags added as options). Empty: tags reach Brevo only through tag "
    "mappings."
)


class Migration(migrations.Migration):
    dependencies = [("connectors", "0011_apps_move_webhooks_api")]

    operations = [
        # Rows that exist get the empty value (no attribute written), then the default changes.
        migrations.AddField(
            model_name="connection",
            name="tags_attribute",
            field=models.CharField("Tags attribute", max_length=50, blank=True, default="", help_text=HELP),
        ),
        migrations.AlterField(
            model_name="connection",
            name="tags_attribute",
            field=models.CharField("Tags attribute", max_length=50, blank=True, default="TAGS", help_text=HELP),
        ),
        migrations.AddField(
            model_name="historicalconnection",
            name="tags_attribute",
            field=models.CharField("Tags attribute", max_length=50, blank=True, default="", help_text=HELP),
        ),
        migrations.AlterField(
            model_name="historicalconnection",
            name="tags_attribute",
            field=models.CharField("Tags attribute", max_length=50, blank=True, default="TAGS", help_text=HELP),
        ),
    ]
