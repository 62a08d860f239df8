"""Point Django at the benchmark's PostgreSQL database, creating and migrating it first.

The benchmarks need PostgreSQL: ``DATABASE_URL`` if set, else a database of
their own, ``funnel_bench`` on the local server, created on first use.
"""

import os

import dj_database_url
import psycopg
from psycopg import sql

DEFAULT_DATABASE_URL = "postgres://root@127.0.0.1:5432/funnel_bench"


class BenchError(Exception):
    """A benchmark cannot run (wrong database, foreign data, results that disagree)."""


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
