import django.db.models.deletion
from django.db import migrations, models

# Django's way (drop the foreign key, drop the index, add the key back) would check every activity
# against the leads again; only the index goes.
INDEX = "leads_activity_lead_id_9cc33a14"


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0088_queue_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="activity",
                    name="lead",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="activities",
                        to="leads.lead",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{INDEX}"',
                    reverse_sql=f'CREATE INDEX IF NOT EXISTS "{INDEX}" ON "leads_activity" ("lead_id")',
                ),
            ],
        ),
    ]
