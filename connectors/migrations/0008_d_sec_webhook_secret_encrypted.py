import connectors.fields
import connectors.models
from django.db import migrations


def encrypt_existing(apps, schema_editor):
    # The field reads clear text as it is (the library passes undecryptable values through), and
    # writing the value back through the field stores it encrypted.
    Connection = apps.get_model("connectors", "Connection")
    for pk, secret in Connection.objects.values_list("pk", "webhook_secret").iterator():
        Connection.objects.filter(pk=pk).update(webhook_secret=secret)


class Migration(migrations.Migration):
    dependencies = [("connectors", "0007_d_sec_apitoken_expires_at")]

    operations = [
        migrations.AlterField(
            model_name="connection",
            name="webhook_secret",
            field=connectors.fields.SecretField(
                default=connectors.models._webhook_secret, editable=False, max_length=500
            ),
        ),
        migrations.RunPython(encrypt_existing, migrations.RunPython.noop),
    ]
