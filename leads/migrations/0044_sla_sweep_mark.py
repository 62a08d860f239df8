"""The SLA sweep's mark, and the stamp that lets it skip the leads it already flagged.

The sweep reads only the leads due since its last run (``SLASweepMark.due_through``)
plus those whose due time was set by a transaction it could not see then
(``Lead.sla_due_xid >= SLASweepMark.snapshot_xmin``). The database writes the stamp,
whatever writes the lead: a promotion, a reassignment, an undo that restores an
earlier due time, an import, a fix by hand.

On INSERT a BEFORE trigger sets the stamp in the row. On UPDATE the stamp is set by
an AFTER trigger with a second UPDATE of that row: a BEFORE UPDATE row trigger,
even one whose WHEN is false, makes PostgreSQL lock every updated row first, which
would add 100,000 WAL records to a 100,000-lead claim; an AFTER trigger whose WHEN
is false costs the claim nothing. The claim flags the rows it updates, so its WHEN
is false. The UPDATE trigger also restamps a lead whose stamp was written back
lower or cleared (a stale full-model save); its own UPDATE raises the stamp, so it
does not fire again. Leads awaiting a response before this migration have no stamp
and need none: with no mark yet, the first sweep reads every due time.
"""

from django.conf import settings
from django.db import migrations, models

# The row awaits a response, unflagged, with a due time: what the sweep may claim.
_AWAITING = (
    "NEW.sla_breached_at IS NULL AND NEW.stage = 'mql' AND NEW.first_follow_up_at IS NULL"
    " AND NEW.sla_due_at IS NOT NULL"
)

STAMP = f"""
CREATE FUNCTION leads_lead_stamp_due_xid() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.sla_due_xid := pg_current_xact_id()::text::bigint;
        RETURN NEW;
    END IF;
    UPDATE leads_lead SET sla_due_xid = pg_current_xact_id()::text::bigint WHERE id = NEW.id;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER leads_lead_due_xid_on_insert BEFORE INSERT ON leads_lead
    FOR EACH ROW WHEN ({_AWAITING})
    EXECUTE FUNCTION leads_lead_stamp_due_xid();
CREATE TRIGGER leads_lead_due_xid_on_update AFTER UPDATE ON leads_lead
    FOR EACH ROW WHEN (
        {_AWAITING}
        AND (OLD.sla_due_at IS DISTINCT FROM NEW.sla_due_at
             OR OLD.stage <> 'mql'
             OR OLD.first_follow_up_at IS NOT NULL
             OR OLD.sla_breached_at IS NOT NULL
             OR NEW.sla_due_xid < OLD.sla_due_xid
             OR (NEW.sla_due_xid IS NULL AND OLD.sla_due_xid IS NOT NULL))
    )
    EXECUTE FUNCTION leads_lead_stamp_due_xid();
"""
UNSTAMP = """
DROP TRIGGER IF EXISTS leads_lead_due_xid_on_update ON leads_lead;
DROP TRIGGER IF EXISTS leads_lead_due_xid_on_insert ON leads_lead;
DROP FUNCTION IF EXISTS leads_lead_stamp_due_xid();
"""


class Migration(migrations.Migration):

    dependencies = [
        ('leads', '0043_cache_table'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='SLASweepMark',
            fields=[
                ('id', models.PositiveSmallIntegerField(default=1, editable=False, primary_key=True, serialize=False)),
                ('due_through', models.DateTimeField()),
                ('snapshot_xmin', models.BigIntegerField()),
            ],
            options={
                'verbose_name': 'SLA sweep mark',
            },
        ),
        migrations.AddField(
            model_name='lead',
            name='sla_due_xid',
            field=models.BigIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.AddIndex(
            model_name='lead',
            index=models.Index(condition=models.Q(('first_follow_up_at__isnull', True), ('stage', 'mql')), fields=['sla_due_xid', 'sla_due_at'], name='lead_sweep_recheck_idx'),
        ),
        migrations.AddConstraint(
            model_name='slasweepmark',
            constraint=models.CheckConstraint(condition=models.Q(('id', 1)), name='slasweepmark_one_row'),
        ),
        migrations.RunSQL(STAMP, UNSTAMP),
    ]
