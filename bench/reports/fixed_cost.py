"""The report API's fixed cost per request: everything but the report's own queries.

``python -m bench reports_fixed_cost`` needs none of the 1M-lead data. In one
transaction it creates an admin (rolled back at the end, so it builds nothing),
then sends GET requests through Django's test client and the full stack
(middleware, session authentication, DRF, the role check, ``ReportForm``, the
serializer, JSON rendering) to two endpoints:

- ``stub``: a ``ReportView`` mounted at /api/reports/bench-fixed-cost/ whose builder returns
  an empty ``Report``: the view stack alone, no report query;
- ``empty_period``: the real conversion endpoint for a month with no MQLs
  (its aggregate and comparison queries run, and find nothing).

For each: CPU time of this process per request (user and system, ``os.times``, so
the database server's work is left out), wall time per request, and the queries one
request makes. Target: at most 3 ms of CPU per request for ``stub``.
"""

import os
import time

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import connection, transaction
from django.test import Client, override_settings
from django.urls import include, path
from rest_framework.authtoken.models import Token

from leads.reference_data import ensure_roles
from reports.api.serializers import ReportBody
from reports.api.views import ReportView
from reports.pages import REPORTS_BY_SLUG, Report

from .. import harness

TARGET_CPU_MS = 3.0
REQUESTS = 200
ROUNDS = 5
STUB_URL = "/api/reports/bench-fixed-cost/"
EMPTY_MONTH = {"from": "2026-01-01", "to": "2026-01-31", "tz": "UTC"}


def _empty_report(form, as_of, **options):
    return Report(REPORTS_BY_SLUG["conversion"], [], [], data={"previous": None, "trend": None, "breakdown": None})


class FixedCostView(ReportView):
    build, body = staticmethod(_empty_report), ReportBody


# The stub plus the project's URLs, as the ROOT_URLCONF of the measurement. The stub comes first:
# behind the project's catch-all prefixes it would pay ~50 pattern matches a real report path
# (api/reports/ is the project's second prefix) never does.
urlpatterns = [
    path("api/reports/bench-fixed-cost/", FixedCostView.as_view(), name="bench-fixed-cost"),
    path("", include("funnelapp.urls")),
]


def _count_queries(client, url, params):
    response = client.get(url, params)
    assert response.status_code == 200, response.content[:500]
    # Counted by a wrapper: the request_started signal empties the connection's query log mid-request.
    queries = []
    with connection.execute_wrapper(lambda execute, sql, *args: queries.append(sql) or execute(sql, *args)):
        client.get(url, params)
    return len(queries)


def _one_round(client, url, params, requests):
    before, wall = os.times(), time.perf_counter()
    for _ in range(requests):
        client.get(url, params)
    after, wall = os.times(), time.perf_counter() - wall
    return (after.user - before.user) / requests, (after.system - before.system) / requests, wall / requests


def _measure(cases, requests, rounds):
    """Each case ``rounds`` times in turn (so a burst of load hits them all alike); the round with the median CPU time."""
    found = {name: [] for name in cases}
    for _ in range(rounds):
        for name, (client, url) in cases.items():
            found[name].append(_one_round(client, url, EMPTY_MONTH, requests))
    results = {}
    for name, (client, url) in cases.items():
        user, system, wall = sorted(found[name], key=lambda r: r[0] + r[1])[len(found[name]) // 2]
        results[name] = {
            "requests": requests * rounds,
            "cpu_ms": round((user + system) * 1000, 3),
            "user_ms": round(user * 1000, 3),
            "system_ms": round(system * 1000, 3),
            "wall_ms": round(wall * 1000, 3),
            "cpu_ms_rounds": sorted(round((u + s) * 1000, 3) for u, s, _w in found[name]),
            "queries": _count_queries(client, url, EMPTY_MONTH),
        }
    return results


def run(options):
    """Time the stub and the empty period, print them with the load average, write var/bench/reports_fixed_cost.json."""
    requests = REQUESTS
    load_before = harness.load_average()
    with override_settings(ROOT_URLCONF=__name__, DEBUG=False), transaction.atomic():
        ensure_roles(Group, Permission)
        admin = get_user_model().objects.create_user("bench-fixed-cost-admin", is_staff=True)
        admin.groups.add(Group.objects.get(name="admin"))
        # As API clients call it: a token (the token with its user and role groups: 1 query).
        client = Client(headers={"Authorization": f"Token {Token.objects.create(user=admin).key}"})
        # As a signed-in browser: the session, the user, the role groups.
        browser = Client()
        browser.force_login(admin)
        cases = {
            "stub": (client, STUB_URL),
            "stub_session": (browser, STUB_URL),
            "empty_period": (client, "/api/reports/conversion/"),
        }
        for client_, url in cases.values():
            for _ in range(20):  # warm-up: lazy imports, URL and template caches
                client_.get(url, EMPTY_MONTH)
        results = _measure(cases, requests, ROUNDS)
        transaction.set_rollback(True)
    summary = {
        "load_before": load_before,
        "load_after": harness.load_average(),
        "target_cpu_ms": TARGET_CPU_MS,
        "cases": results,
    }
    print(
        f"Report API fixed cost, {ROUNDS} rounds of {requests} requests per case (the median round),"
        f" 1-minute load {load_before} before, {summary['load_after']} after:"
    )
    harness.print_table(
        ["case", "CPU ms/request", "user", "system", "wall ms/request", "queries"],
        [
            [
                name,
                f"{r['cpu_ms']:.2f}",
                f"{r['user_ms']:.2f}",
                f"{r['system_ms']:.2f}",
                f"{r['wall_ms']:.2f}",
                str(r["queries"]),
            ]
            for name, r in results.items()
        ],
    )
    verdict = "OK" if results["stub"]["cpu_ms"] <= TARGET_CPU_MS else "OVER"
    print(f"  stub: {results['stub']['cpu_ms']:.2f} ms CPU per request, target {TARGET_CPU_MS} ms: {verdict}")
    print(f"  results written to {harness.write_json('reports_fixed_cost', summary)}")
    return summary
