"""Append-only history in the database, the four roles, and the rejection reasons.

The history guard is a trigger on each backend:
- PostgreSQL refuses every UPDATE and DELETE of a LeadEvent row. (TRUNCATE,
  which only a table owner may run and which the test runner uses to reset
  tables, is not a row operation and is not blocked.)
- SQLite refuses every UPDATE, and a DELETE of an event whose lead still exists;
  SQLite's flush (used by the test runner) deletes leads before their events.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

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
SQLITE_GUARD = [
    """CREATE TRIGGER leads_leadevent_no_update BEFORE UPDATE ON leads_leadevent
       BEGIN SELECT RAISE(ABORT, 'Lead history is append-only: UPDATE on leads_leadevent is not allowed'); END;""",
    """CREATE TRIGGER leads_leadevent_no_delete BEFORE DELETE ON leads_leadevent
       WHEN EXISTS (SELECT 1 FROM leads_lead WHERE id = OLD.lead_id)
       BEGIN SELECT RAISE(ABORT, 'Lead history is append-only: DELETE on leads_leadevent is not allowed'); END;""",
]
SQLITE_UNGUARD = [
    "DROP TRIGGER IF EXISTS leads_leadevent_no_update;",
    "DROP TRIGGER IF EXISTS leads_leadevent_no_delete;",
]

# Django model permissions per role, for the admin site and any permission-based
# check; the product's own rules live in leads.access.
ROLE_PERMISSIONS = {
    "rep": ["view_lead", "view_leadevent", "view_activity", "add_activity", "view_rejectionreason"],
    "manager": [
        "view_lead",
        "change_lead",
        "view_leadevent",
        "view_activity",
        "add_activity",
        "view_rejectionreason",
        "view_team",
        "view_teammember",
        "change_teammember",
    ],
    "marketer": [
        "view_lead",
        "add_lead",
        "change_lead",
        "view_leadevent",
        "view_activity",
        "add_activity",
        "view_rejectionreason",
        "view_team",
    ],
    "admin": None,  # every permission of the leads app plus users and groups
}

REASONS = [
    ("missing-phone", "Missing phone number"),
    ("personal-email", "Personal e-mail address"),
    ("no-budget", "No budget"),
    ("not-decision-maker", "Not a decision maker"),
    ("student-job-seeker", "Student / job seeker"),
    ("competitor", "Competitor"),
    ("duplicate", "Duplicate"),
    ("wrong-region", "Outside our sales region"),
    ("company-too-small", "Company too small"),
    ("bad-contact-data", "Invalid or fake contact data"),
    ("no-interest", "No interest / no project"),
]


def install_guard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_GUARD)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_GUARD:
            schema_editor.execute(statement)


def remove_guard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_UNGUARD)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_UNGUARD:
            schema_editor.execute(statement)


def create_roles(apps, schema_editor):
    # Permissions are normally created after migrate; roles need them now.
    from django.apps import apps as global_apps

    for app_label in ("leads", "auth"):
        app_config = global_apps.get_app_config(app_label)
        app_config.models_module = app_config.models_module or True
        create_permissions(app_config, verbosity=0, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        if codenames is None:
            perms = Permission.objects.filter(content_type__app_label__in=["leads", "auth"])
        else:
            perms = Permission.objects.filter(content_type__app_label="leads", codename__in=codenames)
        group.permissions.set(perms)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_PERMISSIONS).delete()


def create_reasons(apps, schema_editor):
    RejectionReason = apps.get_model("leads", "RejectionReason")
    for position, (code, label) in enumerate(REASONS, start=1):
        RejectionReason.objects.get_or_create(code=code, defaults={"label": label, "position": position * 10})


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
