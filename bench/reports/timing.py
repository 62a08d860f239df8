"""Timing the contenders side by side, checking they agree, and the results as a table and JSON."""

import hashlib
import os
from datetime import UTC, datetime, timedelta

from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from .. import harness
from ..database import BenchError
from .cases import REPORTS, VARIANTS_ENV, page_variants, plain, variants
from .spec import LONG_PERIOD_DAYS, NOW, TARGET_API_SECONDS, TARGET_PAGE_SECONDS, TARGET_RATIO


def time_report(case, variant, client, repeat):
    period, filters, sql, params = variant.period, variant.filters, variant.sql(case.sql), variant.params()
    url = reverse(case.api)
    query = variant.query()
    last = {}

    def run_metric():
        last["metric"] = case.metric(period, filters, as_of=NOW)

    def run_api():
        last["api"] = client.get(url, query)

    def run_sql():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            last["sql"] = cursor.fetchall()

    contenders = [
        harness.Contender(
            "metric", f"reports.metrics ({case.slug})", run_metric, lambda: case.headlines(last["metric"])
        ),
        harness.Contender("api", f"GET {url}", run_api, lambda: response_outcome(last["api"])),
        harness.Contender("sql", "hand-written SQL", run_sql, lambda: plain(case.numbers(last["sql"]))),
    ]
    timings, outcomes = harness.measure(contenders, repeat=repeat, prepare=lambda: None)
    if outcomes["api"][0] != 200:
        raise BenchError(f"GET {url} answered {outcomes['api'][0]}: {last['api'].content[:300]!r}")
    check_against_the_episodes(client, url, query, last["api"], f"{case.slug} ({variant.name})")
    wrong = list(differences(outcomes["metric"], outcomes["sql"]))
    if wrong:
        raise BenchError(f"{case.slug} ({variant.name}): the metric and the SQL disagree:\n  " + "\n  ".join(wrong))
    stats = {c.name: {"label": c.label, **harness.summary(timings[c.name])} for c in contenders}
    for contender in contenders:
        stats[contender.name]["queries"] = count_queries(contender.run)
    return {
        "contenders": stats,
        "numbers": outcomes["sql"],
        "ratios": {
            "metric_vs_sql": harness.ratio(stats, "metric", "sql"),
            "api_vs_sql": harness.ratio(stats, "api", "sql"),
            "metric_vs_sql_by_min": harness.ratio(stats, "metric", "sql", key="min_s"),
            "api_vs_sql_by_min": harness.ratio(stats, "api", "sql", key="min_s"),
            "cpu_metric_vs_sql": harness.ratio(stats, "metric", "sql", by_cpu=True),
            "cpu_api_vs_sql": harness.ratio(stats, "api", "sql", by_cpu=True),
        },
    }


def check_against_the_episodes(client, url, query, response, name):
    """Stop unless the API's answer (counts from the rollup where it can) is the same as with every count read from the episodes (``REPORTS_ROLLUP`` off)."""
    with override_settings(REPORTS_ROLLUP=False):
        counted = client.get(url, query)
    if counted.status_code != 200 or counted.json() != response.json():
        wrong = list(differences(response.json(), counted.json() if counted.status_code == 200 else {}))
        raise BenchError(f"{name}: the API's answer differs with the rollup off:\n  " + "\n  ".join(wrong[:20]))


# Breakdowns: every report's API with by=rep and by=campaign over the long period; the two
# reports without a hand-written statement (the waterfall and the response-time effect) also
# without a breakdown ("").
BREAKDOWNS = ("rep", "campaign")
API_ONLY = (("waterfall", "reports_api:waterfall"), ("response_effect", "reports_api:response-time-effect"))


def time_breakdowns(client, repeat):
    """Time every report's API with each of ``BREAKDOWNS`` for the long period (no filter), and the ``API_ONLY`` reports without one, each answer checked against the episodes'; {slug: {by: stats}}."""
    variant = next(v for v in variants() if v.name == f"all_{LONG_PERIOD_DAYS}")
    results = {}
    endpoints = [(case.slug, case.api, BREAKDOWNS) for case in REPORTS]
    endpoints += [(slug, api, ("", *BREAKDOWNS)) for slug, api in API_ONLY]
    for slug, api, groupings in endpoints:
        url = reverse(api)
        print(f"{slug}, {variant.label}, by {', '.join(by or '(none)' for by in groupings)}:", flush=True)
        last = {}

        def call(by, url=url, last=last):
            query = {**variant.query(), "by": by} if by else variant.query()

            def run():
                last[by] = client.get(url, query)

            return harness.Contender(by or "none", f"GET {url}?by={by}", run, lambda: response_outcome(last[by]))

        contenders = [call(by) for by in groupings]
        timings, outcomes = harness.measure(contenders, repeat=repeat, prepare=lambda: None)
        for by in groupings:
            if outcomes[by or "none"][0] != 200:
                raise BenchError(f"GET {url}?by={by} answered {outcomes[by or 'none'][0]}: {last[by].content[:300]!r}")
            query = {**variant.query(), "by": by} if by else variant.query()
            check_against_the_episodes(client, url, query, last[by], f"{slug} by {by or '(none)'}")
        results[slug] = {c.name: {"label": c.label, **harness.summary(timings[c.name])} for c in contenders}
        for contender in contenders:
            results[slug][contender.name]["queries"] = count_queries(contender.run)
    return results


def time_pages(client, repeat):
    url = reverse("reports:overview")
    chosen = page_variants()
    last = {}

    def page(variant):
        def run_page():
            last[variant.name] = client.get(url, variant.query())

        def outcome():
            response = last[variant.name]
            return response.status_code, response.content.count(b'class="kpi-value"')

        return harness.Contender(variant.name, f"GET {url} ({variant.label})", run_page, outcome)

    contenders = [page(variant) for variant in chosen]
    timings, outcomes = harness.measure(contenders, repeat=repeat, prepare=lambda: None)
    for name, (status, _numbers) in outcomes.items():
        if status != 200:
            raise BenchError(f"GET {url} ({name}) answered {status}: {last[name].content[:300]!r}")
    stats = {c.name: {"label": c.label, **harness.summary(timings[c.name])} for c in contenders}
    for contender in contenders:
        stats[contender.name]["queries"] = count_queries(contender.run)
        stats[contender.name]["html_bytes"] = len(last[contender.name].content)
    return stats


def response_outcome(response):
    """What an API run answered: its status and a digest of its body (the same each run: 'as of' is pinned)."""
    return response.status_code, hashlib.md5(response.content).hexdigest()


def count_queries(run):
    with CaptureQueriesContext(connection) as queries:
        run()
    return len(queries)


def differences(first, second, path="result"):
    """Where two plain values differ; durations may differ by a microsecond (rounding of interpolation)."""
    if isinstance(first, dict) and isinstance(second, dict):
        for key in sorted(first.keys() | second.keys(), key=str):
            yield from differences(first.get(key, "<missing>"), second.get(key, "<missing>"), f"{path}.{key}")
    elif isinstance(first, list | tuple) and isinstance(second, list | tuple):
        if len(first) != len(second):
            yield f"{path}: {len(first)} items != {len(second)} items"
        for index, (one, other) in enumerate(zip(first, second, strict=False)):
            yield from differences(one, other, f"{path}[{index}]")
    elif isinstance(first, timedelta) and isinstance(second, timedelta):
        if abs(first - second) > timedelta(microseconds=1):
            yield f"{path}: {first} != {second}"
    elif first != second or type(first) is not type(second):
        yield f"{path}: {first!r} != {second!r}"


# The report


def summarise(dataset, reports, pages, load_before, breakdowns=None):
    period = variants()[0].period
    targets = {}
    for slug, by_variant in reports.items():
        for name, result in by_variant.items():
            targets[f"{slug} ({name}): API / hand-written SQL <= {TARGET_RATIO}x"] = (
                result["ratios"]["api_vs_sql"] <= TARGET_RATIO
            )
            if name.endswith(f"_{LONG_PERIOD_DAYS}"):
                targets[f"{slug} ({name}): API <= {TARGET_API_SECONDS * 1000:g} ms"] = (
                    result["contenders"]["api"]["median_s"] <= TARGET_API_SECONDS
                )
    for slug, by_grouping in (breakdowns or {}).items():
        for by, stats in by_grouping.items():
            targets[f"{slug} ({LONG_PERIOD_DAYS} days by {by}): API <= {TARGET_API_SECONDS * 1000:g} ms"] = (
                stats["median_s"] <= TARGET_API_SECONDS
            )
    for name in ("all", "all_30d") if pages else ():
        targets[f"overview page ({name}) < {TARGET_PAGE_SECONDS:g} s"] = pages[name]["median_s"] < TARGET_PAGE_SECONDS
    return {
        "benchmark": "reports",
        "ran_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "dataset": dataset,
        "period": {"from": period.start, "to": period.end, "tz": period.tz, "as_of": NOW.isoformat()},
        "server": harness.server_facts(),
        "machine": {"cpus": os.cpu_count(), "load_before": load_before, "load_after": harness.load_average()},
        "reports": reports,
        "breakdowns": breakdowns or {},
        "overview_page": pages,
        "targets": targets,
    }


def _ms(seconds):
    return f"{seconds * 1000:,.0f} ms" if seconds >= 0.01 else f"{seconds * 1000:.1f} ms"


def print_results(results):
    server, machine = results["server"], results["machine"]
    print(
        f"\n  PostgreSQL {server['server_version'].split()[0]} (shared_buffers {server['shared_buffers']},"
        f" work_mem {server['work_mem']}, jit {server['jit']}); {machine['cpus']} CPUs, 1-minute load average"
        f" {machine['load_before']:.1f} before, {machine['load_after']:.1f} after. Medians of wall time;"
        " queries per call in brackets.\n"
    )
    rows = []
    for slug, by_variant in results["reports"].items():
        for name, result in by_variant.items():
            stats, ratios = result["contenders"], result["ratios"]
            rows.append(
                (
                    slug,
                    name,
                    f"{_ms(stats['metric']['median_s'])} [{stats['metric']['queries']}]",
                    f"{_ms(stats['api']['median_s'])} [{stats['api']['queries']}]",
                    f"{_ms(stats['sql']['median_s'])} [{stats['sql']['queries']}]",
                    f"{ratios['metric_vs_sql']:.2f}x",
                    f"{ratios['api_vs_sql']:.2f}x",
                    "PASS" if ratios["api_vs_sql"] <= TARGET_RATIO else "FAIL",
                    ("PASS" if stats["api"]["median_s"] <= TARGET_API_SECONDS else "FAIL")
                    if name.endswith(f"_{LONG_PERIOD_DAYS}")
                    else "",
                )
            )
    harness.print_table(
        (
            "report",
            "filter",
            "metric fn",
            "API",
            "hand SQL",
            "fn/SQL",
            "API/SQL",
            f"API ≤ {TARGET_RATIO}x",
            f"API ≤ {TARGET_API_SECONDS * 1000:g} ms",
        ),
        rows,
    )
    print()
    breakdown_rows = [
        (
            slug,
            by,
            f"{_ms(stats['median_s'])} [{stats['queries']}]",
            _ms(stats["min_s"]),
            "PASS" if stats["median_s"] <= TARGET_API_SECONDS else "FAIL",
        )
        for slug, by_grouping in results.get("breakdowns", {}).items()
        for by, stats in by_grouping.items()
    ]
    if breakdown_rows:
        harness.print_table(
            (
                f"breakdown, {LONG_PERIOD_DAYS} days",
                "by",
                "API",
                "min",
                f"API ≤ {TARGET_API_SECONDS * 1000:g} ms",
            ),
            breakdown_rows,
        )
        print()
    if not results["overview_page"]:
        print(f"  overview page not timed ({VARIANTS_ENV} chose the variants)")
    page_rows = [
        (
            stats["label"],
            _ms(stats["median_s"]),
            _ms(stats["min_s"]),
            str(stats["queries"]),
            ("PASS" if stats["median_s"] < TARGET_PAGE_SECONDS else "FAIL") if name != "rep" else "",
        )
        for name, stats in results["overview_page"].items()
    ]
    if page_rows:
        harness.print_table(("overview page", "median", "min", "queries", f"< {TARGET_PAGE_SECONDS:g} s"), page_rows)
    print()
    failed = [target for target, met in results["targets"].items() if not met]
    print(f"  {len(results['targets']) - len(failed)} of {len(results['targets'])} targets met.")
    for target in failed:
        print(f"  FAIL  {target}")
    if max(machine["load_before"], machine["load_after"]) > machine["cpus"]:
        print(
            f"  Note: the machine was busy (load above {machine['cpus']} CPUs), which inflates wall times;"
            " the JSON has CPU times and CPU ratios too."
        )
