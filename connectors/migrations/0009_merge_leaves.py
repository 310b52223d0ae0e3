"""Joins the connectors migrations that were written side by side (no schema change of its own)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('connectors', '0007_a_brevo_warnings_imports_sync_list'),
        ('connectors', '0007_b_ac_ac_rates'),
        ('connectors', '0007_f_outcomes_merge_status_webhooks'),
        ('connectors', '0007_g_admin_record_indexes'),
        ('connectors', '0008_d_sec_webhook_secret_encrypted'),
        ('connectors', '0008_e_docs_run_log'),
    ]

    operations = [
    ]
