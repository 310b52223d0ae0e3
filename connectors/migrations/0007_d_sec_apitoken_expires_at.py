from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("connectors", "0006_brevo_budget")]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(
                blank=True,
                help_text="Optional: the token stops working at this moment. Empty: until revoked.",
                null=True,
                verbose_name="expires at",
            ),
        ),
        migrations.AddField(
            model_name="historicalapitoken",
            name="expires_at",
            field=models.DateTimeField(
                blank=True,
                help_text="Optional: the token stops working at this moment. Empty: until revoked.",
                null=True,
                verbose_name="expires at",
            ),
        ),
    ]
