"""The statements that generate the data: a year of history for 1,000,000 leads, from ``generate_series`` and a seeded hash."""


def _u(seed, key="k"):
    """A uniform pseudo-random number in [0, 1), the same for the same key and seed on every build."""
    return f"((hashint8extended(({key})::bigint, {seed}) & 2147483647)::float8 / 2147483648.0)"


# One row per lead: when it came in, from where, for which team, and whether it becomes an MQL.
PLAN_LEADS_SQL = f"""
CREATE TEMP TABLE plan_lead AS
SELECT n::bigint AS id,
       %(start)s::timestamptz + ((n - 1 + {_u(1, "n")}) / %(leads)s) * (%(now)s::timestamptz - %(start)s::timestamptz)
           AS created_at,
       (%(sources)s::text[])[1 + floor({_u(2, "n")} * cardinality(%(sources)s::text[]))::int] AS source,
       (%(seasons)s::text[])[1 + floor({_u(3, "n")} * cardinality(%(seasons)s::text[]))::int] AS season,
       mod(n, 2) AS team_index,
       {_u(4, "n")} < %(mql_share)s AS becomes_mql,
       {_u(5, "n")} AS mql_delay
  FROM generate_series(1, %(leads)s) AS n
"""

PLAN_EPISODE_TABLE_SQL = """
CREATE TEMP TABLE plan_episode (
    lead_id bigint, number int, k bigint, team_index int, team_id bigint, source text, campaign text,
    anchor_at timestamptz, mql_at timestamptz, owner_id int, policy_id bigint, policy_name text, due_at timestamptz,
    first_follow_up_at timestamptz, first_kind text, accepted_at timestamptz, qualified_at timestamptz,
    rejected_at timestamptz, rejected_from text, reason_id bigint, reason_code text, note text,
    recycled_at timestamptz, reassigned_at timestamptz, new_owner_id int, current_owner_id int,
    breached_at timestamptz, is_last boolean NOT NULL DEFAULT true
)
"""

# The first episode of every lead that becomes an MQL, up to three weeks after it came in.
FIRST_EPISODES = """
SELECT id AS lead_id, 1 AS number, id * 4 + 1 AS k, team_index, source, source || '-' || season AS campaign,
       created_at AS anchor_at, created_at + mql_delay ^ 2 * interval '21 days' AS mql_at
  FROM plan_lead
 WHERE becomes_mql AND created_at + mql_delay ^ 2 * interval '21 days' <= %(now)s - interval '1 minute'
"""

# Half of the recycled leads become an MQL again within a month: their second episode.
SECOND_EPISODES = f"""
SELECT lead_id, 2 AS number, lead_id * 4 + 2 AS k, team_index, source, campaign, recycled_at AS anchor_at,
       recycled_at + (1 + 30 * {_u(27)}) * interval '1 day' AS mql_at
  FROM plan_episode
 WHERE number = 1 AND recycled_at IS NOT NULL AND {_u(28)} < 0.5
   AND recycled_at + (1 + 30 * {_u(27)}) * interval '1 day' <= %(now)s - interval '1 minute'
"""

# How an episode goes, from its MQL moment: routing and SLA window (1 hour round the clock,
# or the next business day at 17:00 for events and 10 % of the rest), the first response
# (an activity, an acceptance or a rejection; 12 % never answered, the rest mostly within
# the hour, some days late), then acceptance, qualification, rejection or disqualification
# with a reason, recycling, reassignment, and the SLA sweep's breach flag. Nothing after NOW.
# OFFSET 0 keeps each step a subquery: flattened, every use of a step's column would repeat
# the whole chain of expressions before it, and the statement would take minutes.
EPISODES_SQL = f"""
INSERT INTO plan_episode (lead_id, number, k, team_index, team_id, source, campaign, anchor_at, mql_at, owner_id,
                          policy_id, policy_name, due_at, first_follow_up_at, first_kind, accepted_at, qualified_at,
                          rejected_at, rejected_from, reason_id, reason_code, note, recycled_at, reassigned_at,
                          new_owner_id, current_owner_id, breached_at)
SELECT b.lead_id, b.number, b.k, b.team_index, (%(teams)s::bigint[])[b.team_index + 1], b.source, b.campaign,
       b.anchor_at, b.mql_at, o.owner_id,
       CASE WHEN o.business THEN %(business_policy)s::bigint ELSE %(default_policy)s::bigint END,
       CASE WHEN o.business THEN %(business_policy_name)s ELSE %(default_policy_name)s END,
       w.due_at, f.ffu, CASE WHEN f.ffu IS NOT NULL THEN f0.first_kind END, c.accepted_at, d.qualified_at,
       d.rejected_at, d.rejected_from, (%(reasons)s::bigint[])[r.reason_index],
       (%(reason_codes)s::text[])[r.reason_index],
       CASE WHEN r.has_note THEN 'Checked on the call: ' || lower((%(reason_labels)s::text[])[r.reason_index]) ELSE '' END,
       r.recycled_at, r.reassigned_at, r.new_owner_id,
       CASE WHEN r.reassigned_at IS NOT NULL THEN r.new_owner_id ELSE o.owner_id END, r.breached_at
  FROM ({{base}}) AS b
 CROSS JOIN LATERAL (
       SELECT CASE WHEN b.mql_at > %(now)s - interval '2 days' AND {_u(10)} < 0.25 THEN NULL
                   ELSE (%(reps)s::int[])[b.team_index * %(per_team)s + 1 + floor({_u(11)} * %(per_team)s)::int]
              END AS owner_id,
              floor({_u(11)} * %(per_team)s)::int AS owner_index,
              b.source = 'event' OR {_u(12)} < 0.1 AS business OFFSET 0) AS o
 CROSS JOIN LATERAL (
       SELECT CASE WHEN o.owner_id IS NULL THEN NULL
                   WHEN o.business THEN (date_trunc('day', b.mql_at AT TIME ZONE 'UTC')
                        + interval '1 day' * (1 + CASE extract(isodow FROM b.mql_at AT TIME ZONE 'UTC')
                                                  WHEN 5 THEN 2 WHEN 6 THEN 1 ELSE 0 END)
                        + interval '17 hours') AT TIME ZONE 'UTC'
                   ELSE b.mql_at + interval '1 hour' END AS due_at OFFSET 0) AS w
 CROSS JOIN LATERAL (
       SELECT CASE WHEN o.owner_id IS NOT NULL AND {_u(13)} >= 0.12
                   THEN b.mql_at + make_interval(secs => 20 + 172800 * {_u(14)} ^ 7) END AS ffu_at,
              CASE WHEN {_u(15)} < 0.5 THEN 'activity' WHEN {_u(15)} < 0.8 THEN 'accept' ELSE 'reject' END
                  AS first_kind OFFSET 0) AS f0
 CROSS JOIN LATERAL (SELECT CASE WHEN f0.ffu_at <= %(now)s THEN f0.ffu_at END AS ffu OFFSET 0) AS f
 CROSS JOIN LATERAL (
       SELECT CASE WHEN f.ffu IS NULL THEN NULL
                   WHEN f0.first_kind = 'accept' THEN f.ffu
                   WHEN f0.first_kind = 'activity' AND {_u(16)} < 0.6 THEN f.ffu + {_u(17)} * interval '3 days'
              END AS accept_at,
              CASE WHEN f.ffu IS NULL THEN NULL
                   WHEN f0.first_kind = 'reject' THEN f.ffu
                   WHEN f0.first_kind = 'activity' AND {_u(16)} >= 0.6 AND {_u(16)} < 0.75
                   THEN f.ffu + {_u(17)} * interval '5 days'
              END AS reject_at OFFSET 0) AS c0
 CROSS JOIN LATERAL (
       SELECT CASE WHEN c0.accept_at <= %(now)s THEN c0.accept_at END AS accepted_at,
              CASE WHEN c0.reject_at <= %(now)s THEN c0.reject_at END AS mql_rejected_at OFFSET 0) AS c
 CROSS JOIN LATERAL (
       SELECT CASE WHEN c.accepted_at IS NOT NULL AND {_u(18)} < 0.45
                   THEN c.accepted_at + {_u(19)} * interval '20 days' END AS qualify_at,
              CASE WHEN c.accepted_at IS NOT NULL AND {_u(18)} >= 0.45 AND {_u(18)} < 0.65
                   THEN c.accepted_at + {_u(19)} * interval '20 days' END AS disqualify_at OFFSET 0) AS d0
 CROSS JOIN LATERAL (
       SELECT CASE WHEN d0.qualify_at <= %(now)s THEN d0.qualify_at END AS qualified_at,
              coalesce(c.mql_rejected_at, CASE WHEN d0.disqualify_at <= %(now)s THEN d0.disqualify_at END)
                  AS rejected_at,
              CASE WHEN c.mql_rejected_at IS NOT NULL THEN 'mql' WHEN d0.disqualify_at <= %(now)s THEN 'sal' ELSE ''
              END AS rejected_from OFFSET 0) AS d
 CROSS JOIN LATERAL (
       SELECT CASE WHEN d.rejected_at IS NOT NULL
                   THEN 1 + floor(cardinality(%(reasons)s::bigint[]) * {_u(20)} ^ 2)::int END AS reason_index,
              d.rejected_at IS NOT NULL AND {_u(21)} < 0.3 AS has_note,
              CASE WHEN {_u(22)} < 0.15 AND d.rejected_at + {_u(23)} * interval '30 days' <= %(now)s
                   THEN d.rejected_at + {_u(23)} * interval '30 days' END AS recycled_at,
              CASE WHEN {_u(24)} < 0.05
                        AND c.accepted_at + {_u(25)} * interval '5 days' < least(%(now)s, d.rejected_at)
                   THEN c.accepted_at + {_u(25)} * interval '5 days' END AS reassigned_at,
              (%(reps)s::int[])[b.team_index * %(per_team)s + 1
                                + mod(o.owner_index + 1 + floor({_u(26)} * (%(per_team)s - 1))::int, %(per_team)s)]
                  AS new_owner_id,
              CASE WHEN w.due_at + interval '5 minutes' <= %(now)s
                        AND (f.ffu IS NULL OR f.ffu > w.due_at + interval '5 minutes')
                   THEN w.due_at + interval '5 minutes' END AS breached_at OFFSET 0) AS r
"""

LAST_EPISODE_SQL = """
UPDATE plan_episode SET is_last = false
 WHERE number = 1 AND lead_id IN (SELECT lead_id FROM plan_episode WHERE number = 2)
"""

# Sales activities (the first response when it was one, more while the lead is worked, and
# for 8 % of MQLs a contact before they became one, logged at promotion) and marketing
# behaviour (0 to 3 per lead in its first three weeks), ids in time order.
PLAN_ACTIVITIES_SQL = f"""
CREATE TEMP TABLE plan_activity AS
SELECT row_number() OVER (ORDER BY occurred_at, lead_id, kind) AS id, a.*
  FROM (
    SELECT e.lead_id, e.number, e.owner_id AS actor_id,
           CASE WHEN {_u(30)} < 0.15 THEN 'conversation' WHEN {_u(30)} < 0.6 THEN 'call' ELSE 'email' END AS kind,
           e.first_follow_up_at AS occurred_at, e.first_follow_up_at AS logged_at, true AS first_follow_up,
           'mql' AS stage, '' AS url
      FROM plan_episode e
     WHERE e.first_kind = 'activity'
    UNION ALL
    SELECT e.lead_id, e.number, CASE WHEN e.reassigned_at <= x.at THEN e.new_owner_id ELSE e.owner_id END,
           CASE WHEN x.pick < 0.25 THEN 'conversation' WHEN x.pick < 0.4 THEN 'meeting'
                WHEN x.pick < 0.75 THEN 'call' ELSE 'email' END,
           x.at, x.at, false,
           CASE WHEN e.qualified_at <= x.at THEN 'sql' WHEN e.accepted_at <= x.at THEN 'sal' ELSE 'mql' END, ''
      FROM plan_episode e
     CROSS JOIN LATERAL generate_series(1, floor({_u(31, "e.k")} * 4)::int) AS i
     CROSS JOIN LATERAL (
           SELECT e.first_follow_up_at + (i - 0.8 + {_u("40 + i", "e.k")}) * interval '2 days' AS at,
                  {_u("50 + i", "e.k")} AS pick) AS x
     WHERE e.first_follow_up_at IS NOT NULL AND x.at <= %(now)s AND x.at < coalesce(e.rejected_at, 'infinity')
    UNION ALL
    SELECT e.lead_id, e.number, e.owner_id,
           CASE WHEN {_u(34)} < 0.1 THEN 'conversation' WHEN {_u(34)} < 0.6 THEN 'call' ELSE 'email' END,
           e.anchor_at + (e.mql_at - e.anchor_at) * {_u(33)}, e.mql_at, false, 'mql', ''
      FROM plan_episode e
     WHERE {_u(32)} < 0.08 AND e.owner_id IS NOT NULL
    UNION ALL
    SELECT l.id, NULL, NULL, x.kind, x.at, x.at, false, '',
           CASE WHEN x.kind = 'website_visit'
                THEN (%(pages)s::text[])[1 + floor({_u("70 + i", "l.id")} * cardinality(%(pages)s::text[]))::int]
                ELSE '' END
      FROM plan_lead l
     CROSS JOIN LATERAL generate_series(1, floor({_u(60, "l.id")} * 4)::int) AS i
     CROSS JOIN LATERAL (
           SELECT (%(behaviours)s::text[])[1 + floor({_u("80 + i", "l.id")}
                                                   * cardinality(%(behaviours)s::text[]))::int] AS kind,
                  l.created_at + {_u("90 + i", "l.id")} * interval '21 days' AS at) AS x
     WHERE x.at <= %(now)s
  ) AS a
"""

LEADS_SQL = f"""
INSERT INTO leads_lead (id, name, email, phone, company, job_title, company_size, country, source, campaign,
                        priority, stage, owner_id, team_id, score, version, mql_episode, created_at, updated_at,
                        mql_at, first_follow_up_at, accepted_at, qualified_at, rejected_at, rejection_reason_id,
                        sla_policy_id, sla_due_at, sla_breached_at)
SELECT l.id, 'Bench lead ' || l.id, 'lead' || l.id || '@reports.bench.example', '+49 30 ' || (1000000 + l.id),
       'Company ' || mod(l.id, 40000), (%(titles)s::text[])[1 + mod(l.id, cardinality(%(titles)s::text[]))],
       5 + mod(l.id * 37, 5000), (%(countries)s::text[])[1 + mod(l.id * 7, cardinality(%(countries)s::text[]))],
       l.source, l.source || '-' || l.season, CASE WHEN mod(l.id, 10) = 0 THEN 'high' ELSE 'normal' END,
       s.stage, CASE WHEN s.open THEN e.current_owner_id END, (%(teams)s::bigint[])[l.team_index + 1],
       CASE WHEN e.lead_id IS NULL THEN floor(95 * {_u(6, "l.id")})::int ELSE 100 + floor(60 * {_u(6, "l.id")})::int END,
       1 + 3 * coalesce(e.number, 0), coalesce(e.number, 0), l.created_at,
       greatest(l.created_at, e.mql_at, e.first_follow_up_at, e.accepted_at, e.qualified_at, e.rejected_at,
                e.recycled_at, e.reassigned_at, e.breached_at),
       CASE WHEN s.open THEN e.mql_at END, CASE WHEN s.open THEN e.first_follow_up_at END,
       CASE WHEN s.open THEN e.accepted_at END, CASE WHEN s.open THEN e.qualified_at END,
       CASE WHEN s.open THEN e.rejected_at END, CASE WHEN s.stage = 'rejected' THEN e.reason_id END,
       e.policy_id, CASE WHEN s.open THEN e.due_at END, CASE WHEN s.open THEN e.breached_at END
  FROM plan_lead l
  LEFT JOIN plan_episode e ON e.lead_id = l.id AND e.is_last
 CROSS JOIN LATERAL (
       SELECT e.lead_id IS NOT NULL AND e.recycled_at IS NULL AS open,
              CASE WHEN e.lead_id IS NULL OR e.recycled_at IS NOT NULL THEN 'lead'
                   WHEN e.qualified_at IS NOT NULL THEN 'sql'
                   WHEN e.rejected_at IS NOT NULL THEN 'rejected'
                   WHEN e.accepted_at IS NOT NULL THEN 'sal'
                   ELSE 'mql' END AS stage) AS s
 ORDER BY l.id
"""

# In MQL order, as promotion creates them.
EPISODE_ROWS_SQL = """
INSERT INTO leads_mqlepisode (lead_id, number, team_id, owner_id, source, campaign, mql_at, due_at,
                              first_follow_up_at, accepted_at, qualified_at, rejected_at, rejected_from,
                              rejection_reason_id, rejection_note, recycled_at)
SELECT lead_id, number, team_id, current_owner_id, source, campaign, mql_at, due_at, first_follow_up_at,
       accepted_at, qualified_at, rejected_at, rejected_from, reason_id, coalesce(note, ''), recycled_at
  FROM plan_episode
 ORDER BY mql_at, lead_id
"""

ACTIVITY_ROWS_SQL = """
INSERT INTO leads_activity (id, lead_id, kind, occurred_at, actor_id, url, note, external_id, created_at)
SELECT id, lead_id, kind, occurred_at, actor_id, url, '', NULL, logged_at
  FROM plan_activity
 ORDER BY id
"""

# The history the transitions would have written, in time order: created, promoted, every
# logged sales activity, accepted, qualified, rejected / disqualified, recycled, reassigned,
# SLA breached (score changes from marketing behaviour are left out).
EVENT_ROWS_SQL = """
INSERT INTO leads_leadevent (lead_id, kind, at, actor_id, from_stage, to_stage, owner_id, episode, reason_id, note,
                             payload)
SELECT lead_id, kind, at, actor_id, from_stage, to_stage, owner_id, episode, reason_id, note, payload
  FROM (
    SELECT id AS lead_id, 'created' AS kind, created_at AS at, NULL::int AS actor_id, '' AS from_stage,
           'lead' AS to_stage, NULL::int AS owner_id, 0 AS episode, NULL::bigint AS reason_id, '' AS note,
           jsonb_build_object('source', source) AS payload
      FROM plan_lead
    UNION ALL
    SELECT lead_id, 'promoted', mql_at, NULL, 'lead', 'mql', owner_id, number, NULL, '',
           jsonb_build_object('team', team_id, 'routed_to', owner_id, 'sla_policy', policy_name,
                              'sla_due_at', due_at, 'score', 100)
      FROM plan_episode
    UNION ALL
    SELECT lead_id, 'activity', logged_at, actor_id, stage, stage, actor_id, number, NULL, '',
           jsonb_build_object('activity', id, 'activity_kind', kind,
                              'label', CASE kind WHEN 'email' THEN 'E-mail' ELSE initcap(kind) END,
                              'occurred_at', occurred_at, 'first_follow_up', first_follow_up)
      FROM plan_activity
     WHERE number IS NOT NULL
    UNION ALL
    SELECT lead_id, 'accepted', accepted_at, owner_id, 'mql', 'sal', owner_id, number, NULL, '', '{}'::jsonb
      FROM plan_episode
     WHERE accepted_at IS NOT NULL
    UNION ALL
    SELECT lead_id, 'qualified', qualified_at, o.owner, 'sal', 'sql', o.owner, number, NULL, '', '{}'::jsonb
      FROM plan_episode
     CROSS JOIN LATERAL (
           SELECT CASE WHEN reassigned_at <= qualified_at THEN new_owner_id ELSE owner_id END AS owner) AS o
     WHERE qualified_at IS NOT NULL
    UNION ALL
    SELECT lead_id, CASE rejected_from WHEN 'mql' THEN 'rejected' ELSE 'disqualified' END, rejected_at,
           current_owner_id, rejected_from, 'rejected', current_owner_id, number, reason_id, note,
           jsonb_build_object('reason_code', reason_code)
      FROM plan_episode
     WHERE rejected_at IS NOT NULL
    UNION ALL
    SELECT lead_id, 'recycled', recycled_at, NULL, 'rejected', 'lead', NULL, number, NULL, '',
           jsonb_build_object('previous_owner', current_owner_id)
      FROM plan_episode
     WHERE recycled_at IS NOT NULL
    UNION ALL
    SELECT lead_id, 'reassigned', reassigned_at, (%(managers)s::int[])[team_index + 1], s.stage, s.stage,
           new_owner_id, number, NULL, '',
           jsonb_build_object('from_owner', owner_id, 'to_owner', new_owner_id, 'sla_restarted', false,
                              'sla_due_at', NULL)
      FROM plan_episode
     CROSS JOIN LATERAL (SELECT CASE WHEN qualified_at <= reassigned_at THEN 'sql' ELSE 'sal' END AS stage) AS s
     WHERE reassigned_at IS NOT NULL
    UNION ALL
    SELECT lead_id, 'sla_breached', breached_at, NULL, 'mql', 'mql', owner_id, number, NULL, '',
           jsonb_build_object('due_at', due_at)
      FROM plan_episode
     WHERE breached_at IS NOT NULL
  ) AS history
 ORDER BY at, lead_id
"""

# Per month: about as many MQLs as marketing produces, give or take 10 %, overall and per team.
TARGET_ROWS_SQL = f"""
INSERT INTO reports_monthlytarget (month, team_id, mql_target, updated_by_id, updated_at)
SELECT m.month::date, t.team_id,
       round(t.base * (0.9 + 0.2 * {_u("coalesce(t.team_id, 0)", "extract(epoch FROM m.month)")}))::int,
       NULL, %(start)s
  FROM generate_series(date_trunc('month', %(start)s AT TIME ZONE 'UTC'), date_trunc('month', %(now)s AT TIME ZONE 'UTC'),
                       interval '1 month') AS m(month)
 CROSS JOIN (VALUES (NULL::bigint, %(monthly)s), ((%(teams)s::bigint[])[1], %(monthly)s / 2),
                    ((%(teams)s::bigint[])[2], %(monthly)s / 2)) AS t(team_id, base)
"""

LOADED_TABLES = ("leads_lead", "leads_mqlepisode", "leads_activity", "leads_leadevent")
SECONDARY_INDEXES_SQL = """
SELECT indexname, indexdef
  FROM pg_indexes
 WHERE schemaname = current_schema() AND tablename = ANY(%s)
   AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE contype IN ('p', 'u', 'x'))
 ORDER BY tablename, indexname
"""
FOREIGN_KEYS_SQL = """
SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
  FROM pg_constraint
 WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])
 ORDER BY conrelid::regclass::text, conname
"""

COUNTS_SQL = """
SELECT (SELECT count(*) FROM leads_lead), (SELECT count(*) FROM leads_mqlepisode),
       (SELECT count(*) FROM leads_leadevent), (SELECT count(*) FROM leads_activity),
       (SELECT count(*) FROM leads_activity WHERE kind IN ('call', 'email', 'meeting', 'conversation')),
       (SELECT count(*) FROM reports_monthlytarget)
"""
COUNT_FIELDS = ("leads", "episodes", "events", "activities", "sales_activities", "monthly_targets")
