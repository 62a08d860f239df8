"""The MQL targets' audit table refuses TRUNCATE too, and starts with a baseline of today's targets."""

from django.db import migrations

from leads.migrations._audit_guard import guard_and_baseline, unguard

TRACKED = {"reports_monthlytargetevent": "reports_monthlytarget"}


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0002_audit_log"),
        ("leads", "0028_audit_log_append_only"),
    ]

    operations = [migrations.RunPython(guard_and_baseline("reports", TRACKED), unguard(TRACKED))]
