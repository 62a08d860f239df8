"""A full rescore of 1,000,000 leads: ``leads.jobs.rescore_leads``, the Celery job behind "Rescore all".

Three passes over the same leads, each a complete run of the job:

- ``initial``: from zero (no rule shares stored, every score 0), so every share is
  new, almost every score changes and writes a history row, and the leads that
  reach the threshold are promoted and routed;
- ``unchanged``: again with nothing changed: the cost of reading and comparing;
- ``one_rule``: after one demographic rule's points changed, so every lead it
  matches (30 %) changes score, and a few more cross the threshold.

The data lives in a database of its own next to the benchmark database (its name +
``_rescore``), is generated once with set-based SQL and kept (``--rebuild``
regenerates it); every run first resets it to the same start (scores 0, no shares
or history, promoted leads back in stage lead, the table vacuumed). Each pass runs
in a fresh child process (``python -m bench.rescore pass ...``), so its peak RSS is
the job's own; each runs once (a pass takes minutes; ``--repeat`` is ignored).

Measured per pass: wall time, leads/s, CPU of the process and of its PostgreSQL
backend, peak RSS, rows inserted/updated/deleted per table and WAL written, and a
split of the wall time by statement kind and by Python phase (the job's own
functions and Django's write calls are wrapped for the length of the pass). After
each pass, untimed: 1,000 random leads recomputed with ``scoring.contributions``
from all their activities must match the stored score and shares; every score must
be the sum of its shares; no lead in stage lead may be at the threshold; and the
MQLs and SALs the data started with must not have moved.

``BENCH_RESCORE_IMPLEMENTATIONS`` runs other versions of ``scoring.rescore_batch``
registered in ``IMPLEMENTATIONS`` from the same start and checks that they write the
same rows (digests of every lead, share, history row and MQL episode after each pass).
"""

import json
import os
import resource
import sys
import time
from datetime import UTC, datetime, timedelta

from .database import MARKER_TABLE_SQL, run_child, truncate

# The figures are for 1,000,000; a smaller BENCH_RESCORE_LEADS (a multiple of 200)
# checks correctness quickly.
LEADS = int(os.environ.get("BENCH_RESCORE_LEADS", "1000000"))
THRESHOLD = 120
# The data is built once and reused, so "now" is a fixed moment it was built around.
NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
REPS = 20

# The scoring matrix of leads/management/commands/seed_demo.py (copied, so that a change
# to the demo data does not change what this benchmark measures).
# (name, points, cap, fields)
RULES = [
    ("Title contains CEO", 30, None, {"field": "job_title", "operator": "contains", "value": "ceo"}),
    ("Title contains CTO or CFO", 25, None, {"field": "job_title", "operator": "one_of", "value": "CTO, CFO"}),
    ("Head of / VP", 15, None, {"field": "job_title", "operator": "contains", "value": "head of"}),
    (
        "50-5000 employees",
        20,
        None,
        {"field": "company_size", "operator": "between", "min_value": 50, "max_value": 5000},
    ),
    ("DACH region", 10, None, {"field": "country", "operator": "one_of", "value": "DE, AT, CH"}),
    (
        "Student or intern",
        -30,
        None,
        {"field": "job_title", "operator": "one_of", "value": "Student, Marketing Intern"},
    ),
    ("Free-mail address", -40, None, {"field": "email_domain", "operator": "free_mail"}),
    ("Visited /pricing", 15, 45, {"activity_kind": "website_visit", "url_contains": "/pricing"}),
    ("Visited /careers (job seeker)", -10, 20, {"activity_kind": "website_visit", "url_contains": "/careers"}),
    ("Attended a webinar", 25, 50, {"activity_kind": "webinar"}),
    ("Downloaded content", 10, 30, {"activity_kind": "content_download"}),
    ("Filled in a form", 20, 40, {"activity_kind": "form_completion"}),
    ("E-mail click-through", 5, 20, {"activity_kind": "email_click"}),
    ("Social interaction", 3, 9, {"activity_kind": "social"}),
]

TITLES = [
    "CEO",
    "Founder & CEO",
    "CTO",
    "CFO",
    "Head of Marketing",
    "Head of Sales",
    "VP Sales",
    "Marketing Manager",
    "Marketing Manager",
    "Software Developer",
    "Software Developer",
    "Office Manager",
    "Student",
    "Marketing Intern",
    "Consultant",
    "",
]
SIZES = [None, 5, 25, 60, 250, 1200, 4800, 20000]
COUNTRIES = ["DE", "AT", "CH", "FR", "US", "GB", "NL", "PL", "JP", ""]
SOURCES = ["webinar", "organic", "paid-search", "referral", "event"]
# 15 % of the leads sign up with one of these (in the case people type them).
FREE_MAIL = ["gmail.com", "GMX.de", "outlook.com", "yahoo.com", "web.de", "Hotmail.com"]
FREE_MAIL_PERCENT = 15
SITE = "https://funnel.example"
WEBSITE_PAGES = [
    "/pricing",
    "/pricing",
    "/Pricing?utm_source=ads",
    "/pricing/enterprise",
    "/careers",
    "/product",
    "/product/scoring",
    "/blog/why-handoffs-fail",
    "/docs/getting-started",
    "/",
]

SPEC = {
    "version": 1,
    "leads": LEADS,
    "now": NOW.isoformat(),
    "mql_every": 200,
    "sal_every": 100,
    "activities_per_lead": "0 to 6, 3 on average, interleaved in time over all leads",
    "titles": TITLES,
    "sizes": SIZES,
    "countries": COUNTRIES,
    "free_mail_percent": FREE_MAIL_PERCENT,
    "pages": WEBSITE_PAGES,
}


def run(options):
    """Prepare the data, run the three passes per implementation in child processes, print and write the results."""
    from . import harness
    from .database import BenchError, database_url, ensure_database

    implementations = chosen_implementations()
    url = own_database_url(database_url())
    ensure_database(url)
    env = {**os.environ, "DATABASE_URL": url}
    print(
        f"Rescore: {LEADS:,} leads, {len(RULES)} rules, threshold {THRESHOLD}; passes {', '.join(p[0] for p in PASSES)}"
        f" for {', '.join(implementations)}; each pass once, in a process of its own (--repeat is ignored)",
        flush=True,
    )
    started = time.perf_counter()
    load_before = harness.load_average()
    dataset, passes = None, []
    for number, implementation in enumerate(implementations):
        rebuild = options.rebuild and number == 0
        prepared = run_child("bench.rescore", env, "prepare", "rebuild" if rebuild else "reuse")
        dataset = dataset or prepared
        built = prepared["built"]
        print(
            f"  data {'generated in ' + str(built['load_s']) + ' s, ' if built else 'reused, '}"
            f"reset in {prepared['reset_s']} s",
            flush=True,
        )
        for label, _title, _change in PASSES:
            result = run_child("bench.rescore", env, "pass", label, implementation)
            passes.append(result)
            # Written after every pass, so a run stopped half-way still leaves its figures.
            partial = summarise(dataset, passes, load_before, time.perf_counter() - started)
            harness.write_json("rescore", {**partial, "complete": False})
            print(
                f"  {implementation:>8} {label:<9}: {result['seconds']:8.1f} s, {result['leads_per_s']:>6,} leads/s,"
                f" {result['changed']:>9,} changed, {result['promoted']:>5,} promoted, peak RSS"
                f" {result['peak_rss_mb']:.0f} MB, load {result['load_after']:.1f}"
                f"{'' if result['check']['ok'] else '  CHECK FAILED'}",
                flush=True,
            )
    results = {**summarise(dataset, passes, load_before, time.perf_counter() - started), "complete": True}
    path = harness.write_json("rescore", results)
    print_results(results)
    print(f"  results written to {path}")
    failed = [f"{p['implementation']} {p['label']}" for p in passes if not p["check"]["ok"]]
    if failed:
        raise BenchError(f"stored scores disagree with a recomputation after: {', '.join(failed)}")
    if not results["same_work"]:
        raise BenchError("the implementations wrote different rows; see 'digests' in the results")
    return results


def chosen_implementations():
    """BENCH_RESCORE_IMPLEMENTATIONS, comma-separated (default: current); ``current`` always runs first."""
    from .database import BenchError

    names = [name.strip() for name in os.environ.get("BENCH_RESCORE_IMPLEMENTATIONS", "current").split(",")]
    unknown = [name for name in names if name not in IMPLEMENTATIONS]
    if unknown or not names:
        raise BenchError(
            f"BENCH_RESCORE_IMPLEMENTATIONS: unknown {', '.join(unknown)}; choose from {', '.join(IMPLEMENTATIONS)}"
        )
    return sorted(set(names), key=list(IMPLEMENTATIONS).index)


def own_database_url(url):
    """The benchmark database's URL with ``_rescore`` added to the database name."""
    base, name = url.rsplit("/", 1)
    name, _, query = name.partition("?")
    return f"{base}/{name}_rescore" + (f"?{query}" if query else "")


def summarise(dataset, passes, load_before, total_seconds):
    from . import harness

    by_implementation = {}
    for result in passes:
        by_implementation.setdefault(result["implementation"], {})[result["label"]] = result
    digests = {name: {label: r["digest"] for label, r in runs.items()} for name, runs in by_implementation.items()}
    reference = digests.get("current", {})
    same_work = all(digest == reference.get(label, digest) for d in digests.values() for label, digest in d.items())
    speedups = {}
    if "current" in by_implementation:
        for name, runs in by_implementation.items():
            if name != "current":
                speedups[name] = {
                    label: round(by_implementation["current"][label]["seconds"] / run["seconds"], 2)
                    for label, run in runs.items()
                }
    return {
        "benchmark": "rescore",
        "ran_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "dataset": {**SPEC, **dataset, "rules": len(RULES), "threshold": THRESHOLD, "reps": REPS},
        "passes": [{"label": label, "title": title, "change": change} for label, title, change in PASSES],
        "server": harness.server_facts(),
        "machine": {"cpus": os.cpu_count(), "load_before": load_before, "load_after": harness.load_average()},
        "total_seconds": round(total_seconds),
        "results": by_implementation,
        "same_work": same_work,
        "speedup_vs_current": speedups,
    }


def print_results(results):
    from . import harness

    data, server, machine = results["dataset"], results["server"], results["machine"]
    print(
        f"\n  {data['leads']:,} leads ({data['stage_lead']:,} in stage lead, {data['stage_mql']:,} MQLs,"
        f" {data['stage_sal']:,} SALs), {data['activities']:,} activities ({data['sales_activities']:,} of them"
        f" sales activities), {data['rules']} rules, threshold {data['threshold']}.\n  PostgreSQL"
        f" {server['server_version'].split()[0]} (shared_buffers {server['shared_buffers']}, synchronous_commit"
        f" {server['synchronous_commit']}); {machine['cpus']} CPUs, load average {machine['load_before']:.1f} before,"
        f" {machine['load_after']:.1f} after; {results['total_seconds'] / 60:.0f} min in all.\n"
    )
    rows = []
    for name, runs in results["results"].items():
        for label, r in runs.items():
            written = r["written"]
            rows.append(
                (
                    f"{name} {label}",
                    f"{r['seconds']:.1f} s",
                    f"{r['leads_per_s']:,}",
                    f"{r['changed']:,}",
                    f"{r['promoted']:,}",
                    f"{r['py_cpu_s']:.0f} s",
                    "-" if r["db_cpu_s"] is None else f"{r['db_cpu_s']:.0f} s",
                    f"{r['split']['waiting_for_db_s']:.0f} s",
                    f"{r['peak_rss_mb']:.0f} MB",
                    f"+{written['leads_leadrulescore']['inserted']:,}"
                    f" ~{written['leads_leadrulescore']['updated']:,} -{written['leads_leadrulescore']['deleted']:,}",
                    f"{written['leads_lead']['updated']:,}",
                    f"{written['leads_leadevent']['inserted']:,}",
                    f"{r['wal_mb']:,.0f} MB",
                    f"{r['load_before']:.1f}-{r['load_after']:.1f}",
                )
            )
    harness.print_table(
        (
            "pass",
            "wall",
            "leads/s",
            "changed",
            "promoted",
            "py CPU",
            "db CPU",
            "db wait",
            "peak RSS",
            "shares +ins ~upd -del",
            "lead upd",
            "events",
            "WAL",
            "load",
        ),
        rows,
    )
    print("\n  Where the wall time went (seconds; SQL includes the round trip):\n")
    columns = [(name, label, r) for name, runs in results["results"].items() for label, r in runs.items()]
    labels = list(columns[0][2]["split"]["items_s"])
    split_rows = [(label, *(f"{r['split']['items_s'][label]:.1f}" for _name, _label, r in columns)) for label in labels]
    split_rows.append(("wall time", *(f"{r['seconds']:.1f}" for _n, _l, r in columns)))
    harness.print_table(("item", *(f"{name} {label}" for name, label, _r in columns)), split_rows)
    promotions = [
        f"{name} {label} {r['split']['ms_per_promote_call']} ms per batch,"
        f" {r['split']['ms_per_promoted_lead']} ms per promoted lead"
        for name, label, r in columns
        if r["split"]["ms_per_promoted_lead"] is not None
    ]
    if promotions:
        print(f"\n  Promotions (promote_if_ready, one call per batch): {'; '.join(promotions)}")
    print()
    for name, label, r in columns:
        check = r["check"]
        verdict = "OK" if check["ok"] else "FAILED"
        print(
            f"  {verdict:<6} {name} {label}: {check['sample']:,} random leads recomputed,"
            f" {check['sample_wrong_scores']} wrong scores, {check['sample_wrong_shares']} wrong shares;"
            f" {check['scores_not_sum_of_shares']} scores not the sum of their shares,"
            f" {check['leads_at_threshold_not_promoted']} leads at the threshold left in stage lead,"
            f" {check['seeded_mqls_moved'] + check['seeded_sals_moved']} earlier MQLs/SALs moved"
        )
    if len(results["results"]) > 1:
        same = "identical rows" if results["same_work"] else "DIFFERENT rows"
        print(f"\n  The implementations wrote {same} (digests of leads, shares, history, episodes after each pass).")
        for name, speedups in results["speedup_vs_current"].items():
            print(f"  {name} vs current: " + ", ".join(f"{label} {x:.2f}x" for label, x in speedups.items()))
    if max(machine["load_before"], machine["load_after"]) > machine["cpus"]:
        print(
            f"  Note: the machine was busy (load above {machine['cpus']} CPUs), which inflates wall times;"
            " the CPU columns are much less affected."
        )


# The data (runs in a child process connected to the benchmark's own database)


# Lead n: a pseudo-random 32-bit h(n) picks its title, country, size, e-mail domain
# and source; every 200th lead (n % 200 = 1) is an open MQL and every 100th (n % 100 = 2)
# a SAL, both owned by the bench team's reps in turn.
_LEADS_SQL = """
INSERT INTO leads_lead (id, name, email, phone, company, job_title, company_size, company_size_low,
                        company_size_high, country, source, campaign,
                        priority, stage, owner_id, team_id, score, version, mql_episode, created_at, updated_at,
                        mql_at, first_follow_up_at, accepted_at, qualified_at, rejected_at, rejection_reason_id,
                        sla_policy_id, sla_due_at, sla_breached_at)
SELECT n, 'Rescore lead ' || n,
       'lead' || n || '@' || CASE WHEN (h / 1280) %% 100 < %(free_percent)s
                                  THEN (%(free)s::text[])[1 + n %% %(free_count)s]
                                  ELSE 'company' || (n %% 50000) || '.example' END,
       '', 'Company ' || (n %% 50000), (%(titles)s::text[])[1 + h %% %(title_count)s],
       (%(sizes)s::int[])[1 + (h / 16) %% %(size_count)s], (%(sizes)s::int[])[1 + (h / 16) %% %(size_count)s],
       (%(sizes)s::int[])[1 + (h / 16) %% %(size_count)s], (%(countries)s::text[])[1 + (h / 128) %% %(country_count)s],
       (%(sources)s::text[])[1 + (h / 128000) %% %(source_count)s], 'spring-' || (n %% 40), 'normal',
       stage, CASE WHEN stage = 'lead' THEN NULL ELSE (%(owners)s::int[])[1 + (n / 100) %% %(reps)s] END,
       CASE WHEN stage = 'lead' THEN NULL ELSE %(team)s::bigint END,
       0, 0, CASE WHEN stage = 'lead' THEN 0 ELSE 1 END, created, created,
       CASE WHEN stage = 'lead' THEN NULL ELSE created + interval '1 day' END,
       CASE WHEN stage = 'sal' THEN created + interval '26 hours' END,
       CASE WHEN stage = 'sal' THEN created + interval '27 hours' END,
       NULL, NULL, NULL,
       CASE WHEN stage = 'lead' THEN NULL ELSE %(policy)s::bigint END,
       CASE WHEN stage = 'lead' THEN NULL ELSE created + interval '2 days' END, NULL
  FROM (SELECT n, hashint8(n)::bigint + 2147483648 AS h,
               CASE WHEN n %% 200 = 1 THEN 'mql' WHEN n %% 100 = 2 THEN 'sal' ELSE 'lead' END AS stage,
               %(now)s - make_interval(days => 2 + n %% 365, secs => n %% 86400) AS created
          FROM generate_series(1, %(leads)s) AS n) AS numbered
"""

# Lead n has hashint8(-n) mod 7 behaviour activities (0 to 6, 3 on average); each one's
# kind and page come from a hash of (n, k). They are inserted in time order, so one lead's
# activities lie on different pages of the table, as they do when they arrive over months.
_ACTIVITIES_SQL = """
INSERT INTO leads_activity (lead_id, kind, occurred_at, url, note, external_id, created_at, actor_id)
SELECT lead_id, kind, at, url, '', NULL, at, NULL
  FROM (SELECT n AS lead_id, at,
               CASE WHEN r %% 1000 < 450 THEN 'website_visit'
                    WHEN r %% 1000 < 650 THEN 'email_click'
                    WHEN r %% 1000 < 750 THEN 'content_download'
                    WHEN r %% 1000 < 800 THEN 'webinar'
                    WHEN r %% 1000 < 840 THEN 'form_completion'
                    ELSE 'social' END AS kind,
               CASE WHEN r %% 1000 < 450 THEN %(site)s || (%(pages)s::text[])[1 + (r / 1000) %% %(page_count)s]
                    WHEN r %% 1000 < 650 THEN %(site)s || '/newsletter/' || (r / 1000) %% 12
                    WHEN r %% 1000 < 750 THEN %(site)s || '/reports/state-of-revops'
                    WHEN r %% 1000 < 800 THEN ''
                    WHEN r %% 1000 < 840 THEN %(site)s || '/demo'
                    ELSE '' END AS url
          FROM generate_series(1, %(leads)s) AS n
         CROSS JOIN LATERAL generate_series(1, ((hashint8(-n)::bigint + 2147483648) %% 7)::int) AS k
         CROSS JOIN LATERAL (SELECT hashint8(n * 8 + k)::bigint + 2147483648 AS r) AS hashed
         CROSS JOIN LATERAL (SELECT %(now)s - make_interval(secs => 60 + (r / 1000) * 7919 %% 7776000) AS at) AS timed
        UNION ALL
        -- Sales activities on the leads sales works: not behaviour, so scoring must skip them.
        SELECT n, %(now)s - make_interval(hours => k), kind, ''
          FROM generate_series(1, %(leads)s) AS n
         CROSS JOIN (VALUES (1, 'call'), (2, 'email')) AS sales (k, kind)
         WHERE n %% 200 = 1 OR n %% 100 = 2) AS generated
 ORDER BY at
"""


# The reset that gives every run the same start: no rule shares, no history, every
# score 0 and every lead the rescore promoted back in stage lead. Each lead row is
# rewritten (and the table vacuumed), so the first pass always finds the same free
# room in the table's pages, after a build as after an earlier run.
_UNPROMOTE_SQL = """
UPDATE leads_lead
   SET stage = 'lead', owner_id = NULL, team_id = NULL, mql_at = NULL, mql_episode = 0, sla_policy_id = NULL,
       sla_due_at = NULL, sla_breached_at = NULL, first_follow_up_at = NULL
 WHERE stage = 'mql' AND id % 200 <> 1
"""
_ZERO_SQL = "UPDATE leads_lead SET score = 0, version = 0, updated_at = created_at"


def ensure_dataset(rebuild):
    """Build the leads and activities unless this database holds them already; then reset them for a run."""
    from django.db import connection

    from .database import BenchError

    with connection.cursor() as cursor:
        cursor.execute(MARKER_TABLE_SQL)
        cursor.execute("SELECT name, spec::text FROM bench_dataset")
        markers = {name: json.loads(spec) for name, spec in cursor.fetchall()}
        cursor.execute("SELECT EXISTS (SELECT 1 FROM leads_lead)")
        (has_leads,) = cursor.fetchone()
    if has_leads and "rescore" not in markers:
        raise BenchError(f"Database {connection.settings_dict['NAME']} holds leads this benchmark did not write.")
    built = None
    if rebuild or markers.get("rescore") != json.loads(json.dumps(SPEC)) or not dataset_is_intact():
        built = build_dataset()
    start = time.perf_counter()
    reset_state()
    return {"built": built, "reset_s": round(time.perf_counter() - start, 1), **dataset_facts()}


def dataset_is_intact():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), min(id), max(id), count(*) FILTER (WHERE id % 200 = 1 AND stage = 'mql'),"
            " count(*) FILTER (WHERE id % 100 = 2 AND stage = 'sal') FROM leads_lead"
        )
        count, low, high, mqls, sals = cursor.fetchone()
    return (count, low, high, mqls, sals) == (LEADS, 1, LEADS, LEADS // 200, LEADS // 100)


def build_dataset():
    from django.db import connection, transaction

    from leads.models import SLAPolicy

    print(f"Generating {LEADS:,} leads and their activities ...", file=sys.stderr, flush=True)
    start = time.perf_counter()
    team, reps = ensure_team()
    policy = SLAPolicy.objects.get(is_default=True)
    with transaction.atomic(), connection.cursor() as cursor:
        truncate(
            cursor,
            *("leads_lead", "leads_activity", "leads_leadevent", "leads_leadrulescore", "leads_mqlepisode"),
            *("leads_outboxmessage", "leads_scoringrun"),
        )
        cursor.execute("DELETE FROM bench_dataset")
        cursor.execute(
            _LEADS_SQL,
            {
                "free_percent": FREE_MAIL_PERCENT,
                "free": FREE_MAIL,
                "free_count": len(FREE_MAIL),
                "titles": TITLES,
                "title_count": len(TITLES),
                "sizes": SIZES,
                "size_count": len(SIZES),
                "countries": COUNTRIES,
                "country_count": len(COUNTRIES),
                "sources": SOURCES,
                "source_count": len(SOURCES),
                "owners": [rep.pk for rep in reps],
                "reps": len(reps),
                "team": team.pk,
                "policy": policy.pk,
                "now": NOW,
                "leads": LEADS,
            },
        )
        cursor.execute("SELECT setval(pg_get_serial_sequence('leads_lead', 'id'), %s)", [LEADS])
        leads_s = time.perf_counter() - start
        print(f"  {LEADS:,} leads in {leads_s:.1f} s", file=sys.stderr, flush=True)
        cursor.execute(
            _ACTIVITIES_SQL,
            {"site": SITE, "pages": WEBSITE_PAGES, "page_count": len(WEBSITE_PAGES), "now": NOW, "leads": LEADS},
        )
        activities = cursor.rowcount
        loaded = time.perf_counter() - start
        print(f"  {activities:,} activities in {loaded - leads_s:.1f} s", file=sys.stderr, flush=True)
        cursor.execute(
            "INSERT INTO bench_dataset (name, spec, built_at, load_seconds) VALUES ('rescore', %s::jsonb, now(), %s)",
            [json.dumps(SPEC), loaded],
        )
    return {"load_s": round(loaded, 1), "activities_inserted": activities}


def ensure_team():
    """The team promoted leads are routed to: REPS reps in turn, no capacity limit.

    The reps have no e-mail address, so a promotion queues no assignment e-mail and no
    Celery delivery task (the broker is shared with whatever else runs on this machine).
    """
    from django.contrib.auth import get_user_model

    from leads.models import Team, TeamMember

    User = get_user_model()
    team, _ = Team.objects.get_or_create(name="Rescore bench team")
    reps = []
    for n in range(1, REPS + 1):
        user, _ = User.objects.get_or_create(username=f"rescore-rep-{n:02d}", defaults={"email": ""})
        TeamMember.objects.get_or_create(team=team, user=user, defaults={"role": TeamMember.Role.REP})
        reps.append(user)
    return team, reps


def reset_state():
    """Scores to 0, no shares or history, promoted leads back to stage lead, the rules and routing as at the start."""
    from django.db import connection, transaction

    from leads.models import ScoringConfig, ScoringRule, Team, TeamMember

    with transaction.atomic(), connection.cursor() as cursor:
        truncate(
            cursor,
            *("leads_leadrulescore", "leads_leadevent", "leads_mqlepisode", "leads_outboxmessage"),
            *("leads_scoringrun", "leads_scoringrule"),
        )
        cursor.execute(_UNPROMOTE_SQL)
        cursor.execute(_ZERO_SQL)
        for position, (name, points, cap, fields) in enumerate(RULES):
            category = ScoringRule.Category.BEHAVIOUR if "activity_kind" in fields else ScoringRule.Category.DEMOGRAPHIC
            ScoringRule.objects.create(
                name=name, category=category, points=points, cap=cap, position=position, updated_at=NOW, **fields
            )
        config = ScoringConfig.current()
        config.mql_threshold = THRESHOLD
        config.save()
        Team.objects.update(routing_turns=0)
        TeamMember.objects.update(last_turn=None, last_routed_at=None)
    vacuum()


def vacuum():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("CHECKPOINT")


def dataset_facts():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT (SELECT count(*) FROM leads_lead),
                   (SELECT count(*) FROM leads_lead WHERE stage = 'lead'),
                   (SELECT count(*) FROM leads_lead WHERE stage = 'mql'),
                   (SELECT count(*) FROM leads_lead WHERE stage = 'sal'),
                   (SELECT count(*) FROM leads_activity),
                   (SELECT count(*) FROM leads_activity WHERE kind IN ('call', 'email')),
                   (SELECT count(*) FROM leads_scoringrule WHERE is_active),
                   pg_total_relation_size('leads_lead'), pg_total_relation_size('leads_activity')
            """
        )
        row = cursor.fetchone()
    names = ("leads", "stage_lead", "stage_mql", "stage_sal", "activities", "sales_activities", "rules")
    facts = dict(zip(names, row[:7], strict=True))
    facts["leads_table_mb"] = round(row[7] / 2**20)
    facts["activity_table_mb"] = round(row[8] / 2**20)
    return facts


# One pass: a full rescore, timed, in a process of its own


class Probe:
    """Where a pass's time goes: each SQL statement and commit timed, by the phase of the job it ran in.

    The phases are the job's own functions (``scoring.rescore_batch``, ``transitions.promote_if_ready``),
    wrapped for the length of the pass; what runs outside them is the job's loop
    (paging through the ids, the progress updates). Per statement the cost is a
    perf_counter call and a dictionary update, under 1 % of a pass.
    """

    def __init__(self):
        self.phase = "loop"
        self.sql = {}
        self.phases = {}
        self.writes = {}

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self._add((self.phase, classify(sql)), time.perf_counter() - start)

    def _add(self, key, seconds):
        total, count = self.sql.get(key, (0.0, 0))
        self.sql[key] = (total + seconds, count + 1)

    def wrap_phase(self, name, function, progress=None):
        def timed(*args, **kwargs):
            if progress is not None:
                progress(*args)
            previous, self.phase = self.phase, name
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                total, count = self.phases.get(name, (0.0, 0))
                self.phases[name] = (total + time.perf_counter() - start, count + 1)
                self.phase = previous

        return timed

    def wrap_write(self, method, function):
        """Time a QuerySet write method (bulk_update, bulk_create, update, delete) called by a batch.

        Its statements are booked under the phase ``write:<method> <model>``, so the
        Python time Django spends building them can be told from the time PostgreSQL
        spends running them.
        """
        probe = self

        def timed(queryset, *args, **kwargs):
            if probe.phase != "batch":
                return function(queryset, *args, **kwargs)
            name = f"{method} {queryset.model.__name__}"
            probe.phase = f"write:{name}"
            start = time.perf_counter()
            try:
                return function(queryset, *args, **kwargs)
            finally:
                total, count = probe.writes.get(name, (0.0, 0))
                probe.writes[name] = (total + time.perf_counter() - start, count + 1)
                probe.phase = "batch"

        return timed

    def wrap_commit(self, commit):
        def timed():
            start = time.perf_counter()
            try:
                return commit()
            finally:
                self._add((self.phase, "COMMIT"), time.perf_counter() - start)

        return timed


class Progress:
    """A line on stderr every PROGRESS_EVERY leads, so a pass of many minutes shows it is moving."""

    def __init__(self, label, implementation):
        self.title = f"{implementation} {label}"
        self.start = time.perf_counter()
        self.done = 0

    def __call__(self, ids, *args):
        if self.done and self.done % PROGRESS_EVERY < len(ids):
            seconds = time.perf_counter() - self.start
            print(
                f"    {self.title}: {self.done:,} leads in {seconds:.0f} s ({self.done / seconds:,.0f}/s),"
                f" load {os.getloadavg()[0]:.1f}",
                file=sys.stderr,
                flush=True,
            )
        self.done += len(ids)


PROGRESS_EVERY = 200_000


def classify(sql):
    head = sql.lstrip()[:60].upper()
    for prefix, label in (
        ('DELETE FROM "LEADS_LEADRULESCORE"', "delete shares"),
        ('INSERT INTO "LEADS_LEADRULESCORE"', "insert shares"),
        ('INSERT INTO "LEADS_LEADEVENT"', "insert events"),
        ('UPDATE "LEADS_LEADRULESCORE"', "update shares"),
        ('UPDATE "LEADS_LEAD"', "update leads"),
        ('UPDATE "LEADS_SCORINGRUN"', "progress"),
        ("SAVEPOINT", "savepoints"),
        ("RELEASE SAVEPOINT", "savepoints"),
    ):
        if head.startswith(prefix):
            return label
    if head.startswith("SELECT"):
        if '"leads_activity"' in sql:
            return "load activities"
        if 'FROM "leads_leadrulescore"' in sql:
            return "load shares"
        if 'FROM "leads_lead"' in sql and sql.rstrip().endswith("FOR UPDATE"):
            return "load leads"
        if sql.startswith('SELECT "leads_lead"."id" FROM "leads_lead"'):
            return "page ids"
        if 'FROM "leads_lead"' in sql:
            return "load ready leads"
    return "other: " + " ".join(sql.split()[:4])[:50]


# (label, title, the rule change made before it, untimed)
PASSES = [
    ("initial", "first rescore, from zero", None),
    ("unchanged", "again, nothing changed", None),
    ("one_rule", "after one rule's points changed", ("DACH region", 15)),
]
# Each pass runs at its own fixed "now", so its history rows are the same every run.
PASS_NOW = {label: NOW + timedelta(hours=index + 1) for index, (label, _title, _change) in enumerate(PASSES)}
TABLES = ("leads_lead", "leads_leadrulescore", "leads_leadevent", "leads_mqlepisode", "leads_team", "leads_teammember")


def step_pass(label, implementation):
    """Make the pass's rule change, vacuum, then time one full rescore; return what it cost and what it wrote."""
    from django.db import connection, connections
    from django.db.models import QuerySet

    from leads import jobs, scoring, transitions
    from leads.models import Lead, ScoringRule, ScoringRun

    from . import harness

    change = {name: change for name, _title, change in PASSES}[label]
    if change is not None:
        rule_name, points = change
        ScoringRule.objects.filter(name=rule_name).update(points=points, updated_at=PASS_NOW[label])
    vacuum()
    # What start_rescore does, without queueing the Celery task: the run is this process.
    run = ScoringRun.objects.create(total=Lead.objects.count())
    probe = Probe()
    wrapper = connections["default"]
    originals = [(scoring, "rescore_batch", scoring.rescore_batch)]
    originals.append((transitions, "promote_if_ready", transitions.promote_if_ready))
    batch = IMPLEMENTATIONS[implementation] or scoring.rescore_batch
    scoring.rescore_batch = probe.wrap_phase("batch", batch, Progress(label, implementation))
    transitions.promote_if_ready = probe.wrap_phase("promote", transitions.promote_if_ready)
    wrapper._commit = probe.wrap_commit(wrapper._commit)
    writes = {name: getattr(QuerySet, name) for name in ("bulk_update", "bulk_create", "update", "delete")}
    for name, method in writes.items():
        setattr(QuerySet, name, probe.wrap_write(name, method))
    pid = backend_pid()
    before = table_stats()
    rss_before = current_rss_mb()
    load_before = harness.load_average()
    try:
        with connection.execute_wrapper(probe):
            db_start, py_start, start = harness.backend_cpu(pid), time.process_time(), time.perf_counter()
            done = jobs.rescore_leads(run.pk, now=PASS_NOW[label])
            wall, py_cpu, db_end = time.perf_counter() - start, time.process_time() - py_start, harness.backend_cpu(pid)
    finally:
        for module, name, original in originals:
            setattr(module, name, original)
        for name, method in writes.items():
            setattr(QuerySet, name, method)
        del wrapper._commit
    peak_rss = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    if backend_pid() != pid:
        raise RuntimeError("the pass used more than one database connection")
    after = table_stats()
    written = {
        table: {key: after[table][key] - before[table][key] for key in after[table] if key != "wal"} for table in TABLES
    }
    return {
        "label": label,
        "implementation": implementation,
        "status": done.status,
        "leads": done.done,
        "changed": done.changed,
        "promoted": done.promoted,
        "seconds": round(wall, 2),
        "leads_per_s": round(done.done / wall),
        "py_cpu_s": round(py_cpu, 2),
        "db_cpu_s": None if db_start is None or db_end is None else round(db_end - db_start, 2),
        "rss_before_mb": rss_before,
        "peak_rss_mb": peak_rss,
        "wal_mb": round((after["wal"] - before["wal"]) / 2**20, 1),
        "written": written,
        "split": split(probe, wall, promoted=done.promoted),
        "load_before": load_before,
        "load_after": harness.load_average(),
        "check": check_sample(label),
        "digest": digest(),
    }


# The cost split: (label, phase, statement kinds); the Python time of a phase is its
# time minus the statements and commits that ran in it.
SPLIT = [
    ("page through the ids", "loop", ("page ids",)),
    ("lock and load the leads", "batch", ("load leads",)),
    ("load behaviour activities", "batch", ("load activities",)),
    ("load stored rule shares", "batch", ("load shares",)),
    ("delete rule shares", "batch", ("delete shares",)),
    ("update rule shares", "batch", ("update shares",)),
    ("insert rule shares", "batch", ("insert shares",)),
    ("update lead scores", "batch", ("update leads",)),
    ("insert score_changed events", "batch", ("insert events",)),
    ("commit the batches", "batch", ("COMMIT",)),
    ("batch: other SQL", "batch", None),
    ("load the leads to promote", "loop", ("load ready leads",)),
    ("promotions: SQL and commits", "promote", None),
    ("progress updates of the run", "loop", ("progress",)),
]


def split(probe, wall, *, promoted):
    """The pass's wall time by where it went; SQL times include the round trip and the transfer of the rows."""
    sql = {key: total for key, (total, _count) in probe.sql.items()}

    def in_phase(where, phase):
        return where == phase or (phase == "batch" and where.startswith("write:"))

    claimed = set()
    items = []
    for label, phase, kinds in SPLIT:
        keys = [
            key for key in sql if in_phase(key[0], phase) and key not in claimed and (kinds is None or key[1] in kinds)
        ]
        claimed.update(keys)
        items.append((label, sum(sql[key] for key in keys)))
    batch, batches = probe.phases.get("batch", (0.0, 0))
    promote, promotions = probe.phases.get("promote", (0.0, 0))
    phase_sql = {
        phase: sum(total for (where, _kind), total in sql.items() if in_phase(where, phase))
        for phase in ("batch", "promote", "loop")
    }
    writes = {}
    for name, (total, count) in sorted(probe.writes.items()):
        statements = sum(seconds for (where, _kind), seconds in sql.items() if where == f"write:{name}")
        writes[name] = {"calls": count, "seconds": round(total, 2), "python_s": round(total - statements, 2)}
    write_python = sum(write["python_s"] for write in writes.values())
    items.insert(-3, ("batch: Python in ORM write calls", write_python))
    items.insert(-3, ("batch: other Python (reading rows, scoring)", batch - phase_sql["batch"] - write_python))
    items.insert(-1, ("promotions: Python", promote - phase_sql["promote"]))
    unclaimed = sum(total for key, total in sql.items() if key[0] == "loop" and key not in claimed)
    items.append(("job loop: other SQL", unclaimed))
    items.append(("job loop: Python", wall - batch - promote - phase_sql["loop"]))
    waiting = sum(sql.values())
    return {
        "items_s": {label: round(seconds, 2) for label, seconds in items},
        "orm_writes": writes,
        "batches": batches,
        "promotions": promotions,
        # promote_if_ready runs once per batch (ready leads or none) and promotes the batch's leads together.
        "ms_per_promote_call": round(1000 * promote / promotions, 1) if promotions else None,
        "ms_per_promoted_lead": round(1000 * promote / promoted, 1) if promoted else None,
        "waiting_for_db_s": round(waiting, 2),
        "python_s": round(wall - waiting, 2),
        "statements": {f"{phase}: {kind}": count for (phase, kind), (_total, count) in sorted(probe.sql.items())},
    }


def table_stats():
    """Rows inserted, updated (HOT among them) and deleted so far in each table, and the WAL position."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
        cursor.execute(
            "SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_del FROM pg_stat_user_tables"
            " WHERE relname = ANY(%s)",
            [list(TABLES)],
        )
        stats = {
            name: {"inserted": ins, "updated": upd, "hot_updated": hot, "deleted": dele}
            for name, ins, upd, hot, dele in cursor.fetchall()
        }
        cursor.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")
        stats["wal"] = int(cursor.fetchone()[0])
    return stats


def backend_pid():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def current_rss_mb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return None


# What a pass left behind: order-independent digests of every row the rescore writes,
# so two implementations that must do the same work can be compared row for row.
_DIGEST_SQL = """
SELECT (SELECT count(*) || ':' || sum(hashtextextended(concat_ws(':', id, score, version, stage, owner_id, team_id,
                                                                 mql_episode, mql_at, updated_at, sla_due_at), 0))
          FROM leads_lead),
       (SELECT count(*) || ':' || coalesce(sum(hashtextextended(concat_ws(':', lead_id, rule_id, matches, points), 0)), 0)
          FROM leads_leadrulescore),
       (SELECT count(*) || ':' || coalesce(sum(hashtextextended(concat_ws(':', lead_id, kind, at, actor_id, from_stage,
                                                                          to_stage, owner_id, episode, note,
                                                                          payload::text), 0)), 0)
          FROM leads_leadevent),
       (SELECT count(*) || ':' || coalesce(sum(hashtextextended(concat_ws(':', lead_id, number, team_id, owner_id,
                                                                          mql_at, due_at), 0)), 0)
          FROM leads_mqlepisode),
       (SELECT sum(score) FROM leads_lead),
       (SELECT count(*) FROM leads_leadevent WHERE kind = 'score_changed'),
       (SELECT count(*) FROM leads_leadevent WHERE kind = 'promoted')
"""


def digest():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(_DIGEST_SQL)
        names = ("leads", "shares", "events", "episodes", "score_sum", "score_events", "promoted_events")
        return dict(zip(names, cursor.fetchone(), strict=True))


SAMPLE = 1000
SEED = 20261122


def check_sample(label):
    """Recompute 1,000 random leads with ``scoring.contributions`` from all their activities; check the whole table in SQL.

    The sample's stored score and rule shares must equal the recomputation; over all
    leads, every score must equal the sum of its shares, no lead in stage lead may be
    at or over the threshold, and the MQLs and SALs the data started with must still be
    MQLs and SALs with their owners.
    """
    import random
    from collections import defaultdict

    from django.db import connection

    from leads import scoring
    from leads.models import Activity, Lead, LeadRuleScore, ScoringRule

    rules = list(ScoringRule.objects.filter(is_active=True))
    ids = random.Random(f"{SEED}-{label}").sample(range(1, LEADS + 1), SAMPLE)
    leads = Lead.objects.in_bulk(ids)
    activities = defaultdict(list)
    # Every activity, sales ones too: contributions() must skip what no rule counts.
    for activity in Activity.objects.filter(lead_id__in=ids):
        activities[activity.lead_id].append(activity)
    stored = defaultdict(dict)
    for share in LeadRuleScore.objects.filter(lead_id__in=ids):
        stored[share.lead_id][share.rule_id] = (share.matches, share.points)
    wrong_scores = wrong_shares = 0
    for lead_id in ids:
        lead = leads[lead_id]
        expected = scoring.contributions(lead, activities[lead_id], rules)
        wrong_scores += lead.score != sum(points for _matches, points in expected.values())
        wrong_shares += stored[lead_id] != expected
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FILTER (WHERE l.score <> coalesce(s.total, 0)),
                   count(*) FILTER (WHERE l.stage = 'lead' AND l.score >= %(limit)s),
                   count(*) FILTER (WHERE l.id %% 200 = 1 AND (l.stage <> 'mql' OR l.owner_id IS NULL)),
                   count(*) FILTER (WHERE l.id %% 100 = 2 AND (l.stage <> 'sal' OR l.owner_id IS NULL)),
                   count(*) FILTER (WHERE l.stage = 'mql' AND l.id %% 200 <> 1),
                   count(*) FILTER (WHERE l.stage = 'mql' AND l.id %% 200 <> 1 AND l.owner_id IS NULL),
                   count(*) FILTER (WHERE l.score <> 0)
              FROM leads_lead l
              LEFT JOIN (SELECT lead_id, sum(points) AS total FROM leads_leadrulescore GROUP BY lead_id) s
                ON s.lead_id = l.id
            """,
            {"limit": THRESHOLD},
        )
        row = cursor.fetchone()
    names = (
        "scores_not_sum_of_shares",
        "leads_at_threshold_not_promoted",
        "seeded_mqls_moved",
        "seeded_sals_moved",
        "promoted_in_total",
        "promoted_without_owner",
        "nonzero_scores",
    )
    result = {"sample": SAMPLE, "sample_wrong_scores": wrong_scores, "sample_wrong_shares": wrong_shares}
    result.update(zip(names, row, strict=True))
    result["ok"] = not any(
        result[key]
        for key in (
            "sample_wrong_scores",
            "sample_wrong_shares",
            "scores_not_sum_of_shares",
            "leads_at_threshold_not_promoted",
            "seeded_mqls_moved",
            "seeded_sals_moved",
            "promoted_without_owner",
        )
    )
    return result


# name -> the rescore_batch jobs.rescore_leads runs (None: the one in leads/scoring/runs.py)
# To try a change to the batch before making it, prototype another
# ``rescore_batch(ids, rules, *, limit, now)`` here, register it, and
# run with BENCH_RESCORE_IMPLEMENTATIONS=current,<name>: it runs from the same start and
# must write the same rows.
def rescore_batch_in_python(ids, rules, *, limit, now):
    """The batch as it was before ``set_based``: every counted activity read into Python and scored there."""
    from django.db import transaction

    from leads.models import Stage
    from leads.scoring import lock_for_scoring, recompute

    with transaction.atomic():
        leads = lock_for_scoring(ids)
        changed = recompute(leads, now=now, cause="rescore", rules=rules)
    return len(changed), [lead.pk for lead in leads if lead.stage == Stage.LEAD and lead.score >= limit]


def rescore_batch_writing_in_python(ids, rules, *, limit, now):
    """The batch before the set-wise writes: shares compared in SQL, the stale leads read and written by Python."""
    from django.db import transaction

    from leads.models import Lead, Stage
    from leads.scoring import SCORED_LEAD_FIELDS, set_based, write_scores

    with transaction.atomic():
        locked = list(Lead.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))
        stale = set_based.stale_shares(locked, rules, now=now)
        changed = []
        if stale:
            leads = list(Lead.objects.filter(pk__in=list(stale)).order_by("pk").only(*SCORED_LEAD_FIELDS))
            changed = write_scores(leads, stale, now=now, cause="rescore")
        ready = Lead.objects.filter(pk__in=locked, stage=Stage.LEAD, score__gte=limit).order_by("pk")
        return len(changed), list(ready.values_list("pk", flat=True))


IMPLEMENTATIONS = {
    "current": None,
    "python_writes": rescore_batch_writing_in_python,
    "python": rescore_batch_in_python,
}


# The child process: python -m bench.rescore STEP ...


def main(argv):
    from .database import setup_django

    setup_django()
    step, *args = argv
    if step == "prepare":
        result = ensure_dataset(args[0] == "rebuild")
    elif step == "pass":
        result = step_pass(*args)
    else:
        raise SystemExit(f"unknown step {step!r}")
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main(sys.argv[1:])
