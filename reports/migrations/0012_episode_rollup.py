"""The rollup of MQL episodes by UTC hour and day, kept by PostgreSQL in the transaction of every write.

Statement triggers on ``leads_mqlepisode`` with transition tables: an INSERT adds
the new rows' parts, a DELETE takes the old rows' away, an UPDATE takes away the
old and adds the new parts of the rows whose counted columns changed (``_CHANGED``),
a TRUNCATE empties the rollup. Each episode's part is one row per date it has (its MQL time,
and where set its acceptance, qualification and rejection), in the hour and in
the day of that date, once in total and once per rep, team, source and campaign.
The parts are summed per (dimension, key, grain, start) and upserted in that
order, all-zero sums left
out (a reassignment changes no total), so two writers lock shared rows in the
same order. The statement also fills the rollup from the episodes already there.
"""

from django.db import migrations, models

COUNTS = (
    "mqls",
    "followed_up",
    "within_window",
    "within_hour",
    "cohort_sals",
    "cohort_sqls",
    "fast_sqls",
    "slow_sqls",
    "sals",
    "sqls",
    "rejected",
)
# The columns whose change changes an episode's part.
COUNTED = (
    "mql_at",
    "due_at",
    "first_follow_up_at",
    "accepted_at",
    "qualified_at",
    "rejected_at",
    "owner_id",
    "team_id",
    "source",
    "campaign",
)

UPSERT = """
INSERT INTO reports_episoderollup AS r (dimension, key, grain, start, {counts})
SELECT d.dimension, d.key, g.grain, date_trunc(g.grain, c.at, 'UTC'), {sums}
  FROM ({changes}) AS ch
 CROSS JOIN LATERAL (
       SELECT (ch.first_follow_up_at IS NOT NULL)::int AS fu,
              (ch.first_follow_up_at IS NOT NULL
               AND (ch.due_at IS NULL OR ch.first_follow_up_at <= ch.due_at))::int AS ww,
              (ch.first_follow_up_at IS NOT NULL
               AND ch.first_follow_up_at - ch.mql_at <= interval '1 hour')::int AS wh,
              (ch.accepted_at IS NOT NULL)::int AS cs,
              (ch.qualified_at IS NOT NULL)::int AS cq) AS f
 CROSS JOIN LATERAL (VALUES
       (ch.mql_at, 1, f.fu, f.ww, f.wh, f.cs, f.cq, f.wh * f.cq, (f.fu - f.wh) * f.cq, 0, 0, 0),
       (ch.accepted_at, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0),
       (ch.qualified_at, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0),
       (ch.rejected_at, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1)
       ) AS c(at, {counts})
 CROSS JOIN (VALUES ('hour'), ('day')) AS g(grain)
 CROSS JOIN LATERAL (VALUES
       ('all', ''),
       ('rep', coalesce(ch.owner_id::text, '')),
       ('team', coalesce(ch.team_id::text, '')),
       ('source', ch.source),
       ('campaign', ch.campaign)
       ) AS d(dimension, key)
 WHERE c.at IS NOT NULL
 GROUP BY 1, 2, 3, 4
HAVING {nonzero}
 ORDER BY 1, 2, 3, 4
    ON CONFLICT (dimension, key, grain, start) DO UPDATE SET {added};
"""


def upsert(changes):
    return UPSERT.format(
        changes=changes,
        counts=", ".join(COUNTS),
        sums=", ".join(f"sum(ch.sign * c.{name})" for name in COUNTS),
        nonzero=" OR ".join(f"sum(ch.sign * c.{name}) <> 0" for name in COUNTS),
        added=", ".join(f"{name} = r.{name} + EXCLUDED.{name}" for name in COUNTS),
    )


# An UPDATE's change: the counted columns of the old rows less the new ones' (-1) and of the new
# rows less the old ones' (+1), as multisets (EXCEPT ALL, hashed): rows whose counted columns did
# not change cancel out before any part is made, and no join pairs old and new rows (a join of the
# two transition tables, which have no index, took a minute for 20,000 rows).
_COUNTED = ", ".join(COUNTED)
_CHANGED = (
    f"SELECT -1 AS sign, x.* FROM (SELECT {_COUNTED} FROM old_rows EXCEPT ALL SELECT {_COUNTED} FROM new_rows) AS x"
    f" UNION ALL SELECT 1, y.* FROM (SELECT {_COUNTED} FROM new_rows EXCEPT ALL SELECT {_COUNTED} FROM old_rows) AS y"
)

TRIGGERS = f"""
CREATE FUNCTION reports_episode_rollup() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {upsert("SELECT 1 AS sign, n.* FROM new_rows n")}
    ELSIF TG_OP = 'DELETE' THEN
        {upsert("SELECT -1 AS sign, o.* FROM old_rows o")}
    ELSIF TG_OP = 'UPDATE' THEN
        {upsert(_CHANGED)}
    ELSE
        DELETE FROM reports_episoderollup;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER reports_episode_rollup_insert AFTER INSERT ON leads_mqlepisode
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION reports_episode_rollup();
CREATE TRIGGER reports_episode_rollup_update AFTER UPDATE ON leads_mqlepisode
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION reports_episode_rollup();
CREATE TRIGGER reports_episode_rollup_delete AFTER DELETE ON leads_mqlepisode
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION reports_episode_rollup();
CREATE TRIGGER reports_episode_rollup_truncate AFTER TRUNCATE ON leads_mqlepisode
    FOR EACH STATEMENT EXECUTE FUNCTION reports_episode_rollup();
{upsert("SELECT 1 AS sign, e.* FROM leads_mqlepisode e")}
ANALYZE reports_episoderollup;
"""
UNTRIGGERS = """
DROP TRIGGER IF EXISTS reports_episode_rollup_truncate ON leads_mqlepisode;
DROP TRIGGER IF EXISTS reports_episode_rollup_delete ON leads_mqlepisode;
DROP TRIGGER IF EXISTS reports_episode_rollup_update ON leads_mqlepisode;
DROP TRIGGER IF EXISTS reports_episode_rollup_insert ON leads_mqlepisode;
DROP FUNCTION IF EXISTS reports_episode_rollup();
DELETE FROM reports_episoderollup;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0011_weekly_digest"),
        ("leads", "0090_episode_rollup_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="EpisodeRollup",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("grain", models.CharField(max_length=4)),
                ("start", models.DateTimeField()),
                ("dimension", models.CharField(max_length=8)),
                ("key", models.CharField(blank=True, max_length=120)),
                ("mqls", models.IntegerField(default=0)),
                ("followed_up", models.IntegerField(default=0)),
                ("within_window", models.IntegerField(default=0)),
                ("within_hour", models.IntegerField(default=0)),
                ("cohort_sals", models.IntegerField(default=0)),
                ("cohort_sqls", models.IntegerField(default=0)),
                ("fast_sqls", models.IntegerField(default=0)),
                ("slow_sqls", models.IntegerField(default=0)),
                ("sals", models.IntegerField(default=0)),
                ("sqls", models.IntegerField(default=0)),
                ("rejected", models.IntegerField(default=0)),
            ],
            options={
                "indexes": [models.Index(fields=["dimension", "grain", "start"], name="episoderollup_breakdown_idx")],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("dimension", "key", "grain", "start"), name="episoderollup_one_row_per_grain"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("grain__in", ["hour", "day"])), name="episoderollup_grain_hour_or_day"
                    ),
                ],
            },
        ),
        migrations.RunSQL(TRIGGERS, UNTRIGGERS),
    ]
