from django.db import migrations

from leads import reference_data


def create_default_policy(apps, schema_editor):
    reference_data.ensure_default_policy(apps.get_model("leads", "SLAPolicy"))


class Migration(migrations.Migration):
    dependencies = [("leads", "0003_sla_policies_outbox")]

    operations = [migrations.RunPython(create_default_policy, migrations.RunPython.noop)]
