"""Shared by the migrations that alter ``leads_leadevent``: not a migration (the leading
underscore keeps Django's loader away), so it must never import models."""

SQLITE_HISTORY_GUARD = """CREATE TRIGGER IF NOT EXISTS leads_leadevent_no_update BEFORE UPDATE ON leads_leadevent
    BEGIN SELECT RAISE(ABORT, 'Lead history is append-only: UPDATE on leads_leadevent is not allowed'); END;"""


def reinstall_sqlite_history_guard(apps, schema_editor):
    # SQLite alters a column by rebuilding the table, which drops its triggers
    # (migration 0002 installed the append-only guard).
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_HISTORY_GUARD)
