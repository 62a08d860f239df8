"""The SLA sweep over 1,000,000 open MQLs, 100,000 of them overdue, next to hand-written SQL.

Four contenders, each timed inside a transaction that is rolled back, so all
of them see the same rows:

- ``sweep``: ``leads.sla.flag_overdue_leads``, the real function;
- ``sql_sweep``: one hand-written statement doing the same work (claim, one
  history row per lead, one digest e-mail per owner and manager in the outbox);
- ``sweep_claim``: the sweep's own claim (``leads.sla._CLAIM_SQL``; on PostgreSQL the first
  CTE of the sweep's one statement) alone;
- ``sql_claim``: the hand-written claim UPDATE alone.

The targets compare the sweep with the hand-written statement doing the same
work, and the sweep's claim with the hand-written claim.
"""

import json
import logging
import os
import time
from datetime import UTC, datetime

from django.contrib.auth import get_user_model
from django.db import connection, transaction

from leads import sla
from leads.models import OutboxMessage, SLAPolicy, Team, TeamMember

from . import harness
from .database import MARKER_TABLE_SQL, BenchError

LEADS = 1_000_000
OVERDUE = 100_000
REPS = 20
MANAGERS = 2
# The data is built once and reused, so "now" is a fixed moment it was built around.
NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
TARGET_SECONDS = 2.0
TARGET_RATIO = 1.5

# Describes the generated data; a stored dataset is reused only if it matches.
SPEC = {
    "version": 1,
    "leads": LEADS,
    "overdue": OVERDUE,
    "reps": REPS,
    "managers": MANAGERS,
    "now": NOW.isoformat(),
    "layout": "every 10th lead overdue, spread over the whole table",
}


# Every lead is an open MQL waiting for its first follow-up. Lead n is overdue when
# n is a multiple of LEADS / OVERDUE (due up to 30 days before NOW), else due up to
# 30 days after NOW; owners take turns, all in one team with the default policy.
_LOAD_SQL = """
INSERT INTO leads_lead (name, email, phone, company, job_title, company_size, country, source, campaign,
                        priority, stage, owner_id, team_id, score, version, mql_episode, created_at, updated_at,
                        mql_at, first_follow_up_at, accepted_at, qualified_at, rejected_at, rejection_reason_id,
                        sla_policy_id, sla_due_at, sla_breached_at)
SELECT 'Bench lead ' || n, 'lead' || n || '@bench.example', '+49 30 ' || (1000000 + n), 'Company ' || (n %% 20000),
       'Head of Operations', 10 + n %% 990, 'DE', 'webinar', 'bench-' || (n %% 50),
       'normal', 'mql', (%(owners)s::bigint[])[1 + n %% %(reps)s], %(team)s, n %% 100, 0, 1,
       due - interval '2 hours', due - interval '1 hour',
       due - interval '1 hour', NULL, NULL, NULL, NULL, NULL,
       %(policy)s, due, NULL
  FROM (SELECT n,
               CASE WHEN n %% %(every)s = 0
                    THEN %(now)s - make_interval(secs => 1 + n %% 2592000)
                    ELSE %(now)s + make_interval(secs => 1 + n %% 2592000)
               END AS due
          FROM generate_series(1, %(leads)s) AS n) AS numbered
"""

HANDWRITTEN_CLAIM_SQL = """
UPDATE leads_lead
   SET sla_breached_at = %(now)s, version = version + 1
 WHERE stage = 'mql'
   AND first_follow_up_at IS NULL
   AND sla_breached_at IS NULL
   AND sla_due_at <= %(now)s
RETURNING id
"""

# The whole sweep as one statement: data-modifying CTEs all see the claimed rows
# through RETURNING, so nothing is read back from leads_lead or sent to the client
# but the claimed ids.
HANDWRITTEN_SWEEP_SQL = """
WITH claimed AS (
    UPDATE leads_lead
       SET sla_breached_at = %(now)s, version = version + 1
     WHERE stage = 'mql'
       AND first_follow_up_at IS NULL
       AND sla_breached_at IS NULL
       AND sla_due_at <= %(now)s
    RETURNING id, owner_id, team_id, mql_episode, version, sla_due_at, sla_policy_id
), history AS (
    INSERT INTO leads_leadevent (lead_id, kind, at, actor_id, from_stage, to_stage, owner_id, episode,
                                 reason_id, note, payload)
    SELECT id, 'sla_breached', %(now)s, NULL, 'mql', 'mql', owner_id, mql_episode, NULL, '',
           jsonb_build_object('due_at', to_char(sla_due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
      FROM claimed
), recipients AS (
    SELECT %(owner_kind)s AS kind, claimed.id, claimed.sla_due_at, person.id AS person_id, person.email
      FROM claimed
      JOIN auth_user person ON person.id = claimed.owner_id
      LEFT JOIN leads_slapolicy policy ON policy.id = claimed.sla_policy_id
     WHERE person.email <> '' AND COALESCE(policy.notify_owner, TRUE)
    UNION ALL
    SELECT %(manager_kind)s, claimed.id, claimed.sla_due_at, person.id, person.email
      FROM claimed
      JOIN leads_teammember membership ON membership.team_id = claimed.team_id AND membership.role = 'manager'
      JOIN auth_user person ON person.id = membership.user_id AND person.is_active
      LEFT JOIN leads_slapolicy policy ON policy.id = claimed.sla_policy_id
     WHERE person.email <> '' AND COALESCE(policy.notify_managers, TRUE)
), outbox AS (
    -- One digest per recipient and kind, listing the claimed leads most overdue first.
    INSERT INTO leads_outboxmessage (kind, lead_id, recipient_id, to_email, dedupe_key, context, created_at,
                                     claimed_at, claim_token, attempts, sent_at, last_error)
    SELECT kind, NULL, person_id, email,
           kind || ':' || %(stamp)s || ':' || (SELECT min(id) FROM claimed) || ':' || person_id,
           jsonb_build_object('lead_ids', jsonb_agg(id ORDER BY sla_due_at, id)), %(now)s, NULL, '', 0, NULL, ''
      FROM recipients
     GROUP BY kind, person_id, email
)
SELECT id FROM claimed
"""

# What a run did, read back before its rollback: counts, plus digests of every
# written value (ids of new rows excepted) so that two contenders doing "the same
# work" must write the same rows, not merely as many.
_OUTCOME_SQL = """
SELECT (SELECT count(*) FROM leads_lead WHERE sla_breached_at IS NOT NULL),
       (SELECT md5(string_agg(id || ':' || version || ':' || sla_breached_at, ',' ORDER BY id))
          FROM leads_lead WHERE sla_breached_at IS NOT NULL),
       (SELECT count(*) FROM leads_leadevent),
       (SELECT md5(string_agg(concat_ws(':', lead_id, kind, at, actor_id, from_stage, to_stage, owner_id, episode,
                                        reason_id, note, payload), ',' ORDER BY lead_id, kind))
          FROM leads_leadevent),
       (SELECT count(*) FROM leads_outboxmessage),
       (SELECT md5(string_agg(concat_ws(':', kind, lead_id, recipient_id, to_email, dedupe_key, context, created_at,
                                        claimed_at, claim_token, attempts, sent_at, last_error),
                              ',' ORDER BY dedupe_key))
          FROM leads_outboxmessage)
"""
_OUTCOME_FIELDS = ("claimed", "claimed_digest", "events", "events_digest", "outbox", "outbox_digest")


def run(options):
    """Build or reuse the data, time the four contenders, print the table and write var/bench/sla_sweep.json."""
    # The sweep logs a line per run; the progress lines already say as much.
    logging.getLogger("leads.sla").setLevel(logging.WARNING)
    ensure_dataset(rebuild=options.rebuild)
    contenders = [
        harness.Contender("sweep", "flag_overdue_leads (full sweep)", run_sweep, outcome),
        harness.Contender("sql_sweep", "hand-written SQL, full sweep (one statement)", run_sql_sweep, outcome),
        harness.Contender("sweep_claim", "the sweep's claim alone (sla._CLAIM_SQL)", run_sweep_claim, outcome),
        harness.Contender("sql_claim", "hand-written claim UPDATE alone", run_sql_claim, outcome),
    ]
    if not hasattr(sla, "_CLAIM_SQL"):
        print("  leads.sla no longer has _CLAIM_SQL: the sweep's claim is not timed on its own.")
        contenders = [contender for contender in contenders if contender.name != "sweep_claim"]
    print(f"SLA sweep: {LEADS:,} open MQLs, {OVERDUE:,} overdue; {options.repeat} runs each after a warm-up")
    load_before = harness.load_average()
    timings, outcomes = harness.measure(contenders, repeat=options.repeat, prepare=reset_state)
    check_same_work(outcomes, "sweep", "sql_sweep")
    check_same_work(outcomes, "sweep_claim", "sql_claim")
    results = summarise(contenders, timings, outcomes, load_before)
    print_results(results)
    path = harness.write_json("sla_sweep", results)
    print(f"  results written to {path}")
    return results


# The contenders


def run_sweep():
    sla.flag_overdue_leads(now=NOW)


def run_sweep_claim():
    with connection.cursor() as cursor:
        cursor.execute(sla._CLAIM_SQL, {"now": NOW})
        cursor.fetchall()


def run_sql_claim():
    with connection.cursor() as cursor:
        cursor.execute(HANDWRITTEN_CLAIM_SQL, {"now": NOW})
        cursor.fetchall()


def run_sql_sweep():
    with connection.cursor() as cursor:
        cursor.execute(
            HANDWRITTEN_SWEEP_SQL,
            {
                "now": NOW,
                "stamp": NOW.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ"),
                "owner_kind": OutboxMessage.Kind.SLA_BREACH_OWNER.value,
                "manager_kind": OutboxMessage.Kind.SLA_BREACH_MANAGER.value,
            },
        )
        cursor.fetchall()


def outcome():
    with connection.cursor() as cursor:
        cursor.execute(_OUTCOME_SQL)
        return dict(zip(_OUTCOME_FIELDS, cursor.fetchone(), strict=True))


def reset_state():
    """Give every run the same start: no dead rows left by the last rollback, and a fresh checkpoint.

    Without the checkpoint a run would pay for full-page images in the WAL or
    not depending on when the server last checkpointed on its own.
    """
    with connection.cursor() as cursor:
        cursor.execute("VACUUM leads_lead, leads_leadevent, leads_outboxmessage")
        cursor.execute("CHECKPOINT")


def check_same_work(outcomes, first, second):
    if first not in outcomes:
        return
    if outcomes[first] != outcomes[second]:
        raise BenchError(f"{first} and {second} did different work: {outcomes[first]} != {outcomes[second]}")
    if outcomes[first]["claimed"] != OVERDUE:
        raise BenchError(f"{first} claimed {outcomes[first]['claimed']} leads, expected {OVERDUE}")


# The data


def ensure_dataset(*, rebuild):
    """Reuse the stored leads if they match SPEC, else (or with ``rebuild``) generate them; refuse foreign data."""
    with connection.cursor() as cursor:
        cursor.execute(MARKER_TABLE_SQL)
        cursor.execute("SELECT name, spec::text FROM bench_dataset")
        markers = {name: json.loads(spec) for name, spec in cursor.fetchall()}
        cursor.execute("SELECT EXISTS (SELECT 1 FROM leads_lead)")
        (has_leads,) = cursor.fetchone()
    if has_leads and not markers:
        raise BenchError(
            f"Database {connection.settings_dict['NAME']} holds leads the benchmark did not write; "
            "it would replace them. Unset DATABASE_URL to use the funnel_bench database."
        )
    if not rebuild and markers.get("sla_sweep") == SPEC and dataset_is_intact():
        print(f"Reusing the stored dataset ({LEADS:,} leads); --rebuild regenerates it.")
        return
    build_dataset()


def dataset_is_intact():
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT (SELECT count(*) FROM leads_lead),
                   (SELECT count(*) FROM leads_lead
                     WHERE stage = 'mql' AND first_follow_up_at IS NULL AND sla_breached_at IS NULL),
                   (SELECT count(*) FROM leads_lead
                     WHERE stage = 'mql' AND first_follow_up_at IS NULL AND sla_breached_at IS NULL
                       AND sla_due_at <= %s),
                   (SELECT count(*) FROM leads_leadevent) + (SELECT count(*) FROM leads_outboxmessage)
            """,
            [NOW],
        )
        return cursor.fetchone() == (LEADS, LEADS, OVERDUE, 0)


def build_dataset():
    print(f"Generating {LEADS:,} leads ...", flush=True)
    start = time.perf_counter()
    team, reps = ensure_team()
    policy = SLAPolicy.objects.get(is_default=True)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE leads_lead RESTART IDENTITY CASCADE")
        cursor.execute("DELETE FROM bench_dataset")
        cursor.execute(
            _LOAD_SQL,
            {
                "owners": [rep.pk for rep in reps],
                "reps": len(reps),
                "team": team.pk,
                "policy": policy.pk,
                "every": LEADS // OVERDUE,
                "now": NOW,
                "leads": LEADS,
            },
        )
        loaded = time.perf_counter() - start
        cursor.execute(
            "INSERT INTO bench_dataset (name, spec, built_at, load_seconds) VALUES ('sla_sweep', %s::jsonb, now(), %s)",
            [json.dumps(SPEC), loaded],
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"  loaded in {loaded:.1f} s, vacuumed and analysed in {time.perf_counter() - start - loaded:.1f} s")
    if not dataset_is_intact():
        raise BenchError("The generated dataset does not have the expected shape.")


def ensure_team():
    """The bench team: REPS reps who own the leads and MANAGERS managers who hear about breaches."""
    User = get_user_model()
    team, _ = Team.objects.get_or_create(name="Bench team")

    def member(username, role):
        user, _ = User.objects.get_or_create(username=username, defaults={"email": f"{username}@bench.example"})
        TeamMember.objects.get_or_create(team=team, user=user, defaults={"role": role})
        return user

    reps = [member(f"bench-rep-{n:02d}", TeamMember.Role.REP) for n in range(1, REPS + 1)]
    for n in range(1, MANAGERS + 1):
        member(f"bench-manager-{n}", TeamMember.Role.MANAGER)
    return team, reps


# The report


def summarise(contenders, timings, outcomes, load_before):
    stats = {c.name: {"label": c.label, **harness.summary(timings[c.name])} for c in contenders}
    work = outcomes["sweep"]
    ratios = {
        "sweep_vs_sql_sweep": harness.ratio(stats, "sweep", "sql_sweep"),
        "sweep_claim_vs_sql_claim": harness.ratio(stats, "sweep_claim", "sql_claim"),
        "sweep_vs_sql_claim": harness.ratio(stats, "sweep", "sql_claim"),
        "cpu_sweep_vs_sql_sweep": harness.ratio(stats, "sweep", "sql_sweep", by_cpu=True),
        "cpu_sweep_claim_vs_sql_claim": harness.ratio(stats, "sweep_claim", "sql_claim", by_cpu=True),
    }
    sweep = stats["sweep"]["median_s"]
    targets = {
        f"sweep median <= {TARGET_SECONDS} s": sweep <= TARGET_SECONDS,
        f"sweep / hand-written sweep <= {TARGET_RATIO}x": ratios["sweep_vs_sql_sweep"] <= TARGET_RATIO,
    }
    if ratios["sweep_claim_vs_sql_claim"] is not None:
        targets[f"sweep claim / hand-written claim <= {TARGET_RATIO}x"] = (
            ratios["sweep_claim_vs_sql_claim"] <= TARGET_RATIO
        )
    return {
        "benchmark": "sla_sweep",
        "ran_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "dataset": SPEC,
        "work": {key: work[key] for key in ("claimed", "events", "outbox")},
        "server": harness.server_facts(),
        "machine": {"cpus": os.cpu_count(), "load_before": load_before, "load_after": harness.load_average()},
        "contenders": stats,
        "ratios": ratios,
        "targets": targets,
    }


def print_results(results):
    work, server, machine = results["work"], results["server"], results["machine"]
    print(
        f"\n  Each run claims {work['claimed']:,} leads; the full sweeps also write {work['events']:,} history rows"
        f" and {work['outbox']:,} outbox e-mails.\n  PostgreSQL {server['server_version'].split()[0]}"
        f" (shared_buffers {server['shared_buffers']}, jit {server['jit']}); {machine['cpus']} CPUs,"
        f" 1-minute load average {machine['load_before']:.1f} before, {machine['load_after']:.1f} after.\n"
    )
    rows = [
        (
            stats["label"],
            f"{stats['median_s']:.2f} s",
            f"{stats['min_s']:.2f} s",
            f"{stats['max_s']:.2f} s",
            "-" if stats["median_db_cpu_s"] is None else f"{stats['median_db_cpu_s']:.2f} s",
            f"{stats['median_py_cpu_s']:.2f} s",
        )
        for stats in results["contenders"].values()
    ]
    harness.print_table(("contender", "median", "min", "max", "db CPU", "py CPU"), rows)
    print()
    for key, label in (
        ("sweep_vs_sql_sweep", "sweep / hand-written sweep"),
        ("sweep_claim_vs_sql_claim", "sweep claim / hand-written claim"),
        ("sweep_vs_sql_claim", "sweep / hand-written claim alone"),
    ):
        by_cpu = results["ratios"].get(f"cpu_{key}")
        if results["ratios"][key] is not None:
            cpu = f"  (by CPU time {by_cpu:.2f}x)" if by_cpu is not None else ""
            print(f"  {label + ':':<36}{results['ratios'][key]:.2f}x{cpu}")
    print()
    for target, met in results["targets"].items():
        print(f"  {'PASS' if met else 'FAIL'}  {target}")
    if max(machine["load_before"], machine["load_after"]) > machine["cpus"]:
        print(
            f"  Note: the machine was busy (load above {machine['cpus']} CPUs), which inflates wall times;"
            " the CPU columns and CPU ratios are much less affected."
        )
