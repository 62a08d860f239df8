"""Point Django at the benchmark's PostgreSQL database, creating and migrating it first.

The benchmarks need PostgreSQL: ``DATABASE_URL`` if set, else a database of
their own, ``funnel_bench`` on the local server, created on first use.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import dj_database_url
import psycopg
from psycopg import sql

DEFAULT_DATABASE_URL = "postgres://root@127.0.0.1:5432/funnel_bench"


BASE_DIR = Path(__file__).resolve().parent.parent

# What each benchmark built, so its stored data is reused while it still matches.
MARKER_TABLE_SQL = """
CREATE TABLE IF NOT EXISTS bench_dataset (
    name text PRIMARY KEY,
    spec jsonb NOT NULL,
    built_at timestamptz NOT NULL,
    load_seconds double precision NOT NULL
)
"""


# The history refuses TRUNCATE (migration 0015); regenerating benchmark data is the
# one TRUNCATE allowed, by the table's owner, with the guard off for that statement.
_HISTORY_TRUNCATE_ALLOWED_SQL = "ALTER TABLE leads_leadevent DISABLE TRIGGER leads_leadevent_no_truncate"
_HISTORY_TRUNCATE_GUARDED_SQL = "ALTER TABLE leads_leadevent ENABLE TRIGGER leads_leadevent_no_truncate"


def truncate(cursor, *tables):
    """Empty ``tables`` (RESTART IDENTITY CASCADE, so the history goes with the leads) past the history's TRUNCATE guard, which is back on afterwards; run it inside a transaction."""
    cursor.execute(_HISTORY_TRUNCATE_ALLOWED_SQL)
    cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
    cursor.execute(_HISTORY_TRUNCATE_GUARDED_SQL)


class BenchError(Exception):
    """A benchmark cannot run (wrong database, foreign data, results that disagree)."""


def run_child(module, env, *args):
    """Run ``python -m <module> <args>`` in a fresh process and return the JSON it prints last; raises BenchError if it fails."""
    process = subprocess.run(
        [sys.executable, "-m", module, *args], cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, text=True, check=False
    )
    if process.returncode:
        raise BenchError(f"the {' '.join(args)} step failed (exit status {process.returncode})")
    return json.loads(process.stdout.strip().splitlines()[-1])


def database_url():
    return os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL


def ensure_database(url):
    """Create the database named by ``url`` through the ``postgres`` maintenance database if it is missing."""
    config = dj_database_url.parse(url)
    if config["ENGINE"] != "django.db.backends.postgresql":
        raise BenchError(f"The benchmarks need PostgreSQL; DATABASE_URL points at {config['ENGINE']}.")
    params = {
        "host": config["HOST"] or None,
        "port": config["PORT"] or None,
        "user": config["USER"] or None,
        "password": config["PASSWORD"] or None,
    }
    try:
        psycopg.connect(dbname=config["NAME"], **params).close()
        return
    except psycopg.OperationalError as exc:
        if "does not exist" not in str(exc):
            raise BenchError(f"Cannot connect to PostgreSQL: {exc}".strip()) from None
    try:
        with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))
    except psycopg.Error as exc:
        raise BenchError(f"Cannot create database {config['NAME']}: {exc}".strip()) from None
    print(f"Created database {config['NAME']}.")


def setup_django():
    """Configure Django for the benchmark database, migrate it, and return a description of it (no password)."""
    url = database_url()
    ensure_database(url)
    os.environ["DATABASE_URL"] = url
    # Development settings (dev key, file e-mail); DEBUG itself is switched off below.
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "funnelapp.settings")

    import django
    from django.conf import settings
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    # Production runs with DEBUG off; a debug cursor would also record and format
    # every statement (the sweep sends 5,000 ids per statement), skewing the timings.
    settings.DEBUG = False
    config = settings.DATABASES["default"]
    return f"{config['NAME']} on {config['HOST'] or 'localhost'}:{config['PORT'] or 5432} as {config['USER']}"
