"""Routing that explains itself (issue #13): a weight and a stride-scheduling pass per rep, the
team's global pass, out-of-office periods; merged leads (stage, kinds, merged_into); the admin role gets their permissions (as in 0042).
"""

import django.core.validators
import django.db.models.deletion
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations, models

from leads import reference_data


def grant_admin_role(apps, schema_editor):
    from django.apps import apps as global_apps

    app_config = global_apps.get_app_config("leads")
    app_config.models_module = app_config.models_module or True
    create_permissions(app_config, verbosity=0, apps=apps)
    reference_data.ensure_roles(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0080_accounts_duplicates"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="OutOfOffice",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("starts_at", models.DateTimeField()),
                ("ends_at", models.DateTimeField()),
                ("note", models.CharField(blank=True, max_length=200)),
            ],
            options={
                "verbose_name": "out-of-office period",
                "ordering": ["starts_at", "id"],
            },
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="trackedteammember",
            name="created_insert",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="trackedteammember",
            name="changed_update",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="trackedteammember",
            name="deleted_delete",
        ),
        migrations.AddField(
            model_name="team",
            name="routing_pass",
            field=models.PositiveBigIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="teammember",
            name="routing_pass",
            field=models.PositiveBigIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="teammember",
            name="routing_weight",
            field=models.PositiveSmallIntegerField(
                default=1,
                help_text="Share of round-robin MQLs: a rep of weight 2 gets twice as many as one of weight 1.",
                validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(100)],
            ),
        ),
        migrations.AddField(
            model_name="teammemberevent",
            name="routing_weight",
            field=models.PositiveSmallIntegerField(
                default=1,
                help_text="Share of round-robin MQLs: a rep of weight 2 gets twice as many as one of weight 1.",
                validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(100)],
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="trackedteammember",
            trigger=pgtrigger.compiler.Trigger(
                name="created_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "leads_teammemberevent" ("id", "is_available", "mql_capacity", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "role", "routing_weight", "team_id", "user_id") VALUES (NEW."id", NEW."is_available", NEW."mql_capacity", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, NOW(), \'created\', NEW."id", NEW."role", NEW."routing_weight", NEW."team_id", NEW."user_id"); RETURN NULL;',
                    hash="02164787415be0e2567549635e102bd19016a3d9",
                    operation="INSERT",
                    pgid="pgtrigger_created_insert_17fcb",
                    table="leads_teammember",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="trackedteammember",
            trigger=pgtrigger.compiler.Trigger(
                name="changed_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition='WHEN (OLD."id" IS DISTINCT FROM (NEW."id") OR OLD."is_available" IS DISTINCT FROM (NEW."is_available") OR OLD."mql_capacity" IS DISTINCT FROM (NEW."mql_capacity") OR OLD."role" IS DISTINCT FROM (NEW."role") OR OLD."routing_weight" IS DISTINCT FROM (NEW."routing_weight") OR OLD."team_id" IS DISTINCT FROM (NEW."team_id") OR OLD."user_id" IS DISTINCT FROM (NEW."user_id"))',
                    func='INSERT INTO "leads_teammemberevent" ("id", "is_available", "mql_capacity", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "role", "routing_weight", "team_id", "user_id") VALUES (NEW."id", NEW."is_available", NEW."mql_capacity", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, NOW(), \'changed\', NEW."id", NEW."role", NEW."routing_weight", NEW."team_id", NEW."user_id"); RETURN NULL;',
                    hash="63c57013cde520aebca968d1fc3a53c2bbf65e51",
                    operation="UPDATE",
                    pgid="pgtrigger_changed_update_b8c95",
                    table="leads_teammember",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="trackedteammember",
            trigger=pgtrigger.compiler.Trigger(
                name="deleted_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "leads_teammemberevent" ("id", "is_available", "mql_capacity", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "role", "routing_weight", "team_id", "user_id") VALUES (OLD."id", OLD."is_available", OLD."mql_capacity", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, NOW(), \'deleted\', OLD."id", OLD."role", OLD."routing_weight", OLD."team_id", OLD."user_id"); RETURN NULL;',
                    hash="ff4e0a2b865aaa1abab54b0f29af06a8e219079c",
                    operation="DELETE",
                    pgid="pgtrigger_deleted_delete_de094",
                    table="leads_teammember",
                    when="AFTER",
                ),
            ),
        ),
        migrations.AddField(
            model_name="outofoffice",
            name="user",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="out_of_office", to=settings.AUTH_USER_MODEL
            ),
        ),
        migrations.AddIndex(
            model_name="outofoffice",
            index=models.Index(fields=["user", "ends_at"], name="outofoffice_user_ends_idx"),
        ),
        migrations.AddConstraint(
            model_name="outofoffice",
            constraint=models.CheckConstraint(
                condition=models.Q(("ends_at__gt", models.F("starts_at"))), name="outofoffice_ends_after_start"
            ),
        ),
        migrations.AddIndex(
            model_name="leadevent",
            index=models.Index(
                condition=models.Q(("kind__in", ["promoted", "reassigned"])), fields=["at"], name="leadevent_routing_at_idx"
            ),
        ),
        migrations.AddField(
            model_name='lead',
            name='merged_into',
            field=models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='merged_leads', to='leads.lead'),
        ),
        migrations.AlterField(
            model_name='lead',
            name='stage',
            field=models.CharField(choices=[('lead', 'Lead'), ('mql', 'MQL'), ('sal', 'SAL (accepted)'), ('sql', 'SQL (qualified)'), ('rejected', 'Rejected'), ('merged', 'Merged')], default='lead', max_length=10),
        ),
        migrations.AlterField(
            model_name='leadevent',
            name='from_stage',
            field=models.CharField(blank=True, choices=[('lead', 'Lead'), ('mql', 'MQL'), ('sal', 'SAL (accepted)'), ('sql', 'SQL (qualified)'), ('rejected', 'Rejected'), ('merged', 'Merged')], max_length=10),
        ),
        migrations.AlterField(
            model_name='leadevent',
            name='kind',
            field=models.CharField(choices=[('created', 'Created'), ('updated', 'Details updated'), ('promoted', 'Became MQL'), ('accepted', 'Accepted'), ('rejected', 'Rejected'), ('qualified', 'Qualified to SQL'), ('disqualified', 'Disqualified'), ('recycled', 'Recycled to nurture'), ('reassigned', 'Reassigned'), ('activity', 'Sales activity'), ('score_changed', 'Score changed'), ('sla_breached', 'SLA breached'), ('opted_out', 'Opted out of marketing'), ('erased', 'Personal data erased'), ('merged', 'Merged into another lead'), ('unmerged', 'Unmerged')], max_length=20),
        ),
        migrations.AlterField(
            model_name='leadevent',
            name='to_stage',
            field=models.CharField(blank=True, choices=[('lead', 'Lead'), ('mql', 'MQL'), ('sal', 'SAL (accepted)'), ('sql', 'SQL (qualified)'), ('rejected', 'Rejected'), ('merged', 'Merged')], max_length=10),
        ),
        migrations.AddField(
            model_name='outofoffice',
            name='hand_on',
            field=models.BooleanField(default=False, help_text="When the period starts, give this rep's open MQLs to the rest of the team."),
        ),
        migrations.AddField(
            model_name='outofoffice',
            name='handed_on_at',
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddIndex(
            model_name='outofoffice',
            index=models.Index(condition=models.Q(('hand_on', True), ('handed_on_at__isnull', True)), fields=['starts_at'], name='outofoffice_hand_on_due_idx'),
        ),
        migrations.RunPython(grant_admin_role, migrations.RunPython.noop),
    ]
