"""Every report at 1,000,000 leads: the metric function, its API endpoint and hand-written SQL, side by side.

The data lives in a database of its own next to the benchmark database (the
bench database's name + ``_reports``), so the SLA sweep's million open MQLs are
never touched. ``python -m bench reports`` runs the benchmark in a child process
pointed at that database (``DATABASE_URL``), which migrates it, builds the data
once (kept between runs; ``--rebuild`` regenerates it) and writes
var/bench/reports.json.

For each report, over the last 90 days and again for one rep, three contenders:
the function of ``reports.metrics`` (what the API returns), the API endpoint
through Django's test client as a logged-in admin (routing, form, metrics and
JSON included), and the best hand-written SQL for the same numbers (one
statement per report). The function's numbers and the SQL's must agree exactly
or the benchmark stops. Then the overview page, GET /reports/, fully rendered:
for the same 90 days, for one rep, and for 30 days (the page's default length).

Targets (from the issue): each report at most 1.5x the hand-written SQL, the
overview page under 1 s.
"""

import dataclasses
import hashlib
import json
import os
import subprocess
import sys
import time
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dj_database_url
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from leads.models import BusinessHours, RejectionReason, SLAPolicy, Team, TeamMember
from reports import metrics

from . import harness
from .database import BenchError, database_url, ensure_database

LEADS = 1_000_000
# The data is built once and reused, so "now" is a fixed moment: a year of history ends here.
NOW = datetime(2026, 11, 16, 12, 0, tzinfo=UTC)
HISTORY_DAYS = 365
PERIOD_DAYS = 90
TEAMS = ("Bench inside sales", "Bench field sales")
REPS_PER_TEAM = 10
MQL_SHARE = 0.6
TARGET_RATIO = 1.5
TARGET_PAGE_SECONDS = 1.0
BASE_DIR = Path(__file__).resolve().parent.parent

# Describes the generated data; a stored dataset is reused only if it matches.
SPEC = {
    "version": 1,
    "leads": LEADS,
    "now": NOW.isoformat(),
    "history_days": HISTORY_DAYS,
    "teams": len(TEAMS),
    "reps_per_team": REPS_PER_TEAM,
    "mql_share": MQL_SHARE,
}

FIRST_NAMES = ("Anna", "Ben", "Carla", "David", "Elif", "Farid", "Grace", "Hiro", "Ines", "Jonas")
LAST_NAMES = ("Schmidt", "Okafor", "Novak", "Lindqvist", "Garcia", "Tanaka", "Rossi", "Dubois", "Kowalski", "Meyer")
# Weighted by repetition: organic and paid search bring most leads.
SOURCES = (
    "organic organic organic organic paid-search paid-search paid-search webinar webinar webinar "
    "referral referral event event content content content partner linkedin linkedin"
).split()
SEASONS = ("spring", "summer", "autumn", "winter", "always-on")
TITLES = ("CEO", "Head of Operations", "Marketing Manager", "Developer", "CFO", "VP Sales")
COUNTRIES = ("DE", "AT", "CH", "FR", "NL", "GB", "US", "PL")
BEHAVIOURS = "website_visit website_visit website_visit email_click email_click content_download webinar social".split()
PAGES = ("/pricing", "/product", "/blog/why-handoffs-fail", "/careers", "/product/scoring")


def run(options):
    """Run the benchmark in a child process on its own database; return its results."""
    own_url = reports_database_url(database_url())
    if connection.settings_dict["NAME"] == dj_database_url.parse(own_url)["NAME"]:
        return benchmark(options)
    ensure_database(own_url)
    command = [sys.executable, "-m", "bench", "reports", "--repeat", str(options.repeat)]
    if options.rebuild:
        command.append("--rebuild")
    child = subprocess.run(command, cwd=BASE_DIR, env={**os.environ, "DATABASE_URL": own_url}, check=False)
    if child.returncode:
        raise BenchError(f"the reports benchmark failed (exit status {child.returncode})")
    return json.loads((settings.VAR_DIR / "bench" / "reports.json").read_text())


def reports_database_url(url):
    """The URL of this benchmark's database: the bench database's name + ``_reports``."""
    config = dj_database_url.parse(url)
    if config["NAME"].endswith("_reports"):
        return url
    base, mark, query = url.partition("?")
    return base.rsplit("/", 1)[0] + f"/{config['NAME']}_reports" + mark + query


# The data


def _u(seed, key="k"):
    """A uniform pseudo-random number in [0, 1), the same for the same key and seed on every build."""
    return f"((hashint8extended(({key})::bigint, {seed}) & 2147483647)::float8 / 2147483648.0)"


_MARKER_TABLE_SQL = """
CREATE TABLE IF NOT EXISTS bench_dataset (
    name text PRIMARY KEY,
    spec jsonb NOT NULL,
    built_at timestamptz NOT NULL,
    load_seconds double precision NOT NULL
)
"""

# One row per lead: when it came in, from where, for which team, and whether it becomes an MQL.
_PLAN_LEADS_SQL = f"""
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

_PLAN_EPISODE_TABLE_SQL = """
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
_FIRST_EPISODES = """
SELECT id AS lead_id, 1 AS number, id * 4 + 1 AS k, team_index, source, source || '-' || season AS campaign,
       created_at AS anchor_at, created_at + mql_delay ^ 2 * interval '21 days' AS mql_at
  FROM plan_lead
 WHERE becomes_mql AND created_at + mql_delay ^ 2 * interval '21 days' <= %(now)s - interval '1 minute'
"""

# Half of the recycled leads become an MQL again within a month: their second episode.
_SECOND_EPISODES = f"""
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
_EPISODES_SQL = f"""
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

_LAST_EPISODE_SQL = """
UPDATE plan_episode SET is_last = false
 WHERE number = 1 AND lead_id IN (SELECT lead_id FROM plan_episode WHERE number = 2)
"""

# Sales activities (the first response when it was one, more while the lead is worked, and
# for 8 % of MQLs a contact before they became one, logged at promotion) and marketing
# behaviour (0 to 3 per lead in its first three weeks), ids in time order.
_PLAN_ACTIVITIES_SQL = f"""
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

_LEADS_SQL = f"""
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
_EPISODE_ROWS_SQL = """
INSERT INTO leads_mqlepisode (lead_id, number, team_id, owner_id, source, campaign, mql_at, due_at,
                              first_follow_up_at, accepted_at, qualified_at, rejected_at, rejected_from,
                              rejection_reason_id, rejection_note, recycled_at)
SELECT lead_id, number, team_id, current_owner_id, source, campaign, mql_at, due_at, first_follow_up_at,
       accepted_at, qualified_at, rejected_at, rejected_from, reason_id, coalesce(note, ''), recycled_at
  FROM plan_episode
 ORDER BY mql_at, lead_id
"""

_ACTIVITY_ROWS_SQL = """
INSERT INTO leads_activity (id, lead_id, kind, occurred_at, actor_id, url, note, external_id, created_at)
SELECT id, lead_id, kind, occurred_at, actor_id, url, '', NULL, logged_at
  FROM plan_activity
 ORDER BY id
"""

# The history the transitions would have written, in time order: created, promoted, every
# logged sales activity, accepted, qualified, rejected / disqualified, recycled, reassigned,
# SLA breached (score changes from marketing behaviour are left out).
_EVENT_ROWS_SQL = """
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
_TARGET_ROWS_SQL = f"""
INSERT INTO reports_monthlytarget (month, team_id, mql_target, updated_by_id, updated_at)
SELECT m.month::date, t.team_id,
       round(t.base * (0.9 + 0.2 * {_u("coalesce(t.team_id, 0)", "extract(epoch FROM m.month)")}))::int,
       NULL, %(start)s
  FROM generate_series(date_trunc('month', %(start)s AT TIME ZONE 'UTC'), date_trunc('month', %(now)s AT TIME ZONE 'UTC'),
                       interval '1 month') AS m(month)
 CROSS JOIN (VALUES (NULL::bigint, %(monthly)s), ((%(teams)s::bigint[])[1], %(monthly)s / 2),
                    ((%(teams)s::bigint[])[2], %(monthly)s / 2)) AS t(team_id, base)
"""

_LOADED_TABLES = ("leads_lead", "leads_mqlepisode", "leads_activity", "leads_leadevent")
_SECONDARY_INDEXES_SQL = """
SELECT indexname, indexdef
  FROM pg_indexes
 WHERE schemaname = current_schema() AND tablename = ANY(%s)
   AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE contype IN ('p', 'u', 'x'))
 ORDER BY tablename, indexname
"""
_FOREIGN_KEYS_SQL = """
SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
  FROM pg_constraint
 WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])
 ORDER BY conrelid::regclass::text, conname
"""

_COUNTS_SQL = """
SELECT (SELECT count(*) FROM leads_lead), (SELECT count(*) FROM leads_mqlepisode),
       (SELECT count(*) FROM leads_leadevent), (SELECT count(*) FROM leads_activity),
       (SELECT count(*) FROM leads_activity WHERE kind IN ('call', 'email', 'meeting', 'conversation')),
       (SELECT count(*) FROM reports_monthlytarget)
"""
_COUNT_FIELDS = ("leads", "episodes", "events", "activities", "sales_activities", "monthly_targets")


def ensure_dataset(*, rebuild):
    """Reuse the stored data if it matches SPEC, else (or with ``rebuild``) generate it; refuse foreign data."""
    name = connection.settings_dict["NAME"]
    if not name.endswith("_reports"):
        raise BenchError(f"Refusing to fill {name}: it is not the reports benchmark's database.")
    with connection.cursor() as cursor:
        cursor.execute(_MARKER_TABLE_SQL)
        cursor.execute("SELECT spec::text, load_seconds FROM bench_dataset WHERE name = 'reports'")
        row = cursor.fetchone()
        cursor.execute("SELECT EXISTS (SELECT 1 FROM leads_lead)")
        (has_leads,) = cursor.fetchone()
    marker = json.loads(row[0]) if row else None
    if has_leads and marker is None:
        raise BenchError(f"Database {name} holds leads the benchmark did not write; it would replace them.")
    if not rebuild and marker and marker["spec"] == SPEC and marker["rows"] == row_counts():
        print(f"Reusing the stored dataset ({LEADS:,} leads, built in {row[1]:.0f} s); --rebuild regenerates it.")
        return {**marker, "load_seconds": row[1], "reused": True}
    return build_dataset()


def row_counts():
    with connection.cursor() as cursor:
        cursor.execute(_COUNTS_SQL)
        return dict(zip(_COUNT_FIELDS, cursor.fetchone(), strict=True))


def build_dataset():
    print(f"Generating {LEADS:,} leads with a year of history ...", flush=True)
    start = time.perf_counter()
    people = ensure_people()
    params = dataset_params(people)
    steps = [
        ("plan leads", _PLAN_LEADS_SQL),
        ("", "ANALYZE plan_lead"),
        ("", _PLAN_EPISODE_TABLE_SQL),
        ("plan first episodes", _EPISODES_SQL.format(base=_FIRST_EPISODES)),
        ("plan second episodes", _EPISODES_SQL.format(base=_SECOND_EPISODES)),
        ("", _LAST_EPISODE_SQL),
        ("", "ANALYZE plan_episode"),
        ("plan activities", _PLAN_ACTIVITIES_SQL),
        ("", "ANALYZE plan_activity"),
        ("leads", _LEADS_SQL),
        ("episodes", _EPISODE_ROWS_SQL),
        ("activities", _ACTIVITY_ROWS_SQL),
        ("history", _EVENT_ROWS_SQL),
        ("targets", _TARGET_ROWS_SQL),
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE leads_lead, leads_mqlepisode, leads_leadevent, leads_activity, reports_monthlytarget "
            "RESTART IDENTITY CASCADE"
        )
        cursor.execute("DELETE FROM bench_dataset WHERE name = 'reports'")
        # Room for the sorts of a few million rows; only for this transaction.
        cursor.execute("SET LOCAL work_mem = '512MB'")
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        # Compiling these long expressions would take longer than running them.
        cursor.execute("SET LOCAL jit = off")
        # Built once at the end instead of updated row by row: the secondary indexes of the
        # tables the load fills (those behind constraints stay), recreated as defined, and
        # their foreign keys, added back at the end, which checks every row in one join
        # (checked row by row at commit, they took two minutes).
        cursor.execute(_SECONDARY_INDEXES_SQL, [list(_LOADED_TABLES)])
        indexes = cursor.fetchall()
        cursor.execute(_FOREIGN_KEYS_SQL, [list(_LOADED_TABLES)])
        foreign_keys = cursor.fetchall()
        for table, name, _definition in foreign_keys:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        for label, statement in steps:
            began = time.perf_counter()
            cursor.execute(statement, params if "%(" in statement else None)
            if label:
                print(f"  {label}: {cursor.rowcount:,} rows in {time.perf_counter() - began:.1f} s", flush=True)
        began = time.perf_counter()
        for _name, definition in indexes:
            cursor.execute(definition)
        print(f"  {len(indexes)} indexes rebuilt in {time.perf_counter() - began:.1f} s", flush=True)
        began = time.perf_counter()
        for table, name, definition in foreign_keys:
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        print(f"  {len(foreign_keys)} foreign keys added back in {time.perf_counter() - began:.1f} s", flush=True)
        for table in ("leads_lead", "leads_activity"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        cursor.execute("DROP TABLE plan_lead, plan_episode, plan_activity")
        loaded = time.perf_counter() - start
        counts = row_counts()
        marker = {"spec": SPEC, "rows": counts}
        cursor.execute(
            "INSERT INTO bench_dataset (name, spec, built_at, load_seconds) VALUES ('reports', %s::jsonb, now(), %s)",
            [json.dumps(marker), loaded],
        )
    vacuum_start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    vacuumed = time.perf_counter() - vacuum_start
    print(f"  loaded in {loaded:.1f} s, vacuumed and analysed in {vacuumed:.1f} s: " + describe_counts(counts))
    return {**marker, "load_seconds": round(loaded, 1), "vacuum_seconds": round(vacuumed, 1), "reused": False}


def describe_counts(counts):
    return ", ".join(f"{value:,} {name.replace('_', ' ')}" for name, value in counts.items())


def ensure_people():
    """Two teams of REPS_PER_TEAM reps and a manager each, the admin who reads the reports, an SLA policy for events."""
    User = get_user_model()
    reps, managers, teams = [], [], []
    for team_number, team_name in enumerate(TEAMS):
        team, _ = Team.objects.get_or_create(name=team_name)
        teams.append(team)
        for n in range(REPS_PER_TEAM):
            number = team_number * REPS_PER_TEAM + n + 1
            # Rep 7 has no name: the reports fall back to the username.
            first, last = ("", "") if number == 7 else (FIRST_NAMES[n], LAST_NAMES[(n + team_number * 3) % 10])
            rep, _ = User.objects.get_or_create(
                username=f"bench-rep-{number:02d}",
                defaults={"email": f"rep{number}@reports.bench.example", "first_name": first, "last_name": last},
            )
            TeamMember.objects.get_or_create(team=team, user=rep, defaults={"role": TeamMember.Role.REP})
            reps.append(rep)
        manager, _ = User.objects.get_or_create(username=f"bench-manager-{team_number + 1}")
        TeamMember.objects.get_or_create(team=team, user=manager, defaults={"role": TeamMember.Role.MANAGER})
        managers.append(manager)
    admin, _ = User.objects.get_or_create(username="bench-reports-admin", defaults={"first_name": "Ada"})
    admin.groups.add(Group.objects.get(name="admin"))
    office, _ = BusinessHours.objects.get_or_create(name="Bench office hours", defaults={"time_zone": "UTC"})
    events_policy, _ = SLAPolicy.objects.get_or_create(
        name="Bench events: next business day",
        defaults={"position": 10, "source": "event", "response_minutes": 480, "business_hours": office},
    )
    return {"teams": teams, "reps": reps, "managers": managers, "admin": admin, "events_policy": events_policy}


def dataset_params(people):
    reasons = list(RejectionReason.objects.order_by("position", "id"))
    default_policy = SLAPolicy.objects.get(is_default=True)
    return {
        "now": NOW,
        "start": NOW - timedelta(days=HISTORY_DAYS),
        "leads": LEADS,
        "mql_share": MQL_SHARE,
        "monthly": round(LEADS * MQL_SHARE / 12),
        "sources": SOURCES,
        "seasons": list(SEASONS),
        "titles": list(TITLES),
        "countries": list(COUNTRIES),
        "pages": list(PAGES),
        "behaviours": BEHAVIOURS,
        "teams": [team.pk for team in people["teams"]],
        "reps": [rep.pk for rep in people["reps"]],
        "managers": [manager.pk for manager in people["managers"]],
        "per_team": REPS_PER_TEAM,
        "reasons": [reason.pk for reason in reasons],
        "reason_codes": [reason.code for reason in reasons],
        "reason_labels": [reason.label for reason in reasons],
        "default_policy": default_policy.pk,
        "default_policy_name": default_policy.name,
        "business_policy": people["events_policy"].pk,
        "business_policy_name": people["events_policy"].name,
    }


# The hand-written SQL: for each report the same numbers as reports.metrics, one statement.
# {rep} narrows episodes to one rep, {contacts} finds the contacted leads (the conversation
# rate filters leads, not episodes) and {team} picks the overall or a team's targets.

_IN_PERIOD = "mql_at >= %(start)s AND mql_at < %(end)s AND mql_at <= %(as_of)s"
_IGNORED = "due_at <= %(as_of)s AND (first_follow_up_at IS NULL OR first_follow_up_at > %(as_of)s)"
_AWAITING = "(due_at IS NULL OR due_at > %(as_of)s) AND (first_follow_up_at IS NULL OR first_follow_up_at > %(as_of)s)"
_CLOSED = "first_follow_up_at <= %(as_of)s OR due_at <= %(as_of)s"
_WITHIN = "first_follow_up_at <= %(as_of)s AND (due_at IS NULL OR first_follow_up_at <= due_at)"

SQL_IGNORE_RATE = f"""
SELECT count(*), count(*) FILTER (WHERE {_IGNORED}), count(*) FILTER (WHERE {_AWAITING}),
       count(*) FILTER (WHERE first_follow_up_at <= %(as_of)s)
  FROM leads_mqlepisode
 WHERE {_IN_PERIOD}{{rep}}
"""

# Period view: one pass over the episodes touching the period (a bitmap OR of the three
# date indexes, or all of one rep's episodes), a filtered count per event.
_TOUCHING = """(mql_at >= %(start)s AND mql_at < %(end)s
            OR accepted_at >= %(start)s AND accepted_at < %(end)s
            OR qualified_at >= %(start)s AND qualified_at < %(end)s)"""
SQL_CONVERSION = f"""
SELECT count(*) FILTER (WHERE mql_at >= %(start)s AND mql_at < %(end)s),
       count(*) FILTER (WHERE accepted_at >= %(start)s AND accepted_at < %(end)s AND accepted_at <= %(as_of)s),
       count(*) FILTER (WHERE qualified_at >= %(start)s AND qualified_at < %(end)s AND qualified_at <= %(as_of)s)
  FROM leads_mqlepisode
 WHERE {_TOUCHING} AND mql_at <= %(as_of)s{{rep}}
"""

SQL_SLA_COMPLIANCE = f"""
SELECT count(*) FILTER (WHERE {_CLOSED}), count(*) FILTER (WHERE {_WITHIN}),
       count(*) FILTER (WHERE first_follow_up_at <= %(as_of)s AND first_follow_up_at > due_at),
       count(*) FILTER (WHERE {_IGNORED})
  FROM leads_mqlepisode
 WHERE {_IN_PERIOD}{{rep}}
"""

# The totals, with both percentiles from one sort, then the per-rep rows (no percentiles).
_ANSWERED = f"{_IN_PERIOD} AND first_follow_up_at <= %(as_of)s"
_RESPONSE = "(first_follow_up_at - mql_at)"
SQL_SPEED_TO_LEAD = f"""
SELECT 1 AS total, NULL::int, NULL, NULL, NULL, t.*, w.typical_window
  FROM (SELECT count(*), avg({_RESPONSE}), count(*) FILTER (WHERE {_RESPONSE} <= interval '1 hour'),
               count(*) FILTER (WHERE due_at IS NULL OR first_follow_up_at <= due_at),
               count(*) FILTER (WHERE {_RESPONSE} >= interval '0' AND {_RESPONSE} < interval '5 minutes'),
               count(*) FILTER (WHERE {_RESPONSE} >= interval '5 minutes' AND {_RESPONSE} < interval '15 minutes'),
               count(*) FILTER (WHERE {_RESPONSE} >= interval '15 minutes' AND {_RESPONSE} < interval '1 hour'),
               count(*) FILTER (WHERE {_RESPONSE} >= interval '1 hour'),
               percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY {_RESPONSE})
          FROM leads_mqlepisode
         WHERE {_ANSWERED}{{rep}}) AS t,
       (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY due_at - mql_at) AS typical_window
          FROM leads_mqlepisode
         WHERE {_IN_PERIOD} AND due_at IS NOT NULL{{rep}}) AS w
UNION ALL
SELECT 0, r.owner_id, u.username, u.first_name, u.last_name, r.responded, r.mean, r.hour, r.sla,
       NULL, NULL, NULL, NULL, NULL, NULL
  FROM (SELECT owner_id, count(*) AS responded, avg({_RESPONSE}) AS mean,
               count(*) FILTER (WHERE {_RESPONSE} <= interval '1 hour') AS hour,
               count(*) FILTER (WHERE due_at IS NULL OR first_follow_up_at <= due_at) AS sla
          FROM leads_mqlepisode
         WHERE {_ANSWERED}{{rep}}
         GROUP BY owner_id) AS r
  LEFT JOIN auth_user u ON u.id = r.owner_id
 ORDER BY 1 DESC, 3
"""

# One pass over the period's rejections: by reason, by week, by source and by campaign, each
# sorted as the report shows it.
_REJECTION_PARTS = "GROUPING(r.label, x.week, e.source, e.campaign)"
SQL_REJECTION_REASONS = f"""
SELECT {_REJECTION_PARTS} AS part, r.code, r.label, x.week, e.source, e.campaign, count(*),
       count(*) FILTER (WHERE e.rejected_from = 'mql'), count(*) FILTER (WHERE e.rejected_from = 'sal')
  FROM leads_mqlepisode e
  LEFT JOIN leads_rejectionreason r ON r.id = e.rejection_reason_id
 CROSS JOIN LATERAL (SELECT date_trunc('week', e.rejected_at AT TIME ZONE %(tz)s)::date AS week) AS x
 WHERE e.rejected_at >= %(start)s AND e.rejected_at < %(end)s AND e.rejected_at <= %(as_of)s{{episode_rep}}
 GROUP BY GROUPING SETS ((r.code, r.label), (x.week, r.code), (e.source, r.code), (e.campaign, r.code))
 ORDER BY part, CASE WHEN {_REJECTION_PARTS} = 7 THEN -count(*) END, r.label, x.week, e.source, e.campaign,
          CASE WHEN {_REJECTION_PARTS} > 11 THEN -count(*) END, r.code
"""
_REASONS_PART, _WEEKS_PART, _SOURCES_PART, _CAMPAIGNS_PART = 7, 11, 13, 14

# The leads contacted in the period, their first contact and whether they talked: for all
# leads from the period's sales activities, for one rep's leads by lead. An MQL when an
# episode had started by that first contact; OFFSET 0 keeps that EXISTS one probe per lead
# (inlined, it would run again in every count that reads it).
_CONTACTS_ALL = """
    SELECT a.lead_id, min(a.occurred_at) AS first_contact, bool_or(a.kind = 'conversation') AS talked
      FROM leads_activity a
     WHERE a.kind IN ('call', 'email', 'meeting', 'conversation')
       AND a.occurred_at >= %(start)s AND a.occurred_at < %(end)s
     GROUP BY a.lead_id"""
_CONTACTS_OF_REP = """
    SELECT l.id AS lead_id, x.first_contact, x.talked
      FROM leads_lead l
     CROSS JOIN LATERAL (
           SELECT min(a.occurred_at) AS first_contact, bool_or(a.kind = 'conversation') AS talked
             FROM leads_activity a
            WHERE a.lead_id = l.id AND a.kind IN ('call', 'email', 'meeting', 'conversation')
              AND a.occurred_at >= %(start)s AND a.occurred_at < %(end)s) AS x
     WHERE l.owner_id = %(rep)s AND x.first_contact IS NOT NULL"""
_CONTACTS = """
contacts AS ({contacts}
), talks AS (
    SELECT count(*) FILTER (WHERE was_mql) AS mql_contacted,
           count(*) FILTER (WHERE was_mql AND talked) AS mql_conversations,
           count(*) FILTER (WHERE NOT was_mql) AS colder_contacted,
           count(*) FILTER (WHERE NOT was_mql AND talked) AS colder_conversations
      FROM (SELECT c.talked,
                   EXISTS (SELECT 1 FROM leads_mqlepisode e
                            WHERE e.lead_id = c.lead_id AND e.mql_at <= c.first_contact) AS was_mql
              FROM contacts c
            OFFSET 0) AS w
)"""
SQL_CONVERSATION_RATE = f"WITH {_CONTACTS}\nSELECT * FROM talks"

SQL_MQL_TARGET = f"""
SELECT m.month::date, coalesce(n.mqls, 0), t.mql_target
  FROM generate_series(date_trunc('month', %(start_date)s::timestamp), %(end_date)s::timestamp, interval '1 month')
       AS m(month)
  LEFT JOIN (SELECT date_trunc('month', mql_at AT TIME ZONE %(tz)s) AS month, count(*) AS mqls
               FROM leads_mqlepisode
              WHERE {_IN_PERIOD}{{rep}}
              GROUP BY 1) AS n ON n.month = m.month
  LEFT JOIN reports_monthlytarget t ON t.month = m.month::date AND {{team}}
 ORDER BY m.month
"""

# The overview's headline numbers: what the overview API shows, nothing more.
SQL_OVERVIEW = f"""
WITH episodes AS (
    SELECT count(*) AS mqls, count(*) FILTER (WHERE {_IGNORED}) AS ignored,
           count(*) FILTER (WHERE {_AWAITING}) AS awaiting, count(*) FILTER (WHERE {_WITHIN}) AS within,
           count(*) FILTER (WHERE {_CLOSED}) AS closed,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY first_follow_up_at - mql_at)
               FILTER (WHERE first_follow_up_at <= %(as_of)s) AS median,
           avg(first_follow_up_at - mql_at) FILTER (WHERE first_follow_up_at <= %(as_of)s) AS mean,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY due_at - mql_at) FILTER (WHERE due_at IS NOT NULL)
               AS typical_window
      FROM leads_mqlepisode
     WHERE {_IN_PERIOD}{{rep}}
), {_CONTACTS}
SELECT e.mqls, e.ignored, e.awaiting, e.within, e.closed, e.median, e.mean, e.typical_window,
       (SELECT count(*) FROM leads_mqlepisode
         WHERE accepted_at >= %(start)s AND accepted_at < %(end)s AND accepted_at <= %(as_of)s
           AND mql_at <= %(as_of)s{{rep}}),
       (SELECT count(*) FROM leads_mqlepisode
         WHERE qualified_at >= %(start)s AND qualified_at < %(end)s AND qualified_at <= %(as_of)s
           AND mql_at <= %(as_of)s{{rep}}),
       (SELECT count(*) FROM leads_mqlepisode
         WHERE rejected_at >= %(start)s AND rejected_at < %(end)s AND rejected_at <= %(as_of)s{{rep}}),
       t.mql_contacted, t.mql_conversations, t.colder_contacted, t.colder_conversations
  FROM episodes e, talks t
"""


# What the metric functions and the SQL return, as plain values to compare


def _rep_name(owner_id, username, first_name, last_name):
    if not owner_id:
        return "Unassigned"
    return f"{first_name} {last_name}".strip() or username


def ignore_rate_numbers(rows):
    mqls, ignored, awaiting, followed_up = rows[0]
    return metrics.IgnoreRate(mqls=mqls, ignored=ignored, awaiting=awaiting, followed_up=followed_up, as_of=NOW)


def conversion_numbers(rows):
    mqls, sals, sqls = rows[0]
    return metrics.Conversion(view=metrics.PERIOD_VIEW, mqls=mqls, sals=sals, sqls=sqls)


def sla_compliance_numbers(rows):
    closed, within, late, never = rows[0]
    return metrics.SlaCompliance(closed=closed, within=within, late=late, never=never)


def speed_to_lead_numbers(rows):
    (_total, _id, _u, _f, _l, responded, mean, hour, sla, *bands, percentiles, window), *reps = rows
    median, p90 = percentiles or (None, None)
    return metrics.SpeedToLead(
        responded=responded,
        median=median,
        mean=mean,
        p90=p90,
        within_hour=hour,
        within_sla=sla,
        typical_window=window,
        bands=tuple(
            (label, count, metrics.Ratio(count, responded))
            for (label, _low, _high), count in zip(metrics.SPEED_BANDS, bands, strict=True)
        ),
        by_rep=tuple(
            metrics.RepSpeed(
                rep_id=owner_id,
                rep_name=_rep_name(owner_id, username, first, last),
                responded=count,
                mean=average,
                within_hour=within_hour,
                within_sla=within_sla,
            )
            for _total, owner_id, username, first, last, count, average, within_hour, within_sla, *_rest in reps
        ),
    )


def rejection_reasons_numbers(rows):
    parts = {part: [row[1:] for row in rows if row[0] == part] for part in (7, 11, 13, 14)}
    total = sum(row[5] for row in parts[_REASONS_PART])
    trend = {}
    for code, _label, week, _source, _campaign, count, *_split in parts[_WEEKS_PART]:
        trend.setdefault(week, {})[code] = count
    return metrics.RejectionReasons(
        total=total,
        reasons=tuple(
            metrics.ReasonCount(code, label, count, metrics.Ratio(count, total), from_mql, from_sal)
            for code, label, _week, _source, _campaign, count, from_mql, from_sal in parts[_REASONS_PART]
        ),
        trend=tuple(sorted(trend.items())),
        by_source=tuple((row[3], row[0], row[5]) for row in parts[_SOURCES_PART]),
        by_campaign=tuple((row[4], row[0], row[5]) for row in parts[_CAMPAIGNS_PART]),
    )


def conversation_rate_numbers(rows):
    return metrics.ConversationRate(*rows[0])


def mql_target_numbers(rows):
    return metrics.MqlTarget(
        months=tuple(metrics.MonthTarget(month=month, mqls=mqls, target=target) for month, mqls, target in rows)
    )


def overview_metrics(period, filters, *, as_of):
    """The metric calls the overview API makes (reports.api.views.OverviewView), in its order."""
    return (
        metrics.ignore_rate(period, filters, as_of=as_of),
        metrics.conversion(period, filters, view=metrics.PERIOD_VIEW, as_of=as_of),
        metrics.sla_compliance(period, filters, as_of=as_of),
        metrics.speed_to_lead(period, filters, as_of=as_of),
        metrics.rejection_reasons(period, filters, as_of=as_of),
        metrics.conversation_rate(period, filters),
    )


def overview_headlines(results):
    """The numbers the overview shows, from the metric results."""
    ignore, conversion, sla, speed, rejections, talks = results
    return {
        "mqls": ignore.mqls,
        "ignored": ignore.ignored,
        "awaiting": ignore.awaiting,
        "sals": conversion.sals,
        "sqls": conversion.sqls,
        "sla_within": sla.within,
        "sla_closed": sla.closed,
        "median_response": speed.median,
        "misses_sla": speed.misses_sla,
        "rejections": rejections.total,
        **dataclasses.asdict(talks),
    }


def overview_numbers(rows):
    (mqls, ignored, awaiting, within, closed, median, mean, window, sals, sqls, rejections, *talks) = rows[0]
    return {
        "mqls": mqls,
        "ignored": ignored,
        "awaiting": awaiting,
        "sals": sals,
        "sqls": sqls,
        "sla_within": within,
        "sla_closed": closed,
        "median_response": median,
        "misses_sla": None if mean is None or window is None else mean > window,
        "rejections": rejections,
        **dataclasses.asdict(metrics.ConversationRate(*talks)),
    }


def plain(value):
    return value if isinstance(value, dict) else dataclasses.asdict(value)


@dataclasses.dataclass(frozen=True)
class ReportCase:
    slug: str
    api: str
    metric: object  # (period, filters, as_of) -> what reports.metrics returns
    sql: str
    numbers: object  # the SQL's rows -> the same value
    headlines: object = plain  # the metric result -> the plain values compared


REPORTS = (
    ReportCase(
        "ignore_rate",
        "reports_api:ignore-rate",
        lambda p, f, as_of: metrics.ignore_rate(p, f, as_of=as_of),
        SQL_IGNORE_RATE,
        ignore_rate_numbers,
    ),
    ReportCase(
        "conversion",
        "reports_api:conversion",
        lambda p, f, as_of: metrics.conversion(p, f, view=metrics.PERIOD_VIEW, as_of=as_of),
        SQL_CONVERSION,
        conversion_numbers,
    ),
    ReportCase(
        "speed_to_lead",
        "reports_api:speed-to-lead",
        lambda p, f, as_of: metrics.speed_to_lead(p, f, as_of=as_of),
        SQL_SPEED_TO_LEAD,
        speed_to_lead_numbers,
    ),
    ReportCase(
        "sla_compliance",
        "reports_api:sla-compliance",
        lambda p, f, as_of: metrics.sla_compliance(p, f, as_of=as_of),
        SQL_SLA_COMPLIANCE,
        sla_compliance_numbers,
    ),
    ReportCase(
        "rejection_reasons",
        "reports_api:rejection-reasons",
        lambda p, f, as_of: metrics.rejection_reasons(p, f, as_of=as_of),
        SQL_REJECTION_REASONS,
        rejection_reasons_numbers,
    ),
    ReportCase(
        "conversation_rate",
        "reports_api:conversation-rate",
        lambda p, f, as_of: metrics.conversation_rate(p, f),
        SQL_CONVERSATION_RATE,
        conversation_rate_numbers,
    ),
    ReportCase(
        "mql_target",
        "reports_api:mql-target",
        lambda p, f, as_of: metrics.mql_target(p, f, as_of=as_of),
        SQL_MQL_TARGET,
        mql_target_numbers,
    ),
    ReportCase(
        "overview", "reports_api:overview", overview_metrics, SQL_OVERVIEW, overview_numbers, overview_headlines
    ),
)


@dataclasses.dataclass(frozen=True)
class Variant:
    name: str
    label: str
    rep: int | None = None
    days: int = PERIOD_DAYS

    @property
    def period(self):
        """The last ``days`` days up to NOW, in UTC."""
        return metrics.Period(NOW.date() - timedelta(days=self.days - 1), NOW.date(), "UTC")

    @property
    def filters(self):
        return metrics.Filters(rep=self.rep)

    def query(self):
        """The report form's query parameters: the period, 'as of' pinned to NOW, the rep."""
        query = {"from": self.period.start.isoformat(), "to": self.period.end.isoformat(), "tz": self.period.tz}
        query.update(view=metrics.PERIOD_VIEW, as_of=NOW.isoformat())
        return {**query, "rep": self.rep} if self.rep else query

    def sql(self, text):
        fragments = {
            "rep": " AND owner_id = %(rep)s" if self.rep else "",
            "episode_rep": " AND e.owner_id = %(rep)s" if self.rep else "",
            "contacts": _CONTACTS_OF_REP if self.rep else _CONTACTS_ALL,
            "team": "t.team_id IS NULL",
        }
        return text.format(**fragments)

    def params(self):
        period = self.period
        return {
            "start": period.start_at,
            "end": period.end_at,
            "as_of": NOW,
            "tz": period.tz,
            "start_date": period.start,
            "end_date": period.end,
            "rep": self.rep,
        }


def variants():
    """The period every report is timed for, then the same for one rep."""
    rep = get_user_model().objects.get(username="bench-rep-03")
    return (
        Variant("all", f"last {PERIOD_DAYS} days, no filter"),
        Variant("rep", f"last {PERIOD_DAYS} days, one rep ({rep.username})", rep.pk),
    )


def page_variants():
    """The overview page for the report period, for one rep, and for its default length (30 days)."""
    return (*variants(), Variant("all_30d", "last 30 days (the page's default length), no filter", days=30))


# Running and timing


def benchmark(options):
    """Build or reuse the data, time every report three ways and the overview page, print, write JSON."""
    # WhiteNoise warns on every request when collectstatic has not run; the pages need no static files here.
    warnings.filterwarnings("ignore", "No directory at", UserWarning)
    dataset = ensure_dataset(rebuild=options.rebuild)
    admin = get_user_model().objects.get(username="bench-reports-admin")
    client = Client()
    client.force_login(admin)
    period = variants()[0].period
    print(
        f"Reports: {dataset['rows']['leads']:,} leads, {dataset['rows']['episodes']:,} MQL episodes,"
        f" {dataset['rows']['events']:,} history rows, {dataset['rows']['activities']:,} activities;"
        f" period {period.start} to {period.end}, as of {NOW:%Y-%m-%d %H:%M} UTC;"
        f" {options.repeat} runs each after a warm-up"
    )
    load_before = harness.load_average()
    reports = {}
    for case in REPORTS:
        reports[case.slug] = {}
        for variant in variants():
            print(f"{case.slug}, {variant.label}:", flush=True)
            reports[case.slug][variant.name] = time_report(case, variant, client, options.repeat)
    print("overview page (GET /reports/, rendered):", flush=True)
    pages = time_pages(client, options.repeat)
    results = summarise(dataset, reports, pages, load_before)
    print_results(results)
    path = harness.write_json("reports", results)
    print(f"  results written to {path}")
    return results


def time_report(case, variant, client, repeat):
    period, filters, sql, params = variant.period, variant.filters, variant.sql(case.sql), variant.params()
    url = reverse(case.api)
    query = variant.query()
    last = {}

    def run_metric():
        last["metric"] = case.metric(period, filters, as_of=NOW)

    def run_api():
        last["api"] = client.get(url, query)

    def run_sql():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            last["sql"] = cursor.fetchall()

    contenders = [
        harness.Contender(
            "metric", f"reports.metrics ({case.slug})", run_metric, lambda: case.headlines(last["metric"])
        ),
        harness.Contender("api", f"GET {url}", run_api, lambda: response_outcome(last["api"])),
        harness.Contender("sql", "hand-written SQL", run_sql, lambda: plain(case.numbers(last["sql"]))),
    ]
    timings, outcomes = harness.measure(contenders, repeat=repeat, prepare=lambda: None)
    if outcomes["api"][0] != 200:
        raise BenchError(f"GET {url} answered {outcomes['api'][0]}: {last['api'].content[:300]!r}")
    wrong = list(differences(outcomes["metric"], outcomes["sql"]))
    if wrong:
        raise BenchError(f"{case.slug} ({variant.name}): the metric and the SQL disagree:\n  " + "\n  ".join(wrong))
    stats = {c.name: {"label": c.label, **harness.summary(timings[c.name])} for c in contenders}
    for contender in contenders:
        stats[contender.name]["queries"] = count_queries(contender.run)
    return {
        "contenders": stats,
        "numbers": outcomes["sql"],
        "ratios": {
            "metric_vs_sql": ratio(stats, "metric", "sql"),
            "api_vs_sql": ratio(stats, "api", "sql"),
            "metric_vs_sql_by_min": ratio(stats, "metric", "sql", key="min_s"),
            "api_vs_sql_by_min": ratio(stats, "api", "sql", key="min_s"),
            "cpu_metric_vs_sql": ratio(stats, "metric", "sql", by_cpu=True),
            "cpu_api_vs_sql": ratio(stats, "api", "sql", by_cpu=True),
        },
    }


def time_pages(client, repeat):
    url = reverse("reports:overview")
    chosen = page_variants()
    last = {}

    def page(variant):
        def run_page():
            last[variant.name] = client.get(url, variant.query())

        def outcome():
            response = last[variant.name]
            return response.status_code, response.content.count(b'class="kpi-value"')

        return harness.Contender(variant.name, f"GET {url} ({variant.label})", run_page, outcome)

    contenders = [page(variant) for variant in chosen]
    timings, outcomes = harness.measure(contenders, repeat=repeat, prepare=lambda: None)
    for name, (status, _numbers) in outcomes.items():
        if status != 200:
            raise BenchError(f"GET {url} ({name}) answered {status}: {last[name].content[:300]!r}")
    stats = {c.name: {"label": c.label, **harness.summary(timings[c.name])} for c in contenders}
    for contender in contenders:
        stats[contender.name]["queries"] = count_queries(contender.run)
        stats[contender.name]["html_bytes"] = len(last[contender.name].content)
    return stats


def response_outcome(response):
    """What an API run answered: its status and a digest of its body (the same each run: 'as of' is pinned)."""
    return response.status_code, hashlib.md5(response.content).hexdigest()


def count_queries(run):
    with CaptureQueriesContext(connection) as queries:
        run()
    return len(queries)


def differences(first, second, path="result"):
    """Where two plain values differ; durations may differ by a microsecond (rounding of interpolation)."""
    if isinstance(first, dict) and isinstance(second, dict):
        for key in sorted(first.keys() | second.keys(), key=str):
            yield from differences(first.get(key, "<missing>"), second.get(key, "<missing>"), f"{path}.{key}")
    elif isinstance(first, list | tuple) and isinstance(second, list | tuple):
        if len(first) != len(second):
            yield f"{path}: {len(first)} items != {len(second)} items"
        for index, (one, other) in enumerate(zip(first, second, strict=False)):
            yield from differences(one, other, f"{path}[{index}]")
    elif isinstance(first, timedelta) and isinstance(second, timedelta):
        if abs(first - second) > timedelta(microseconds=1):
            yield f"{path}: {first} != {second}"
    elif first != second or type(first) is not type(second):
        yield f"{path}: {first!r} != {second!r}"


def ratio(stats, first, second, *, by_cpu=False, key="median_s"):
    """``first`` over ``second`` by median (or ``key``) wall time, or by median CPU time (database plus Python).

    The CPU times leave out PostgreSQL's parallel workers, so they flatter parallel plans.
    """

    def value(name):
        if not by_cpu:
            return stats[name][key]
        if stats[name]["median_db_cpu_s"] is None:
            return None
        return stats[name]["median_db_cpu_s"] + stats[name]["median_py_cpu_s"]

    if value(first) is None or not value(second):
        return None
    return round(value(first) / value(second), 2)


# The report


def summarise(dataset, reports, pages, load_before):
    period = variants()[0].period
    targets = {}
    for slug, by_variant in reports.items():
        for name, result in by_variant.items():
            targets[f"{slug} ({name}): API / hand-written SQL <= {TARGET_RATIO}x"] = (
                result["ratios"]["api_vs_sql"] <= TARGET_RATIO
            )
    for name in ("all", "all_30d"):
        targets[f"overview page ({name}) < {TARGET_PAGE_SECONDS:g} s"] = pages[name]["median_s"] < TARGET_PAGE_SECONDS
    return {
        "benchmark": "reports",
        "ran_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "dataset": dataset,
        "period": {"from": period.start, "to": period.end, "tz": period.tz, "as_of": NOW.isoformat()},
        "server": harness.server_facts(),
        "machine": {"cpus": os.cpu_count(), "load_before": load_before, "load_after": harness.load_average()},
        "reports": reports,
        "overview_page": pages,
        "targets": targets,
    }


def _ms(seconds):
    return f"{seconds * 1000:,.0f} ms" if seconds >= 0.01 else f"{seconds * 1000:.1f} ms"


def print_results(results):
    server, machine = results["server"], results["machine"]
    print(
        f"\n  PostgreSQL {server['server_version'].split()[0]} (shared_buffers {server['shared_buffers']},"
        f" work_mem {server['work_mem']}, jit {server['jit']}); {machine['cpus']} CPUs, 1-minute load average"
        f" {machine['load_before']:.1f} before, {machine['load_after']:.1f} after. Medians of wall time;"
        " queries per call in brackets.\n"
    )
    rows = []
    for slug, by_variant in results["reports"].items():
        for name, result in by_variant.items():
            stats, ratios = result["contenders"], result["ratios"]
            rows.append(
                (
                    slug,
                    name,
                    f"{_ms(stats['metric']['median_s'])} [{stats['metric']['queries']}]",
                    f"{_ms(stats['api']['median_s'])} [{stats['api']['queries']}]",
                    f"{_ms(stats['sql']['median_s'])} [{stats['sql']['queries']}]",
                    f"{ratios['metric_vs_sql']:.2f}x",
                    f"{ratios['api_vs_sql']:.2f}x",
                    "PASS" if ratios["api_vs_sql"] <= TARGET_RATIO else "FAIL",
                )
            )
    harness.print_table(
        ("report", "filter", "metric fn", "API", "hand SQL", "fn/SQL", "API/SQL", f"API ≤ {TARGET_RATIO}x"), rows
    )
    print()
    page_rows = [
        (
            stats["label"],
            _ms(stats["median_s"]),
            _ms(stats["min_s"]),
            str(stats["queries"]),
            ("PASS" if stats["median_s"] < TARGET_PAGE_SECONDS else "FAIL") if name != "rep" else "",
        )
        for name, stats in results["overview_page"].items()
    ]
    harness.print_table(("overview page", "median", "min", "queries", f"< {TARGET_PAGE_SECONDS:g} s"), page_rows)
    print()
    failed = [target for target, met in results["targets"].items() if not met]
    print(f"  {len(results['targets']) - len(failed)} of {len(results['targets'])} targets met.")
    for target in failed:
        print(f"  FAIL  {target}")
    if max(machine["load_before"], machine["load_after"]) > machine["cpus"]:
        print(
            f"  Note: the machine was busy (load above {machine['cpus']} CPUs), which inflates wall times;"
            " the JSON has CPU times and CPU ratios too."
        )
