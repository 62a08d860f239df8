"""The history refuses TRUNCATE too, not only UPDATE and DELETE of its rows.

TRUNCATE is a statement, not a row operation, so it needs a statement-level
trigger. The test suite's flush (tests/conftest.py) disables it around its own
TRUNCATE, which only the table's owner can do.
"""

from django.db import migrations

GUARD = """
CREATE TRIGGER leads_leadevent_no_truncate BEFORE TRUNCATE ON leads_leadevent
    FOR EACH STATEMENT EXECUTE FUNCTION leads_leadevent_append_only();
"""
UNGUARD = "DROP TRIGGER IF EXISTS leads_leadevent_no_truncate ON leads_leadevent;"


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0014_list_page_indexes"),
    ]

    operations = [migrations.RunSQL(GUARD, UNGUARD)]
