"""Append-only history in the database, the four roles, and the rejection reasons.

The history guard: PostgreSQL refuses every UPDATE and DELETE of a LeadEvent
row (migration 0015 adds TRUNCATE).
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from leads import reference_data

PG_GUARD = """
CREATE OR REPLACE FUNCTION leads_leadevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'Lead history is append-only: %% on leads_leadevent is not allowed', TG_OP
        USING ERRCODE = 'raise_exception';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER leads_leadevent_no_update BEFORE UPDATE ON leads_leadevent
    FOR EACH ROW EXECUTE FUNCTION leads_leadevent_append_only();
CREATE TRIGGER leads_leadevent_no_delete BEFORE DELETE ON leads_leadevent
    FOR EACH ROW EXECUTE FUNCTION leads_leadevent_append_only();
"""
PG_UNGUARD = """
DROP TRIGGER IF EXISTS leads_leadevent_no_update ON leads_leadevent;
DROP TRIGGER IF EXISTS leads_leadevent_no_delete ON leads_leadevent;
DROP FUNCTION IF EXISTS leads_leadevent_append_only();
"""


def install_guard(apps, schema_editor):
    schema_editor.execute(PG_GUARD)


def remove_guard(apps, schema_editor):
    schema_editor.execute(PG_UNGUARD)


def create_roles(apps, schema_editor):
    # Permissions are normally created after migrate; roles need them now.
    from django.apps import apps as global_apps

    for app_label in ("leads", "auth"):
        app_config = global_apps.get_app_config(app_label)
        app_config.models_module = app_config.models_module or True
        create_permissions(app_config, verbosity=0, apps=apps)
    reference_data.ensure_roles(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=reference_data.ROLE_PERMISSIONS).delete()


def create_reasons(apps, schema_editor):
    reference_data.ensure_reasons(apps.get_model("leads", "RejectionReason"))


def remove_reasons(apps, schema_editor):
    pass


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(install_guard, remove_guard),
        migrations.RunPython(create_roles, remove_roles),
        migrations.RunPython(create_reasons, remove_reasons),
    ]
