"""ApiToken and its history, taken over from the connectors app with their tables (state only)."""

import django.db.models.deletion
import django.utils.timezone
import simple_history.models
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('connectors', '0011_apps_move_webhooks_api'),
        ('tenants', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='ApiToken',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(help_text="What uses this token, e.g. 'checkout service'.", max_length=100)),
                        ('role', models.CharField(choices=[('operator', 'Operator (read, connect, start, cancel, forward events)'), ('viewer', 'Viewer (read only)')], default='viewer', max_length=20)),
                        ('token_hash', models.CharField(editable=False, max_length=64, unique=True)),
                        ('token_prefix', models.CharField(default='', editable=False, max_length=20, verbose_name='token starts with')),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                        ('last_used_at', models.DateTimeField(blank=True, editable=False, null=True)),
                        ('revoked_at', models.DateTimeField(blank=True, editable=False, null=True)),
                        ('expires_at', models.DateTimeField(blank=True, help_text='Optional: the token stops working at this moment. Empty: until revoked.', null=True, verbose_name='expires at')),
                        ('created_by', models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('tenant', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenants.tenant')),
                    ],
                    options={
                        'verbose_name': 'API token',
                        'db_table': 'connectors_apitoken',
                        'ordering': ['-created_at'],
                    },
                ),
                migrations.CreateModel(
                    name='HistoricalApiToken',
                    fields=[
                        ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                        ('name', models.CharField(help_text="What uses this token, e.g. 'checkout service'.", max_length=100)),
                        ('role', models.CharField(choices=[('operator', 'Operator (read, connect, start, cancel, forward events)'), ('viewer', 'Viewer (read only)')], default='viewer', max_length=20)),
                        ('token_prefix', models.CharField(default='', editable=False, max_length=20, verbose_name='token starts with')),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                        ('last_used_at', models.DateTimeField(blank=True, editable=False, null=True)),
                        ('revoked_at', models.DateTimeField(blank=True, editable=False, null=True)),
                        ('expires_at', models.DateTimeField(blank=True, help_text='Optional: the token stops working at this moment. Empty: until revoked.', null=True, verbose_name='expires at')),
                        ('history_id', models.AutoField(primary_key=True, serialize=False)),
                        ('history_date', models.DateTimeField(db_index=True)),
                        ('history_change_reason', models.CharField(max_length=100, null=True)),
                        ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                        ('created_by', models.ForeignKey(blank=True, db_constraint=False, editable=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('tenant', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='tenants.tenant')),
                    ],
                    options={
                        'verbose_name': 'historical API token',
                        'verbose_name_plural': 'historical API tokens',
                        'db_table': 'connectors_historicalapitoken',
                        'ordering': ('-history_date', '-history_id'),
                        'get_latest_by': ('history_date', 'history_id'),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
            ],
            # The table already exists under this name: it was created by the connectors app.
            database_operations=[],
        ),
    ]
