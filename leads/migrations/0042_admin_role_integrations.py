"""The admin role may manage the new integration models in the admin (webhooks, team chat, Slack identities).

The admin group holds every permission of the leads app, but only those that
existed when migration 0002 granted them; grant them again now that the
integration models have theirs.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from leads import reference_data


def grant_admin_role(apps, schema_editor):
    # Permissions are normally created after migrate; the role needs them now.
    from django.apps import apps as global_apps

    app_config = global_apps.get_app_config("leads")
    app_config.models_module = app_config.models_module or True
    create_permissions(app_config, verbosity=0, apps=apps)
    reference_data.ensure_roles(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0041_history_fan_out"),
    ]

    operations = [migrations.RunPython(grant_admin_role, migrations.RunPython.noop)]
