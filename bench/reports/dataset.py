"""Build the data once and reuse it while it matches ``SPEC``: people, the generated rows, indexes and foreign keys."""

import json
import time
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, transaction

from leads.models import BusinessHours, RejectionReason, SLAPolicy, Team, TeamMember

from ..database import MARKER_TABLE_SQL, BenchError, truncate
from .data_sql import (
    ACTIVITY_ROWS_SQL,
    COUNT_FIELDS,
    COUNTS_SQL,
    EPISODE_ROWS_SQL,
    EPISODES_SQL,
    EVENT_ROWS_SQL,
    FIRST_EPISODES,
    FOREIGN_KEYS_SQL,
    LAST_EPISODE_SQL,
    LEADS_SQL,
    LOADED_TABLES,
    PLAN_ACTIVITIES_SQL,
    PLAN_EPISODE_TABLE_SQL,
    PLAN_LEADS_SQL,
    SECOND_EPISODES,
    SECONDARY_INDEXES_SQL,
    TARGET_ROWS_SQL,
)
from .spec import HISTORY_DAYS, LEADS, MQL_SHARE, NOW, REPS_PER_TEAM, SPEC, TEAMS

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


def ensure_dataset(*, rebuild):
    """Reuse the stored data if it matches SPEC, else (or with ``rebuild``) generate it; refuse foreign data."""
    name = connection.settings_dict["NAME"]
    if not name.endswith("_reports"):
        raise BenchError(f"Refusing to fill {name}: it is not the reports benchmark's database.")
    with connection.cursor() as cursor:
        cursor.execute(MARKER_TABLE_SQL)
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
        cursor.execute(COUNTS_SQL)
        return dict(zip(COUNT_FIELDS, cursor.fetchone(), strict=True))


def build_dataset():
    print(f"Generating {LEADS:,} leads with a year of history ...", flush=True)
    start = time.perf_counter()
    people = ensure_people()
    params = dataset_params(people)
    steps = [
        ("plan leads", PLAN_LEADS_SQL),
        ("", "ANALYZE plan_lead"),
        ("", PLAN_EPISODE_TABLE_SQL),
        ("plan first episodes", EPISODES_SQL.format(base=FIRST_EPISODES)),
        ("plan second episodes", EPISODES_SQL.format(base=SECOND_EPISODES)),
        ("", LAST_EPISODE_SQL),
        ("", "ANALYZE plan_episode"),
        ("plan activities", PLAN_ACTIVITIES_SQL),
        ("", "ANALYZE plan_activity"),
        ("leads", LEADS_SQL),
        ("episodes", EPISODE_ROWS_SQL),
        ("activities", ACTIVITY_ROWS_SQL),
        ("history", EVENT_ROWS_SQL),
        ("targets", TARGET_ROWS_SQL),
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        truncate(cursor, "leads_lead", "leads_mqlepisode", "leads_leadevent", "leads_activity", "reports_monthlytarget")
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
        cursor.execute(SECONDARY_INDEXES_SQL, [list(LOADED_TABLES)])
        indexes = cursor.fetchall()
        cursor.execute(FOREIGN_KEYS_SQL, [list(LOADED_TABLES)])
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
