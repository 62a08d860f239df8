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
or the benchmark stops, and the API's answer must be the same with the counts
read from the episodes (``REPORTS_ROLLUP`` off) as from the rollup. Then every
report's API with ``by=rep`` and ``by=campaign`` over the last 365 days (the
same check), and the overview page, GET /reports/, fully rendered: for the same
90 days, for one rep, and for 30 days (the page's default length).

Targets (from the issue): each report at most 1.5x the hand-written SQL, the
overview page under 1 s.

The modules: ``spec`` (the data's size, its fixed "now", the targets),
``data_sql`` and ``dataset`` (generating and reusing the data), ``hand_sql``
(the hand-written statements and their rows as metric values), ``cases`` (what
is timed, for which period and rep), ``timing`` (measuring, checking, the
table and the JSON).
"""

import json
import os
import subprocess
import sys
import warnings

import dj_database_url
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

from .. import harness
from ..database import BenchError, database_url, ensure_database
from .cases import REPORTS, chosen_variant_names, variants
from .dataset import ensure_dataset
from .spec import BASE_DIR, LONG_PERIOD_DAYS, NOW
from .timing import print_results, summarise, time_breakdowns, time_pages, time_report


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
    breakdowns = {}
    if any(variant.name == f"all_{LONG_PERIOD_DAYS}" for variant in variants()):
        breakdowns = time_breakdowns(client, options.repeat)
    pages = {}
    if chosen_variant_names() is None:
        print("overview page (GET /reports/, rendered):", flush=True)
        pages = time_pages(client, options.repeat)
    results = summarise(dataset, reports, pages, load_before, breakdowns)
    print_results(results)
    path = harness.write_json("reports", results)
    print(f"  results written to {path}")
    return results
