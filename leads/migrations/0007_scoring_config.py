from django.db import migrations


def create_config(apps, schema_editor):
    ScoringConfig = apps.get_model("leads", "ScoringConfig")
    if not ScoringConfig.objects.exists():
        ScoringConfig.objects.create(mql_threshold=100)


class Migration(migrations.Migration):
    dependencies = [("leads", "0006_scoring")]

    operations = [migrations.RunPython(create_config, migrations.RunPython.noop)]
