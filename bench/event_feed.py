"""The event feed (GET /api/events/) over 3,500,000 history rows: first, middle and last pages, per role.

The data: 10 teams of 20 reps and a manager, 500,000 leads spread over the reps,
seven history rows per lead (3,500,000), written by transactions of 200 rows
each, as imports and sweeps write them. Each page (100 events) is read through
``leads.feed.page``, as the API does, for an admin (everything), a manager (a
tenth) and a rep (a 200th), starting at the beginning, the middle and 100 events
before the end of what that user may see. Run it on a database of its own: it
refuses one that holds other benchmarks' leads.
"""

import json
import os
import statistics
import time

from django.contrib.auth.models import Group, User
from django.db import connection, transaction

from leads import access, feed
from leads.models import LeadEvent, Team, TeamMember

from . import harness
from .database import MARKER_TABLE_SQL, BenchError, truncate

TEAMS = 10
REPS_PER_TEAM = 20
LEADS = 500_000
EVENTS_PER_LEAD = 7
# Fake transaction ids must stay below the server's real ones (the feed shows only older
# transactions than every running one), so the 3.5M rows come in transactions of 200.
ROWS_PER_TRANSACTION = 200
PAGE = 100
TARGET_MS = 20.0

SPEC = {
    "version": 2,
    "teams": TEAMS,
    "reps_per_team": REPS_PER_TEAM,
    "leads": LEADS,
    "events_per_lead": EVENTS_PER_LEAD,
    "rows_per_transaction": ROWS_PER_TRANSACTION,
}

_LEADS_SQL = """
INSERT INTO leads_lead (name, email, phone, company, job_title, company_size, country, source, campaign, priority,
                        stage, owner_id, team_id, score, version, mql_episode, created_at, updated_at, mql_at,
                        accepted_at)
SELECT 'Feed lead ' || n, 'feed' || n || '@bench.example', '', 'Company ' || (n %% 20000), 'CTO', 50, 'DE',
       'webinar', 'feed', 'normal', 'sal', (%(reps)s::bigint[])[1 + n %% %(rep_count)s],
       (%(teams)s::bigint[])[1 + n %% %(rep_count)s], 40, 3, 1,
       now() - interval '400 days', now(), now() - interval '300 days', now() - interval '299 days'
  FROM generate_series(1, %(leads)s) AS n
"""

# Event e belongs to lead (e mod LEADS): the history is interleaved across leads, as in life.
_EVENTS_SQL = """
INSERT INTO leads_leadevent (lead_id, kind, at, actor_id, from_stage, to_stage, owner_id, episode, reason_id,
                             note, payload, txid)
SELECT lead.id, (ARRAY['created', 'score_changed', 'promoted', 'accepted', 'activity', 'activity', 'updated'])[1 + e / %(leads)s],
       timestamp with time zone '2025-01-01' + make_interval(secs => e * 7),
       lead.owner_id, 'mql', 'sal', lead.owner_id, 1, NULL, 'bench note ' || e, '{}'::jsonb,
       1 + e / %(per_transaction)s
  FROM generate_series(0, %(events)s - 1) AS e
  JOIN leads_lead lead ON lead.id = %(first_lead)s + e %% %(leads)s
"""


def ensure_dataset(*, rebuild):
    with connection.cursor() as cursor:
        cursor.execute(MARKER_TABLE_SQL)
        cursor.execute("SELECT name, spec::text FROM bench_dataset")
        markers = {name: json.loads(spec) for name, spec in cursor.fetchall()}
        cursor.execute("SELECT count(*) FROM leads_leadevent")
        (events,) = cursor.fetchone()
    if markers and "event_feed" not in markers:
        raise BenchError("This database holds another benchmark's data; run event_feed on a database of its own.")
    if not rebuild and markers.get("event_feed") == SPEC and events == LEADS * EVENTS_PER_LEAD:
        print(f"Reusing the stored dataset ({events:,} history rows); --rebuild regenerates it.")
        return
    build_dataset()


def build_dataset():
    print(f"Generating {LEADS:,} leads and {LEADS * EVENTS_PER_LEAD:,} history rows ...", flush=True)
    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        truncate(cursor, "leads_lead", "leads_leadevent")
        cursor.execute("DELETE FROM bench_dataset")
    reps, teams = ensure_people()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            _LEADS_SQL, {"reps": [r.pk for r in reps], "teams": teams, "rep_count": len(reps), "leads": LEADS}
        )
        cursor.execute("SELECT min(id) FROM leads_lead")
        (first_lead,) = cursor.fetchone()
        cursor.execute(
            _EVENTS_SQL,
            {
                "leads": LEADS,
                "events": LEADS * EVENTS_PER_LEAD,
                "first_lead": first_lead,
                "per_transaction": ROWS_PER_TRANSACTION,
            },
        )
        loaded = time.perf_counter() - start
        cursor.execute(
            "INSERT INTO bench_dataset (name, spec, built_at, load_seconds) VALUES ('event_feed', %s::jsonb, now(), %s)",
            [json.dumps(SPEC), loaded],
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("SELECT max(txid) < pg_snapshot_xmin(pg_current_snapshot())::text::bigint FROM leads_leadevent")
        if not cursor.fetchone()[0]:
            raise BenchError(
                "The server's transaction ids are lower than the generated ones; the feed would hide them."
            )
    print(f"  loaded in {loaded:.0f} s, vacuumed and analysed in {time.perf_counter() - start - loaded:.0f} s")


def ensure_people():
    rep_group, manager_group = Group.objects.get(name="rep"), Group.objects.get(name="manager")
    reps, teams = [], []
    for t in range(TEAMS):
        team, _ = Team.objects.get_or_create(name=f"Feed team {t}")
        manager, _ = User.objects.get_or_create(username=f"feed-manager-{t}")
        manager.groups.add(manager_group)
        TeamMember.objects.get_or_create(team=team, user=manager, defaults={"role": TeamMember.Role.MANAGER})
        for r in range(REPS_PER_TEAM):
            rep, _ = User.objects.get_or_create(username=f"feed-rep-{t}-{r}")
            rep.groups.add(rep_group)
            TeamMember.objects.get_or_create(team=team, user=rep, defaults={"role": TeamMember.Role.REP})
            reps.append(rep)
            teams.append(team.pk)
    User.objects.get_or_create(username="feed-admin", defaults={"is_superuser": True, "is_staff": True})
    return reps, teams


def _position(user, offset):
    """The cursor after the ``offset``-th event ``user`` may see (setup only: OFFSET is fine here)."""
    visible = access.visible_leads(user)
    scope, params = "", []
    if visible.query.has_filters():
        lead_sql, params = visible.order_by().values("id").query.sql_with_params()
        scope = f"WHERE lead_id IN ({lead_sql})"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM leads_leadevent {scope}", params)
        (total,) = cursor.fetchone()
        offset = {"first": None, "middle": total // 2, "last": total - PAGE - 1}[offset]
        if offset is None:
            return None, total
        cursor.execute(
            f"SELECT txid, id FROM leads_leadevent {scope} ORDER BY txid, id OFFSET %s LIMIT 1", [*params, offset]
        )
        return feed.encode_cursor(*cursor.fetchone()), total


def _explain(user, cursor_text):
    """Execution time of the page's id query as PostgreSQL reports it (EXPLAIN ANALYZE, BUFFERS)."""
    position = feed.decode_cursor(cursor_text) if cursor_text else (-1, -1)
    scope, params = feed._scope(access.visible_leads(user))
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + feed._PAGE_SQL.format(scope=scope), [*position, *params, PAGE]
        )
        plan = cursor.fetchone()[0]
    plan = plan[0] if isinstance(plan, list) else json.loads(plan)[0]
    return plan["Execution Time"], plan["Plan"]


def _explain_rows(ids):
    """Execution time of the page's second query: those events with their lead, actor, owner and reason."""
    query = LeadEvent.objects.select_related("lead", "actor", "owner", "reason").filter(pk__in=ids)
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    plan = plan[0] if isinstance(plan, list) else json.loads(plan)[0]
    return plan["Execution Time"]


def run(options):
    ensure_dataset(rebuild=options.rebuild)
    people = {
        "admin": User.objects.get(username="feed-admin"),
        "manager": User.objects.get(username="feed-manager-3"),
        "rep": User.objects.get(username="feed-rep-3-7"),
    }
    repeat = max(options.repeat, 5) * 4
    results = {"load_before": harness.load_average(), "server": harness.server_facts(), "pages": {}}
    rows = []
    for role, user in people.items():
        for where in ("first", "middle", "last"):
            cursor_text, total = _position(user, where)
            times, cpu = [], []
            for _ in range(repeat):
                user = User.objects.get(pk=user.pk)  # roles are read per request, as the API does
                start, start_cpu = time.perf_counter(), time.process_time()
                events, _next = feed.page(user, after=cursor_text, size=PAGE)
                times.append((time.perf_counter() - start) * 1000)
                cpu.append((time.process_time() - start_cpu) * 1000)
            if len(events) != PAGE:
                raise BenchError(f"{role} {where}: a page of {len(events)} events")
            db_ms, _plan = _explain(user, cursor_text)
            rows_ms = _explain_rows([event.pk for event in events])
            median, worst, py_cpu = statistics.median(times), max(times), statistics.median(cpu)
            p95 = sorted(times)[int(len(times) * 0.95) - 1]
            results["pages"][f"{role}_{where}"] = {
                "visible_events": total,
                "median_ms": round(median, 2),
                "p95_ms": round(p95, 2),
                "max_ms": round(worst, 2),
                "explain_page_ids_ms": round(db_ms, 2),
                "explain_page_rows_ms": round(rows_ms, 2),
                "median_python_cpu_ms": round(py_cpu, 2),
                "load": round(os.getloadavg()[0], 2),
            }
            sql_ms = db_ms + rows_ms
            rows.append(
                [f"{role} ({total:,} events)", where, f"{sql_ms:.1f}", f"{py_cpu:.1f}", f"{median:.1f}", f"{p95:.1f}"]
            )
            print(
                f"  {role:>7} {where:>6}: SQL {db_ms:.2f} + {rows_ms:.2f} ms, Python CPU {py_cpu:.1f} ms, "
                f"wall median {median:.1f} ms, p95 {p95:.1f} ms (load {os.getloadavg()[0]:.1f})",
                flush=True,
            )
    print(
        f"Event feed at {LEADS * EVENTS_PER_LEAD:,} history rows, pages of {PAGE}, {repeat} reads each (target {TARGET_MS:.0f} ms)"
    )
    harness.print_table(["who", "page", "SQL ms (EXPLAIN)", "Python CPU ms", "wall median ms", "wall p95 ms"], rows)
    results["load_after"] = harness.load_average()
    path = harness.write_json("event_feed", results)
    print(f"  results written to {path}")
    return results
