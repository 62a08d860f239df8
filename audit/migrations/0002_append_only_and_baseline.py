"""The audit log's tables refuse TRUNCATE too, and start with a baseline of today's configuration.

UPDATE and DELETE are refused by pghistory's append-only triggers (migration 0001).
TRUNCATE is a statement, so it needs statement-level triggers, named
``<table>_no_truncate`` like the lead history's; the test suite's flush disables
them around its own TRUNCATE (tests/conftest.py).

The baseline: one ``baseline`` snapshot of every row that exists when the log
begins, so that the first change of each is shown with its before.
"""

from django.db import migrations

# event table -> the table it tracks
TRACKED = {
    "audit_slapolicyevent": "leads_slapolicy",
    "audit_businesshoursevent": "leads_businesshours",
    "audit_holidayevent": "leads_holiday",
    "audit_scoringruleevent": "leads_scoringrule",
    "audit_scoringconfigevent": "leads_scoringconfig",
    "audit_monthlytargetevent": "reports_monthlytarget",
    "audit_rejectionreasonevent": "leads_rejectionreason",
    "audit_erasedaddressevent": "leads_erasedaddress",
    "audit_teamevent": "leads_team",
    "audit_teammemberevent": "leads_teammember",
    "audit_userevent": "auth_user",
    "audit_groupevent": "auth_group",
    "audit_userroleevent": "auth_user_groups",
    "audit_userpermissionevent": "auth_user_user_permissions",
    "audit_rolepermissionevent": "auth_group_permissions",
}

GUARD_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'The audit log is append-only: %% on %% is not allowed', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'raise_exception';
END;
$$;
"""


def _event_models(apps):
    return [model for model in apps.get_app_config("audit").get_models() if model._meta.db_table in TRACKED]


def guard_and_baseline(apps, schema_editor):
    quote = schema_editor.quote_name
    schema_editor.execute(GUARD_FUNCTION)
    for model in _event_models(apps):
        table = model._meta.db_table
        schema_editor.execute(
            f"CREATE TRIGGER {quote(table + '_no_truncate')} BEFORE TRUNCATE ON {quote(table)} "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()"
        )
        columns = [f.column for f in model._meta.concrete_fields if not f.name.startswith("pgh_")]
        names = ", ".join(quote(column) for column in columns)
        has_obj = any(f.name == "pgh_obj" for f in model._meta.fields)
        schema_editor.execute(
            f"INSERT INTO {quote(table)} ({names}{', pgh_obj_id' if has_obj else ''}, pgh_created_at, pgh_label) "
            f"SELECT {names}{', id' if has_obj else ''}, now(), 'baseline' FROM {quote(TRACKED[table])}"
        )


def unguard(apps, schema_editor):
    quote = schema_editor.quote_name
    for table in TRACKED:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {quote(table + '_no_truncate')} ON {quote(table)}")
    schema_editor.execute("DROP FUNCTION IF EXISTS audit_append_only()")


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
    ]

    operations = [migrations.RunPython(guard_and_baseline, unguard)]
