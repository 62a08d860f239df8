"""CSV import of 1,000,000 rows on PostgreSQL through ``leads.imports.run_import``.

The file (generated once into var/bench/) has about 1% bad rows (bad e-mail,
missing columns, a duplicate of an earlier row, bytes that are not UTF-8, a bad
company size) and about 1% rows that update existing leads (their e-mail in
another case). Four demographic scoring rules are active, so every lead is scored.

The import runs in a database of its own next to the benchmark database
(``<name>_csv_import``, dropped at the end), so the SLA sweep's million MQLs are
never touched, and in a child process of its own, so its peak RSS is the
import's alone. It runs once: a million rows take minutes, which is stable
enough; ``--repeat`` is ignored.

Targets: at least 12,000 rows/s with the duplicate check (issue #13), peak memory under 300 MB.
"""

import json
import os
import resource
import shutil
import sys
import time
from collections import Counter
from datetime import UTC, datetime

from .database import run_child

ROWS = 1_000_000
TARGET_ROWS_PER_SECOND = 12_000  # issue #13: with the duplicate check at intake
TARGET_PEAK_MB = 300

HEADER = "First name,Last name,E-mail,Company,Job title,Employees,Country,Source,Campaign,Phone\n"
FIRST = ["Anna", "Ben", "Carla", "David", "Elif", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kofi", "Laura"]
LAST = ["Schmidt", "Okafor", "Novak", "Lindqvist", "Garcia", "Tanaka", "Müller", "Rossi", "Dubois", "Kowalski"]
TITLES = ["CEO", "Head of Operations", "Marketing Manager", "Developer", "CFO", "Office Manager", "VP Sales"]
COUNTRIES = ["DE", "AT", "CH", "FR", "US", "GB", "NL", "PL", "JP"]
# Row n is bad when n % 100 == BAD_REMAINDER and an update of an existing lead when n % 100 == UPDATE_REMAINDER.
BAD_REMAINDER = 7
UPDATE_REMAINDER = 13
BAD_KINDS = ("bad e-mail", "missing columns", "duplicate", "not UTF-8", "bad company size")
SPEC = {"version": 2, "rows": ROWS, "bad_every": 100, "updates_every": 100, "bad_kinds": BAD_KINDS}


def run(options):
    """Generate (or reuse) the file, import it in a child process on a database of its own, print and write the results."""
    from . import harness

    results = benchmark(ROWS)
    print_results(results)
    path = harness.write_json("csv_import", results)
    print(f"  results written to {path}")
    return results


def benchmark(rows, *, scoring=True):
    from django.conf import settings

    from .database import database_url, ensure_database

    folder = settings.VAR_DIR / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    csv_path = folder / f"csv_import_{rows}.csv"
    expected = ensure_file(csv_path, rows)
    url = import_database_url(database_url())
    ensure_database(url)
    media = folder / "csv_import_media"
    env = {**os.environ, "DATABASE_URL": url, "MEDIA_ROOT": str(media)}
    try:
        job_id = run_child(
            "bench.csv_import", env, "prepare", str(csv_path), str(rows), "scoring" if scoring else "no-scoring"
        )["job"]
        measured = run_child("bench.csv_import", env, "import", str(job_id))
    finally:
        drop_database(url)
        shutil.rmtree(media, ignore_errors=True)
    work = {key: measured[key] for key in (*expected, "status")}
    wanted = {**expected, "status": "done"}
    if work != wanted:
        from .database import BenchError

        raise BenchError(f"The import did different work than the file asks for: {work} != {wanted}")
    rate = rows / measured["seconds"]
    cpu = measured["py_cpu"] + (measured["db_cpu"] or 0)
    return {
        "benchmark": "csv_import",
        "ran_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "dataset": {**SPEC, "rows": rows, "file_mb": round(csv_path.stat().st_size / 1024 / 1024, 1)},
        "work": work,
        "server": measured["server"],
        "machine": measured["machine"],
        "import": {
            "seconds": round(measured["seconds"], 2),
            "rows_per_second": round(rate),
            # What one idle core would do with no overlap: a figure the machine's other load barely moves.
            "rows_per_cpu_second": round(rows / cpu) if measured["db_cpu"] is not None else None,
            "py_cpu_s": round(measured["py_cpu"], 2),
            "db_cpu_s": None if measured["db_cpu"] is None else round(measured["db_cpu"], 2),
            "rss_before_import_mb": measured["rss_before_mb"],
            "peak_rss_mb": measured["peak_rss_mb"],
            "batch_size": measured["batch_size"],
            "scoring_rules": measured["rules"],
        },
        "targets": {
            f">= {TARGET_ROWS_PER_SECOND:,} rows/s": rate >= TARGET_ROWS_PER_SECOND,
            f"peak RSS < {TARGET_PEAK_MB} MB": measured["peak_rss_mb"] < TARGET_PEAK_MB,
        },
    }


def print_results(results):
    work, timing = results["work"], results["import"]
    server, machine = results["server"], results["machine"]
    print(
        f"\nCSV import: {results['dataset']['rows']:,} rows ({results['dataset']['file_mb']} MB),"
        f" {work['created']:,} created, {work['updated']:,} updated, {work['failed']:,} bad"
        f" ({', '.join(f'{count:,} {kind}' for kind, count in work['bad_rows_by_kind'].items())});"
        f" {timing['scoring_rules']} scoring rules, batches of {timing['batch_size']:,}."
        f"\n  PostgreSQL {server['server_version'].split()[0]} (shared_buffers {server['shared_buffers']},"
        f" synchronous_commit {server['synchronous_commit']}); {machine['cpus']} CPUs, load average"
        f" {machine['load_average_before']:.1f} before and {machine['load_average_after']:.1f} after the import.\n"
    )
    from . import harness

    db_cpu = "-" if timing["db_cpu_s"] is None else f"{timing['db_cpu_s']:.1f} s"
    harness.print_table(
        ("measure", "value"),
        [
            ("wall time", f"{timing['seconds']:.1f} s"),
            ("rows per second", f"{timing['rows_per_second']:,}"),
            ("rows per CPU second (Python + PostgreSQL)", f"{timing['rows_per_cpu_second'] or '-':,}"),
            ("Python CPU (importing process)", f"{timing['py_cpu_s']:.1f} s"),
            ("PostgreSQL backend CPU", db_cpu),
            ("RSS before the import", f"{timing['rss_before_import_mb']:.0f} MB"),
            ("peak RSS of the importing process", f"{timing['peak_rss_mb']:.0f} MB"),
        ],
    )
    print()
    for target, met in results["targets"].items():
        print(f"  {'PASS' if met else 'FAIL'}  {target}")


# The file


def ensure_file(path, rows):
    """Write the CSV file unless a file of this spec is there; return the counts an import of it must produce."""
    spec_path = path.with_suffix(".spec.json")
    spec = json.loads(json.dumps({**SPEC, "rows": rows}))
    expected = expected_counts(rows)
    if path.exists() and spec_path.exists() and json.loads(spec_path.read_text()) == spec:
        print(f"Reusing {path.name} ({path.stat().st_size / 1024 / 1024:.0f} MB).")
        return expected
    print(f"Generating {path.name} ({rows:,} rows) ...", flush=True)
    start = time.perf_counter()
    with open(path, "wb") as out:
        out.write(HEADER.encode())
        chunk = []
        for n in range(1, rows + 1):
            chunk.append(row(n))
            if len(chunk) == 10_000:
                out.write(b"".join(chunk))
                chunk = []
        out.write(b"".join(chunk))
    spec_path.write_text(json.dumps(spec))
    print(f"  written in {time.perf_counter() - start:.1f} s ({path.stat().st_size / 1024 / 1024:.0f} MB)")
    return expected


def email(n):
    return f"person{n}@company{n % 50_000}.example"


def row(n):
    first, last = FIRST[n % len(FIRST)], LAST[n % len(LAST)]
    cells = [
        first,
        last,
        email(n),
        f"Company {n % 50_000}",
        TITLES[n % len(TITLES)],
        str(10 + n % 5000),
        COUNTRIES[n % len(COUNTRIES)],
        "webinar" if n % 3 else "paid-search",
        f"spring-{n % 40}",
        f"+49 30 {1_000_000 + n}",
    ]
    if n % 100 == UPDATE_REMAINDER:
        cells[2] = email(n).upper()
    elif n % 100 == BAD_REMAINDER:
        kind = BAD_KINDS[(n // 100) % len(BAD_KINDS)]
        if kind == "bad e-mail":
            cells[2] = f"person{n}@@company.example"
        elif kind == "missing columns":
            cells = cells[:4]
        elif kind == "duplicate":
            cells[2] = email(n - 1).title()
        elif kind == "not UTF-8":
            return (",".join(cells).replace(first, "Jürgen") + "\n").encode("cp1252")
        else:
            cells[5] = "a few hundred"
    return (",".join(cells) + "\n").encode()


def expected_counts(rows):
    bad = Counter(BAD_KINDS[(n // 100) % len(BAD_KINDS)] for n in range(1, rows + 1) if n % 100 == BAD_REMAINDER)
    updated = sum(1 for n in range(1, rows + 1) if n % 100 == UPDATE_REMAINDER)
    created = rows - bad.total() - updated
    return {
        "rows_seen": rows,
        "created": created,
        "updated": updated,
        "failed": bad.total(),
        "leads_in_database": created + updated,
        "created_events": created,
        "bad_rows_by_kind": dict(sorted(bad.items())),
    }


def bad_row_kind(reason):
    for words, kind in [
        ("is not a valid e-mail address", "bad e-mail"),
        ("expected 10 columns", "missing columns"),
        ("duplicate of line", "duplicate"),
        ("not valid UTF-8", "not UTF-8"),
        ("company size must be", "bad company size"),
    ]:
        if words in reason:
            return kind
    return reason


# The database of the import


def import_database_url(url):
    import dj_database_url

    config = dj_database_url.parse(url)
    name = f"{config['NAME']}_csv_import"
    auth = config["USER"] or ""
    if config["PASSWORD"]:
        auth += f":{config['PASSWORD']}"
    host = f"{config['HOST'] or ''}:{config['PORT']}" if config["PORT"] else config["HOST"] or ""
    return f"postgres://{auth}{'@' if auth else ''}{host}/{name}"


def drop_database(url):
    import dj_database_url
    import psycopg
    from psycopg import sql

    config = dj_database_url.parse(url)
    params = {
        "host": config["HOST"] or None,
        "port": config["PORT"] or None,
        "user": config["USER"] or None,
        "password": config["PASSWORD"] or None,
    }
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(config["NAME"])))


# The steps, each in its own process (python -m bench.csv_import STEP ...)


def prepare(csv_path, rows, scoring_rules):
    """Empty the import database, add the leads the file updates and the scoring rules, store the upload."""
    from django.core.files.base import File
    from django.db import connection, transaction

    from leads import imports
    from leads.models import ScoringConfig, ScoringRule

    from .database import truncate

    with transaction.atomic(), connection.cursor() as cursor:
        truncate(cursor, "leads_lead", "leads_importjob", "leads_scoringrule")
    with connection.cursor() as cursor:
        # The leads the file's update rows point at, with other values than the file has.
        cursor.execute(
            """
            INSERT INTO leads_lead (name, email, phone, company, job_title, company_size, country, source, campaign,
                                    priority, stage, score, version, mql_episode, created_at, updated_at)
            SELECT 'Old name ' || n, 'person' || n || '@company' || (n %% 50000) || '.example', '', 'Old company',
                   '', '', '', 'import', '', 'normal', 'lead', 0, 0, 0, now(), now()
              FROM generate_series(1, %s) AS n
             WHERE n %% 100 = %s
            """,
            [rows, UPDATE_REMAINDER],
        )
    demographic = ScoringRule.Category.DEMOGRAPHIC
    rules = [
        ScoringRule(name="CEO", category=demographic, field="job_title", operator="contains", value="ceo", points=30),
        ScoringRule(name="DACH", category=demographic, field="country", operator="one_of", value="DE,AT,CH", points=10),
        ScoringRule(
            name="Mid-size",
            category=demographic,
            field="company_size",
            operator="between",
            min_value=50,
            max_value=1000,
            points=20,
        ),
        ScoringRule(name="Free mail", category=demographic, field="email_domain", operator="free_mail", points=-40),
    ]
    if scoring_rules:
        ScoringRule.objects.bulk_create(rules)
    # Nobody reaches the threshold: promotions route MQLs one by one and are not what is measured here.
    ScoringConfig.objects.update(mql_threshold=1000)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("CHECKPOINT")
    with open(csv_path, "rb") as handle:
        job = imports.start_import(File(handle, name=os.path.basename(csv_path)), by=None, queue=False)
    return {"job": job.pk}


def import_job(job_id):
    """Time run_import on the prepared job; report wall and CPU time and the peak RSS of this process."""
    from django.db import connection

    from leads import imports
    from leads.models import EventKind, ImportRowError, Lead, LeadEvent, ScoringRule

    from . import harness

    main_pid = backend_pid()
    rss_before = current_rss_mb()
    load_before = round(os.getloadavg()[0], 2)
    db_start, py_start, start = harness.backend_cpu(main_pid), time.process_time(), time.perf_counter()
    job = imports.run_import(job_id, progress=progress)
    seconds, py_cpu, db_end = time.perf_counter() - start, time.process_time() - py_start, harness.backend_cpu(main_pid)
    sys.stderr.write("\n")
    # What is in the database now, read after the clock stopped.
    reasons = ImportRowError.objects.filter(job_id=job_id).values_list("reason", flat=True)
    bad_rows = Counter(bad_row_kind(reason) for reason in reasons.iterator())
    written = {
        "leads_in_database": Lead.objects.count(),
        "created_events": LeadEvent.objects.filter(kind=EventKind.CREATED).count(),
        "bad_rows_by_kind": dict(sorted(bad_rows.items())),
    }
    # The batches are written by a thread with a connection of its own: its server
    # process has gone by now, so count what it had used at the last batch.
    writers = [cpu for pid, cpu in BACKEND_CPU.items() if pid != main_pid]
    db_cpu = None
    if db_start is not None and db_end is not None and None not in writers:
        db_cpu = db_end - db_start + sum(writers)
    return {
        "seconds": seconds,
        "py_cpu": py_cpu,
        "db_cpu": db_cpu,
        "writer_connections": len(writers),
        "rss_before_mb": rss_before,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "status": job.status,
        **written,
        "rows_seen": job.rows_seen,
        "created": job.created_count,
        "updated": job.updated_count,
        "failed": job.failed_count,
        "batch_size": imports.BATCH_SIZE,
        "rules": ScoringRule.objects.filter(is_active=True).count(),
        "server": harness.server_facts(),
        "vendor": connection.vendor,
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_before": load_before,
            "load_average_after": round(os.getloadavg()[0], 2),
        },
    }


# Server process id -> CPU seconds it had used at the last batch it committed.
BACKEND_CPU = {}


def backend_pid():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def progress(job):
    from . import harness

    pid = backend_pid()
    BACKEND_CPU[pid] = harness.backend_cpu(pid)
    sys.stderr.write(f"\r  importing: {job.percent:3d}%, {job.rows_seen:,} rows, RSS {current_rss_mb():.0f} MB ")
    sys.stderr.flush()


def current_rss_mb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return None


def main(argv):
    from .database import setup_django

    setup_django()
    step, *args = argv
    if step == "prepare":
        result = prepare(args[0], int(args[1]), args[2] == "scoring")
    elif step == "import":
        result = import_job(int(args[0]))
    else:
        raise SystemExit(f"unknown step {step!r}")
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main(sys.argv[1:])
