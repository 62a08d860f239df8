"""Activity ingestion through the batch API: POST /api/activities/ on one gunicorn
process (sync worker), batches of 1,000 behaviour events over loopback.

The data lives in a database of its own on the benchmark server (the bench
database's name + ``_activity_ingest``), not in ``funnel_bench``: ingestion writes
history rows, which are append-only (the database refuses to delete them), and the
SLA sweep benchmark rebuilds its 1,000,000 leads whenever ``funnel_bench`` holds
any lead or history row it did not write. Each run empties this database's lead
tables and rebuilds its data, so reruns start from the same state.

Measured end to end from this process: request encoding is done up front; each
timed request pays HTTP, JSON parsing, validation, the lead lookup, the insert,
scoring (with the promotions of leads that reach the threshold) and the response.
Then the same batches are sent again, as a retrying integration would: every
item must come back a duplicate and change nothing.
"""

import copy
import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dj_database_url
from django.contrib.auth.models import Group, User
from django.db import connections, transaction
from rest_framework.authtoken.models import Token

from leads import scoring
from leads.models import Activity, EventKind, Lead, LeadEvent, ScoringConfig, ScoringRule, Stage, Team, TeamMember

from . import harness
from .database import BenchError, database_url, ensure_database, truncate

ALIAS = "activity_ingest"
LEADS = 2000
REPS = 4
BATCH = 1000
BATCHES = 30
WARM_UP_BATCHES = 1
# Share of items that name their lead by e-mail address (in mixed case) instead of id.
BY_EMAIL = 0.2
THRESHOLD = 100
TARGET_PER_SECOND = 2000
EMAIL_DOMAIN = "activity-ingest.bench.example"
SEED = 20261122
BASE_DIR = Path(__file__).resolve().parent.parent

# (kind, url choices, weight): the mix a marketing-automation feed sends.
KINDS = [
    ("website_visit", ["/pricing", "/careers", "/blog/why-handoffs-fail", "/product", "/product/scoring"], 45),
    ("email_click", ["https://www.funnel.example/newsletter/nov", ""], 25),
    ("content_download", ["/whitepapers/mql-sla.pdf", "/ebooks/speed-to-lead.pdf"], 12),
    ("social", [""], 10),
    ("webinar", [""], 4),
    ("form_completion", ["/demo-request"], 4),
]
# (name, kind, url_contains, points, cap)
RULES = [
    ("Visited /pricing", "website_visit", "/pricing", 10, 30),
    ("Visited /careers", "website_visit", "/careers", -5, 15),
    ("Any website visit", "website_visit", "", 1, 10),
    ("Clicked an e-mail", "email_click", "", 2, 20),
    ("Downloaded content", "content_download", "", 5, 25),
    ("Attended a webinar", "webinar", "", 20, None),
    ("Completed a form", "form_completion", "", 15, None),
    ("Social interaction", "social", "", 1, 5),
]


def run(options):
    """Build the data, run ingestion and the retries on one gunicorn process, check the scores, report."""
    url = _use_own_database()
    token, leads = build_dataset()
    batches = make_batches(leads)
    total = BATCH * BATCHES
    print(
        f"Activity ingestion: {LEADS:,} leads, {WARM_UP_BATCHES} warm-up + {BATCHES} batches of {BATCH:,} "
        f"({total:,} activities) to one gunicorn sync worker, then the same batches again"
    )
    load_before = harness.load_average()
    with GunicornServer(url) as server:
        client = Client(server.port, token)
        for batch in batches[:WARM_UP_BATCHES]:
            client.post(batch, expect=201, created=BATCH)
        cpu = server.cpu()
        ingest = timed(client, batches[WARM_UP_BATCHES:], expect=201, created=BATCH)
        ingest_cpu = server.cpu(since=cpu)
        cpu = server.cpu()
        retry = timed(client, batches[WARM_UP_BATCHES:], expect=200, created=0)
        retry_cpu = server.cpu(since=cpu)
    work = check_outcome(len(batches) * BATCH)
    machine = {"cpus": os.cpu_count(), "load_before": load_before, "load_after": harness.load_average()}
    results = summarise(ingest, retry, ingest_cpu, retry_cpu, work, machine)
    path = harness.write_json("activity_ingest", results)
    print_results(results)
    print(f"  results written to {path}")
    return results


# The database


def _use_own_database():
    """Create and migrate the benchmark's own database, register it as ALIAS and return its URL."""
    config = dj_database_url.parse(database_url())
    name = f"{config['NAME']}_activity_ingest"
    url = database_url().rsplit("/", 1)[0] + f"/{name}"
    ensure_database(url)
    # In a process of its own: the data migrations (roles, default SLA policy, threshold)
    # write through the default database, which here is funnel_bench.
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=BASE_DIR,
        env={**os.environ, "DATABASE_URL": url},
        check=True,
    )
    if ALIAS not in connections.settings:
        own = copy.deepcopy(connections.settings["default"])
        own["NAME"] = name
        connections.settings[ALIAS] = own
    return url


def build_dataset():
    """Empty this database's lead tables, then create the team, the integration user, the rules and LEADS leads."""
    name = connections[ALIAS].settings_dict["NAME"]
    if not name.endswith("_activity_ingest"):
        raise BenchError(f"Refusing to empty {name}: it is not the activity ingestion benchmark's database.")
    with transaction.atomic(using=ALIAS), connections[ALIAS].cursor() as cursor:
        truncate(
            cursor,
            *("leads_lead", "leads_activity", "leads_leadevent", "leads_leadrulescore", "leads_mqlepisode"),
            *("leads_outboxmessage", "leads_scoringrule"),
        )
    team, _ = Team.objects.using(ALIAS).get_or_create(name="Activity ingest bench")
    for n in range(1, REPS + 1):
        # No e-mail address: promoted leads queue no assignment e-mail.
        rep, _ = User.objects.db_manager(ALIAS).get_or_create(username=f"ingest-rep-{n}", defaults={"email": ""})
        TeamMember.objects.using(ALIAS).get_or_create(team=team, user=rep, defaults={"role": TeamMember.Role.REP})
    integration, _ = User.objects.db_manager(ALIAS).get_or_create(username="ingest-marketing-automation")
    integration.groups.add(Group.objects.using(ALIAS).get(name="marketer"))
    token, _ = Token.objects.using(ALIAS).get_or_create(user=integration)
    ScoringRule.objects.using(ALIAS).bulk_create(
        ScoringRule(
            name=name,
            category=ScoringRule.Category.BEHAVIOUR,
            activity_kind=kind,
            url_contains=url,
            points=points,
            cap=cap,
        )
        for name, kind, url, points, cap in RULES
    )
    config = ScoringConfig.objects.using(ALIAS).order_by("id").first() or ScoringConfig(mql_threshold=THRESHOLD)
    config.mql_threshold = THRESHOLD
    config.save(using=ALIAS)
    now = datetime.now(UTC)
    leads = Lead.objects.using(ALIAS).bulk_create(
        Lead(
            name=f"Ingest lead {n}",
            email=f"lead{n}@{EMAIL_DOMAIN}",
            company=f"Company {n % 400}",
            team=team,
            created_at=now - timedelta(days=30),
            updated_at=now - timedelta(days=30),
        )
        for n in range(1, LEADS + 1)
    )
    with connections[ALIAS].cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return token.key, leads


def make_batches(leads):
    """WARM_UP_BATCHES + BATCHES request bodies of BATCH items, as encoded JSON; the same every run."""
    rng = random.Random(SEED)
    kinds = [(kind, urls) for kind, urls, _weight in KINDS]
    weights = [weight for _kind, _urls, weight in KINDS]
    start = datetime.now(UTC) - timedelta(days=7)
    bodies = []
    for number in range(WARM_UP_BATCHES + BATCHES):
        items = []
        for index in range(BATCH):
            lead = rng.choice(leads)
            kind, urls = rng.choices(kinds, weights)[0]
            item = {"kind": kind, "external_id": f"bench-{number}-{index}"}
            if rng.random() < BY_EMAIL:
                item["email"] = lead.email.upper()
            else:
                item["lead"] = lead.pk
            url = rng.choice(urls)
            if url:
                item["url"] = url
            item["occurred_at"] = (start + timedelta(seconds=rng.randrange(7 * 86400))).isoformat()
            items.append(item)
        bodies.append(json.dumps(items).encode())
    return bodies


# The server and the client


class GunicornServer:
    """One gunicorn master with one sync worker on a free loopback port, stopped on exit."""

    def __init__(self, url):
        self.url = url
        self.port = _free_port()
        self.process = None

    def __enter__(self):
        env = {
            **os.environ,
            "DATABASE_URL": self.url,
            "DEBUG": "0",
            "SECRET_KEY": "activity-ingest-benchmark-only",
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "0",
            "LOG_LEVEL": "WARNING",
            "DB_CONN_MAX_AGE": "600",
            # The benchmark measures ingestion, not the per-user throttle in front of it.
            "THROTTLE_INGEST_RATE": "1000000/min",
        }
        env.pop("TEST_DATABASE_NAME", None)
        gunicorn = Path(sys.executable).parent / "gunicorn"
        command = [str(gunicorn), "funnelapp.wsgi", "-w", "1", "-k", "sync", "-b", f"127.0.0.1:{self.port}"]
        self.process = subprocess.Popen(command, cwd=BASE_DIR, env=env)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"gunicorn exited with status {self.process.returncode} while starting")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                connection.request("GET", "/api/activities/")
                connection.getresponse().read()
                connection.close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise BenchError("gunicorn did not answer within 30 s")
        self.worker = self._worker_pid()
        return self

    def __exit__(self, *exc_info):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def _worker_pid(self):
        try:
            with open(f"/proc/{self.process.pid}/task/{self.process.pid}/children") as children:
                pids = children.read().split()
        except OSError:
            return None
        return int(pids[0]) if pids else None

    def cpu(self, since=None):
        """CPU seconds of the worker and of the PostgreSQL backends serving this database (None if unreadable)."""
        with connections[ALIAS].cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            backends = [pid for (pid,) in cursor.fetchall()]
        worker = harness.backend_cpu(self.worker) if self.worker else None
        database = [harness.backend_cpu(pid) for pid in backends]
        now = {"worker": worker, "db": sum(database) if database and None not in database else None}
        if since is None:
            return now
        return {key: None if now[key] is None or since[key] is None else now[key] - since[key] for key in now}


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Client:
    def __init__(self, port, token):
        self.port = port
        self.headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}

    def post(self, body, *, expect, created):
        # gunicorn's sync worker closes the connection after each response: a new one per request.
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        connection.request("POST", "/api/activities/", body=body, headers=self.headers)
        response = connection.getresponse()
        payload = response.read()
        connection.close()
        if response.status != expect:
            raise BenchError(f"expected HTTP {expect}, got {response.status}: {payload[:500]!r}")
        answer = json.loads(payload)
        if answer["created"] != created or answer["created"] + answer["duplicates"] != BATCH:
            raise BenchError(f"expected {created} created of {BATCH}, got {answer['created']} created")
        return answer


def timed(client, batches, *, expect, created):
    """Send ``batches`` one after the other; return the seconds of each request and the total."""
    seconds = []
    start = time.perf_counter()
    for body in batches:
        began = time.perf_counter()
        client.post(body, expect=expect, created=created)
        seconds.append(time.perf_counter() - began)
    return {"total_s": time.perf_counter() - start, "requests_s": seconds}


# The checks and the report


def check_outcome(expected):
    """Every activity stored once, every score equal to a full recompute, every lead over the threshold an MQL."""
    stored = Activity.objects.using(ALIAS).count()
    if stored != expected:
        raise BenchError(f"{stored:,} activities stored, expected {expected:,}")
    rules = list(ScoringRule.objects.using(ALIAS).filter(is_active=True))
    activities = defaultdict(list)
    for activity in Activity.objects.using(ALIAS).only("lead_id", "kind", "url"):
        activities[activity.lead_id].append(activity)
    wrong, promoted, missed = 0, 0, 0
    for lead in Lead.objects.using(ALIAS).all():
        recomputed = sum(
            points for _matches, points in scoring.contributions(lead, activities[lead.pk], rules).values()
        )
        wrong += lead.score != recomputed
        promoted += lead.stage == Stage.MQL
        missed += lead.stage == Stage.LEAD and lead.score >= THRESHOLD
    if wrong or missed:
        raise BenchError(
            f"{wrong} leads' scores differ from a full recompute; {missed} leads over the threshold not MQLs"
        )
    events = LeadEvent.objects.using(ALIAS).filter(kind=EventKind.SCORE_CHANGED).count()
    return {"activities_stored": stored, "leads_promoted": promoted, "score_events": events, "scores_checked": LEADS}


def describe(timing, cpu, count):
    per_request = [seconds * 1000 for seconds in timing["requests_s"]]
    return {
        "activities": count,
        "seconds": round(timing["total_s"], 3),
        "activities_per_s": round(count / timing["total_s"]),
        "request_ms_median": round(statistics.median(per_request), 1),
        "request_ms_min": round(min(per_request), 1),
        "request_ms_max": round(max(per_request), 1),
        "worker_cpu_s": None if cpu["worker"] is None else round(cpu["worker"], 2),
        "db_cpu_s": None if cpu["db"] is None else round(cpu["db"], 2),
        # What the server would do if its two processes never waited for a CPU: a figure
        # that other load on the machine barely moves, unlike the wall-clock one.
        "activities_per_server_cpu_s": None
        if cpu["worker"] is None or cpu["db"] is None
        else round(count / (cpu["worker"] + cpu["db"])),
    }


def summarise(ingest, retry, ingest_cpu, retry_cpu, work, machine):
    count = BATCH * BATCHES
    results = {
        "benchmark": "activity_ingest",
        "ran_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "dataset": {
            "leads": LEADS,
            "batch": BATCH,
            "batches": BATCHES,
            "warm_up_batches": WARM_UP_BATCHES,
            "by_email_share": BY_EMAIL,
            "rules": len(RULES),
            "threshold": THRESHOLD,
            "server": "gunicorn, 1 sync worker, DEBUG off, loopback HTTP, one request at a time",
        },
        "work": work,
        "server": harness.server_facts(),
        "machine": machine,
        "ingest": describe(ingest, ingest_cpu, count),
        "retry": describe(retry, retry_cpu, count),
    }
    results["targets"] = {
        f"ingestion >= {TARGET_PER_SECOND:,} activities/s": results["ingest"]["activities_per_s"] >= TARGET_PER_SECOND
    }
    return results


def print_results(results):
    work, server, machine = results["work"], results["server"], results["machine"]
    print(
        f"\n  {work['activities_stored']:,} activities stored once each; {work['leads_promoted']:,} leads promoted to MQL;"
        f" {work['score_events']:,} score changes recorded;\n  all {work['scores_checked']:,} scores equal a full"
        f" recompute. PostgreSQL {server['server_version'].split()[0]}; {machine['cpus']} CPUs,"
        f" 1-minute load average {machine['load_before']:.1f} before, {machine['load_after']:.1f} after.\n"
    )
    rows = []
    for label, key in (("new activities (201)", "ingest"), ("retried batches, all duplicates (200)", "retry")):
        stats = results[key]
        rows.append(
            (
                label,
                f"{stats['activities_per_s']:,}/s",
                f"{stats['seconds']:.2f} s",
                f"{stats['request_ms_median']:.0f} ms",
                f"{stats['request_ms_max']:.0f} ms",
                "-" if stats["worker_cpu_s"] is None else f"{stats['worker_cpu_s']:.2f} s",
                "-" if stats["db_cpu_s"] is None else f"{stats['db_cpu_s']:.2f} s",
                "-" if stats["activities_per_server_cpu_s"] is None else f"{stats['activities_per_server_cpu_s']:,}/s",
            )
        )
    harness.print_table(
        ("batches of 1,000", "throughput", "total", "median req", "max req", "worker CPU", "db CPU", "per CPU-s"), rows
    )
    print()
    if max(machine["load_before"], machine["load_after"]) > machine["cpus"]:
        print(
            f"  Note: the machine was busy (load above {machine['cpus']} CPUs), which understates wall-clock"
            " throughput;\n  'per CPU-s' is activities per second of server CPU (gunicorn worker + PostgreSQL).\n"
        )
    for target, met in results["targets"].items():
        print(f"  {'PASS' if met else 'FAIL'}  {target}")
