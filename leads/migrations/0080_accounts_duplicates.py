"""Accounts, free-mail domains and the duplicate keys of a lead (issue #13).

pg_trgm for the close-name rule; the free-mail list is loaded from
leads/data/free_mail_domains.txt; the admin role gets the new models'
permissions. Existing leads get their account and keys from
``manage.py backfill_accounts`` (batched, safe next to live traffic), not here:
a million leads would hold this migration's locks for minutes.
"""

import django.contrib.postgres.fields
import django.contrib.postgres.indexes
import django.db.models.deletion
import django.db.models.functions.text
import django.utils.timezone
from pathlib import Path
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

from leads import reference_data

FREE_MAIL_LIST = Path(__file__).resolve().parent.parent / "data" / "free_mail_domains.txt"


def load_free_mail_domains(apps, schema_editor):
    FreeMailDomain = apps.get_model("leads", "FreeMailDomain")
    lines = FREE_MAIL_LIST.read_text().splitlines()
    domains = sorted({line.strip().lower() for line in lines if line.strip() and not line.startswith("#")})
    FreeMailDomain.objects.bulk_create([FreeMailDomain(domain=d) for d in domains], ignore_conflicts=True)


def grant_admin_role(apps, schema_editor):
    # Permissions are normally created after migrate; the role needs them now (as in 0042).
    from django.apps import apps as global_apps

    app_config = global_apps.get_app_config("leads")
    app_config.models_module = app_config.models_module or True
    create_permissions(app_config, verbosity=0, apps=apps)
    reference_data.ensure_roles(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0061_lead_search"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        TrigramExtension(),
        migrations.CreateModel(
            name="FreeMailDomain",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "domain",
                    models.CharField(help_text="e.g. gmail.com (lower case, no @)", max_length=253, unique=True),
                ),
            ],
            options={
                "verbose_name": "free-mail domain",
                "ordering": ["domain"],
            },
        ),
        migrations.AddField(
            model_name="lead",
            name="email_normalised",
            field=models.CharField(blank=True, db_default="", editable=False, max_length=254),
        ),
        migrations.AddField(
            model_name="lead",
            name="phone_e164",
            field=models.CharField(blank=True, db_default="", editable=False, max_length=20),
        ),
        migrations.AddField(
            model_name="lead",
            name="possible_duplicates",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.BigIntegerField(),
                blank=True,
                db_default=models.Value(
                    [], output_field=django.contrib.postgres.fields.ArrayField(base_field=models.BigIntegerField())
                ),
                editable=False,
                size=None,
            ),
        ),
        migrations.CreateModel(
            name="Account",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=200)),
                ("domain", models.CharField(max_length=253, unique=True)),
                ("company_key", models.CharField(blank=True, editable=False, max_length=200)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                "ordering": ["name", "id"],
                "indexes": [models.Index(fields=["company_key"], name="account_company_key_idx")],
            },
        ),
        migrations.AddField(
            model_name="lead",
            name="account",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="leads",
                to="leads.account",
            ),
        ),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(fields=["account", "stage"], name="lead_account_stage_idx"),
        ),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(
                condition=models.Q(("email_normalised", ""), _negated=True), fields=["email_normalised"], name="lead_email_normalised_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(
                condition=models.Q(("phone_e164", ""), _negated=True), fields=["phone_e164"], name="lead_phone_e164_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="lead",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["name"], opclasses=["gin_trgm_ops"], name="lead_name_trgm_idx",
            ),
        ),
        migrations.RunPython(load_free_mail_domains, migrations.RunPython.noop),
        migrations.RunPython(grant_admin_role, migrations.RunPython.noop),
    ]
