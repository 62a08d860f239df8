"""Shared by the migrations that make the audit log's tables append-only (leads 0028, reports 0003).

Not a migration (the leading underscore keeps Django's loader away), so it must never
import models. UPDATE and DELETE are refused by pghistory's append-only triggers; TRUNCATE
is a statement, so it needs statement-level triggers, named ``<table>_no_truncate`` like
the lead history's; the test suite's flush disables them around its own TRUNCATE
(tests/conftest.py). The baseline: one ``baseline`` snapshot of every row that exists
when the log begins, so that the first change of each is shown with its before.
"""

GUARD_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'The audit log is append-only: %% on %% is not allowed', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'raise_exception';
END;
$$;
"""


def guard_and_baseline(app_label, tracked):
    """A RunPython function guarding and filling ``tracked`` ({event table: the table it tracks}) of ``app_label``."""

    def run(apps, schema_editor):
        quote = schema_editor.quote_name
        schema_editor.execute(GUARD_FUNCTION)
        for model in apps.get_app_config(app_label).get_models():
            table = model._meta.db_table
            if table not in tracked:
                continue
            schema_editor.execute(
                f"CREATE TRIGGER {quote(table + '_no_truncate')} BEFORE TRUNCATE ON {quote(table)} "
                "FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()"
            )
            columns = [f.column for f in model._meta.concrete_fields if not f.name.startswith("pgh_")]
            names = ", ".join(quote(column) for column in columns)
            has_obj = any(f.name == "pgh_obj" for f in model._meta.fields)
            schema_editor.execute(
                f"INSERT INTO {quote(table)} ({names}{', pgh_obj_id' if has_obj else ''}, pgh_created_at, pgh_label) "
                f"SELECT {names}{', id' if has_obj else ''}, now(), 'baseline' FROM {quote(tracked[table])}"
            )

    return run


def unguard(tracked):
    """The reverse of ``guard_and_baseline`` for the same tables."""

    def run(apps, schema_editor):
        quote = schema_editor.quote_name
        for table in tracked:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {quote(table + '_no_truncate')} ON {quote(table)}")

    return run
