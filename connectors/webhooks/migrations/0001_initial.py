"""WebhookEvent, taken over from the connectors app with its table (state only)."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('connectors', '0011_apps_move_webhooks_api'),
        ('tenants', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='WebhookEvent',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('received_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('event_type', models.CharField(blank=True, max_length=40, verbose_name='type')),
                        ('source', models.CharField(blank=True, help_text='initiated_from: public, admin, api or system.', max_length=20)),
                        ('resource', models.CharField(blank=True, max_length=30)),
                        ('source_id', models.CharField(blank=True, max_length=100)),
                        ('key', models.CharField(blank=True, help_text='Email or other natural key.', max_length=320)),
                        ('occurred_at', models.DateTimeField(blank=True, help_text='date_time of the event in ActiveCampaign.', null=True)),
                        ('dedup_key', models.CharField(blank=True, max_length=64, null=True)),
                        ('status', models.CharField(choices=[('received', 'Received'), ('processing', 'Processing'), ('processed', 'Processed'), ('duplicate', 'Duplicate'), ('ignored', 'Ignored'), ('rejected', 'Rejected'), ('failed', 'Failed')], default='received', max_length=12)),
                        ('error', models.TextField(blank=True)),
                        ('payload', models.JSONField(blank=True, help_text='The parsed fields (secret-looking values masked).', null=True)),
                        ('raw_body', models.TextField(blank=True)),
                        ('body_bytes', models.PositiveIntegerField(default=0)),
                        ('remote_addr', models.GenericIPAddressField(blank=True, null=True)),
                        ('attempts', models.PositiveSmallIntegerField(default=0)),
                        ('processed_at', models.DateTimeField(blank=True, null=True)),
                        ('outcomes', models.JSONField(blank=True, default=list)),
                        ('connection', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='webhook_events', to='connectors.connection')),
                        ('duplicate_of', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='duplicates', to='webhooks.webhookevent')),
                        ('sync_record', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='connectors.syncrecord')),
                        ('tenant', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenants.tenant')),
                    ],
                    options={
                        'db_table': 'connectors_webhookevent',
                        'ordering': ['-received_at', '-id'],
                        'indexes': [models.Index(fields=['connection', '-received_at'], name='webhook_conn_received'), models.Index(fields=['status', 'received_at'], name='webhook_status_received'), models.Index(fields=['connection', 'resource', 'source_id'], name='webhook_conn_record')],
                        'constraints': [models.UniqueConstraint(fields=('connection', 'dedup_key'), name='uniq_webhook_dedup')],
                    },
                ),
            ],
            # The table already exists under this name: it was created by the connectors app.
            database_operations=[],
        ),
    ]
