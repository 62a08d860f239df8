"""The table of Django's database cache (settings.CACHES without REDIS_URL): the API throttles
count there, so every web process sees the same counts. Created here rather than by
``createcachetable`` so that ``migrate`` is the one set-up step."""

from django.core.management.commands.createcachetable import Command as CreateCacheTable
from django.db import migrations

TABLE = "funnel_cache"


def create_cache_table(apps, schema_editor):
    command = CreateCacheTable()
    command.verbosity = 0
    command.create_table(schema_editor.connection.alias, TABLE, dry_run=False)


def drop_cache_table(apps, schema_editor):
    schema_editor.execute(f"DROP TABLE IF EXISTS {TABLE}")


class Migration(migrations.Migration):
    dependencies = [("leads", "0042_admin_role_integrations")]

    operations = [migrations.RunPython(create_cache_table, drop_cache_table)]
