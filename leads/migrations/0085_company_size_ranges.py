"""Company sizes keep the text as given and a range read from it (leads.company_sizes).

A size stored before is a number: its text is that number and its range is one
wide. Leads without a size get empty text.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0082_event_kinds_undone_and_merged"),
    ]

    operations = [
        migrations.AddField(
            model_name="lead",
            name="company_size_low",
            field=models.PositiveIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="lead",
            name="company_size_high",
            field=models.PositiveIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.RunSQL(
            "UPDATE leads_lead SET company_size_low = company_size, company_size_high = company_size"
            " WHERE company_size IS NOT NULL",
            reverse_sql=migrations.RunSQL.noop,
        ),
        migrations.AlterField(
            model_name="lead",
            name="company_size",
            field=models.CharField(blank=True, max_length=40, null=True),
        ),
        migrations.RunSQL(
            "UPDATE leads_lead SET company_size = '' WHERE company_size IS NULL",
            reverse_sql=migrations.RunSQL.noop,
        ),
        migrations.AlterField(
            model_name="lead",
            name="company_size",
            field=models.CharField(
                blank=True,
                default="",
                help_text="Number of employees or a range, e.g. 250, 51-200, 10k+",
                max_length=40,
            ),
        ),
        migrations.AddConstraint(
            model_name="lead",
            constraint=models.CheckConstraint(
                condition=models.Q(("company_size_high__isnull", True))
                | models.Q(("company_size_low__isnull", False), ("company_size_low__lte", models.F("company_size_high"))),
                name="lead_company_size_range_ordered",
            ),
        ),
    ]
