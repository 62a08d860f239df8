"""The SLA sweep over 1,000,000 open MQLs next to hand-written SQL, in two cases.

- burst: 100,000 of them overdue, none flagged yet (the sweep's mark lies before
  every due time);
- steady state: those 100,000 flagged by the previous sweep, whose mark is at NOW,
  and 100 more fallen due since, spread over the table.

Each contender is timed inside a transaction that is rolled back, so all of them
see the same rows. Burst:

- ``sweep``: ``leads.sla.flag_overdue_leads``, the real function;
- ``sql_sweep``: one hand-written statement doing the same work (claim, one
  history row per lead, one digest e-mail per owner and manager in the outbox);
- ``sweep_claim``: the sweep's own claim (``leads.sla._CLAIM_SQL``, the first CTE
  of its statement) alone;
- ``sql_claim``: the hand-written claim UPDATE alone.

Steady state:

- ``steady_sweep``: ``flag_overdue_leads`` again;
- ``steady_sql_sweep``: the hand-written statement with its claim bounded by the
  previous sweep's time (``sla_due_at > NOW``), all it needs on these rows;
- ``steady_sql_unbounded``: the hand-written statement of the burst case, which
  reads every flagged lead again: what the sweep cost before it kept a mark.

The targets compare the burst sweep with the hand-written statement doing the same
work (by wall time and by CPU time) and its claim with the hand-written claim, and
cap the steady-state sweep at 10 ms.
"""

import json
import logging
import os
import time
from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import connection, transaction

from leads import sla
from leads.models import OutboxMessage, SLAPolicy, Team, TeamMember

from . import harness
from .database import MARKER_TABLE_SQL, BenchError, truncate

LEADS = 1_000_000
OVERDUE = 100_000
NEWLY_DUE = 100
REPS = 20
MANAGERS = 2
# The data is built once and reused, so "now" is a fixed moment it was built around.
NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
# The steady-state sweep runs two minutes after the previous one (at NOW).
STEADY_NOW = NOW + timedelta(minutes=2)
# The burst case's mark: a sweep before any of the leads was due.
BURST_MARK = NOW - timedelta(days=31)
TARGET_SECONDS = 2.0
TARGET_RATIO = 1.5
TARGET_CPU_RATIO = 1.1
STEADY_TARGET_SECONDS = 0.010
# The steady-state runs take milliseconds and vary more, so they run this many times more.
STEADY_REPEAT_FACTOR = 3

# Describes the generated data; a stored dataset is reused only if it matches.
SPEC = {
    "version": 2,
    "leads": LEADS,
    "overdue": OVERDUE,
    "newly_due": NEWLY_DUE,
    "reps": REPS,
    "managers": MANAGERS,
    "now": NOW.isoformat(),
    "layout": "every 10th lead overdue and every 10,000th due in the 100 s after now, both spread over the whole table",
}


# Every lead is an open MQL waiting for its first follow-up. Lead n is overdue when
# n is a multiple of LEADS / OVERDUE (due up to 30 days before NOW); when n % 10,000
# is 5 it falls due in the 100 seconds after NOW (1 + n / 10,000 seconds; the steady
# state's newly overdue leads); else it is due 1 hour to 31 days after NOW. Owners take
# turns, all in one team with the default policy.
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
                    WHEN n %% 10000 = 5
                    THEN %(now)s + make_interval(secs => 1 + n / 10000)
                    ELSE %(now)s + make_interval(secs => 3600 + n %% 2592000)
               END AS due
          FROM generate_series(1, %(leads)s) AS n) AS numbered
"""

# The committed state each case starts from. In the steady state a previous sweep at
# NOW flagged every lead due by then (here a plain UPDATE: the history rows and
# e-mails it would have written are never read by a sweep) and left its mark at NOW;
# in the burst state nothing is flagged and the mark lies before every due time.
# The switch is the benchmark's own bookkeeping, so it runs with the stamping trigger
# off: un-flagging would otherwise restamp the 100,000 leads with a second UPDATE each,
# moving them to other pages over repeated runs. Nothing else writes these leads, so
# the mark may take the switching transaction's own id (after every stamp); a sweep
# takes its snapshot's xmin, as it cannot know that.
_STAMP_TRIGGER_SQL = "ALTER TABLE leads_lead {} TRIGGER leads_lead_due_xid_on_update"
_STATE_SQL = {
    "burst": "UPDATE leads_lead SET sla_breached_at = NULL, version = version - 1 WHERE sla_breached_at IS NOT NULL",
    "steady": """
        UPDATE leads_lead SET sla_breached_at = %(now)s, version = version + 1
         WHERE stage = 'mql' AND first_follow_up_at IS NULL AND sla_breached_at IS NULL AND sla_due_at <= %(now)s
    """,
}
_STATE_MARKS = {"burst": BURST_MARK, "steady": NOW}
_MARK_SQL = """
INSERT INTO leads_slasweepmark (id, due_through, snapshot_xmin)
VALUES (1, %(mark)s, pg_current_xact_id()::text::bigint)
ON CONFLICT (id) DO UPDATE SET due_through = EXCLUDED.due_through, snapshot_xmin = EXCLUDED.snapshot_xmin
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
# but the claimed ids. {since} bounds the claim from below in the steady state.
_HANDWRITTEN_SWEEP_TEMPLATE = """
WITH claimed AS (
    UPDATE leads_lead
       SET sla_breached_at = %(now)s, version = version + 1
     WHERE stage = 'mql'
       AND first_follow_up_at IS NULL
       AND sla_breached_at IS NULL
       AND sla_due_at <= %(now)s{since}
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
HANDWRITTEN_SWEEP_SQL = _HANDWRITTEN_SWEEP_TEMPLATE.format(since="")
HANDWRITTEN_STEADY_SWEEP_SQL = _HANDWRITTEN_SWEEP_TEMPLATE.format(since="\n       AND sla_due_at > %(since)s")

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
    """Build or reuse the data, time both cases, print the tables and write var/bench/sla_sweep.json."""
    # The sweep logs a line per run; the progress lines already say as much.
    logging.getLogger("leads.sla").setLevel(logging.WARNING)
    ensure_dataset(rebuild=options.rebuild)
    burst = [
        harness.Contender("sweep", "flag_overdue_leads (full sweep)", run_sweep, outcome),
        harness.Contender("sql_sweep", "hand-written SQL, full sweep (one statement)", run_sql_sweep, outcome),
        harness.Contender("sweep_claim", "the sweep's claim alone (sla._CLAIM_SQL)", run_sweep_claim, outcome),
        harness.Contender("sql_claim", "hand-written claim UPDATE alone", run_sql_claim, outcome),
    ]
    steady = [
        harness.Contender("steady_sweep", "flag_overdue_leads (full sweep)", run_steady_sweep, outcome),
        harness.Contender(
            "steady_sql_sweep", "hand-written SQL, full sweep, due since the last sweep", run_steady_sql_sweep, outcome
        ),
        harness.Contender(
            "steady_sql_unbounded",
            "hand-written SQL, full sweep, every due time (before the mark)",
            run_steady_sql_unbounded,
            outcome,
        ),
    ]
    load_before = harness.load_average()
    print(f"SLA sweep, burst: {LEADS:,} open MQLs, {OVERDUE:,} overdue; {options.repeat} runs each after a warm-up")
    enter_state("burst")
    burst_timings, burst_outcomes = harness.measure(burst, repeat=options.repeat, prepare=reset_state)
    check_same_work(burst_outcomes, "sweep", "sql_sweep", flagged=OVERDUE)
    check_same_work(burst_outcomes, "sweep_claim", "sql_claim", flagged=OVERDUE)
    steady_repeat = options.repeat * STEADY_REPEAT_FACTOR
    print(
        f"SLA sweep, steady state: {LEADS:,} open MQLs, {OVERDUE:,} already flagged, {NEWLY_DUE} newly overdue;"
        f" {steady_repeat} runs each after a warm-up"
    )
    enter_state("steady")
    steady_timings, steady_outcomes = harness.measure(steady, repeat=steady_repeat, prepare=reset_state)
    check_same_work(steady_outcomes, "steady_sweep", "steady_sql_sweep", flagged=OVERDUE + NEWLY_DUE)
    check_same_work(steady_outcomes, "steady_sweep", "steady_sql_unbounded", flagged=OVERDUE + NEWLY_DUE)
    results = summarise(
        {"burst": (burst, burst_timings, burst_outcomes), "steady": (steady, steady_timings, steady_outcomes)},
        load_before,
    )
    print_results(results)
    path = harness.write_json("sla_sweep", results)
    print(f"  results written to {path}")
    return results


# The contenders


def run_sweep():
    sla.flag_overdue_leads(now=NOW)


def run_sweep_claim():
    with connection.cursor() as cursor:
        cursor.execute(sla._CLAIM_SQL, {"now": NOW, **sla._claim_bounds(cursor)})
        cursor.fetchall()


def run_sql_claim():
    with connection.cursor() as cursor:
        cursor.execute(HANDWRITTEN_CLAIM_SQL, {"now": NOW})
        cursor.fetchall()


def run_sql_sweep():
    run_handwritten_sweep(HANDWRITTEN_SWEEP_SQL, NOW)


def run_steady_sweep():
    sla.flag_overdue_leads(now=STEADY_NOW)


def run_steady_sql_sweep():
    run_handwritten_sweep(HANDWRITTEN_STEADY_SWEEP_SQL, STEADY_NOW, since=NOW)


def run_steady_sql_unbounded():
    run_handwritten_sweep(HANDWRITTEN_SWEEP_SQL, STEADY_NOW)


def run_handwritten_sweep(statement, now, **params):
    with connection.cursor() as cursor:
        cursor.execute(
            statement,
            {
                "now": now,
                "stamp": now.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ"),
                "owner_kind": OutboxMessage.Kind.SLA_BREACH_OWNER.value,
                "manager_kind": OutboxMessage.Kind.SLA_BREACH_MANAGER.value,
                **params,
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


def check_same_work(outcomes, first, second, *, flagged):
    if first not in outcomes:
        return
    if outcomes[first] != outcomes[second]:
        raise BenchError(f"{first} and {second} did different work: {outcomes[first]} != {outcomes[second]}")
    if outcomes[first]["claimed"] != flagged:
        raise BenchError(f"after {first} {outcomes[first]['claimed']} leads were flagged, expected {flagged}")


def enter_state(name):
    """Commit the case's starting state (which leads are flagged, the sweep's mark), then vacuum and analyse.

    The vacuum first clears what the last rolled-back run left in the pages, so the
    switch's updates stay on their pages (HOT) and the layout does not drift.
    """
    with connection.cursor() as cursor:
        cursor.execute("VACUUM leads_lead")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_STAMP_TRIGGER_SQL.format("DISABLE"))
        cursor.execute(_STATE_SQL[name], {"now": NOW})
        changed = cursor.rowcount
        cursor.execute(_STAMP_TRIGGER_SQL.format("ENABLE"))
        cursor.execute(_MARK_SQL, {"mark": _STATE_MARKS[name]})
    if changed:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE leads_lead")


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
    """The stored leads have the shape SPEC describes, in either case's state (flagged or not by NOW)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT (SELECT count(*) FROM leads_lead),
                   (SELECT count(*) FROM leads_lead WHERE stage = 'mql' AND first_follow_up_at IS NULL),
                   (SELECT count(*) FROM leads_lead
                     WHERE stage = 'mql' AND first_follow_up_at IS NULL AND sla_due_at <= %(now)s),
                   (SELECT count(*) FROM leads_lead
                     WHERE stage = 'mql' AND first_follow_up_at IS NULL AND sla_breached_at IS NULL
                       AND sla_due_at > %(now)s AND sla_due_at <= %(steady_now)s),
                   (SELECT count(*) FROM leads_lead
                     WHERE sla_breached_at IS NOT NULL AND (sla_due_at > %(now)s OR sla_breached_at <> %(now)s)),
                   (SELECT count(*) FROM leads_leadevent) + (SELECT count(*) FROM leads_outboxmessage)
            """,
            {"now": NOW, "steady_now": STEADY_NOW},
        )
        return cursor.fetchone() == (LEADS, LEADS, OVERDUE, NEWLY_DUE, 0, 0)


def build_dataset():
    print(f"Generating {LEADS:,} leads ...", flush=True)
    start = time.perf_counter()
    team, reps = ensure_team()
    policy = SLAPolicy.objects.get(is_default=True)
    with transaction.atomic(), connection.cursor() as cursor:
        truncate(cursor, "leads_lead")
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
    enter_state("burst")
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


def summarise(cases, load_before):
    results = {
        "benchmark": "sla_sweep",
        "ran_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "dataset": SPEC,
        "server": harness.server_facts(),
    }
    for case, (contenders, timings, _outcomes) in cases.items():
        results[case] = {
            "contenders": {c.name: {"label": c.label, **harness.summary(timings[c.name])} for c in contenders}
        }
    burst, steady = results["burst"]["contenders"], results["steady"]["contenders"]
    work = cases["burst"][2]["sweep"]
    results["burst"]["work"] = {key: work[key] for key in ("claimed", "events", "outbox")}
    work = cases["steady"][2]["steady_sweep"]
    results["steady"]["work"] = {
        "claimed": work["claimed"] - OVERDUE,
        "events": work["events"],
        "outbox": work["outbox"],
    }
    results["burst"]["ratios"] = {
        "sweep_vs_sql_sweep": harness.ratio(burst, "sweep", "sql_sweep"),
        "sweep_claim_vs_sql_claim": harness.ratio(burst, "sweep_claim", "sql_claim"),
        "sweep_vs_sql_claim": harness.ratio(burst, "sweep", "sql_claim"),
        "cpu_sweep_vs_sql_sweep": harness.ratio(burst, "sweep", "sql_sweep", by_cpu=True),
        "cpu_sweep_claim_vs_sql_claim": harness.ratio(burst, "sweep_claim", "sql_claim", by_cpu=True),
    }
    results["steady"]["ratios"] = {
        "steady_sweep_vs_steady_sql_sweep": harness.ratio(steady, "steady_sweep", "steady_sql_sweep"),
        "steady_sweep_vs_steady_sql_unbounded": harness.ratio(steady, "steady_sweep", "steady_sql_unbounded"),
        "cpu_steady_sweep_vs_steady_sql_sweep": harness.ratio(steady, "steady_sweep", "steady_sql_sweep", by_cpu=True),
        "cpu_steady_sweep_vs_steady_sql_unbounded": harness.ratio(
            steady, "steady_sweep", "steady_sql_unbounded", by_cpu=True
        ),
    }
    ratios = results["burst"]["ratios"]
    results["targets"] = {
        f"burst: sweep median <= {TARGET_SECONDS} s": burst["sweep"]["median_s"] <= TARGET_SECONDS,
        f"burst: sweep / hand-written sweep <= {TARGET_RATIO}x": ratios["sweep_vs_sql_sweep"] <= TARGET_RATIO,
        f"burst: sweep / hand-written sweep by CPU <= {TARGET_CPU_RATIO}x": (
            ratios["cpu_sweep_vs_sql_sweep"] is not None and ratios["cpu_sweep_vs_sql_sweep"] <= TARGET_CPU_RATIO
        ),
        f"burst: sweep claim / hand-written claim <= {TARGET_RATIO}x": (
            ratios["sweep_claim_vs_sql_claim"] <= TARGET_RATIO
        ),
        f"steady state: sweep median <= {STEADY_TARGET_SECONDS * 1000:.0f} ms": (
            steady["steady_sweep"]["median_s"] <= STEADY_TARGET_SECONDS
        ),
    }
    results["machine"] = {"cpus": os.cpu_count(), "load_before": load_before, "load_after": harness.load_average()}
    return results


def print_results(results):
    server, machine = results["server"], results["machine"]
    print(
        f"\n  PostgreSQL {server['server_version'].split()[0]} (shared_buffers {server['shared_buffers']},"
        f" jit {server['jit']}); {machine['cpus']} CPUs, 1-minute load average {machine['load_before']:.1f} before,"
        f" {machine['load_after']:.1f} after."
    )
    for case, title, unit in (("burst", "Burst", "s"), ("steady", "Steady state", "ms")):
        work = results[case]["work"]
        print(
            f"\n  {title}: each run claims {work['claimed']:,} leads; the full sweeps also write {work['events']:,}"
            f" history rows and {work['outbox']:,} outbox e-mails.\n"
        )
        rows = [
            (
                stats["label"],
                seconds(stats["median_s"], unit),
                seconds(stats["min_s"], unit),
                seconds(stats["max_s"], unit),
                "-" if stats["median_db_cpu_s"] is None else seconds(stats["median_db_cpu_s"], unit),
                seconds(stats["median_py_cpu_s"], unit),
            )
            for stats in results[case]["contenders"].values()
        ]
        harness.print_table(("contender", "median", "min", "max", "db CPU", "py CPU"), rows)
        print()
        for key, value in results[case]["ratios"].items():
            if key.startswith("cpu_") or value is None:
                continue
            by_cpu = results[case]["ratios"].get(f"cpu_{key}")
            cpu = f"  (by CPU time {by_cpu:.2f}x)" if by_cpu is not None else ""
            print(f"  {RATIO_LABELS[key] + ':':<48}{value:.2f}x{cpu}")
    print()
    for target, met in results["targets"].items():
        print(f"  {'PASS' if met else 'FAIL'}  {target}")
    if max(machine["load_before"], machine["load_after"]) > machine["cpus"]:
        print(
            f"  Note: the machine was busy (load above {machine['cpus']} CPUs), which inflates wall times;"
            " the CPU columns and CPU ratios are much less affected."
        )


RATIO_LABELS = {
    "sweep_vs_sql_sweep": "sweep / hand-written sweep",
    "sweep_claim_vs_sql_claim": "sweep claim / hand-written claim",
    "sweep_vs_sql_claim": "sweep / hand-written claim alone",
    "steady_sweep_vs_steady_sql_sweep": "sweep / hand-written sweep",
    "steady_sweep_vs_steady_sql_unbounded": "sweep / hand-written sweep without the mark",
}


def seconds(value, unit):
    return f"{value:.2f} s" if unit == "s" else f"{value * 1000:.1f} ms"
